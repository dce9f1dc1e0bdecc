//! kube-apiserver's validation of the built-in kinds, reproduced so that invalid objects are
//! rejected with the field paths, error types and wording Kubernetes uses, and kubectl prints
//! the familiar `... is invalid: ...` lines.
//!
//! Each kind's function takes the new object and, on update, the stored one. Objects are
//! expected to be defaulted first, as upstream validates defaulted objects.

mod admission;
mod admission_policy;
mod apiextensions;
mod apiregistration;
mod apps;
mod apps_sets;
mod authorization;
mod autoscaling;
mod batch;
mod certificates;
mod container;
mod coordination;
mod core;
mod core_extra;
mod cron_job;
mod discovery;
mod field;
#[cfg(test)]
mod fixtures;
mod flowcontrol;
pub(crate) mod go;
mod meta;
mod names;
mod net;
mod networking;
mod node;
mod pod;
mod pod_spec;
mod policy;
pub(crate) mod quantity;
mod rbac;
mod resources;
mod scheduling;
mod service;
mod storage;
mod storage_core;
pub(crate) mod url;
mod volume;
mod webhook;

pub use self::admission::{mutating_webhook_configuration, validating_webhook_configuration};
pub use self::admission_policy::{
    validating_admission_policy, validating_admission_policy_binding,
};
pub use self::apiextensions::custom_resource_definition;
pub use self::apiregistration::api_service;
pub use self::apps::{deployment, replica_set};
pub use self::apps_sets::{controller_revision, daemon_set, stateful_set};
pub use self::authorization::{
    local_subject_access_review, self_subject_access_review, self_subject_rules_review,
    subject_access_review,
};
pub use self::autoscaling::horizontal_pod_autoscaler;
pub use self::batch::job;
pub use self::certificates::certificate_signing_request;
pub use self::coordination::lease;
pub use self::core::{config_map, event, namespace, node, secret, service_account};
pub use self::core_extra::{limit_range, pod_template, replication_controller, resource_quota};
pub use self::cron_job::{Schedule, cron_job, parse_schedule};
pub use self::discovery::endpoint_slice;
pub use self::field::{ErrorKind, ErrorList, FieldError, Path};
pub use self::flowcontrol::{flow_schema, priority_level_configuration};
pub use self::go::{GoValue, Rendered};
pub use self::meta::{label_selector, labels, object_meta};
pub use self::names::{
    NameRule, is_config_map_key, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain,
    is_qualified_name, is_valid_label_value,
};
pub use self::networking::{ingress, ingress_class, network_policy};
pub use self::node::runtime_class;
pub use self::pod::pod;
pub use self::policy::pod_disruption_budget;
pub use self::rbac::{cluster_role, cluster_role_binding, role, role_binding};
pub use self::scheduling::priority_class;
pub use self::service::{NODE_PORT_RANGE, endpoints, service};
pub use self::storage::{csi_driver, csi_node, storage_class, volume_attachment};
pub use self::storage_core::{persistent_volume, persistent_volume_claim};

/// The Status message of a 422 Invalid error: `<Kind>[.<group>] "<name>" is invalid: ...`, with
/// one error as is and several (deduplicated) in brackets.
pub fn invalid_message(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> String {
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let prefix = format!("{qualified} {} is invalid", go::quote(name));
    let mut seen = std::collections::BTreeSet::new();
    let messages: Vec<String> = errors
        .iter()
        .map(ToString::to_string)
        .filter(|m| seen.insert(m.clone()))
        .collect();
    match messages.as_slice() {
        [] => prefix,
        [only] => format!("{prefix}: {only}"),
        many => format!("{prefix}: [{}]", many.join(", ")),
    }
}

/// An optional string as Go's zero-valued string.
fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

/// An optional list as Go's nil-or-empty slice.
fn opt_slice<T>(value: &Option<Vec<T>>) -> &[T] {
    value.as_deref().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_messages_follow_new_invalid() {
        let path = Path::new("spec").child("replicas");
        let err = FieldError::invalid(&path, -1i64, "must be greater than or equal to 0");
        assert_eq!(
            invalid_message("ConfigMap", "", "x", &[]),
            "ConfigMap \"x\" is invalid"
        );
        assert_eq!(
            invalid_message("Deployment", "apps", "web", &[err.clone(), err.clone()]),
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let required = FieldError::required(&Path::new("spec").child("selector"), "");
        assert_eq!(
            invalid_message("Deployment", "apps", "web", &[err, required]),
            "Deployment.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.selector: Required value]"
        );
    }
}
