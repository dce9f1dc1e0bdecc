//! PodSecurity's part in writes of namespaces (upstream's `ValidateNamespace`): their policy
//! labels must be readable, and a namespace whose enforce level gets stricter is answered with
//! warnings about the pods already in it that the new level would refuse.

use std::collections::BTreeMap;

use serde_json::Value;

use super::checks::{self, Pod};
use super::policy::{Level, LevelVersion, Policy};
use crate::apiserver::admission::Attributes;
use crate::apiserver::{ApiError, ApiState};
use crate::registry;

/// A new namespace's labels must name levels and versions, as must a changed namespace's
/// unless they are wrong just as before; a changed namespace whose enforce level gets stricter
/// is tried on its pods.
pub async fn admit(
    state: &ApiState,
    attributes: &Attributes<'_>,
    namespace: &Value,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let (policy, errors) = Policy::from_labels(&namespace["metadata"]["labels"]);
    let old = attributes
        .old
        .map(|old| Policy::from_labels(&old["metadata"]["labels"]));
    let wrong_as_before = old
        .as_ref()
        .is_some_and(|(_, old_errors)| !old_errors.is_empty() && *old_errors == errors);
    if !errors.is_empty() && !wrong_as_before {
        return Err(ApiError::invalid("Namespace", "", attributes.name, errors));
    }
    if let Some((old, _)) = old
        && stricter(policy.enforce, old.enforce)
    {
        warnings.extend(existing_pods(state, attributes.name, policy.enforce).await);
    }
    Ok(())
}

/// Whether a new enforce level may refuse pods the old one let in, as upstream decides when
/// to try it on the pods: it changed, is not privileged, and is not the same version made
/// laxer.
fn stricter(new: LevelVersion, old: LevelVersion) -> bool {
    new != old
        && new.level != Level::Privileged
        && !(new.version == old.version && new.level <= old.level)
}

/// Upstream's `EvaluatePodsInNamespace`: a warning that pods violate the new level, then one
/// per distinct list of reasons, naming the first such pod by name and counting the others.
/// Unlike upstream, every pod is tried (upstream stops at 3000 pods or after a second).
async fn existing_pods(state: &ApiState, namespace: &str, enforce: LevelVersion) -> Vec<String> {
    let listed = match registry::find("", "v1", "pods") {
        Some(pods) => state
            .objects
            .list(pods, Some(namespace), None, None)
            .await
            .ok(),
        None => None,
    };
    let Some(page) = listed else {
        return vec!["failed to list pods while checking new PodSecurity enforce level".to_owned()];
    };
    // For each list of reasons: the first pod's name, and how many pods.
    let mut seen: BTreeMap<String, (&str, usize)> = BTreeMap::new();
    for pod in &page.items {
        let violations = checks::evaluate(enforce, Pod::of(pod));
        if violations.is_empty() {
            continue;
        }
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let (first, count) = seen
            .entry(checks::reasons(&violations))
            .or_insert((name, 0));
        *first = (*first).min(name);
        *count += 1;
    }
    if seen.is_empty() {
        return Vec::new();
    }
    let mut pods: Vec<String> = seen
        .into_iter()
        .map(|(reasons, (first, count))| match count {
            1 => format!("{first}: {reasons}"),
            2 => format!("{first} (and 1 other pod): {reasons}"),
            _ => format!("{first} (and {} other pods): {reasons}", count - 1),
        })
        .collect();
    pods.sort();
    let mut warnings = vec![format!(
        "existing pods in namespace {namespace:?} violate the new PodSecurity enforce level \"{enforce}\""
    )];
    warnings.append(&mut pods);
    warnings
}
