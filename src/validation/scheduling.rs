//! PriorityClasses (upstream's `pkg/apis/scheduling/validation`): the `system-` names and the
//! values above one billion are kept for the two classes the cluster creates itself, and a
//! class's value and preemption policy never change.

use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::field::{ErrorList, FieldError, Path};
use super::meta::object_meta_of_write;
use super::meta::{immutable, object_meta};
use super::names::NameRule;
use super::pod_spec::preemption_policy;
use super::text;

/// The highest value a user-defined class may have; higher ones belong to the system classes.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
const SYSTEM_CRITICAL_PRIORITY: i32 = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
const SYSTEM_PRIORITY_CLASS_PREFIX: &str = "system-";

/// The classes the cluster creates at bootstrap, with their values; neither is a global
/// default.
pub const SYSTEM_PRIORITY_CLASSES: [(&str, i32); 2] = [
    ("system-node-critical", SYSTEM_CRITICAL_PRIORITY + 1000),
    ("system-cluster-critical", SYSTEM_CRITICAL_PRIORITY),
];

/// Validates a PriorityClass on create (`old` is `None`) or update.
///
/// On update only the update rules run (after the registry's metadata checks): the name and
/// value cannot change, so the create rules would find nothing new.
pub fn priority_class(new: &PriorityClass, old: Option<&PriorityClass>) -> ErrorList {
    let Some(old) = old else {
        return create(new);
    };
    let mut errs = object_meta_of_write(
        &new.metadata,
        false,
        NameRule::PathSegment,
        Some(&old.metadata),
    );
    if new.value != old.value {
        errs.push(FieldError::forbidden(
            &Path::new("value"),
            "may not be changed in an update.",
        ));
    }
    errs.extend(immutable(
        new.preemption_policy.as_deref(),
        old.preemption_policy.as_deref(),
        &Path::new("preemptionPolicy"),
    ));
    errs
}

fn create(class: &PriorityClass) -> ErrorList {
    let mut errs = object_meta(&class.metadata, false, NameRule::DnsSubdomain, None);
    let name = text(&class.metadata.name);
    if name.starts_with(SYSTEM_PRIORITY_CLASS_PREFIX) {
        let global_default = class.global_default.unwrap_or(false);
        if let Err(reason) = known_system_class(name, class.value, global_default) {
            errs.push(FieldError::forbidden(
                &Path::new("metadata").child("name"),
                format!(
                    "priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: {reason}"
                ),
            ));
        }
    } else if class.value > HIGHEST_USER_DEFINABLE_PRIORITY {
        errs.push(FieldError::forbidden(
            &Path::new("value"),
            format!(
                "maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
            ),
        ));
    }
    if let Some(policy) = class.preemption_policy.as_deref() {
        errs.extend(preemption_policy(policy, &Path::new("preemptionPolicy")));
    }
    errs
}

/// A `system-` class must be one of the bootstrap classes exactly as the cluster creates it;
/// the error says what differs.
fn known_system_class(name: &str, value: i32, global_default: bool) -> Result<(), String> {
    match SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) {
        None => Err(format!("{name} is not a known system priority class")),
        Some((n, v)) if *v != value => Err(format!("value of {n} PriorityClass must be {v}")),
        Some((n, _)) if global_default => {
            Err(format!("globalDefault of {n} PriorityClass must be false"))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, stored};
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn class(name: &str, value: i32) -> PriorityClass {
        PriorityClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            value,
            preemption_policy: Some("PreemptLowerPriority".into()),
            ..Default::default()
        }
    }

    #[test]
    fn user_and_system_classes_pass() {
        assert!(priority_class(&class("high-priority", 1_000_000), None).is_empty());
        assert!(priority_class(&class("top", HIGHEST_USER_DEFINABLE_PRIORITY), None).is_empty());
        assert!(priority_class(&class("system-node-critical", 2_000_001_000), None).is_empty());
        assert!(priority_class(&class("system-cluster-critical", 2_000_000_000), None).is_empty());
    }

    #[test]
    fn high_values_are_reserved() {
        assert_eq!(
            messages(&priority_class(&class("urgent", 2_000_000_000), None)),
            vec![
                "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
            ]
        );
    }

    #[test]
    fn system_names_are_reserved() {
        assert_eq!(
            messages(&priority_class(&class("system-foo", 10), None)),
            vec![
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-foo is not a known system priority class"
            ]
        );
        assert_eq!(
            messages(&priority_class(&class("system-node-critical", 5), None)),
            vec![
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000"
            ]
        );
        let mut default = class("system-cluster-critical", 2_000_000_000);
        default.global_default = Some(true);
        assert_eq!(
            messages(&priority_class(&default, None)),
            vec![
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: globalDefault of system-cluster-critical PriorityClass must be false"
            ]
        );
    }

    #[test]
    fn preemption_policies() {
        let mut c = class("batch", 100);
        c.preemption_policy = Some("Sometimes".into());
        assert_eq!(
            messages(&priority_class(&c, None)),
            vec![
                "preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\""
            ]
        );
        c.preemption_policy = Some(String::new());
        assert_eq!(
            messages(&priority_class(&c, None)),
            vec!["preemptionPolicy: Required value"]
        );
    }

    #[test]
    fn classes_are_cluster_scoped() {
        let mut c = class("batch", 100);
        c.metadata.namespace = Some("default".into());
        assert_eq!(
            messages(&priority_class(&c, None)),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }

    #[test]
    fn value_and_preemption_policy_are_fixed() {
        let old = PriorityClass {
            metadata: stored(class("batch", 100).metadata),
            ..class("batch", 100)
        };
        let mut new = old.clone();
        new.description = Some("batch jobs".into());
        assert!(priority_class(&new, Some(&old)).is_empty());
        new.value = 200;
        new.preemption_policy = Some("Never".into());
        assert_eq!(
            messages(&priority_class(&new, Some(&old))),
            vec![
                "value: Forbidden: may not be changed in an update.",
                "preemptionPolicy: Invalid value: \"Never\": field is immutable",
            ]
        );
    }
}
