//! The pod spec rules shared by Pods and every pod template (Deployments, ReplicaSets, Jobs):
//! upstream's `ValidatePodSpec` and `ValidatePodTemplateSpec`.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{HostAlias, PodDNSConfig, PodSpec, PodTemplateSpec, Toleration};

use super::container::{PodContext, containers, dns1123_label, init_containers, qualified_name};
use super::field::{ErrorList, FieldError, Path};
use super::go;
use super::meta::{annotations, label_key, labels};
use super::names::{
    NameRule, inclusive_range_error, is_dns1123_subdomain_with_underscore, is_valid_label_value,
};
use super::net::legacy_ip;
use super::volume::volumes;
use super::{opt_slice, text};

const RESTART_POLICIES: [&str; 3] = ["Always", "OnFailure", "Never"];
const DNS_POLICIES: [&str; 4] = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const MAX_DNS_NAMESERVERS: usize = 3;
const MAX_DNS_SEARCH_PATHS: usize = 32;
const MAX_DNS_SEARCH_CHARS: usize = 2048;

/// Where a pod spec lives: a Pod itself must match host ports exactly under host networking,
/// while templates may leave them for defaulting.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SpecOf {
    Pod,
    Template,
}

/// A pod template: its labels and annotations, its spec, and no ephemeral containers.
pub fn pod_template(template: &PodTemplateSpec, path: &Path) -> ErrorList {
    let meta = template.metadata.as_ref();
    let mut errs = labels(meta.and_then(|m| m.labels.as_ref()), &path.child("labels"));
    errs.extend(annotations(
        meta.and_then(|m| m.annotations.as_ref()),
        &path.child("annotations"),
    ));
    let default_spec = PodSpec::default();
    let spec = template.spec.as_ref().unwrap_or(&default_spec);
    errs.extend(pod_spec(spec, SpecOf::Template, &path.child("spec")));
    if !opt_slice(&spec.ephemeral_containers).is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

/// Upstream's `ValidatePodSpec`, in its order.
pub fn pod_spec(spec: &PodSpec, of: SpecOf, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if spec.termination_grace_period_seconds.is_none() {
        errs.push(FieldError::required(
            &path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let (valid_volumes, volume_errs) = volumes(opt_slice(&spec.volumes), &path.child("volumes"));
    errs.extend(volume_errs);
    let ctx = PodContext {
        volumes: &valid_volumes,
        grace_period: spec.termination_grace_period_seconds,
    };
    errs.extend(containers(
        &spec.containers,
        &ctx,
        &path.child("containers"),
    ));
    errs.extend(init_containers(
        opt_slice(&spec.init_containers),
        &spec.containers,
        &ctx,
        &path.child("initContainers"),
    ));
    errs.extend(host_network_ports(spec, of, path));
    errs.extend(restart_policy(
        text(&spec.restart_policy),
        &path.child("restartPolicy"),
    ));
    errs.extend(dns_policy(text(&spec.dns_policy), &path.child("dnsPolicy")));
    errs.extend(labels(
        spec.node_selector.as_ref(),
        &path.child("nodeSelector"),
    ));
    errs.extend(dns_config(
        spec.dns_config.as_ref(),
        text(&spec.dns_policy),
        &path.child("dnsConfig"),
    ));
    errs.extend(readiness_gates(spec, &path.child("readinessGates")));
    errs.extend(scheduling_gates(spec, &path.child("schedulingGates")));
    errs.extend(names(spec, path));
    if let Some(deadline) = spec
        .active_deadline_seconds
        .filter(|d| !(1..=i64::from(i32::MAX)).contains(d))
    {
        errs.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            deadline,
            inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    errs.extend(tolerations(
        opt_slice(&spec.tolerations),
        &path.child("tolerations"),
    ));
    errs.extend(host_aliases(
        opt_slice(&spec.host_aliases),
        &path.child("hostAliases"),
    ));
    if let Some(policy) = spec.preemption_policy.as_deref() {
        errs.extend(preemption_policy(policy, &path.child("preemptionPolicy")));
    }
    errs
}

/// Under host networking a container's host port must equal its container port.
fn host_network_ports(spec: &PodSpec, of: SpecOf, path: &Path) -> ErrorList {
    if spec.host_network != Some(true) {
        return ErrorList::new();
    }
    let mut errs = ErrorList::new();
    for (i, ctr) in spec.containers.iter().enumerate() {
        for (j, port) in opt_slice(&ctr.ports).iter().enumerate() {
            let host_port = port.host_port.unwrap_or(0);
            if (of == SpecOf::Pod || host_port != 0) && host_port != port.container_port {
                errs.push(FieldError::invalid(
                    &path
                        .child("containers")
                        .index(i)
                        .child("ports")
                        .index(j)
                        .child("hostPort"),
                    host_port,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
    errs
}

fn restart_policy(policy: &str, path: &Path) -> Option<FieldError> {
    match policy {
        "" => Some(FieldError::required(path, "")),
        p if RESTART_POLICIES.contains(&p) => None,
        other => Some(FieldError::not_supported(path, other, &RESTART_POLICIES)),
    }
}

fn dns_policy(policy: &str, path: &Path) -> Option<FieldError> {
    match policy {
        "" => Some(FieldError::required(path, "")),
        p if DNS_POLICIES.contains(&p) => None,
        other => Some(FieldError::not_supported(path, other, &DNS_POLICIES)),
    }
}

pub(super) fn preemption_policy(policy: &str, path: &Path) -> Option<FieldError> {
    match policy {
        "PreemptLowerPriority" | "Never" => None,
        "" => Some(FieldError::required(path, "")),
        other => Some(FieldError::not_supported(
            path,
            other,
            &["PreemptLowerPriority", "Never"],
        )),
    }
}

fn dns_config(config: Option<&PodDNSConfig>, policy: &str, path: &Path) -> ErrorList {
    let nameservers = config
        .map(|c| opt_slice(&c.nameservers))
        .unwrap_or_default();
    if policy == "None" {
        if config.is_none() {
            return vec![FieldError::required(
                path,
                "must provide `dnsConfig` when `dnsPolicy` is None",
            )];
        }
        if nameservers.is_empty() {
            return vec![FieldError::required(
                &path.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )];
        }
    }
    let Some(config) = config else {
        return ErrorList::new();
    };
    let mut errs = ErrorList::new();
    if nameservers.len() > MAX_DNS_NAMESERVERS {
        errs.push(FieldError::invalid(
            &path.child("nameservers"),
            go::strings(Some(nameservers)),
            format!("must not have more than {MAX_DNS_NAMESERVERS} nameservers"),
        ));
    }
    for (i, ns) in nameservers.iter().enumerate() {
        errs.extend(legacy_ip(&path.child("nameservers").index(i), ns, &[]));
    }
    let searches = opt_slice(&config.searches);
    if searches.len() > MAX_DNS_SEARCH_PATHS {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            go::strings(Some(searches)),
            format!("must not have more than {MAX_DNS_SEARCH_PATHS} search paths"),
        ));
    }
    if searches.join(" ").len() > MAX_DNS_SEARCH_CHARS {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            go::strings(Some(searches)),
            format!("must not have more than {MAX_DNS_SEARCH_CHARS} characters (including spaces) in the search list"),
        ));
    }
    for (i, search) in searches.iter().enumerate() {
        if search != "." {
            let search = search.strip_suffix('.').unwrap_or(search);
            let search_path = path.child("searches").index(i);
            errs.extend(
                is_dns1123_subdomain_with_underscore(search)
                    .into_iter()
                    .map(|m| FieldError::invalid(&search_path, search, m)),
            );
        }
    }
    for (i, option) in opt_slice(&config.options).iter().enumerate() {
        if text(&option.name).is_empty() {
            errs.push(FieldError::required(
                &path.child("options").index(i),
                "must not be empty",
            ));
        }
    }
    errs
}

fn readiness_gates(spec: &PodSpec, path: &Path) -> ErrorList {
    opt_slice(&spec.readiness_gates)
        .iter()
        .enumerate()
        .flat_map(|(i, gate)| {
            qualified_name(&gate.condition_type, &path.index(i).child("conditionType"))
        })
        .collect()
}

fn scheduling_gates(spec: &PodSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen = BTreeSet::new();
    for (i, gate) in opt_slice(&spec.scheduling_gates).iter().enumerate() {
        errs.extend(qualified_name(&gate.name, &path.index(i)));
        if !seen.insert(gate.name.as_str()) {
            errs.push(FieldError::duplicate(&path.index(i), &gate.name));
        }
    }
    errs
}

/// Names the spec refers to: service account, node, hostname, subdomain and classes.
fn names(spec: &PodSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let subdomains = [
        ("serviceAccountName", text(&spec.service_account_name)),
        ("nodeName", text(&spec.node_name)),
    ];
    for (field, value) in subdomains.into_iter().filter(|(_, v)| !v.is_empty()) {
        errs.extend(subdomain(value, &path.child(field)));
    }
    for (field, value) in [
        ("hostname", text(&spec.hostname)),
        ("subdomain", text(&spec.subdomain)),
    ] {
        if !value.is_empty() {
            errs.extend(dns1123_label(value, &path.child(field)));
        }
    }
    let priority_class = text(&spec.priority_class_name);
    if !priority_class.is_empty() {
        errs.extend(subdomain(priority_class, &path.child("priorityClassName")));
    }
    if let Some(runtime_class) = spec.runtime_class_name.as_deref() {
        errs.extend(subdomain(runtime_class, &path.child("runtimeClassName")));
    }
    errs
}

pub(super) fn subdomain(value: &str, path: &Path) -> ErrorList {
    NameRule::DnsSubdomain
        .check(value, false)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

/// Upstream's `ValidateTolerations`.
pub fn tolerations(tolerations: &[Toleration], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, toleration) in tolerations.iter().enumerate() {
        let tol_path = path.index(i);
        let key = text(&toleration.key);
        let operator = text(&toleration.operator);
        let value = text(&toleration.value);
        let effect = text(&toleration.effect);
        if !key.is_empty() {
            errs.extend(label_key(key, &tol_path.child("key")));
        }
        if key.is_empty() && operator != "Exists" {
            errs.push(FieldError::invalid(
                &tol_path.child("operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if toleration.toleration_seconds.is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                &tol_path.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            "Equal" | "" => {
                let msgs = is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        &tol_path.child("operator"),
                        value,
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" if !value.is_empty() => errs.push(FieldError::invalid(
                &tol_path.child("operator"),
                value,
                "value must be empty when `operator` is 'Exists'",
            )),
            "Exists" => {}
            other => errs.push(FieldError::not_supported(
                &tol_path.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() {
            errs.extend(taint_effect(effect, &tol_path.child("effect")));
        }
    }
    errs
}

/// A taint effect; an empty one is reported by callers that require it.
pub fn taint_effect(effect: &str, path: &Path) -> Option<FieldError> {
    (!TAINT_EFFECTS.contains(&effect))
        .then(|| FieldError::not_supported(path, effect, &TAINT_EFFECTS))
}

fn host_aliases(aliases: &[HostAlias], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, alias) in aliases.iter().enumerate() {
        errs.extend(legacy_ip(&path.index(i).child("ip"), &alias.ip, &[]));
        for (j, hostname) in opt_slice(&alias.hostnames).iter().enumerate() {
            errs.extend(subdomain(
                hostname,
                &path.index(i).child("hostnames").index(j),
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::valid_spec;
    use super::*;

    fn check(spec: &PodSpec) -> Vec<String> {
        pod_spec(spec, SpecOf::Pod, &Path::new("spec"))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_defaulted_spec_is_valid() {
        assert!(check(&valid_spec()).is_empty());
    }

    #[test]
    fn policies_and_required_fields() {
        let mut spec = valid_spec();
        spec.termination_grace_period_seconds = None;
        spec.restart_policy = Some("Sometimes".into());
        spec.dns_policy = None;
        spec.active_deadline_seconds = Some(0);
        assert_eq!(
            check(&spec),
            vec![
                "spec.terminationGracePeriodSeconds: Required value",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "spec.dnsPolicy: Required value",
                "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
            ]
        );
    }

    #[test]
    fn node_selector_and_tolerations() {
        let mut spec = valid_spec();
        spec.node_selector = Some([("disk".to_string(), "fast ssd".to_string())].into());
        spec.tolerations = Some(vec![
            Toleration {
                operator: Some("Equal".into()),
                ..Default::default()
            },
            Toleration {
                key: Some("k".into()),
                operator: Some("Maybe".into()),
                effect: Some("Sometimes".into()),
                ..Default::default()
            },
        ]);
        let errs = check(&spec);
        assert!(
            errs[0].starts_with(
                "spec.nodeSelector: Invalid value: \"fast ssd\": a valid label must be"
            )
        );
        assert_eq!(
            &errs[1..],
            [
                "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                "spec.tolerations[1].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\"",
                "spec.tolerations[1].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ]
        );
    }

    #[test]
    fn host_network_requires_matching_host_ports() {
        let mut spec = valid_spec();
        spec.host_network = Some(true);
        spec.containers[0].ports = Some(vec![k8s_openapi::api::core::v1::ContainerPort {
            container_port: 80,
            protocol: Some("TCP".into()),
            ..Default::default()
        }]);
        assert_eq!(
            check(&spec),
            vec![
                "spec.containers[0].ports[0].hostPort: Invalid value: 0: must match `containerPort` when `hostNetwork` is true"
            ]
        );
        assert!(pod_spec(&spec, SpecOf::Template, &Path::new("spec")).is_empty());
    }

    #[test]
    fn templates_check_labels_and_forbid_ephemeral_containers() {
        let mut spec = valid_spec();
        spec.ephemeral_containers = Some(vec![Default::default()]);
        let template = PodTemplateSpec {
            metadata: None,
            spec: Some(spec),
        };
        let errs: Vec<String> = pod_template(&template, &Path::new("spec").child("template"))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errs,
            vec![
                "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"
            ]
        );
    }
}
