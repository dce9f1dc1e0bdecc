//! Upstream's PodSecurity admission (k8s.io/pod-security-admission), on by default: a
//! namespace's `pod-security.kubernetes.io/enforce` label names the Pod Security Standard
//! level ([`policy`]) that new and changed pods in it must meet ([`checks`]), refused in
//! upstream's words (`pods "x" is forbidden: violates PodSecurity "restricted:latest": ...`);
//! its `warn` label the level that pods and workloads' pod templates are warned about (`would
//! violate PodSecurity ...`). Namespaces' own writes are judged in [`namespaces`].
//!
//! As upstream without a PodSecurityConfiguration: namespaces without labels are privileged,
//! and no user, namespace or runtime class is exempt. The `audit` mode is only validated:
//! there is no audit log to write to.

mod checks;
mod namespaces;
mod policy;

use serde_json::Value;

use checks::{Pod, items};
use policy::Policy;

use super::{Attributes, Operation};
use crate::apiserver::{ApiError, ApiState};
use crate::registry::{self, Resource};

/// Admits a create or update of a namespace, a pod, or a workload with a pod template;
/// anything else passes, as does every write to a subresource (upstream also judges pods'
/// `ephemeralcontainers` and `resize`, which are not served here).
pub async fn admit(
    state: &ApiState,
    attributes: &Attributes<'_>,
    object: &Value,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let written = matches!(attributes.operation, Operation::Create | Operation::Update);
    if !written || attributes.subresource.is_some() {
        return Ok(());
    }
    let r = attributes.resource;
    match (r.group, r.plural) {
        ("", "namespaces") => namespaces::admit(state, attributes, object, warnings).await,
        ("", "pods") => admit_pod(state, attributes, object, warnings).await,
        _ => {
            // A template is only warned about: its pods meet the enforce level as they are
            // made. Upstream lets the write through when the namespace cannot be read.
            if let Some(template) = template(r, object)
                && let Some(policy) = namespace_policy(state, attributes.namespace).await
            {
                warn(policy, Pod::of(template), warnings);
            }
            Ok(())
        }
    }
}

/// A pod is refused when it violates its namespace's enforce level, and otherwise warned
/// about when it violates the warn level. An update is judged only when it changes the
/// containers, their images, or the ephemeral containers: nothing else the checks read can
/// change once a pod is made.
async fn admit_pod(
    state: &ApiState,
    attributes: &Attributes<'_>,
    pod: &Value,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    if attributes
        .old
        .is_some_and(|old| !significant_update(pod, old))
    {
        return Ok(());
    }
    let Some(policy) = namespace_policy(state, attributes.namespace).await else {
        return Err(ApiError::Internal(format!(
            "Internal error occurred: failed to lookup namespace {:?}",
            attributes.namespace.unwrap_or_default()
        )));
    };
    let violations = checks::evaluate(policy.enforce, Pod::of(pod));
    if !violations.is_empty() {
        return Err(ApiError::Denied {
            resource: attributes.resource.qualified(),
            name: attributes.name.to_owned(),
            message: format!(
                "violates PodSecurity \"{}\": {}",
                policy.enforce,
                checks::detailed(&violations)
            ),
        });
    }
    warn(policy, Pod::of(pod), warnings);
    Ok(())
}

/// Upstream's warning about a pod, or a template, that violates the warn level.
fn warn(policy: Policy, pod: Pod<'_>, warnings: &mut Vec<String>) {
    let violations = checks::evaluate(policy.warn, pod);
    if !violations.is_empty() {
        warnings.push(format!(
            "would violate PodSecurity \"{}\": {}",
            policy.warn,
            checks::detailed(&violations)
        ));
    }
}

/// The policy of the namespace a pod or workload is written in, none when it cannot be read.
async fn namespace_policy(state: &ApiState, namespace: Option<&str>) -> Option<Policy> {
    let namespaces = registry::find("", "v1", "namespaces")?;
    let namespace = state
        .objects
        .find(namespaces, None, namespace?)
        .await
        .ok()??;
    Some(Policy::from_labels(&namespace["metadata"]["labels"]).0)
}

/// Where a workload keeps its pods' template, as upstream's `DefaultPodSpecExtractor` finds
/// it: none for other resources, nor for a ReplicationController without one.
fn template<'a>(r: &Resource, object: &'a Value) -> Option<&'a Value> {
    let template = match (r.group, r.plural) {
        ("", "podtemplates") => &object["template"],
        ("", "replicationcontrollers")
        | ("apps", "replicasets" | "deployments" | "statefulsets" | "daemonsets")
        | ("batch", "jobs") => &object["spec"]["template"],
        ("batch", "cronjobs") => &object["spec"]["jobTemplate"]["spec"]["template"],
        _ => return None,
    };
    Some(template).filter(|t| !t.is_null())
}

/// Upstream's `isSignificantPodUpdate`: whether an update changes the number of containers
/// or init containers, an image, or adds or changes an ephemeral container's image. What else
/// an update may change of a pod's spec the checks do not read differently.
fn significant_update(new: &Value, old: &Value) -> bool {
    let (spec, old_spec) = (&new["spec"], &old["spec"]);
    for list in ["containers", "initContainers"] {
        let (now, before) = (items(spec, list), items(old_spec, list));
        if now.len() != before.len()
            || now
                .iter()
                .zip(before)
                .any(|(c, o)| c["image"] != o["image"])
        {
            return true;
        }
    }
    let before = items(old_spec, "ephemeralContainers");
    items(spec, "ephemeralContainers").iter().any(|c| {
        before
            .iter()
            .find(|o| o["name"] == c["name"])
            .is_none_or(|o| o["image"] != c["image"])
    })
}
