//! Pods: created Pending with their QoS class; bound to a node through `pods/binding`; a
//! bound pod's deletion waits for its node to stop it.

use k8s_openapi::api::core::v1::{Container, Pod, PodStatus};
use serde_json::{Value, json};

use super::{Kind, Resource, Subresource, Typed};
use crate::apiserver::meta;
use crate::validation::{self, ErrorList};

pub struct Pods;

impl Kind for Pods {
    type Object = Pod;

    fn defaults(object: &mut Pod) {
        crate::defaults::pod(object);
    }

    fn prepare_create(object: &mut Pod) {
        let qos = object.spec.as_ref().map(|spec| qos_class(&spec.containers));
        object.status = Some(PodStatus {
            phase: Some("Pending".into()),
            qos_class: qos.map(str::to_owned),
            ..PodStatus::default()
        });
    }

    fn validate(object: &Pod, old: Option<&Pod>) -> ErrorList {
        validation::pod(object, old)
    }

    fn begin_deletion(object: &mut Value, grace_period: Option<i64>) -> bool {
        graceful_deletion(object, grace_period)
    }
}

/// A pod running on a node stays until that node has stopped it, for at most its grace period:
/// the node agent finishes the deletion with a zero grace period. Unbound and finished pods,
/// and a zero grace period, delete at once.
fn graceful_deletion(pod: &mut Value, requested: Option<i64>) -> bool {
    let bound = pod["spec"]["nodeName"]
        .as_str()
        .is_some_and(|n| !n.is_empty());
    let finished = matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    );
    let grace = requested
        .or_else(|| pod["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30)
        .max(0);
    if !bound || finished || grace == 0 {
        return false;
    }
    // An ongoing graceful deletion may only be shortened.
    let current = pod["metadata"]["deletionGracePeriodSeconds"].as_i64();
    if current.is_some_and(|c| c <= grace) {
        return true;
    }
    let deadline = crate::deadline::after(jiff::Timestamp::now(), grace);
    let meta = meta::metadata(pod);
    meta.insert(
        "deletionTimestamp".into(),
        json!(meta::format_time(deadline)),
    );
    meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
    true
}

/// Upstream's QoS class: Guaranteed when every container's CPU and memory limits equal its
/// requests, BestEffort when nothing is requested or limited, Burstable otherwise.
fn qos_class(containers: &[Container]) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for container in containers {
        let resources = container.resources.as_ref();
        let requests = resources.and_then(|r| r.requests.as_ref());
        let limits = resources.and_then(|r| r.limits.as_ref());
        any |= requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty());
        for name in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(name));
            // A request left out defaults to the limit.
            let request = requests.and_then(|r| r.get(name)).or(limit);
            guaranteed &= limit.is_some() && request == limit;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    singular: "pod",
    short_names: &["po"],
    categories: &["all"],
    namespaced: true,
    subresources: &[
        Subresource::Status,
        Subresource::Binding,
        Subresource::Eviction,
        Subresource::Log,
        Subresource::Exec,
        Subresource::Attach,
        Subresource::PortForward,
    ],
    field_labels: &[
        ("spec.nodeName", ""),
        ("spec.restartPolicy", ""),
        ("spec.schedulerName", ""),
        ("spec.serviceAccountName", ""),
        ("spec.hostNetwork", "false"),
        ("status.phase", ""),
        ("status.podIP", ""),
        ("status.nominatedNodeName", ""),
    ],
    generation: false,
    returns_deleted_object: true,
    create_only: false,
    strategy: &Typed::<Pods>::NEW,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn containers(resources: serde_json::Value) -> Vec<Container> {
        serde_json::from_value(json!([{"name": "c", "image": "i", "resources": resources}]))
            .unwrap()
    }

    #[test]
    fn qos_classes_follow_requests_and_limits() {
        assert_eq!(qos_class(&containers(json!({}))), "BestEffort");
        assert_eq!(
            qos_class(&containers(
                json!({"limits": {"cpu": "1", "memory": "1Gi"}})
            )),
            "Guaranteed"
        );
        assert_eq!(
            qos_class(&containers(json!({"requests": {"cpu": "1"}}))),
            "Burstable"
        );
        assert_eq!(
            qos_class(&containers(
                json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
            )),
            "Burstable"
        );
    }
}
