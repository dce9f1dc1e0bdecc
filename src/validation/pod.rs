//! Pods on create and update (upstream's `ValidatePodCreate` and `ValidatePodUpdate`): a
//! running pod's spec is fixed except for images, the active deadline, added tolerations and
//! removed scheduling gates.

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, Toleration};
use serde_json::Value;

use super::field::{ErrorList, FieldError, Path};
use super::meta::object_meta;
use super::names::{NameRule, inclusive_range_error};
use super::pod_spec::{SpecOf, pod_spec, tolerations};
use super::{opt_slice, text};

const UPDATABLE_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Validates a Pod on create (`old` is `None`) or update.
pub fn pod(new: &Pod, old: Option<&Pod>) -> ErrorList {
    match old {
        None => create(new),
        Some(old) => update(new, old),
    }
}

fn spec_of(pod: &Pod) -> PodSpec {
    pod.spec.clone().unwrap_or_default()
}

fn metadata_and_spec(pod: &Pod, spec: &PodSpec) -> ErrorList {
    let spec_path = Path::new("spec");
    let mut errs = object_meta(&pod.metadata, true, NameRule::DnsSubdomain, None);
    errs.extend(pod_spec(spec, SpecOf::Pod, &spec_path));
    errs.extend(image_whitespace(
        &spec.containers,
        &spec_path.child("containers"),
    ));
    errs.extend(image_whitespace(
        opt_slice(&spec.init_containers),
        &spec_path.child("initContainers"),
    ));
    errs
}

fn image_whitespace(containers: &[Container], path: &Path) -> ErrorList {
    containers
        .iter()
        .enumerate()
        .filter_map(|(i, ctr)| {
            let image = text(&ctr.image);
            (image.trim() != image).then(|| {
                FieldError::invalid(
                    &path.index(i).child("image"),
                    image,
                    "must not have leading or trailing whitespace",
                )
            })
        })
        .collect()
}

fn create(pod: &Pod) -> ErrorList {
    let spec = spec_of(pod);
    let spec_path = Path::new("spec");
    let mut errs = metadata_and_spec(pod, &spec);
    if !opt_slice(&spec.ephemeral_containers).is_empty() {
        errs.push(FieldError::forbidden(
            &spec_path.child("ephemeralContainers"),
            "cannot be set on create",
        ));
    }
    if !text(&spec.node_name).is_empty() && !opt_slice(&spec.scheduling_gates).is_empty() {
        errs.push(FieldError::forbidden(
            &spec_path.child("nodeName"),
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
    errs
}

fn update(new: &Pod, old: &Pod) -> ErrorList {
    let (new_spec, old_spec) = (spec_of(new), spec_of(old));
    let spec_path = Path::new("spec");
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        Some(&old.metadata),
    );
    errs.extend(metadata_and_spec(new, &new_spec));
    let container_lists = [
        (
            &new_spec.containers[..],
            &old_spec.containers[..],
            "containers",
        ),
        (
            opt_slice(&new_spec.init_containers),
            opt_slice(&old_spec.init_containers),
            "initContainers",
        ),
    ];
    for (new_list, old_list, field) in container_lists {
        if new_list.len() != old_list.len() {
            errs.push(FieldError::forbidden(
                &spec_path.child(field),
                "pod updates may not add or remove containers",
            ));
            return errs;
        }
        errs.extend(updated_images(new_list, &spec_path.child(field)));
    }
    if let Some(deadline_err) = active_deadline_update(
        &new_spec,
        &old_spec,
        &spec_path.child("activeDeadlineSeconds"),
    ) {
        errs.push(deadline_err);
        return errs;
    }
    errs.extend(only_added_tolerations(
        &new_spec,
        &old_spec,
        &spec_path.child("tolerations"),
    ));
    errs.extend(only_removed_scheduling_gates(
        &new_spec,
        &old_spec,
        &spec_path.child("schedulingGates"),
    ));
    errs.extend(unchangeable_fields(&new_spec, &old_spec, &spec_path));
    errs
}

fn updated_images(containers: &[Container], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, ctr) in containers.iter().enumerate() {
        let image = text(&ctr.image);
        if image.is_empty() {
            errs.push(FieldError::required(&path.index(i).child("image"), ""));
        }
        if image.trim() != image {
            errs.push(FieldError::invalid(
                &path.index(i).child("image"),
                image,
                "must not have leading or trailing whitespace",
            ));
        }
    }
    errs
}

/// The deadline may be added, or lowered, but not raised or removed.
fn active_deadline_update(new: &PodSpec, old: &PodSpec, path: &Path) -> Option<FieldError> {
    match (new.active_deadline_seconds, old.active_deadline_seconds) {
        (Some(deadline), _) if !(0..=i64::from(i32::MAX)).contains(&deadline) => {
            Some(FieldError::invalid(
                path,
                deadline,
                inclusive_range_error(0, i64::from(i32::MAX)),
            ))
        }
        (Some(deadline), Some(previous)) if previous < deadline => Some(FieldError::invalid(
            path,
            deadline,
            "must be less than or equal to previous value",
        )),
        (None, Some(_)) => Some(FieldError::invalid(
            path,
            None::<i64>,
            "must not update from a positive integer to nil value",
        )),
        _ => None,
    }
}

fn only_added_tolerations(new: &PodSpec, old: &PodSpec, path: &Path) -> ErrorList {
    let new_tolerations = opt_slice(&new.tolerations);
    let same_but_seconds = |a: &Toleration, b: &Toleration| {
        Toleration {
            toleration_seconds: b.toleration_seconds,
            ..a.clone()
        } == *b
    };
    let all_kept = opt_slice(&old.tolerations)
        .iter()
        .all(|old| new_tolerations.iter().any(|new| same_but_seconds(old, new)));
    if !all_kept {
        return vec![FieldError::forbidden(
            path,
            "existing toleration can not be modified except its tolerationSeconds",
        )];
    }
    tolerations(new_tolerations, path)
}

fn only_removed_scheduling_gates(new: &PodSpec, old: &PodSpec, path: &Path) -> ErrorList {
    let old_gates = opt_slice(&old.scheduling_gates);
    opt_slice(&new.scheduling_gates)
        .iter()
        .enumerate()
        .filter(|(_, gate)| !old_gates.iter().any(|o| o.name == gate.name))
        .map(|(i, gate)| {
            FieldError::forbidden(
                &path.index(i).child("name"),
                format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    gate.name
                ),
            )
        })
        .collect()
}

/// Everything but the updatable fields must stay as stored.
fn unchangeable_fields(new: &PodSpec, old: &PodSpec, path: &Path) -> Option<FieldError> {
    let mut munged = new.clone();
    copy_images(&mut munged.containers, &old.containers);
    if let (Some(new_init), Some(old_init)) = (
        munged.init_containers.as_mut(),
        old.init_containers.as_ref(),
    ) {
        copy_images(new_init, old_init);
    }
    munged.active_deadline_seconds = old.active_deadline_seconds;
    munged.scheduling_gates.clone_from(&old.scheduling_gates);
    munged.tolerations.clone_from(&old.tolerations);
    if old.termination_grace_period_seconds.is_some_and(|g| g < 0)
        && munged.termination_grace_period_seconds == Some(1)
    {
        munged.termination_grace_period_seconds = old.termination_grace_period_seconds;
    }
    let (old_json, new_json) = (comparable(old), comparable(&munged));
    (old_json != new_json).then(|| {
        let mut lines = Vec::new();
        json_diff(&old_json, &new_json, "", &mut lines);
        FieldError::forbidden(
            path,
            format!("pod updates may not change fields other than {UPDATABLE_FIELDS}\n  core.PodSpec{{\n{}  }}\n", lines.concat()),
        )
    })
}

fn copy_images(new: &mut [Container], old: &[Container]) {
    for (ctr, old) in new.iter_mut().zip(old) {
        ctr.image.clone_from(&old.image);
    }
}

/// The spec as JSON with empty lists dropped: upstream's semantic equality treats an empty
/// list and a missing one alike.
fn comparable(spec: &PodSpec) -> Value {
    let mut value = serde_json::to_value(spec).unwrap_or(Value::Null);
    drop_empty_lists(&mut value);
    value
}

pub(super) fn drop_empty_lists(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !matches!(v, Value::Array(a) if a.is_empty()));
            map.values_mut().for_each(drop_empty_lists);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_empty_lists),
        _ => {}
    }
}

/// Lists each changed leaf as a removed and an added line, in the manner of a Go diff.
pub(super) fn json_diff(old: &Value, new: &Value, at: &str, lines: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                json_diff(
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    &child,
                    lines,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                json_diff(x, y, &format!("{at}[{i}]"), lines);
            }
        }
        (a, b) if a != b => {
            if !a.is_null() {
                lines.push(format!("- \t{at}: {a},\n"));
            }
            if !b.is_null() {
                lines.push(format!("+ \t{at}: {b},\n"));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta, stored, valid_spec};
    use super::*;
    use k8s_openapi::api::core::v1::PodSchedulingGate;

    fn valid_pod() -> Pod {
        Pod {
            metadata: namespaced_meta("web"),
            spec: Some(valid_spec()),
            status: None,
        }
    }

    #[test]
    fn a_defaulted_pod_is_valid() {
        assert!(pod(&valid_pod(), None).is_empty());
    }

    #[test]
    fn create_rules() {
        let mut p = valid_pod();
        let spec = p.spec.as_mut().expect("spec");
        spec.containers[0].image = Some(" nginx".into());
        spec.node_name = Some("node-1".into());
        spec.scheduling_gates = Some(vec![PodSchedulingGate {
            name: "example.com/wait".into(),
        }]);
        assert_eq!(
            messages(&pod(&p, None)),
            vec![
                "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
                "spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared",
            ]
        );
    }

    fn stored_pod() -> Pod {
        Pod {
            metadata: stored(namespaced_meta("web")),
            ..valid_pod()
        }
    }

    #[test]
    fn images_may_change() {
        let old = stored_pod();
        let mut new = old.clone();
        new.spec.as_mut().expect("spec").containers[0].image = Some("nginx:1.27".into());
        assert!(pod(&new, Some(&old)).is_empty());
    }

    #[test]
    fn other_fields_may_not_change() {
        let old = stored_pod();
        let mut new = old.clone();
        new.spec.as_mut().expect("spec").restart_policy = Some("Never".into());
        let errs = pod(&new, Some(&old));
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].to_string(),
            format!(
                "spec: Forbidden: pod updates may not change fields other than {UPDATABLE_FIELDS}\n  core.PodSpec{{\n- \trestartPolicy: \"Always\",\n+ \trestartPolicy: \"Never\",\n  }}\n"
            )
        );
    }

    #[test]
    fn containers_may_not_be_added_and_deadlines_only_shrink() {
        let mut old = stored_pod();
        old.spec.as_mut().expect("spec").active_deadline_seconds = Some(60);
        let mut longer = old.clone();
        longer.spec.as_mut().expect("spec").active_deadline_seconds = Some(120);
        assert_eq!(
            messages(&pod(&longer, Some(&old))),
            vec![
                "spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value"
            ]
        );
        let mut more = old.clone();
        let spec = more.spec.as_mut().expect("spec");
        let mut second = spec.containers[0].clone();
        second.name = "sidecar".into();
        spec.containers.push(second);
        assert_eq!(
            messages(&pod(&more, Some(&old))),
            vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
        );
    }

    #[test]
    fn tolerations_may_only_be_added() {
        let toleration = |key: &str| Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            ..Default::default()
        };
        let mut old = stored_pod();
        old.spec.as_mut().expect("spec").tolerations = Some(vec![toleration("a")]);
        let mut added = old.clone();
        added.spec.as_mut().expect("spec").tolerations =
            Some(vec![toleration("a"), toleration("b")]);
        assert!(pod(&added, Some(&old)).is_empty());
        let mut changed = old.clone();
        changed.spec.as_mut().expect("spec").tolerations = Some(vec![toleration("b")]);
        assert_eq!(
            messages(&pod(&changed, Some(&old))),
            vec![
                "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
            ]
        );
    }
}
