//! kube-apiserver's validation of the built-in kinds, reproduced so that invalid objects are
//! rejected with the field paths, error types and wording Kubernetes uses, and kubectl prints
//! the familiar `... is invalid: ...` lines.
//!
//! Each kind's function takes the new object and, on update, the stored one. Objects are
//! expected to be defaulted first, as upstream validates defaulted objects.

mod apps;
mod batch;
mod container;
mod coordination;
mod core;
mod discovery;
mod field;
#[cfg(test)]
mod fixtures;
mod go;
mod meta;
mod names;
mod net;
mod pod;
mod pod_spec;
mod quantity;
mod resources;
mod service;
mod volume;

pub use self::apps::{deployment, replica_set};
pub use self::batch::job;
pub use self::coordination::lease;
pub use self::core::{config_map, event, namespace, node, secret, service_account};
pub use self::discovery::endpoint_slice;
pub use self::field::{ErrorKind, ErrorList, FieldError, Path};
pub use self::go::{GoValue, Rendered};
pub use self::meta::{label_selector, labels, object_meta};
pub use self::names::{
    NameRule, is_config_map_key, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain,
    is_qualified_name, is_valid_label_value,
};
pub use self::pod::pod;
pub use self::service::{NODE_PORT_RANGE, endpoints, service};

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
