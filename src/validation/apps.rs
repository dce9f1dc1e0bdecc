//! Deployments and ReplicaSets (upstream's `pkg/apis/apps/validation`): replica counts, a
//! selector that matches the template and never changes, and the rollout strategy.

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet, ReplicaSetSpec,
    RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{Selector, immutable, label_selector, non_negative, object_meta};
use super::names::{NameRule, is_valid_percent};
use super::pod_spec::pod_template;

/// Upstream's words for a template its selector does not select.
pub(super) const SELECTOR_MISMATCH: &str = "`selector` does not match template `labels`";

/// Validates a Deployment on create (`old` is `None`) or update.
pub fn deployment(new: &Deployment, old: Option<&Deployment>) -> ErrorList {
    let path = Path::new("spec");
    let default_spec = DeploymentSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(non_negative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    ));
    errs.extend(selector_and_template(&spec.selector, &spec.template, &path));
    errs.extend(strategy(spec.strategy.as_ref(), &path.child("strategy")));
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    errs.extend(non_negative(
        i64::from(min_ready),
        &path.child("minReadySeconds"),
    ));
    if let Some(limit) = spec.revision_history_limit {
        errs.extend(non_negative(
            i64::from(limit),
            &path.child("revisionHistoryLimit"),
        ));
    }
    if let Some(deadline) = spec.progress_deadline_seconds {
        let deadline_path = path.child("progressDeadlineSeconds");
        errs.extend(non_negative(i64::from(deadline), &deadline_path));
        if deadline <= min_ready {
            errs.push(FieldError::invalid(
                &deadline_path,
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    if let Some(old_spec) = old.and_then(|o| o.spec.as_ref()) {
        errs.extend(selector_unchanged(
            &spec.selector,
            &old_spec.selector,
            &path,
        ));
    }
    errs
}

/// Validates a ReplicaSet on create (`old` is `None`) or update.
pub fn replica_set(new: &ReplicaSet, old: Option<&ReplicaSet>) -> ErrorList {
    let path = Path::new("spec");
    let default_spec = ReplicaSetSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let default_template = PodTemplateSpec::default();
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(non_negative(
        i64::from(spec.replicas.unwrap_or(0)),
        &path.child("replicas"),
    ));
    errs.extend(non_negative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        &path.child("minReadySeconds"),
    ));
    errs.extend(selector_and_template(
        &spec.selector,
        spec.template.as_ref().unwrap_or(&default_template),
        &path,
    ));
    if let Some(old_spec) = old.and_then(|o| o.spec.as_ref()) {
        errs.extend(selector_unchanged(
            &spec.selector,
            &old_spec.selector,
            &path,
        ));
    }
    errs
}

/// A selector with no requirements decodes the same as a missing one, and upstream requires
/// it; it is treated as missing, so it matches no template.
pub(super) fn is_missing(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|l| l.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
}

/// The selector, and a template it selects that restarts its pods (`ValidatePodTemplateSpecForReplicaSet`).
fn selector_and_template(
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
    let Some(parsed) = parsed else {
        errs.push(FieldError::invalid(
            &selector_path,
            go::label_selector(selector),
            "invalid label selector",
        ));
        return errs;
    };
    let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
    if !parsed.is_empty() && !parsed.matches(labels) {
        errs.push(FieldError::invalid(
            &template_path.child("metadata").child("labels"),
            go::string_map(labels),
            SELECTOR_MISMATCH,
        ));
    }
    errs.extend(pod_template(template, &template_path));
    errs.extend(restarts_always(template, &template_path, "ReplicaSet"));
    errs
}

/// Controllers that keep their pods running need templates that restart them and never give
/// them a deadline.
pub(super) fn restarts_always(
    template: &PodTemplateSpec,
    template_path: &Path,
    kind: &str,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = template.spec.as_ref();
    let restart_policy = spec
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or_default();
    if restart_policy != "Always" {
        errs.push(FieldError::not_supported(
            &template_path.child("spec").child("restartPolicy"),
            restart_policy,
            &["Always"],
        ));
    }
    if spec.is_some_and(|s| s.active_deadline_seconds.is_some()) {
        errs.push(FieldError::forbidden(
            &template_path.child("spec").child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
    errs
}

pub(super) fn selector_unchanged(
    new: &LabelSelector,
    old: &LabelSelector,
    path: &Path,
) -> Option<FieldError> {
    immutable(
        go::label_selector(new),
        go::label_selector(old),
        &path.child("selector"),
    )
}

fn strategy(strategy: Option<&DeploymentStrategy>, path: &Path) -> ErrorList {
    let default_strategy = DeploymentStrategy::default();
    let strategy = strategy.unwrap_or(&default_strategy);
    let rolling_update_path = path.child("rollingUpdate");
    match (
        strategy.type_.as_deref().unwrap_or_default(),
        &strategy.rolling_update,
    ) {
        ("Recreate", Some(_)) => vec![FieldError::forbidden(
            &rolling_update_path,
            "may not be specified when strategy `type` is 'Recreate'",
        )],
        ("Recreate", None) => ErrorList::new(),
        ("RollingUpdate", None) => {
            vec![FieldError::required(
                &rolling_update_path,
                "this should be defaulted and never be nil",
            )]
        }
        ("RollingUpdate", Some(rolling)) => rolling_update(rolling, &rolling_update_path),
        _ => vec![FieldError::not_supported(
            path,
            strategy_value(strategy),
            &["Recreate", "RollingUpdate"],
        )],
    }
}

fn strategy_value(strategy: &DeploymentStrategy) -> Rendered {
    let rolling = strategy.rolling_update.as_ref().map_or_else(
        || "(*apps.RollingUpdateDeployment)(nil)".to_string(),
        |r| {
            format!(
                "&apps.RollingUpdateDeployment{{MaxUnavailable:{}, MaxSurge:{}}}",
                go::int_or_string(&unset_is_zero(&r.max_unavailable)).0,
                go::int_or_string(&unset_is_zero(&r.max_surge)).0
            )
        },
    );
    Rendered(format!(
        "apps.DeploymentStrategy{{Type:{}, RollingUpdate:{rolling}}}",
        go::quote(strategy.type_.as_deref().unwrap_or_default())
    ))
}

/// Upstream's internal type holds the zero value where the field is unset.
pub(super) fn unset_is_zero(value: &Option<IntOrString>) -> IntOrString {
    value.clone().unwrap_or(IntOrString::Int(0))
}

fn rolling_update(rolling: &RollingUpdateDeployment, path: &Path) -> ErrorList {
    let (max_unavailable, max_surge) = (
        unset_is_zero(&rolling.max_unavailable),
        unset_is_zero(&rolling.max_surge),
    );
    let unavailable_path = path.child("maxUnavailable");
    let mut errs = positive_int_or_percent(&max_unavailable, &unavailable_path);
    errs.extend(positive_int_or_percent(&max_surge, &path.child("maxSurge")));
    if int_or_percent_value(&max_unavailable) == 0 && int_or_percent_value(&max_surge) == 0 {
        errs.push(FieldError::invalid(
            &unavailable_path,
            go::int_or_string(&max_unavailable),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    if percent(&max_unavailable).is_some_and(|p| p > 100) {
        errs.push(FieldError::invalid(
            &unavailable_path,
            go::int_or_string(&max_unavailable),
            "must not be greater than 100%",
        ));
    }
    errs
}

pub(super) fn positive_int_or_percent(value: &IntOrString, path: &Path) -> ErrorList {
    match value {
        IntOrString::String(s) => is_valid_percent(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, go::int_or_string(value), m))
            .collect(),
        IntOrString::Int(i) => non_negative(i64::from(*i), path).into_iter().collect(),
    }
}

/// The number of a valid percentage.
pub(super) fn percent(value: &IntOrString) -> Option<i64> {
    match value {
        IntOrString::String(s) if is_valid_percent(s).is_empty() => {
            s.trim_end_matches('%').parse().ok()
        }
        _ => None,
    }
}

/// A percentage's number, an integer, or (for any other string) upstream's zero.
pub(super) fn int_or_percent_value(value: &IntOrString) -> i64 {
    match value {
        IntOrString::Int(i) => i64::from(*i),
        IntOrString::String(s) => percent(value).or_else(|| s.parse().ok()).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        app_labels, app_selector, messages, namespaced_meta, stored, valid_template,
    };
    use super::super::invalid_message;
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    /// `kubectl create deployment web --image=nginx --replicas=3` after defaulting.
    fn valid_deployment() -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                labels: Some(app_labels()),
                ..namespaced_meta("web")
            },
            spec: Some(DeploymentSpec {
                replicas: Some(3),
                selector: app_selector(),
                template: valid_template(),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(IntOrString::String("25%".into())),
                        max_unavailable: Some(IntOrString::String("25%".into())),
                    }),
                }),
                revision_history_limit: Some(10),
                progress_deadline_seconds: Some(600),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn spec_mut(d: &mut Deployment) -> &mut DeploymentSpec {
        d.spec.as_mut().expect("spec")
    }

    #[test]
    fn a_created_deployment_is_valid() {
        assert!(deployment(&valid_deployment(), None).is_empty());
    }

    #[test]
    fn negative_replicas_read_like_kubectl_shows_them() {
        let mut d = valid_deployment();
        spec_mut(&mut d).replicas = Some(-1);
        let errs = deployment(&d, None);
        assert_eq!(
            messages(&errs),
            vec!["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
        assert_eq!(
            invalid_message("Deployment", "apps", "web", &errs),
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
    }

    #[test]
    fn several_errors_are_bracketed() {
        let mut d = valid_deployment();
        spec_mut(&mut d).replicas = Some(-1);
        spec_mut(&mut d)
            .template
            .spec
            .as_mut()
            .expect("spec")
            .containers[0]
            .image = None;
        assert_eq!(
            invalid_message("Deployment", "apps", "web", &deployment(&d, None)),
            "Deployment.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.spec.containers[0].image: Required value]"
        );
    }

    #[test]
    fn selector_must_match_template_labels() {
        let mut d = valid_deployment();
        spec_mut(&mut d)
            .template
            .metadata
            .as_mut()
            .expect("metadata")
            .labels = Some([("app".to_string(), "other".to_string())].into());
        assert_eq!(
            messages(&deployment(&d, None)),
            vec![
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn missing_selector_is_required() {
        let mut d = valid_deployment();
        spec_mut(&mut d).selector = LabelSelector::default();
        assert_eq!(
            messages(&deployment(&d, None)),
            vec![
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn selector_is_immutable() {
        let old = Deployment {
            metadata: stored(namespaced_meta("web")),
            ..valid_deployment()
        };
        let mut new = old.clone();
        let labels: BTreeMap<String, String> = [("app".to_string(), "v2".to_string())].into();
        spec_mut(&mut new).selector = LabelSelector {
            match_labels: Some(labels.clone()),
            match_expressions: None,
        };
        spec_mut(&mut new)
            .template
            .metadata
            .as_mut()
            .expect("metadata")
            .labels = Some(labels);
        assert_eq!(
            messages(&deployment(&new, Some(&old))),
            vec![
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"v2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
            ]
        );
    }

    #[test]
    fn strategy_rules() {
        let mut d = valid_deployment();
        spec_mut(&mut d).strategy = Some(DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(0)),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        });
        assert_eq!(
            messages(&deployment(&d, None)),
            vec![
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"
            ]
        );
        spec_mut(&mut d).strategy = Some(DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::String("200%".into())),
                max_unavailable: Some(IntOrString::String("150%".into())),
            }),
        });
        assert_eq!(
            messages(&deployment(&d, None)),
            vec![
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"
            ]
        );
        spec_mut(&mut d).strategy = Some(DeploymentStrategy {
            type_: Some("BlueGreen".into()),
            rolling_update: None,
        });
        assert_eq!(
            messages(&deployment(&d, None)),
            vec![
                "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"BlueGreen\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", \"RollingUpdate\""
            ]
        );
    }

    #[test]
    fn deadlines_and_history() {
        let mut d = valid_deployment();
        let spec = spec_mut(&mut d);
        spec.min_ready_seconds = Some(600);
        spec.revision_history_limit = Some(-1);
        assert_eq!(
            messages(&deployment(&d, None)),
            vec![
                "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
            ]
        );
    }

    #[test]
    fn templates_must_restart_always() {
        let mut rs = ReplicaSet {
            metadata: namespaced_meta("web-5d"),
            spec: Some(ReplicaSetSpec {
                replicas: Some(1),
                selector: app_selector(),
                template: Some(valid_template()),
                min_ready_seconds: None,
            }),
            status: None,
        };
        assert!(replica_set(&rs, None).is_empty());
        let template = rs
            .spec
            .as_mut()
            .and_then(|s| s.template.as_mut())
            .expect("template");
        template.spec.as_mut().expect("spec").restart_policy = Some("Never".into());
        assert_eq!(
            messages(&replica_set(&rs, None)),
            vec![
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ]
        );
    }
}
