//! Kubernetes' defaulting for the built-in kinds (upstream's `SetDefaults_*` functions and
//! their generated callers), applied to objects on create and update so stored objects read
//! exactly as kube-apiserver's do; plus the few create-time fill-ins of upstream's registry
//! strategies that clients rely on (`namespace_finalizer`, `job_selector`).

mod admission;
mod apiextensions;
mod apiregistration;
mod autoscaling;
mod core;
mod network;
mod pod;
mod rbac;
mod storage;
mod workloads;

use k8s_openapi::api::scheduling::v1::PriorityClass;

pub use self::admission::{
    mutating_webhook_configuration, validating_admission_policy,
    validating_admission_policy_binding, validating_webhook_configuration,
};
pub use self::apiextensions::{
    custom_resource_definition, prepare_create as prepare_custom_resource_definition,
    prepare_update as prepare_custom_resource_definition_update,
};
pub use self::apiregistration::api_service;
pub use self::autoscaling::horizontal_pod_autoscaler;
pub use self::core::{limit_range, namespace, namespace_finalizer, node, secret};
pub use self::network::{endpoint_slice, endpoints, network_policy, service};
pub use self::pod::{pod, pod_spec};
pub use self::rbac::{cluster_role_binding, role_binding};
pub use self::storage::{csi_driver, persistent_volume, persistent_volume_claim, storage_class};
pub use self::workloads::{
    cron_job, daemon_set, deployment, job, job_selector, pod_template, replica_set,
    replication_controller, stateful_set,
};

/// A priority class lets its pods preempt lower ones unless it says `Never`.
pub fn priority_class(class: &mut PriorityClass) {
    set_if_unset(&mut class.preemption_policy, "PreemptLowerPriority");
}

fn set_if_none<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

/// Sets a string that is missing or empty, as Go's zero value would be.
fn set_if_unset(field: &mut Option<String>, value: &str) {
    if field.as_deref().is_none_or(str::is_empty) {
        *field = Some(value.to_string());
    }
}
