//! StatefulSets, DaemonSets and ControllerRevisions (upstream's `pkg/apis/apps/validation`, as
//! Kubernetes 1.33 has it): pod management and update strategies, a selector that matches the
//! template, the few StatefulSet fields an update may change, and revisions whose data is fixed.
//!
//! Kubernetes 1.33 checks a StatefulSet's pod template only for its labels, annotations,
//! restart policy and active deadline, and leaves its volume claim templates alone: both are
//! checked when the controller creates the pods and claims (full checks came in 1.34, for new
//! objects only). These rules do the same, so every StatefulSet a 1.33 kube-apiserver accepts is
//! accepted here. DaemonSet templates are checked in full, as upstream checks them.

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet,
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::apps::{
    SELECTOR_MISMATCH, int_or_percent_value, is_missing, percent, positive_int_or_percent,
    restarts_always, selector_unchanged, unset_is_zero,
};
use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{
    Selector, annotations, immutable, label_selector, labels, non_negative, object_meta,
    object_meta_revalidated,
};
use super::names::{NameRule, is_dns1123_label};
use super::pod_spec::pod_template;
use super::text;

/// Upstream's wording, which names the fields an update may change.
const STATEFUL_SET_SPEC_FIXED: &str = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

/// Validates a StatefulSet on create (`old` is `None`) or update.
///
/// Names are DNS labels, since each pod's hostname is `<name>-<ordinal>`; an update does not
/// re-check the name, as sets made when names could be subdomains must stay deletable.
pub fn stateful_set(new: &StatefulSet, old: Option<&StatefulSet>) -> ErrorList {
    let default_spec = StatefulSetSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let path = Path::new("spec");
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsLabel,
        old.map(|o| &o.metadata),
    );
    errs.extend(stateful_set_spec(spec, old.is_none(), &path));
    if let Some(old) = old {
        let old_spec = old.spec.as_ref().unwrap_or(&default_spec);
        errs.extend(only_mutable_fields_changed(spec, old_spec, &path));
    }
    errs
}

/// Upstream's `ValidateStatefulSetSpec`, in its order. `creating` turns on the service name
/// check, which upstream added in 1.33 for new objects only.
fn stateful_set_spec(spec: &StatefulSetSpec, creating: bool, path: &Path) -> ErrorList {
    let mut errs: ErrorList = pod_management_policy(
        text(&spec.pod_management_policy),
        &path.child("podManagementPolicy"),
    )
    .into_iter()
    .collect();
    errs.extend(stateful_set_strategy(
        spec.update_strategy.as_ref(),
        &path.child("updateStrategy"),
    ));
    if let Some(policy) = &spec.persistent_volume_claim_retention_policy {
        errs.extend(retention_policy(
            policy,
            &path.child("persistentVolumeClaimRetentionPolicy"),
        ));
    }
    errs.extend(non_negative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    ));
    errs.extend(non_negative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    ));
    if let Some(ordinals) = &spec.ordinals {
        errs.extend(non_negative(
            i64::from(ordinals.start.unwrap_or(0)),
            &path.child("ordinals").child("start"),
        ));
    }
    let service_name = text(&spec.service_name);
    if creating && !service_name.is_empty() {
        // The controller sets it as each pod's subdomain, which must be a DNS label.
        let field = path.child("serviceName");
        errs.extend(
            is_dns1123_label(service_name)
                .into_iter()
                .map(|m| FieldError::invalid(&field, service_name, m)),
        );
    }
    errs.extend(stateful_set_template(&spec.selector, &spec.template, path));
    errs
}

fn pod_management_policy(policy: &str, path: &Path) -> Option<FieldError> {
    match policy {
        "" => Some(FieldError::required(path, "")),
        "OrderedReady" | "Parallel" => None,
        other => Some(FieldError::invalid(
            path,
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
}

fn stateful_set_strategy(strategy: Option<&StatefulSetUpdateStrategy>, path: &Path) -> ErrorList {
    let default_strategy = StatefulSetUpdateStrategy::default();
    let strategy = strategy.unwrap_or(&default_strategy);
    let rolling_path = path.child("rollingUpdate");
    match (text(&strategy.type_), &strategy.rolling_update) {
        ("", _) => vec![FieldError::required(path, "")],
        ("OnDelete", Some(rolling)) => vec![FieldError::invalid(
            &rolling_path,
            rolling_stateful_set_value(rolling),
            "only allowed for updateStrategy 'RollingUpdate'",
        )],
        ("OnDelete" | "RollingUpdate", None) => ErrorList::new(),
        ("RollingUpdate", Some(rolling)) => stateful_set_rolling_update(rolling, &rolling_path),
        _ => vec![FieldError::invalid(
            path,
            stateful_set_strategy_value(strategy),
            "must be 'RollingUpdate' or 'OnDelete'",
        )],
    }
}

/// A partition below zero would update no pod; `maxUnavailable`, when given, must let at least
/// one pod be replaced at a time.
fn stateful_set_rolling_update(
    rolling: &RollingUpdateStatefulSetStrategy,
    path: &Path,
) -> ErrorList {
    let mut errs: ErrorList = non_negative(
        i64::from(rolling.partition.unwrap_or(0)),
        &path.child("partition"),
    )
    .into_iter()
    .collect();
    if let Some(max_unavailable) = &rolling.max_unavailable {
        let unavailable_path = path.child("maxUnavailable");
        errs.extend(positive_int_or_percent(max_unavailable, &unavailable_path));
        if int_or_percent_value(max_unavailable) == 0 {
            errs.push(FieldError::invalid(
                &unavailable_path,
                go::int_or_string(max_unavailable),
                "cannot be 0",
            ));
        }
        errs.extend(not_over_100_percent(max_unavailable, &unavailable_path));
    }
    errs
}

/// `%#v` of upstream's internal `RollingUpdateStatefulSetStrategy`, where an unset partition is 0.
fn rolling_stateful_set_value(rolling: &RollingUpdateStatefulSetStrategy) -> Rendered {
    let max_unavailable = rolling.max_unavailable.as_ref().map_or_else(
        || "(*intstr.IntOrString)(nil)".to_string(),
        |value| format!("&{}", go::int_or_string(value).0),
    );
    Rendered(format!(
        "apps.RollingUpdateStatefulSetStrategy{{Partition:{}, MaxUnavailable:{max_unavailable}}}",
        rolling.partition.unwrap_or(0)
    ))
}

/// `%#v` of upstream's internal `StatefulSetUpdateStrategy`. Go prints a set nested pointer as
/// an address; the pointee is shown instead, as `apps.rs` does for Deployments.
fn stateful_set_strategy_value(strategy: &StatefulSetUpdateStrategy) -> Rendered {
    let rolling = strategy.rolling_update.as_ref().map_or_else(
        || "(*apps.RollingUpdateStatefulSetStrategy)(nil)".to_string(),
        |r| format!("&{}", rolling_stateful_set_value(r).0),
    );
    Rendered(format!(
        "apps.StatefulSetUpdateStrategy{{Type:{}, RollingUpdate:{rolling}}}",
        go::quote(text(&strategy.type_))
    ))
}

fn retention_policy(
    policy: &StatefulSetPersistentVolumeClaimRetentionPolicy,
    path: &Path,
) -> ErrorList {
    [
        ("whenDeleted", &policy.when_deleted),
        ("whenScaled", &policy.when_scaled),
    ]
    .into_iter()
    .filter_map(|(field, value)| {
        let value = text(value);
        (!matches!(value, "Retain" | "Delete"))
            .then(|| FieldError::not_supported(&path.child(field), value, &["Retain", "Delete"]))
    })
    .collect()
}

/// The selector and the template it must select (`ValidatePodTemplateSpecForStatefulSet`): the
/// template's labels and annotations are checked (at `template.labels` and
/// `template.annotations`, upstream's paths), its pod spec only for how pods restart.
fn stateful_set_template(
    selector: &LabelSelector,
    template: &PodTemplateSpec,
    path: &Path,
) -> ErrorList {
    let selector_path = path.child("selector");
    let template_path = path.child("template");
    let mut errs = ErrorList::new();
    let parsed = if is_missing(selector) {
        errs.push(FieldError::required(&selector_path, ""));
        Selector::parse(None)
    } else {
        errs.extend(label_selector(Some(selector), &selector_path));
        Selector::parse(Some(selector))
    };
    match parsed {
        None => errs.push(FieldError::invalid(
            &selector_path,
            go::label_selector(selector),
            "",
        )),
        Some(parsed) => {
            let meta = template.metadata.as_ref();
            let template_labels = meta.and_then(|m| m.labels.as_ref());
            if !parsed.is_empty() && !parsed.matches(template_labels) {
                errs.push(FieldError::invalid(
                    &template_path.child("metadata").child("labels"),
                    go::string_map(template_labels),
                    SELECTOR_MISMATCH,
                ));
            }
            errs.extend(labels(template_labels, &template_path.child("labels")));
            errs.extend(annotations(
                meta.and_then(|m| m.annotations.as_ref()),
                &template_path.child("annotations"),
            ));
        }
    }
    errs.extend(restarts_always(template, &template_path, "StatefulSet"));
    errs
}

/// Only the replicas, ordinals, template, update strategy, claim retention and
/// `minReadySeconds` may change: the rest (selector, service name, claim templates, pod
/// management) shapes pods and claims that already exist.
fn only_mutable_fields_changed(
    new: &StatefulSetSpec,
    old: &StatefulSetSpec,
    path: &Path,
) -> Option<FieldError> {
    let mut fixed = new.clone();
    fixed.replicas = old.replicas;
    fixed.ordinals.clone_from(&old.ordinals);
    fixed.template = old.template.clone();
    fixed.update_strategy.clone_from(&old.update_strategy);
    fixed
        .persistent_volume_claim_retention_policy
        .clone_from(&old.persistent_volume_claim_retention_policy);
    fixed.min_ready_seconds = old.min_ready_seconds;
    (semantic(&fixed) != semantic(old))
        .then(|| FieldError::forbidden(path, STATEFUL_SET_SPEC_FIXED))
}

/// A value as JSON without nulls, empty lists and empty objects: upstream compares specs with
/// `Semantic.DeepEqual`, for which an empty list or map equals a missing one.
fn semantic<T: serde::Serialize>(value: &T) -> Value {
    let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
    prune_empty(&mut value);
    value
}

fn prune_empty(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(prune_empty);
            map.retain(|_, v| !is_empty(v));
        }
        Value::Array(items) => items.iter_mut().for_each(prune_empty),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Validates a DaemonSet on create (`old` is `None`) or update; an update is also validated
/// as a create, as upstream's strategy does, and may not change the selector.
pub fn daemon_set(new: &DaemonSet, old: Option<&DaemonSet>) -> ErrorList {
    let default_spec = DaemonSetSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let path = Path::new("spec");
    let mut errs = object_meta(&new.metadata, true, NameRule::DnsSubdomain, None);
    errs.extend(daemon_set_spec(spec, &path));
    if let Some(old) = old {
        let old_spec = old.spec.as_ref().unwrap_or(&default_spec);
        errs.extend(object_meta(
            &new.metadata,
            true,
            NameRule::DnsSubdomain,
            Some(&old.metadata),
        ));
        errs.extend(daemon_set_spec(spec, &path));
        errs.extend(selector_unchanged(
            &spec.selector,
            &old_spec.selector,
            &path,
        ));
    }
    errs
}

/// Upstream's `ValidateDaemonSetSpec`, in its order. A missing selector is not reported as
/// such upstream: it selects nothing, so the template's labels do not match it.
fn daemon_set_spec(spec: &DaemonSetSpec, path: &Path) -> ErrorList {
    let template_path = path.child("template");
    let selector = (!is_missing(&spec.selector)).then_some(&spec.selector);
    let mut errs = label_selector(selector, &path.child("selector"));
    let template_labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref());
    if Selector::parse(selector).is_some_and(|s| !s.matches(template_labels)) {
        errs.push(FieldError::invalid(
            &template_path.child("metadata").child("labels"),
            go::string_map(template_labels),
            SELECTOR_MISMATCH,
        ));
    }
    errs.extend(pod_template(&spec.template, &template_path));
    errs.extend(restarts_always(&spec.template, &template_path, "DaemonSet"));
    errs.extend(non_negative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    ));
    errs.extend(daemon_set_strategy(
        spec.update_strategy.as_ref(),
        &path.child("updateStrategy"),
    ));
    if let Some(limit) = spec.revision_history_limit {
        errs.extend(non_negative(
            i64::from(limit),
            &path.child("revisionHistoryLimit"),
        ));
    }
    errs
}

fn daemon_set_strategy(strategy: Option<&DaemonSetUpdateStrategy>, path: &Path) -> ErrorList {
    let default_strategy = DaemonSetUpdateStrategy::default();
    let strategy = strategy.unwrap_or(&default_strategy);
    let rolling_path = path.child("rollingUpdate");
    match (text(&strategy.type_), &strategy.rolling_update) {
        ("OnDelete", _) => ErrorList::new(),
        ("RollingUpdate", None) => vec![FieldError::required(&rolling_path, "")],
        ("RollingUpdate", Some(rolling)) => daemon_set_rolling_update(rolling, &rolling_path),
        _ => vec![FieldError::not_supported(
            path,
            daemon_set_strategy_value(strategy),
            &["RollingUpdate", "OnDelete"],
        )],
    }
}

/// A rolling update either takes nodes' pods down first (`maxUnavailable`) or starts the new
/// pod beside the old one (`maxSurge`): exactly one of the two must be non-zero.
fn daemon_set_rolling_update(rolling: &RollingUpdateDaemonSet, path: &Path) -> ErrorList {
    let max_unavailable = unset_is_zero(&rolling.max_unavailable);
    let max_surge = unset_is_zero(&rolling.max_surge);
    let unavailable_path = path.child("maxUnavailable");
    let surge_path = path.child("maxSurge");
    let mut errs = positive_int_or_percent(&max_unavailable, &unavailable_path);
    errs.extend(positive_int_or_percent(&max_surge, &surge_path));
    errs.extend(not_over_100_percent(&max_unavailable, &unavailable_path));
    errs.extend(not_over_100_percent(&max_surge, &surge_path));
    let has_unavailable = int_or_percent_value(&max_unavailable) != 0;
    let has_surge = int_or_percent_value(&max_surge) != 0;
    match (has_unavailable, has_surge) {
        (true, true) => errs.push(FieldError::invalid(
            &surge_path,
            go::int_or_string(&max_surge),
            "may not be set when maxUnavailable is non-zero",
        )),
        (false, false) => errs.push(FieldError::required(
            &unavailable_path,
            "cannot be 0 when maxSurge is 0",
        )),
        _ => {}
    }
    errs
}

/// `%#v` of upstream's internal `DaemonSetUpdateStrategy` (unset quantities are zero there).
fn daemon_set_strategy_value(strategy: &DaemonSetUpdateStrategy) -> Rendered {
    let rolling = strategy.rolling_update.as_ref().map_or_else(
        || "(*apps.RollingUpdateDaemonSet)(nil)".to_string(),
        |r| {
            format!(
                "&apps.RollingUpdateDaemonSet{{MaxUnavailable:{}, MaxSurge:{}}}",
                go::int_or_string(&unset_is_zero(&r.max_unavailable)).0,
                go::int_or_string(&unset_is_zero(&r.max_surge)).0
            )
        },
    );
    Rendered(format!(
        "apps.DaemonSetUpdateStrategy{{Type:{}, RollingUpdate:{rolling}}}",
        go::quote(text(&strategy.type_))
    ))
}

fn not_over_100_percent(value: &IntOrString, path: &Path) -> Option<FieldError> {
    percent(value).filter(|p| *p > 100).map(|_| {
        FieldError::invalid(
            path,
            go::int_or_string(value),
            "must not be greater than 100%",
        )
    })
}

/// Validates a ControllerRevision on create (`old` is `None`) or update. A revision records one
/// version of its owner's template: its data must be there and never changes.
pub fn controller_revision(
    new: &ControllerRevision,
    old: Option<&ControllerRevision>,
) -> ErrorList {
    let mut errs = object_meta_revalidated(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    if new.data.is_none() {
        errs.push(FieldError::required(
            &Path::new("data"),
            "data is mandatory",
        ));
    }
    errs.extend(non_negative(new.revision, &Path::new("revision")));
    if let Some(old) = old {
        errs.extend(immutable(
            revision_data(new),
            revision_data(old),
            &Path::new("data"),
        ));
    }
    errs
}

/// The data as compact JSON (upstream prints its in-memory object, which has no JSON form).
fn revision_data(revision: &ControllerRevision) -> Rendered {
    Rendered(
        revision
            .data
            .as_ref()
            .map_or_else(|| "null".to_string(), |data| data.0.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        app_labels, app_selector, messages, namespaced_meta, stored, valid_template,
    };
    use super::super::invalid_message;
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSetOrdinals;
    use k8s_openapi::api::core::v1::{
        PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
    use std::collections::BTreeMap;

    /// The ZooKeeper ensemble of the Kubernetes tutorial, after defaulting.
    fn valid_stateful_set() -> StatefulSet {
        StatefulSet {
            metadata: namespaced_meta("zk"),
            spec: Some(StatefulSetSpec {
                replicas: Some(3),
                selector: app_selector(),
                service_name: Some("zk-hs".into()),
                template: valid_template(),
                pod_management_policy: Some("OrderedReady".into()),
                update_strategy: Some(StatefulSetUpdateStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateStatefulSetStrategy {
                        partition: Some(0),
                        max_unavailable: None,
                    }),
                }),
                persistent_volume_claim_retention_policy: Some(
                    StatefulSetPersistentVolumeClaimRetentionPolicy {
                        when_deleted: Some("Retain".into()),
                        when_scaled: Some("Retain".into()),
                    },
                ),
                revision_history_limit: Some(10),
                volume_claim_templates: Some(vec![claim_template("10Gi")]),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn claim_template(size: &str) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("datadir".into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".to_string(),
                        Quantity(size.into()),
                    )])),
                    limits: None,
                }),
                volume_mode: Some("Filesystem".into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn set_spec(set: &mut StatefulSet) -> &mut StatefulSetSpec {
        set.spec.as_mut().expect("spec")
    }

    fn stored_set() -> StatefulSet {
        StatefulSet {
            metadata: stored(namespaced_meta("zk")),
            ..valid_stateful_set()
        }
    }

    #[test]
    fn a_created_stateful_set_is_valid() {
        assert!(stateful_set(&valid_stateful_set(), None).is_empty());
    }

    #[test]
    fn names_are_dns_labels() {
        let mut set = valid_stateful_set();
        set.metadata.name = Some("zk.v1".into());
        assert_eq!(
            messages(&stateful_set(&set, None)),
            vec![format!(
                "metadata.name: Invalid value: \"zk.v1\": {}",
                is_dns1123_label("zk.v1")[0]
            )]
        );
    }

    #[test]
    fn policies_and_strategies() {
        let mut set = valid_stateful_set();
        let spec = set_spec(&mut set);
        spec.pod_management_policy = Some("Sometimes".into());
        spec.update_strategy = Some(StatefulSetUpdateStrategy {
            type_: Some("BlueGreen".into()),
            rolling_update: None,
        });
        spec.persistent_volume_claim_retention_policy =
            Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                when_deleted: Some("Keep".into()),
                when_scaled: Some("Retain".into()),
            });
        assert_eq!(
            messages(&stateful_set(&set, None)),
            vec![
                "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'",
                "spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:\"BlueGreen\", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' or 'OnDelete'",
                "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"",
            ]
        );
    }

    #[test]
    fn rolling_updates_only_roll() {
        let mut set = valid_stateful_set();
        set_spec(&mut set).update_strategy = Some(StatefulSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: Some(RollingUpdateStatefulSetStrategy {
                partition: Some(0),
                max_unavailable: None,
            }),
        });
        assert_eq!(
            messages(&stateful_set(&set, None)),
            vec![
                "spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:0, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'"
            ]
        );
        set_spec(&mut set).update_strategy = Some(StatefulSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateStatefulSetStrategy {
                partition: Some(-1),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        });
        assert_eq!(
            messages(&stateful_set(&set, None)),
            vec![
                "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: cannot be 0",
            ]
        );
    }

    #[test]
    fn counts_ordinals_and_service_name() {
        let mut set = valid_stateful_set();
        let spec = set_spec(&mut set);
        spec.replicas = Some(-1);
        spec.ordinals = Some(StatefulSetOrdinals { start: Some(-2) });
        spec.service_name = Some("zk_hs".into());
        assert_eq!(
            messages(&stateful_set(&set, None)),
            vec![
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0".to_string(),
                "spec.ordinals.start: Invalid value: -2: must be greater than or equal to 0"
                    .to_string(),
                format!(
                    "spec.serviceName: Invalid value: \"zk_hs\": {}",
                    is_dns1123_label("zk_hs")[0]
                ),
            ]
        );
    }

    #[test]
    fn templates_restart_always_and_match_the_selector() {
        let mut set = valid_stateful_set();
        let template = &mut set_spec(&mut set).template;
        template.metadata.as_mut().expect("metadata").labels =
            Some(BTreeMap::from([("app".to_string(), "other".to_string())]));
        let pod = template.spec.as_mut().expect("spec");
        pod.restart_policy = Some("OnFailure".into());
        pod.active_deadline_seconds = Some(60);
        assert_eq!(
            invalid_message("StatefulSet", "apps", "zk", &stateful_set(&set, None)),
            "StatefulSet.apps \"zk\" is invalid: [spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`, spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\", spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported]"
        );
    }

    #[test]
    fn pod_specs_are_left_to_the_controller() {
        // As in Kubernetes 1.33: the pods it creates are validated, the template is not.
        let mut set = valid_stateful_set();
        set_spec(&mut set)
            .template
            .spec
            .as_mut()
            .expect("spec")
            .containers[0]
            .image = None;
        set_spec(&mut set).volume_claim_templates = Some(vec![PersistentVolumeClaim::default()]);
        assert!(stateful_set(&set, None).is_empty());
    }

    #[test]
    fn missing_selector_is_required() {
        let mut set = valid_stateful_set();
        set_spec(&mut set).selector = LabelSelector::default();
        assert_eq!(
            messages(&stateful_set(&set, None)),
            vec![
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn updates_change_only_the_mutable_fields() {
        let old = stored_set();
        let mut new = old.clone();
        let spec = set_spec(&mut new);
        spec.replicas = Some(5);
        spec.min_ready_seconds = Some(10);
        spec.template.spec.as_mut().expect("spec").containers[0].image = Some("zk:2".into());
        spec.update_strategy = Some(StatefulSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        });
        assert!(stateful_set(&new, Some(&old)).is_empty());

        set_spec(&mut new).volume_claim_templates = Some(vec![claim_template("20Gi")]);
        assert_eq!(
            messages(&stateful_set(&new, Some(&old))),
            vec![format!("spec: Forbidden: {STATEFUL_SET_SPEC_FIXED}")]
        );
    }

    #[test]
    fn updates_tolerate_what_was_stored() {
        let mut old = stored_set();
        old.metadata.name = Some("zk.v1".into());
        set_spec(&mut old).service_name = Some("zk_hs".into());
        set_spec(&mut old).volume_claim_templates = Some(Vec::new());
        let mut new = old.clone();
        set_spec(&mut new).replicas = Some(1);
        set_spec(&mut new).volume_claim_templates = None;
        assert!(stateful_set(&new, Some(&old)).is_empty());
    }

    /// A DaemonSet as `kubectl apply` leaves it after defaulting.
    fn valid_daemon_set() -> DaemonSet {
        DaemonSet {
            metadata: namespaced_meta("agent"),
            spec: Some(DaemonSetSpec {
                selector: app_selector(),
                template: valid_template(),
                update_strategy: Some(DaemonSetUpdateStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDaemonSet {
                        max_unavailable: Some(IntOrString::Int(1)),
                        max_surge: Some(IntOrString::Int(0)),
                    }),
                }),
                revision_history_limit: Some(10),
                min_ready_seconds: None,
            }),
            status: None,
        }
    }

    fn daemon_spec(set: &mut DaemonSet) -> &mut DaemonSetSpec {
        set.spec.as_mut().expect("spec")
    }

    fn rolling(max_unavailable: IntOrString, max_surge: IntOrString) -> DaemonSetUpdateStrategy {
        DaemonSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDaemonSet {
                max_unavailable: Some(max_unavailable),
                max_surge: Some(max_surge),
            }),
        }
    }

    #[test]
    fn a_created_daemon_set_is_valid() {
        assert!(daemon_set(&valid_daemon_set(), None).is_empty());
        let mut surging = valid_daemon_set();
        daemon_spec(&mut surging).update_strategy = Some(rolling(
            IntOrString::Int(0),
            IntOrString::String("25%".into()),
        ));
        assert!(daemon_set(&surging, None).is_empty());
    }

    #[test]
    fn exactly_one_of_unavailable_and_surge() {
        let mut set = valid_daemon_set();
        daemon_spec(&mut set).update_strategy =
            Some(rolling(IntOrString::Int(0), IntOrString::Int(0)));
        assert_eq!(
            messages(&daemon_set(&set, None)),
            vec![
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"
            ]
        );
        daemon_spec(&mut set).update_strategy =
            Some(rolling(IntOrString::Int(1), IntOrString::Int(1)));
        assert_eq!(
            messages(&daemon_set(&set, None)),
            vec![
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when maxUnavailable is non-zero"
            ]
        );
        daemon_spec(&mut set).update_strategy = Some(rolling(
            IntOrString::String("150%".into()),
            IntOrString::Int(0),
        ));
        assert_eq!(
            messages(&daemon_set(&set, None)),
            vec![
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"
            ]
        );
    }

    #[test]
    fn strategy_types() {
        let mut set = valid_daemon_set();
        daemon_spec(&mut set).update_strategy = Some(DaemonSetUpdateStrategy {
            type_: Some("BlueGreen".into()),
            rolling_update: None,
        });
        assert_eq!(
            messages(&daemon_set(&set, None)),
            vec![
                "spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:\"BlueGreen\", RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: \"RollingUpdate\", \"OnDelete\""
            ]
        );
        daemon_spec(&mut set).update_strategy = Some(DaemonSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: None,
        });
        assert_eq!(
            messages(&daemon_set(&set, None)),
            vec!["spec.updateStrategy.rollingUpdate: Required value"]
        );
        daemon_spec(&mut set).update_strategy = Some(DaemonSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        });
        assert!(daemon_set(&set, None).is_empty());
    }

    #[test]
    fn daemon_templates_and_counts() {
        let mut set = valid_daemon_set();
        let spec = daemon_spec(&mut set);
        spec.min_ready_seconds = Some(-1);
        spec.revision_history_limit = Some(-1);
        let pod = spec.template.spec.as_mut().expect("spec");
        pod.restart_policy = Some("Never".into());
        pod.containers[0].image = None;
        assert_eq!(
            messages(&daemon_set(&set, None)),
            vec![
                "spec.template.spec.containers[0].image: Required value",
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn a_missing_daemon_selector_matches_nothing() {
        let mut set = valid_daemon_set();
        daemon_spec(&mut set).selector = LabelSelector::default();
        assert_eq!(
            messages(&daemon_set(&set, None)),
            vec![
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn daemon_selector_is_immutable() {
        let old = DaemonSet {
            metadata: stored(namespaced_meta("agent")),
            ..valid_daemon_set()
        };
        let mut new = old.clone();
        let mut labels = app_labels();
        labels.insert("tier".into(), "node".into());
        let spec = daemon_spec(&mut new);
        spec.selector = LabelSelector {
            match_labels: Some(labels.clone()),
            match_expressions: None,
        };
        spec.template.metadata.as_mut().expect("metadata").labels = Some(labels);
        assert_eq!(
            messages(&daemon_set(&new, Some(&old))),
            vec![
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"tier\":\"node\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
            ]
        );
    }

    fn valid_revision() -> ControllerRevision {
        ControllerRevision {
            metadata: namespaced_meta("zk-5d7c9b8f6"),
            data: Some(RawExtension(serde_json::json!({
                "spec": {"template": {"metadata": {"labels": {"app": "web"}}}}
            }))),
            revision: 1,
        }
    }

    #[test]
    fn revisions_carry_data() {
        assert!(controller_revision(&valid_revision(), None).is_empty());
        let revision = ControllerRevision {
            metadata: namespaced_meta("Zk"),
            data: None,
            revision: -1,
        };
        let errs = messages(&controller_revision(&revision, None));
        assert_eq!(errs.len(), 3);
        assert!(
            errs[0].starts_with(
                "metadata.name: Invalid value: \"Zk\": a lowercase RFC 1123 subdomain"
            )
        );
        assert_eq!(errs[1], "data: Required value: data is mandatory");
        assert_eq!(
            errs[2],
            "revision: Invalid value: -1: must be greater than or equal to 0"
        );
    }

    #[test]
    fn revision_data_is_immutable() {
        let old = ControllerRevision {
            metadata: stored(namespaced_meta("zk-5d7c9b8f6")),
            ..valid_revision()
        };
        let mut new = old.clone();
        new.metadata.labels = Some(app_labels());
        assert!(controller_revision(&new, Some(&old)).is_empty());
        new.data = Some(RawExtension(serde_json::json!({"spec": {}})));
        assert_eq!(
            messages(&controller_revision(&new, Some(&old))),
            vec!["data: Invalid value: {\"spec\":{}}: field is immutable"]
        );
    }
}
