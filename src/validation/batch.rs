//! Jobs (upstream's `pkg/apis/batch/validation`): counts, completion modes, a template that
//! does not restart its pods, and the generated selector that ties the pods to their Job.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{
    FIELD_IMMUTABLE, Selector, immutable, label_selector, non_negative, object_meta,
};
use super::names::{NameRule, is_dns1123_label, is_dns1123_subdomain};
use super::pod_spec::pod_template;
use super::text;

const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
const LEGACY_JOB_NAME_LABEL: &str = "job-name";
const MAX_PARALLELISM_INDEXED: i32 = 100_000;
const MAX_MANAGED_BY_LENGTH: usize = 63;

/// Validates a Job on create (`old` is `None`) or update; an update is also validated as a
/// create, as upstream's strategy does.
pub fn job(new: &Job, old: Option<&Job>) -> ErrorList {
    let default_spec = JobSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let path = Path::new("spec");
    let mut errs = object_meta(&new.metadata, true, NameRule::DnsSubdomain, None);
    errs.extend(generated_selector(&new.metadata, spec));
    errs.extend(job_spec(spec, &path));
    errs.extend(indexed_pod_hostnames(&new.metadata, spec));
    if let Some(old) = old {
        let old_spec = old.spec.as_ref().unwrap_or(&default_spec);
        errs.extend(object_meta(
            &new.metadata,
            true,
            NameRule::DnsSubdomain,
            Some(&old.metadata),
        ));
        errs.extend(job_spec(spec, &path));
        errs.extend(spec_update(spec, old_spec, &path));
    }
    errs
}

/// Unless the selector is manual, the template must carry the labels the API server generated
/// from the Job's name and UID, and the selector must select them.
fn generated_selector(meta: &ObjectMeta, spec: &JobSpec) -> ErrorList {
    if spec.manual_selector == Some(true) || spec.selector.is_none() {
        return ErrorList::new();
    }
    let uid = text(&meta.uid);
    let name = text(&meta.name);
    let mut errs = ErrorList::new();
    if uid.is_empty() {
        errs.push(FieldError::required(
            &Path::new("metadata").child("uid"),
            "",
        ));
    }
    let template_meta = Path::new("spec").child("template").child("metadata");
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref());
    let expected = [
        (LEGACY_CONTROLLER_UID_LABEL, uid),
        (LEGACY_JOB_NAME_LABEL, name),
        (CONTROLLER_UID_LABEL, uid),
        (JOB_NAME_LABEL, name),
    ];
    for (key, value) in expected {
        errs.extend(has_label(labels, key, value, &template_meta));
    }
    let expected_labels: BTreeMap<String, String> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let selector = spec.selector.as_ref();
    if Selector::parse(selector).is_some_and(|s| !s.matches(Some(&expected_labels))) {
        let value = selector.map_or_else(|| Rendered("null".into()), go::label_selector);
        errs.push(FieldError::invalid(
            &Path::new("spec").child("selector"),
            value,
            "`selector` not auto-generated",
        ));
    }
    errs
}

fn has_label(
    labels: Option<&BTreeMap<String, String>>,
    key: &str,
    expected: &str,
    path: &Path,
) -> Option<FieldError> {
    let label_path = path.child("labels").key(key);
    let detail = format!("must be '{expected}'");
    match labels.and_then(|l| l.get(key)) {
        None => Some(FieldError::required(&label_path, detail)),
        Some(actual) if actual != expected => Some(FieldError::invalid(
            &label_path,
            go::string_map(labels),
            detail,
        )),
        Some(_) => None,
    }
}

fn job_spec(spec: &JobSpec, path: &Path) -> ErrorList {
    let mut errs = counts(spec, path);
    errs.extend(managed_by(spec, &path.child("managedBy")));
    errs.extend(completion_mode(spec, path));
    if spec.success_policy.is_some() && text(&spec.completion_mode) != "Indexed" {
        errs.push(FieldError::invalid_omitted(
            &path.child("successPolicy"),
            "requires indexed completion mode",
        ));
    }
    errs.extend(pod_replacement_policy(
        spec,
        &path.child("podReplacementPolicy"),
    ));
    errs.extend(pod_template(&spec.template, &path.child("template")));
    errs.extend(template_restart_policy(
        spec,
        &path.child("template").child("spec").child("restartPolicy"),
    ));
    errs.extend(selector(spec, path));
    errs
}

pub(super) fn counts(spec: &JobSpec, path: &Path) -> ErrorList {
    let fields = [
        ("parallelism", spec.parallelism.map(i64::from)),
        ("completions", spec.completions.map(i64::from)),
        ("activeDeadlineSeconds", spec.active_deadline_seconds),
        ("backoffLimit", spec.backoff_limit.map(i64::from)),
        (
            "ttlSecondsAfterFinished",
            spec.ttl_seconds_after_finished.map(i64::from),
        ),
        (
            "backoffLimitPerIndex",
            spec.backoff_limit_per_index.map(i64::from),
        ),
        ("maxFailedIndexes", spec.max_failed_indexes.map(i64::from)),
    ];
    let mut errs: ErrorList = fields
        .into_iter()
        .filter_map(|(field, value)| value.and_then(|v| non_negative(v, &path.child(field))))
        .collect();
    if spec.max_failed_indexes.is_some() && spec.backoff_limit_per_index.is_none() {
        errs.push(FieldError::required(
            &path.child("backoffLimitPerIndex"),
            "when maxFailedIndexes is specified",
        ));
    }
    errs
}

/// `managedBy` is a domain-prefixed path such as `example.com/controller`.
pub(super) fn managed_by(spec: &JobSpec, path: &Path) -> ErrorList {
    let Some(value) = spec.managed_by.as_deref() else {
        return ErrorList::new();
    };
    let mut errs = ErrorList::new();
    match value.split_once('/') {
        Some((host, rest)) if !host.is_empty() && !rest.is_empty() => {
            errs.extend(
                is_dns1123_subdomain(host)
                    .into_iter()
                    .map(|m| FieldError::invalid(path, host, m)),
            );
        }
        _ => errs.push(FieldError::invalid(
            path,
            value,
            "must be a domain-prefixed path (such as \"acme.io/foo\")",
        )),
    }
    if value.len() > MAX_MANAGED_BY_LENGTH {
        errs.push(FieldError::too_long(path, MAX_MANAGED_BY_LENGTH));
    }
    errs
}

pub(super) fn completion_mode(spec: &JobSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mode = spec.completion_mode.as_deref();
    match mode {
        Some("Indexed") => {
            if spec.completions.is_none() {
                errs.push(FieldError::required(
                    &path.child("completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(parallelism) = spec.parallelism.filter(|p| *p > MAX_PARALLELISM_INDEXED) {
                errs.push(FieldError::invalid(
                    &path.child("parallelism"),
                    parallelism,
                    format!("must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode is Indexed"),
                ));
            }
            if let (Some(completions), Some(max_failed)) =
                (spec.completions, spec.max_failed_indexes)
                && max_failed > completions
            {
                errs.push(FieldError::invalid(
                    &path.child("maxFailedIndexes"),
                    max_failed,
                    "must be less than or equal to completions",
                ));
            }
        }
        Some("NonIndexed") | None => {
            let per_index = [
                ("backoffLimitPerIndex", spec.backoff_limit_per_index),
                ("maxFailedIndexes", spec.max_failed_indexes),
            ];
            for (field, value) in per_index {
                if let Some(value) = value {
                    errs.push(FieldError::invalid(
                        &path.child(field),
                        value,
                        "requires indexed completion mode",
                    ));
                }
            }
        }
        Some(other) => {
            errs.push(FieldError::not_supported(
                &path.child("completionMode"),
                other,
                &["NonIndexed", "Indexed"],
            ));
        }
    }
    errs
}

pub(super) fn pod_replacement_policy(spec: &JobSpec, path: &Path) -> Option<FieldError> {
    let policy = spec.pod_replacement_policy.as_deref()?;
    if spec.pod_failure_policy.is_some() {
        (policy != "Failed").then(|| FieldError::not_supported(path, policy, &["Failed"]))
    } else {
        (!matches!(policy, "Failed" | "TerminatingOrFailed"))
            .then(|| FieldError::not_supported(path, policy, &["Failed", "TerminatingOrFailed"]))
    }
}

/// Job pods finish: the template must not restart them forever.
pub(super) fn template_restart_policy(spec: &JobSpec, path: &Path) -> Option<FieldError> {
    let policy = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or_default();
    match policy {
        "" | "Always" => Some(FieldError::required(
            path,
            "valid values: \"OnFailure\", \"Never\"",
        )),
        "OnFailure" if spec.pod_failure_policy.is_some() => Some(FieldError::invalid(
            path,
            policy,
            "only \"Never\" is supported when podFailurePolicy is specified",
        )),
        "OnFailure" | "Never" => None,
        other => Some(FieldError::not_supported(
            path,
            other,
            &["OnFailure", "Never"],
        )),
    }
}

fn selector(spec: &JobSpec, path: &Path) -> ErrorList {
    let selector_path = path.child("selector");
    let mut errs = match &spec.selector {
        None => vec![FieldError::required(&selector_path, "")],
        Some(selector) => label_selector(Some(selector), &selector_path),
    };
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref());
    if Selector::parse(spec.selector.as_ref()).is_some_and(|s| !s.matches(labels)) {
        errs.push(FieldError::invalid(
            &path.child("template").child("metadata").child("labels"),
            go::string_map(labels),
            super::apps::SELECTOR_MISMATCH,
        ));
    }
    errs
}

/// Indexed pods are named `<job>-<index>`, which must stay a DNS label.
fn indexed_pod_hostnames(meta: &ObjectMeta, spec: &JobSpec) -> Option<FieldError> {
    let completions = spec
        .completions
        .filter(|c| *c > 0 && text(&spec.completion_mode) == "Indexed")?;
    let name = text(&meta.name);
    let hostname = format!("{name}-{}", completions - 1);
    (!is_dns1123_label(&hostname).is_empty()).then(|| {
        FieldError::invalid(
            &Path::new("metadata").child("name"),
            name,
            format!("will not able to create pod with invalid DNS label: {hostname}"),
        )
    })
}

fn spec_update(new: &JobSpec, old: &JobSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    errs.extend(completions_update(new, old, &path.child("completions")));
    errs.extend(immutable(
        selector_value(new),
        selector_value(old),
        &path.child("selector"),
    ));
    errs.extend(template_update(new, old, &path.child("template")));
    let fixed = [
        (
            "completionMode",
            json(&new.completion_mode),
            json(&old.completion_mode),
        ),
        (
            "podFailurePolicy",
            json(&new.pod_failure_policy),
            json(&old.pod_failure_policy),
        ),
        (
            "backoffLimitPerIndex",
            json(&new.backoff_limit_per_index),
            json(&old.backoff_limit_per_index),
        ),
        ("managedBy", json(&new.managed_by), json(&old.managed_by)),
        (
            "successPolicy",
            json(&new.success_policy),
            json(&old.success_policy),
        ),
    ];
    for (field, new_value, old_value) in fixed {
        errs.extend(immutable(new_value, old_value, &path.child(field)));
    }
    errs
}

/// A value as JSON, for immutability checks of structured fields.
fn json<T: serde::Serialize>(value: &T) -> Rendered {
    Rendered(serde_json::to_string(value).unwrap_or_default())
}

fn selector_value(spec: &JobSpec) -> Rendered {
    spec.selector
        .as_ref()
        .map_or_else(|| Rendered("null".into()), go::label_selector)
}

/// Completions are fixed, except that an Indexed Job may scale them together with parallelism.
fn completions_update(new: &JobSpec, old: &JobSpec, path: &Path) -> Option<FieldError> {
    if new.completions == old.completions {
        return None;
    }
    if text(&new.completion_mode) != "Indexed" {
        return Some(FieldError::invalid(path, new.completions, FIELD_IMMUTABLE));
    }
    let completions = new.completions?;
    (Some(completions) != new.parallelism).then(|| {
        FieldError::invalid(
            path,
            completions,
            "can only be modified in tandem with spec.parallelism",
        )
    })
}

/// The template is fixed; while the Job is suspended its scheduling directives (node
/// selector, affinity, tolerations, scheduling gates, labels and annotations) may change.
fn template_update(new: &JobSpec, old: &JobSpec, path: &Path) -> Option<FieldError> {
    let mut old_template = old.template.clone();
    if old.suspend == Some(true) {
        allow_scheduling_changes(&mut old_template, &new.template);
    }
    immutable(json(&new.template), json(&old_template), path)
}

fn allow_scheduling_changes(old: &mut PodTemplateSpec, new: &PodTemplateSpec) {
    if let (Some(old_meta), Some(new_meta)) = (old.metadata.as_mut(), new.metadata.as_ref()) {
        old_meta.labels.clone_from(&new_meta.labels);
        old_meta.annotations.clone_from(&new_meta.annotations);
    }
    if let (Some(old_spec), Some(new_spec)) = (old.spec.as_mut(), new.spec.as_ref()) {
        old_spec.node_selector.clone_from(&new_spec.node_selector);
        old_spec.tolerations.clone_from(&new_spec.tolerations);
        old_spec
            .scheduling_gates
            .clone_from(&new_spec.scheduling_gates);
        old_spec.affinity.clone_from(&new_spec.affinity);
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{app_labels, messages, namespaced_meta, stored, valid_spec};
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    const UID: &str = "5f6e1c3a-0000-4000-8000-000000000001";

    /// `kubectl create job pi --image=perl` after defaulting and selector generation.
    fn valid_job() -> Job {
        let mut labels = app_labels();
        for (key, value) in [
            (CONTROLLER_UID_LABEL, UID),
            (JOB_NAME_LABEL, "pi"),
            (LEGACY_CONTROLLER_UID_LABEL, UID),
            (LEGACY_JOB_NAME_LABEL, "pi"),
        ] {
            labels.insert(key.to_string(), value.to_string());
        }
        let mut spec = valid_spec();
        spec.restart_policy = Some("Never".into());
        Job {
            metadata: stored(namespaced_meta("pi")),
            spec: Some(JobSpec {
                parallelism: Some(1),
                completions: Some(1),
                backoff_limit: Some(6),
                completion_mode: Some("NonIndexed".into()),
                suspend: Some(false),
                manual_selector: Some(false),
                pod_replacement_policy: Some("TerminatingOrFailed".into()),
                selector: Some(LabelSelector {
                    match_labels: Some(
                        [(CONTROLLER_UID_LABEL.to_string(), UID.to_string())].into(),
                    ),
                    match_expressions: None,
                }),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..Default::default()
                    }),
                    spec: Some(spec),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    fn spec_mut(job: &mut Job) -> &mut JobSpec {
        job.spec.as_mut().expect("spec")
    }

    #[test]
    fn a_created_job_is_valid() {
        assert!(job(&valid_job(), None).is_empty());
    }

    #[test]
    fn counts_are_non_negative_and_pods_do_not_restart_always() {
        let mut j = valid_job();
        let spec = spec_mut(&mut j);
        spec.parallelism = Some(-1);
        spec.completions = Some(-2);
        spec.template.spec.as_mut().expect("spec").restart_policy = Some("Always".into());
        assert_eq!(
            messages(&job(&j, None)),
            vec![
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.completions: Invalid value: -2: must be greater than or equal to 0",
                "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
            ]
        );
    }

    #[test]
    fn generated_labels_must_be_present() {
        let mut j = valid_job();
        spec_mut(&mut j)
            .template
            .metadata
            .as_mut()
            .expect("metadata")
            .labels = Some(app_labels());
        assert_eq!(
            messages(&job(&j, None)),
            vec![
                format!("spec.template.metadata.labels[controller-uid]: Required value: must be '{UID}'"),
                "spec.template.metadata.labels[job-name]: Required value: must be 'pi'".to_string(),
                format!("spec.template.metadata.labels[batch.kubernetes.io/controller-uid]: Required value: must be '{UID}'"),
                "spec.template.metadata.labels[batch.kubernetes.io/job-name]: Required value: must be 'pi'".to_string(),
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`".to_string(),
            ]
        );
    }

    #[test]
    fn modes_and_policies() {
        let mut j = valid_job();
        let spec = spec_mut(&mut j);
        spec.completion_mode = Some("Sometimes".into());
        spec.pod_replacement_policy = Some("Never".into());
        assert_eq!(
            messages(&job(&j, None)),
            vec![
                "spec.completionMode: Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\"",
                "spec.podReplacementPolicy: Unsupported value: \"Never\": supported values: \"Failed\", \"TerminatingOrFailed\"",
            ]
        );
    }

    #[test]
    fn template_and_selector_are_fixed() {
        let old = valid_job();
        let mut new = old.clone();
        spec_mut(&mut new)
            .template
            .spec
            .as_mut()
            .expect("spec")
            .containers[0]
            .image = Some("perl:5".into());
        spec_mut(&mut new).completions = Some(2);
        let errs = messages(&job(&new, Some(&old)));
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[0],
            "spec.completions: Invalid value: 2: field is immutable"
        );
        assert!(errs[1].starts_with("spec.template: Invalid value: {"));
        assert!(errs[1].ends_with("}: field is immutable"));
    }
}
