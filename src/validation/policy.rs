//! PodDisruptionBudgets (upstream's `pkg/apis/policy/validation`): how many of its pods a
//! budget keeps available or lets go, which pods it covers, and how it treats unhealthy ones.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};

use super::apps::{percent, positive_int_or_percent};
use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::object_meta_of_write;
use super::meta::{label_selector, object_meta};
use super::names::NameRule;

/// Sorted, as upstream lists them.
const UNHEALTHY_POD_EVICTION_POLICIES: [&str; 2] = ["AlwaysAllow", "IfHealthyBudget"];

/// Validates a PodDisruptionBudget on create (`old` is `None`) or update.
///
/// Upstream's own rules cover only the spec; the name and the rest of the metadata are left to
/// the registry's generic checks, for which a name need only be a valid path segment. On create
/// those run only once the spec is valid, so an invalid spec hides metadata errors; on update
/// they come first. The spec may change on update.
pub fn pod_disruption_budget(
    new: &PodDisruptionBudget,
    old: Option<&PodDisruptionBudget>,
) -> ErrorList {
    let default_spec = PodDisruptionBudgetSpec::default();
    let spec_errs = spec(
        new.spec.as_ref().unwrap_or(&default_spec),
        &Path::new("spec"),
    );
    match old {
        None if !spec_errs.is_empty() => spec_errs,
        None => object_meta(&new.metadata, true, NameRule::PathSegment, None),
        Some(old) => {
            let mut errs = object_meta_of_write(
                &new.metadata,
                true,
                NameRule::PathSegment,
                Some(&old.metadata),
            );
            errs.extend(spec_errs);
            errs
        }
    }
}

/// A budget states either how many pods must stay available or how many may be unavailable, as
/// a count or a percentage of the selected pods.
fn spec(spec: &PodDisruptionBudgetSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        errs.push(FieldError::invalid(
            path,
            spec_value(spec),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (value, name) in [
        (&spec.min_available, "minAvailable"),
        (&spec.max_unavailable, "maxUnavailable"),
    ] {
        let Some(value) = value else { continue };
        let field = path.child(name);
        errs.extend(positive_int_or_percent(value, &field));
        if percent(value).is_some_and(|p| p > 100) {
            errs.push(FieldError::invalid(
                &field,
                go::int_or_string(value),
                "must not be greater than 100%",
            ));
        }
    }
    errs.extend(label_selector(
        spec.selector.as_ref(),
        &path.child("selector"),
    ));
    if let Some(policy) = spec
        .unhealthy_pod_eviction_policy
        .as_deref()
        .filter(|p| !UNHEALTHY_POD_EVICTION_POLICIES.contains(p))
    {
        errs.push(FieldError::not_supported(
            &path.child("unhealthyPodEvictionPolicy"),
            policy,
            &UNHEALTHY_POD_EVICTION_POLICIES,
        ));
    }
    errs
}

/// `%#v` of upstream's internal spec, whose fields are all pointers.
fn spec_value(spec: &PodDisruptionBudgetSpec) -> Rendered {
    Rendered(format!(
        "policy.PodDisruptionBudgetSpec{{MinAvailable:{}, Selector:{}, MaxUnavailable:{}, UnhealthyPodEvictionPolicy:{}}}",
        go::pointer("intstr.IntOrString", spec.min_available.is_some()),
        go::pointer("v1.LabelSelector", spec.selector.is_some()),
        go::pointer("intstr.IntOrString", spec.max_unavailable.is_some()),
        go::pointer(
            "policy.UnhealthyPodEvictionPolicyType",
            spec.unhealthy_pod_eviction_policy.is_some()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{app_selector, messages, namespaced_meta, stored};
    use super::*;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn budget(
        min_available: Option<IntOrString>,
        max_unavailable: Option<IntOrString>,
    ) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: namespaced_meta("web"),
            spec: Some(PodDisruptionBudgetSpec {
                min_available,
                max_unavailable,
                selector: Some(app_selector()),
                unhealthy_pod_eviction_policy: None,
            }),
            status: None,
        }
    }

    fn spec_mut(pdb: &mut PodDisruptionBudget) -> &mut PodDisruptionBudgetSpec {
        pdb.spec.as_mut().expect("spec")
    }

    #[test]
    fn valid_budgets_pass() {
        assert!(pod_disruption_budget(&budget(Some(IntOrString::Int(1)), None), None).is_empty());
        let mut pdb = budget(None, Some(IntOrString::String("25%".into())));
        spec_mut(&mut pdb).unhealthy_pod_eviction_policy = Some("AlwaysAllow".into());
        assert!(pod_disruption_budget(&pdb, None).is_empty());
    }

    #[test]
    fn min_available_and_max_unavailable_exclude_each_other() {
        let pdb = budget(
            Some(IntOrString::String("50%".into())),
            Some(IntOrString::Int(1)),
        );
        assert_eq!(
            messages(&pod_disruption_budget(&pdb, None)),
            vec![
                "spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(0xc000000000), Selector:(*v1.LabelSelector)(0xc000000000), MaxUnavailable:(*intstr.IntOrString)(0xc000000000), UnhealthyPodEvictionPolicy:(*policy.UnhealthyPodEvictionPolicyType)(nil)}: minAvailable and maxUnavailable cannot be both set"
            ]
        );
    }

    #[test]
    fn counts_and_percentages() {
        let pdb = budget(Some(IntOrString::Int(-1)), None);
        assert_eq!(
            messages(&pod_disruption_budget(&pdb, None)),
            vec!["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"]
        );
        let pdb = budget(None, Some(IntOrString::String("150%".into())));
        assert_eq!(
            messages(&pod_disruption_budget(&pdb, None)),
            vec![
                "spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"
            ]
        );
        let pdb = budget(None, Some(IntOrString::String("half".into())));
        assert_eq!(
            messages(&pod_disruption_budget(&pdb, None)),
            vec![
                "spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"half\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
            ]
        );
    }

    #[test]
    fn unhealthy_pod_eviction_policies() {
        let mut pdb = budget(Some(IntOrString::Int(1)), None);
        spec_mut(&mut pdb).unhealthy_pod_eviction_policy = Some("Sometimes".into());
        assert_eq!(
            messages(&pod_disruption_budget(&pdb, None)),
            vec![
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Sometimes\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\""
            ]
        );
    }

    #[test]
    fn metadata_is_checked_once_the_spec_is_valid() {
        let mut pdb = budget(Some(IntOrString::Int(1)), None);
        pdb.metadata.name = Some("web%1".into());
        assert_eq!(
            messages(&pod_disruption_budget(&pdb, None)),
            vec!["metadata.name: Invalid value: \"web%1\": may not contain '%'"]
        );
        spec_mut(&mut pdb).min_available = Some(IntOrString::Int(-1));
        assert_eq!(
            messages(&pod_disruption_budget(&pdb, None)),
            vec!["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn the_spec_may_change_on_update() {
        let old = PodDisruptionBudget {
            metadata: stored(namespaced_meta("web")),
            ..budget(Some(IntOrString::Int(1)), None)
        };
        let mut new = old.clone();
        spec_mut(&mut new).min_available = Some(IntOrString::String("50%".into()));
        assert!(pod_disruption_budget(&new, Some(&old)).is_empty());
        spec_mut(&mut new).min_available = Some(IntOrString::Int(-2));
        assert_eq!(
            messages(&pod_disruption_budget(&new, Some(&old))),
            vec!["spec.minAvailable: Invalid value: -2: must be greater than or equal to 0"]
        );
    }
}
