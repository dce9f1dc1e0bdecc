//! The remaining core kinds: Namespaces, Nodes, ConfigMaps, Secrets, ServiceAccounts and
//! Events.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, Node, NodeSpec, NodeStatus, Secret, ServiceAccount, Taint,
};

use super::container::qualified_name;
use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{
    immutable, kube_finalizer_name, label_key, object_meta, object_meta_revalidated,
};
use super::names::{
    NameRule, is_config_map_key, is_dns1123_subdomain, is_qualified_name, is_valid_label_value,
};
use super::net::{is_dual_stack, legacy_cidr, parse_cidr};
use super::pod_spec::taint_effect;
use super::resources::resource_list;
use super::{opt_slice, text};

/// The most data a ConfigMap or Secret may hold.
const MAX_DATA_SIZE: usize = 1024 * 1024;
const IMMUTABLE_WHEN_SET: &str = "field is immutable when `immutable` is set";

/// Validates a Namespace; its spec finalizers are checked on create only, as upstream.
pub fn namespace(new: &Namespace, old: Option<&Namespace>) -> ErrorList {
    if let Some(old) = old {
        return object_meta(
            &new.metadata,
            false,
            NameRule::DnsLabel,
            Some(&old.metadata),
        );
    }
    let mut errs = object_meta(&new.metadata, false, NameRule::DnsLabel, None);
    let path = Path::new("spec").child("finalizers");
    for finalizer in new.spec.iter().flat_map(|s| opt_slice(&s.finalizers)) {
        errs.extend(
            is_qualified_name(finalizer)
                .into_iter()
                .map(|m| FieldError::invalid(&path, finalizer, m)),
        );
        errs.extend(kube_finalizer_name(finalizer, &path));
    }
    errs
}

/// Validates a Node: taints, pod CIDRs (fixed once set) and resource amounts.
pub fn node(new: &Node, old: Option<&Node>) -> ErrorList {
    let meta_path = Path::new("metadata");
    let default_spec = NodeSpec::default();
    let default_status = NodeStatus::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let status = new.status.as_ref().unwrap_or(&default_status);
    let mut errs = object_meta(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(taints(opt_slice(&spec.taints), &meta_path.child("taints")));
    errs.extend(resource_list(
        status.capacity.as_ref(),
        &Path::new("status").child("capacity"),
    ));
    errs.extend(resource_list(
        status.allocatable.as_ref(),
        &Path::new("status").child("allocatable"),
    ));
    match old {
        None => errs.extend(pod_cidrs(spec)),
        Some(old) => errs.extend(node_update(
            spec,
            status,
            old.spec.as_ref().unwrap_or(&default_spec),
        )),
    }
    errs
}

/// `podCIDRs`, or the single `podCIDR` that older clients set.
fn cidrs_of(spec: &NodeSpec) -> Vec<String> {
    match (opt_slice(&spec.pod_cidrs), text(&spec.pod_cidr)) {
        ([], "") => Vec::new(),
        ([], single) => vec![single.to_string()],
        (list, _) => list.to_vec(),
    }
}

fn pod_cidrs(spec: &NodeSpec) -> ErrorList {
    let cidrs = cidrs_of(spec);
    let path = Path::new("spec").child("podCIDRs");
    let mut errs: ErrorList = cidrs
        .iter()
        .enumerate()
        .flat_map(|(i, c)| legacy_cidr(&path.index(i), c, &[]))
        .collect();
    if cidrs.len() > 1 {
        let ips: Vec<_> = cidrs
            .iter()
            .filter_map(|c| parse_cidr(c).map(|(ip, _)| ip))
            .collect();
        if !is_dual_stack(&ips) || cidrs.len() > 2 {
            errs.push(FieldError::invalid(
                &path,
                go::strings(Some(&cidrs)),
                "may specify no more than one CIDR for each IP family",
            ));
        }
    }
    errs
}

fn node_update(spec: &NodeSpec, status: &NodeStatus, old: &NodeSpec) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut addresses = BTreeSet::new();
    for (i, address) in opt_slice(&status.addresses).iter().enumerate() {
        if !addresses.insert((address.type_.as_str(), address.address.as_str())) {
            let value = format!(
                "core.NodeAddress{{Type:{}, Address:{}}}",
                go::quote(&address.type_),
                go::quote(&address.address)
            );
            errs.push(FieldError::duplicate(
                &Path::new("status").child("addresses").index(i),
                Rendered(value),
            ));
        }
    }
    let (new_cidrs, old_cidrs) = (cidrs_of(spec), cidrs_of(old));
    if !old_cidrs.is_empty() {
        let changes = if old_cidrs.len() == new_cidrs.len() {
            old_cidrs
                .iter()
                .zip(&new_cidrs)
                .filter(|(a, b)| a != b)
                .count()
        } else {
            1
        };
        errs.extend((0..changes).map(|_| {
            FieldError::forbidden(
                &Path::new("spec").child("podCIDRs"),
                "node updates may not change podCIDR except from \"\" to valid",
            )
        }));
    }
    let old_provider = text(&old.provider_id);
    if !old_provider.is_empty() && old_provider != text(&spec.provider_id) {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("providerID"),
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    if spec.external_id != old.external_id {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("externalID"),
            "may not be updated",
        ));
    }
    errs
}

/// Node taints; upstream reports them under `metadata.taints`.
fn taints(taints: &[Taint], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen = BTreeSet::new();
    for (i, taint) in taints.iter().enumerate() {
        let taint_path = path.index(i);
        errs.extend(label_key(&taint.key, &taint_path.child("key")));
        let value = text(&taint.value);
        let msgs = is_valid_label_value(value);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &taint_path.child("value"),
                value,
                msgs.join(";"),
            ));
        }
        if taint.effect.is_empty() {
            errs.push(FieldError::required(&taint_path.child("effect"), ""));
        } else {
            errs.extend(taint_effect(&taint.effect, &taint_path.child("effect")));
        }
        if !seen.insert((taint.effect.as_str(), taint.key.as_str())) {
            let mut duplicate = FieldError::duplicate(&taint_path, taint_value(taint));
            duplicate.detail = "taints must be unique by key and effect pair".to_string();
            errs.push(duplicate);
        }
    }
    errs
}

fn taint_value(taint: &Taint) -> Rendered {
    let added = if taint.time_added.is_some() {
        "<time>"
    } else {
        "<nil>"
    };
    Rendered(format!(
        "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:{added}}}",
        go::quote(&taint.key),
        go::quote(text(&taint.value)),
        go::quote(&taint.effect)
    ))
}

/// Validates a ConfigMap: key names, 1 MiB in total, and no changes once immutable.
pub fn config_map(new: &ConfigMap, old: Option<&ConfigMap>) -> ErrorList {
    let mut errs = old
        .map(|o| {
            object_meta(
                &new.metadata,
                true,
                NameRule::DnsSubdomain,
                Some(&o.metadata),
            )
        })
        .unwrap_or_default();
    if let Some(old) = old.filter(|o| o.immutable == Some(true)) {
        errs.extend(immutable_once_set(
            new.immutable,
            [
                ("data", new.data != old.data),
                ("binaryData", new.binary_data != old.binary_data),
            ],
        ));
    }
    errs.extend(object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        None,
    ));
    let binary = new.binary_data.as_ref();
    let mut total = 0;
    for (key, value) in new.data.iter().flatten() {
        let key_path = Path::new("data").key(key);
        errs.extend(config_key(key, &key_path));
        if binary.is_some_and(|b| b.contains_key(key)) {
            errs.push(FieldError::invalid(
                &key_path,
                key,
                "duplicate of key present in binaryData",
            ));
        }
        total += value.len();
    }
    for (key, value) in binary.into_iter().flatten() {
        errs.extend(config_key(key, &Path::new("binaryData").key(key)));
        total += value.0.len();
    }
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long(&Path::new(""), MAX_DATA_SIZE));
    }
    errs
}

fn config_key(key: &str, path: &Path) -> ErrorList {
    is_config_map_key(key)
        .into_iter()
        .map(|m| FieldError::invalid(path, key, m))
        .collect()
}

/// Once `immutable` was set it must stay set, and the listed contents must not change.
fn immutable_once_set<const N: usize>(
    new_flag: Option<bool>,
    changed: [(&str, bool); N],
) -> ErrorList {
    let mut errs = ErrorList::new();
    if new_flag != Some(true) {
        errs.push(FieldError::forbidden(
            &Path::new("immutable"),
            IMMUTABLE_WHEN_SET,
        ));
    }
    errs.extend(
        changed
            .into_iter()
            .filter(|(_, c)| *c)
            .map(|(field, _)| FieldError::forbidden(&Path::new(field), IMMUTABLE_WHEN_SET)),
    );
    errs
}

/// Validates a Secret: key names, 1 MiB in total, the keys its type requires, and on update a
/// fixed type and no changes once immutable. `stringData` must already be merged into `data`.
pub fn secret(new: &Secret, old: Option<&Secret>) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(old) = old {
        errs.extend(object_meta(
            &new.metadata,
            true,
            NameRule::DnsSubdomain,
            Some(&old.metadata),
        ));
        errs.extend(immutable(
            text(&new.type_),
            text(&old.type_),
            &Path::new("type"),
        ));
        if old.immutable == Some(true) {
            errs.extend(immutable_once_set(
                new.immutable,
                [("data", new.data != old.data)],
            ));
        }
    }
    errs.extend(object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        None,
    ));
    let data_path = Path::new("data");
    let mut total = 0;
    for (key, value) in new.data.iter().flatten() {
        errs.extend(config_key(key, &data_path.key(key)));
        total += value.0.len();
    }
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long(&data_path, MAX_DATA_SIZE));
    }
    errs.extend(secret_type_keys(new, &data_path));
    errs
}

fn secret_type_keys(secret: &Secret, data_path: &Path) -> ErrorList {
    let data = secret.data.as_ref();
    let has = |key: &str| data.is_some_and(|d| d.contains_key(key));
    let missing = |keys: &[&str]| -> ErrorList {
        keys.iter()
            .filter(|k| !has(k))
            .map(|k| FieldError::required(&data_path.key(k), ""))
            .collect()
    };
    match text(&secret.type_) {
        "kubernetes.io/service-account-token" => {
            let annotations = secret.metadata.annotations.as_ref();
            let account = annotations
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .map_or("", String::as_str);
            if account.is_empty() {
                let path = Path::new("metadata")
                    .child("annotations")
                    .key("kubernetes.io/service-account.name");
                return vec![FieldError::required(&path, "")];
            }
            ErrorList::new()
        }
        "kubernetes.io/dockercfg" => json_key(data, ".dockercfg", data_path),
        "kubernetes.io/dockerconfigjson" => json_key(data, ".dockerconfigjson", data_path),
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            missing(&["username", "password"])
        }
        "kubernetes.io/ssh-auth" => {
            let empty = data
                .and_then(|d| d.get("ssh-privatekey"))
                .is_none_or(|v| v.0.is_empty());
            if empty {
                vec![FieldError::required(&data_path.key("ssh-privatekey"), "")]
            } else {
                ErrorList::new()
            }
        }
        "kubernetes.io/tls" => missing(&["tls.crt", "tls.key"]),
        _ => ErrorList::new(),
    }
}

/// A key that must hold a JSON object.
fn json_key(
    data: Option<&std::collections::BTreeMap<String, k8s_openapi::ByteString>>,
    key: &str,
    data_path: &Path,
) -> ErrorList {
    let path = data_path.key(key);
    match data.and_then(|d| d.get(key)) {
        None => vec![FieldError::required(&path, "")],
        Some(bytes) => {
            match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes.0) {
                Ok(_) => ErrorList::new(),
                Err(err) => vec![FieldError::invalid(
                    &path,
                    "<secret contents redacted>",
                    err.to_string(),
                )],
            }
        }
    }
}

/// Validates a ServiceAccount: metadata only.
pub fn service_account(new: &ServiceAccount, old: Option<&ServiceAccount>) -> ErrorList {
    object_meta_revalidated(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    )
}

/// Validates a core/v1 Event the way the `v1` API does: the legacy field rules, then, when
/// they pass, the registry's generic metadata rules (names need only be usable as a path
/// segment).
pub fn event(new: &Event, old: Option<&Event>) -> ErrorList {
    let errs = legacy_event(new);
    if !errs.is_empty() {
        return errs;
    }
    object_meta(
        &new.metadata,
        true,
        NameRule::PathSegment,
        old.map(|o| &o.metadata),
    )
}

const REPORTING_INSTANCE_LIMIT: usize = 128;
const ACTION_LIMIT: usize = 128;
const REASON_LIMIT: usize = 128;
const NOTE_LIMIT: usize = 1024;

fn legacy_event(event: &Event) -> ErrorList {
    let namespace = text(&event.metadata.namespace);
    let involved_namespace = text(&event.involved_object.namespace);
    let involved_path = Path::new("involvedObject").child("namespace");
    let mismatch = || {
        FieldError::invalid(
            &involved_path,
            involved_namespace,
            "does not match event.namespace",
        )
    };
    let mut errs = ErrorList::new();
    if event.event_time.is_none() {
        let matches = if involved_namespace.is_empty() {
            namespace.is_empty() || namespace == "default"
        } else {
            namespace == involved_namespace
        };
        if !matches {
            errs.push(mismatch());
        }
    } else {
        if involved_namespace.is_empty() && namespace != "default" && namespace != "kube-system" {
            errs.push(mismatch());
        }
        errs.extend(new_style_event_fields(event));
    }
    let namespace_path = Path::new("namespace");
    errs.extend(
        is_dns1123_subdomain(namespace)
            .into_iter()
            .map(|m| FieldError::invalid(&namespace_path, namespace, m)),
    );
    errs
}

/// Events that carry an `eventTime` must say who reported them and what happened.
fn new_style_event_fields(event: &Event) -> ErrorList {
    let mut errs = ErrorList::new();
    let component = text(&event.reporting_component);
    let component_path = Path::new("reportingComponent");
    if component.is_empty() {
        errs.push(FieldError::required(&component_path, ""));
    }
    errs.extend(qualified_name(component, &component_path));
    let limited = [
        (
            "reportingInstance",
            text(&event.reporting_instance),
            REPORTING_INSTANCE_LIMIT,
            true,
        ),
        ("action", text(&event.action), ACTION_LIMIT, true),
        ("reason", text(&event.reason), REASON_LIMIT, true),
        ("message", text(&event.message), NOTE_LIMIT, false),
    ];
    for (field, value, limit, required) in limited {
        let path = Path::new(field);
        if required && value.is_empty() {
            errs.push(FieldError::required(&path, ""));
        }
        if value.len() > limit {
            errs.push(FieldError::invalid(
                &path,
                "",
                format!("can have at most {limit} characters"),
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta, stored};
    use super::*;
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::{NamespaceSpec, ObjectReference};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn cluster_meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn namespaces_are_dns_labels_with_known_finalizers() {
        let ns = Namespace {
            metadata: cluster_meta("team-a"),
            spec: Some(NamespaceSpec {
                finalizers: Some(vec!["kubernetes".into()]),
            }),
            status: None,
        };
        assert!(namespace(&ns, None).is_empty());
        let bad = Namespace {
            metadata: cluster_meta("team.a"),
            spec: Some(NamespaceSpec {
                finalizers: Some(vec!["custom".into()]),
            }),
            status: None,
        };
        assert_eq!(
            messages(&namespace(&bad, None)),
            vec![
                "metadata.name: Invalid value: \"team.a\": must not contain dots",
                "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
            ]
        );
    }

    #[test]
    fn nodes_check_pod_cidrs_and_taints() {
        let node_with = |cidr: &str, taints: Vec<Taint>| Node {
            metadata: cluster_meta("node-1"),
            spec: Some(NodeSpec {
                pod_cidr: Some(cidr.into()),
                taints: Some(taints),
                ..Default::default()
            }),
            status: None,
        };
        assert!(node(&node_with("10.244.0.0/24", vec![]), None).is_empty());
        let taint = Taint {
            key: "dedicated".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        let errs = node(&node_with("10.244.0.0", vec![taint.clone(), taint]), None);
        assert_eq!(
            messages(&errs),
            vec![
                "metadata.taints[1]: Duplicate value: core.Taint{Key:\"dedicated\", Value:\"\", Effect:\"NoSchedule\", TimeAdded:<nil>}: taints must be unique by key and effect pair",
                "spec.podCIDRs[0]: Invalid value: \"10.244.0.0\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ]
        );
        let old = Node {
            metadata: stored(cluster_meta("node-1")),
            ..node_with("10.244.0.0/24", vec![])
        };
        let moved = Node {
            metadata: stored(cluster_meta("node-1")),
            ..node_with("10.244.1.0/24", vec![])
        };
        assert_eq!(
            messages(&node(&moved, Some(&old))),
            vec![
                "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid"
            ]
        );
    }

    #[test]
    fn config_maps_check_keys_size_and_immutability() {
        let cm = |data: &[(&str, &str)], immutable: Option<bool>| ConfigMap {
            metadata: stored(namespaced_meta("settings")),
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            binary_data: None,
            immutable,
        };
        assert!(config_map(&cm(&[("app.conf", "x")], None), None).is_empty());
        assert_eq!(
            messages(&config_map(&cm(&[("a b", "x")], None), None)),
            vec![
                "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
            ]
        );
        let big = "x".repeat(MAX_DATA_SIZE + 1);
        assert_eq!(
            messages(&config_map(&cm(&[("big", &big)], None), None)),
            vec![": Too long: may not be more than 1048576 bytes"]
        );
        let old = cm(&[("a", "1")], Some(true));
        assert_eq!(
            messages(&config_map(&cm(&[("a", "2")], Some(true)), Some(&old))),
            vec!["data: Forbidden: field is immutable when `immutable` is set"]
        );
    }

    #[test]
    fn secrets_check_type_keys_and_type_changes() {
        let secret_of = |kind: &str, keys: &[&str]| Secret {
            metadata: stored(namespaced_meta("creds")),
            type_: Some(kind.into()),
            data: Some(
                keys.iter()
                    .map(|k| (k.to_string(), ByteString(b"x".to_vec())))
                    .collect(),
            ),
            ..Default::default()
        };
        assert!(secret(&secret_of("Opaque", &["password"]), None).is_empty());
        assert_eq!(
            messages(&secret(&secret_of("kubernetes.io/tls", &["tls.crt"]), None)),
            vec!["data[tls.key]: Required value"]
        );
        let old = secret_of("Opaque", &[]);
        assert_eq!(
            messages(&secret(
                &secret_of("kubernetes.io/basic-auth", &["username"]),
                Some(&old)
            )),
            vec!["type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"]
        );
    }

    #[test]
    fn events_match_their_involved_namespace() {
        let ev = |involved: &str| Event {
            metadata: namespaced_meta("web.17a"),
            involved_object: ObjectReference {
                namespace: Some(involved.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(event(&ev("default"), None).is_empty());
        assert_eq!(
            messages(&event(&ev("other"), None)),
            vec![
                "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"
            ]
        );
        let mut slashed = ev("default");
        slashed.metadata.name = Some("a/b".into());
        assert_eq!(
            messages(&event(&slashed, None)),
            vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
    }

    #[test]
    fn service_accounts_check_metadata() {
        let sa = ServiceAccount {
            metadata: namespaced_meta("builder"),
            ..Default::default()
        };
        assert!(service_account(&sa, None).is_empty());
        let bad = ServiceAccount {
            metadata: namespaced_meta("Builder"),
            ..Default::default()
        };
        assert_eq!(service_account(&bad, None).len(), 1);
    }
}
