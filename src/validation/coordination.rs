//! Leases (upstream's `pkg/apis/coordination/validation`).

use k8s_openapi::api::coordination::v1::Lease;

use super::field::{ErrorList, FieldError, Path};
use super::meta::{IS_NEGATIVE, object_meta};
use super::names::NameRule;
use super::text;

/// Validates a Lease on create (`old` is `None`) or update.
pub fn lease(new: &Lease, old: Option<&Lease>) -> ErrorList {
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    let Some(spec) = &new.spec else { return errs };
    let path = Path::new("spec");
    if let Some(duration) = spec.lease_duration_seconds.filter(|d| *d <= 0) {
        errs.push(FieldError::invalid(
            &path.child("leaseDurationSeconds"),
            duration,
            "must be greater than 0",
        ));
    }
    if let Some(transitions) = spec.lease_transitions.filter(|t| *t < 0) {
        errs.push(FieldError::invalid(
            &path.child("leaseTransitions"),
            transitions,
            IS_NEGATIVE,
        ));
    }
    if !text(&spec.preferred_holder).is_empty() && text(&spec.strategy).is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("preferredHolder"),
            "may only be specified if `strategy` is defined",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta};
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;

    #[test]
    fn durations_and_transitions() {
        let lease_with = |duration: i32, transitions: i32| Lease {
            metadata: namespaced_meta("node-1"),
            spec: Some(LeaseSpec {
                holder_identity: Some("node-1".into()),
                lease_duration_seconds: Some(duration),
                lease_transitions: Some(transitions),
                ..Default::default()
            }),
        };
        assert!(lease(&lease_with(40, 0), None).is_empty());
        assert_eq!(
            messages(&lease(&lease_with(0, -1), None)),
            vec![
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            ]
        );
    }
}
