//! What controllers need to know about pods: whether one counts (active), is ready, has been
//! available long enough, and which to delete first when there are too many.

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

/// Not finished and not being deleted: a pod that counts towards a controller's replicas.
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    pod.metadata.deletion_timestamp.is_none() && !matches!(phase, Some("Succeeded" | "Failed"))
}

/// When the pod's Ready condition last became True, if it is True.
fn ready_since(pod: &Pod) -> Option<Timestamp> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let ready = conditions
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")?;
    Some(
        ready
            .last_transition_time
            .as_ref()
            .map_or(Timestamp::UNIX_EPOCH, |t| t.0),
    )
}

pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Ready for at least `min_ready_seconds`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32) -> bool {
    available_in(pod, min_ready_seconds, Timestamp::now()).is_some_and(|d| d.is_zero())
}

/// How long until a ready pod counts as available (zero if it already does).
fn available_in(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> Option<Duration> {
    let since = ready_since(pod)?;
    let at = crate::deadline::after(since, i64::from(min_ready_seconds.max(0)));
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// How long until the next ready-but-not-yet-available pod becomes available.
pub fn next_available(pods: &[Arc<Pod>], min_ready_seconds: i32) -> Option<Duration> {
    if min_ready_seconds <= 0 {
        return None;
    }
    let now = Timestamp::now();
    pods.iter()
        .filter(|p| is_active(p))
        .filter_map(|p| available_in(p, min_ready_seconds, now))
        .filter(|d| !d.is_zero())
        .min()
}

/// Upstream's order of deletion: unscheduled before scheduled, pending before running, not
/// ready before ready, ready more recently before ready longer, more restarts before fewer,
/// newer before older.
pub fn victims(mut pods: Vec<&Arc<Pod>>, count: usize) -> Vec<&Arc<Pod>> {
    pods.sort_by(|a, b| delete_order(a, b));
    pods.truncate(count);
    pods
}

fn delete_order(a: &Pod, b: &Pod) -> Ordering {
    let scheduled = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_ref())
            .is_some_and(|n| !n.is_empty())
    };
    let phase_rank = |p: &Pod| match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Pending") | None => 0,
        Some("Running") => 2,
        _ => 1,
    };
    let restarts = |p: &Pod| -> i32 {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .map(|cs| cs.iter().map(|c| c.restart_count).sum())
            .unwrap_or(0)
    };
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    scheduled(a)
        .cmp(&scheduled(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(is_ready(a).cmp(&is_ready(b)))
        .then(ready_since(b).cmp(&ready_since(a)))
        .then(restarts(b).cmp(&restarts(a)))
        .then(created(b).cmp(&created(a)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: Option<&str>, phase: &str, ready: bool, created: &str) -> Arc<Pod> {
        let mut value = json!({
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"containers": []},
            "status": {"phase": phase},
        });
        if let Some(node) = node {
            value["spec"]["nodeName"] = json!(node);
        }
        if ready {
            value["status"]["conditions"] =
                json!([{"type": "Ready", "status": "True", "lastTransitionTime": created}]);
        }
        Arc::new(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn unscheduled_then_pending_then_not_ready_then_newest_go_first() {
        let running_old = pod(
            "running-old",
            Some("n"),
            "Running",
            true,
            "2026-01-01T00:00:00Z",
        );
        let running_new = pod(
            "running-new",
            Some("n"),
            "Running",
            true,
            "2026-01-02T00:00:00Z",
        );
        let pending = pod(
            "pending",
            Some("n"),
            "Pending",
            false,
            "2026-01-01T00:00:00Z",
        );
        let unscheduled = pod(
            "unscheduled",
            None,
            "Pending",
            false,
            "2026-01-01T00:00:00Z",
        );
        let not_ready = pod(
            "not-ready",
            Some("n"),
            "Running",
            false,
            "2026-01-01T00:00:00Z",
        );
        let all = vec![
            &running_old,
            &running_new,
            &pending,
            &unscheduled,
            &not_ready,
        ];
        let order: Vec<String> = victims(all, 5)
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "unscheduled",
                "pending",
                "not-ready",
                "running-new",
                "running-old"
            ]
        );
    }

    #[test]
    fn finished_and_deleting_pods_do_not_count() {
        assert!(!is_active(&pod(
            "done",
            Some("n"),
            "Succeeded",
            false,
            "2026-01-01T00:00:00Z"
        )));
        let mut deleting = (*pod("x", Some("n"), "Running", true, "2026-01-01T00:00:00Z")).clone();
        deleting.metadata.deletion_timestamp = deleting.metadata.creation_timestamp.clone();
        assert!(!is_active(&deleting));
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let now = Timestamp::now();
        let just_ready = pod("p", Some("n"), "Running", true, &now.to_string());
        assert!(is_available(&just_ready, 0));
        assert!(!is_available(&just_ready, 60));
        let wait = next_available(&[just_ready], 60).unwrap();
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60));
    }
}
