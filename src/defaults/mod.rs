//! Kubernetes' defaulting for the built-in kinds (upstream's `SetDefaults_*` functions and
//! their generated callers), applied to objects on create and update so stored objects read
//! exactly as kube-apiserver's do; plus the few create-time fill-ins of upstream's registry
//! strategies that clients rely on (`namespace_finalizer`, `job_selector`).

mod core;
mod network;
mod pod;
mod workloads;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event, ServiceAccount};

pub use self::core::{namespace, namespace_finalizer, node, secret};
pub use self::network::{endpoint_slice, endpoints, service};
pub use self::pod::{pod, pod_spec};
pub use self::workloads::{deployment, job, job_selector, replica_set};

/// Upstream gives an empty map for missing data, which serializes as nothing at all; there is
/// nothing to apply.
pub fn config_map(_: &mut ConfigMap) {}

/// ServiceAccounts have no defaults.
pub fn service_account(_: &mut ServiceAccount) {}

/// core/v1 Events have no defaults.
pub fn event(_: &mut Event) {}

/// Leases have no defaults.
pub fn lease(_: &mut Lease) {}

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
