//! Node lifecycle: a node whose Lease (in `kube-node-lease`) is not renewed within the grace
//! period becomes Unknown, and a node that is not Ready carries the `not-ready` or
//! `unreachable` taints (NoSchedule and NoExecute); pods that do not tolerate a NoExecute taint
//! are evicted, those that tolerate it for a while after `tolerationSeconds`, and their
//! controllers replace them elsewhere.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::events::{Kind, Recorder};
use super::informers::{Informers, Synced};

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
const LEASE_NAMESPACE: &str = "kube-node-lease";

struct Context {
    client: Client,
    leases: Store<Lease>,
    pods: Store<Pod>,
    /// Leases and pods must be complete before a missing Lease may mean a silent node.
    synced: [Synced; 2],
    recorder: Recorder,
    grace: Duration,
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    grace: Duration,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let context = Arc::new(Context {
        client: client.clone(),
        leases: informers.leases.store(),
        pods: informers.pods.store(),
        synced: [informers.leases.synced(), informers.pods.synced()],
        recorder: Recorder::new(client.clone(), "node-controller"),
        grace,
    });
    let (controller, synced) = informers.nodes.controller(shutdown);
    let controller =
        controller.watches_shared_stream(informers.leases.subscribe(), |lease: Arc<Lease>| {
            (lease.namespace().as_deref() == Some(LEASE_NAMESPACE))
                .then(|| ObjectRef::new(&lease.name_any()))
        });
    synced.run(controller, reconcile, error_policy, context)
}

fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// The last sign of life: the Lease's renewal, the Ready condition's heartbeat, or creation.
fn last_heartbeat(node: &Node, lease: Option<&Lease>) -> Timestamp {
    let renewed = lease
        .and_then(|l| l.spec.as_ref()?.renew_time.as_ref())
        .map(|t| t.0);
    let reported = ready_condition(node)
        .and_then(|c| c.last_heartbeat_time.as_ref())
        .map(|t| t.0);
    let created = node.metadata.creation_timestamp.as_ref().map(|t| t.0);
    [renewed, reported, created]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The taints the node's readiness calls for (both effects), given its Ready status.
fn readiness_taint(ready: &str) -> Option<&'static str> {
    match ready {
        "True" => None,
        "False" => Some(NOT_READY),
        _ => Some(UNREACHABLE),
    }
}

/// The node's taints with the readiness taints brought in line with its Ready status; `None`
/// when nothing changes. NoExecute taints record when they were added: evictions count from it.
fn desired_taints(node: &Node, ready: &str, now: Timestamp) -> Option<Vec<Taint>> {
    let current: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let wanted = readiness_taint(ready);
    let mut next: Vec<Taint> = current
        .iter()
        .filter(|t| {
            !matches!(t.key.as_str(), NOT_READY | UNREACHABLE) || Some(t.key.as_str()) == wanted
        })
        .cloned()
        .collect();
    if let Some(key) = wanted {
        for effect in ["NoSchedule", "NoExecute"] {
            if !next.iter().any(|t| t.key == key && t.effect == effect) {
                let time_added = (effect == "NoExecute").then_some(Time(now));
                next.push(Taint {
                    key: key.to_owned(),
                    effect: effect.to_owned(),
                    time_added,
                    value: None,
                });
            }
        }
    }
    (next != current).then_some(next)
}

async fn reconcile(node: Arc<Node>, ctx: Arc<Context>) -> Result<Action, Error> {
    for synced in &ctx.synced {
        if !synced.wait().await {
            return Ok(Action::await_change());
        }
    }
    let name = node.name_any();
    let now = Timestamp::now();
    let lease = ctx
        .leases
        .get(&ObjectRef::new(&name).within(LEASE_NAMESPACE));
    let heartbeat = last_heartbeat(&node, lease.as_deref());
    let silent = Duration::try_from(now.duration_since(heartbeat)).unwrap_or(Duration::ZERO);
    let mut ready = ready_condition(&node)
        .map_or("Unknown", |c| c.status.as_str())
        .to_owned();
    let api: Api<Node> = Api::all(ctx.client.clone());
    if silent > ctx.grace && ready != "Unknown" {
        mark_unknown(&api, &node, now).await?;
        let message = format!("Node {name} status is now: NodeNotReady");
        ctx.recorder
            .publish(node.as_ref(), Kind::Normal, "NodeNotReady", message)
            .await;
        ready = "Unknown".into();
    }
    if let Some(taints) = desired_taints(&node, &ready, now) {
        let patch = json!({"metadata": {"resourceVersion": node.resource_version()}, "spec": {"taints": taints}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        // The change comes back as an event; evictions follow from the stored taints.
        return Ok(Action::await_change());
    }
    let next_eviction = evict(&ctx, &node, now).await?;
    let until_silent = ctx
        .grace
        .checked_sub(silent)
        .map(|d| d + Duration::from_millis(100));
    let wake = [next_eviction, until_silent.filter(|_| ready != "Unknown")]
        .into_iter()
        .flatten()
        .min();
    Ok(wake.map_or(Action::await_change(), Action::requeue))
}

/// Sets every condition the node agent reports to Unknown, as upstream does for a silent node.
async fn mark_unknown(api: &Api<Node>, node: &Node, now: Timestamp) -> Result<(), Error> {
    let conditions: Vec<NodeCondition> = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|mut c| {
            if c.status != "Unknown" {
                c.last_transition_time = Some(Time(now));
            }
            c.status = "Unknown".into();
            c.reason = Some("NodeStatusUnknown".into());
            c.message = Some("Kubelet stopped posting node status.".into());
            c
        })
        .collect();
    let patch = json!({"metadata": {"resourceVersion": node.resource_version()}, "status": {"conditions": conditions}});
    api.patch_status(
        &node.name_any(),
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await?;
    Ok(())
}

/// Evicts the node's pods that no longer tolerate its NoExecute taints and returns how long
/// until the next toleration runs out.
async fn evict(ctx: &Context, node: &Node, now: Timestamp) -> Result<Option<Duration>, Error> {
    let taints: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.effect == "NoExecute")
        .collect();
    if taints.is_empty() {
        return Ok(None);
    }
    let name = node.name_any();
    let mut next = None::<Duration>;
    let on_node = ctx.pods.state().into_iter().filter(|p| {
        p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str())
            && p.metadata.deletion_timestamp.is_none()
    });
    for pod in on_node {
        match eviction_deadline(&pod, &taints) {
            Some(at) if at <= now => evict_pod(ctx, &pod, &taints).await?,
            Some(at) => {
                let wait = Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO);
                next = Some(next.map_or(wait, |n| n.min(wait)));
            }
            None => {}
        }
    }
    Ok(next)
}

/// When a pod must go because of `taints`, as upstream's taint manager decides: at once if a
/// taint has no matching toleration; otherwise after the shortest `tolerationSeconds` among
/// the tolerations used, counted from when the taints were added; never if none sets one.
fn eviction_deadline(pod: &Pod, taints: &[Taint]) -> Option<Timestamp> {
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    let added = taints
        .iter()
        .filter_map(|t| t.time_added.as_ref().map(|t| t.0))
        .min()
        .unwrap_or_else(Timestamp::now);
    let mut shortest: Option<i64> = None;
    for taint in taints {
        let used = tolerations.iter().find(|t| {
            let key = t
                .key
                .as_deref()
                .is_none_or(|k| k.is_empty() || k == taint.key);
            let effect = t
                .effect
                .as_deref()
                .is_none_or(|e| e.is_empty() || e == taint.effect);
            let value = t.operator.as_deref() == Some("Exists")
                || t.value.as_deref().unwrap_or_default()
                    == taint.value.as_deref().unwrap_or_default();
            key && effect && value
        });
        match used {
            None => return Some(added),
            Some(t) => {
                if let Some(seconds) = t.toleration_seconds {
                    shortest = Some(shortest.map_or(seconds, |s| s.min(seconds)));
                }
            }
        }
    }
    shortest.map(|seconds| crate::deadline::after(added, seconds.max(0)))
}

async fn evict_pod(ctx: &Context, pod: &Pod, taints: &[Taint]) -> Result<(), Error> {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &pod.namespace().unwrap_or_default());
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(&pod.name_any(), &params).await {
        Ok(_) => {
            let taint = taints.first().map(|t| t.key.as_str()).unwrap_or_default();
            let message = format!(
                "Marking for deletion Pod {}/{} (taint {taint})",
                pod.namespace().unwrap_or_default(),
                pod.name_any()
            );
            ctx.recorder
                .publish(pod, Kind::Normal, "TaintManagerEviction", message)
                .await;
            Ok(())
        }
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
        Err(err) => Err(err.into()),
    }
}

fn error_policy(_node: Arc<Node>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "node lifecycle will retry");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": "n"}, "spec": {"taints": taints}}))
            .unwrap()
    }

    fn pod(tolerations: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [], "tolerations": tolerations}})).unwrap()
    }

    fn taint(key: &str, added: &str) -> Taint {
        serde_json::from_value(json!({"key": key, "effect": "NoExecute", "timeAdded": added}))
            .unwrap()
    }

    #[test]
    fn readiness_taints_follow_the_ready_status_and_keep_other_taints() {
        let now = Timestamp::now();
        let n = node(json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]));
        let unknown = desired_taints(&n, "Unknown", now).unwrap();
        let keys: Vec<(&str, &str)> = unknown
            .iter()
            .map(|t| (t.key.as_str(), t.effect.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("dedicated", "NoSchedule"),
                (UNREACHABLE, "NoSchedule"),
                (UNREACHABLE, "NoExecute")
            ]
        );
        assert!(unknown[2].time_added.is_some() && unknown[1].time_added.is_none());
        let tainted = Node {
            spec: Some(k8s_openapi::api::core::v1::NodeSpec {
                taints: Some(unknown),
                ..Default::default()
            }),
            ..n.clone()
        };
        assert_eq!(desired_taints(&tainted, "Unknown", now), None);
        let recovered = desired_taints(&tainted, "True", now).unwrap();
        assert_eq!(recovered.len(), 1);
        let not_ready = desired_taints(&tainted, "False", now).unwrap();
        assert!(
            not_ready.iter().all(|t| t.key != UNREACHABLE)
                && not_ready.iter().any(|t| t.key == NOT_READY)
        );
    }

    #[test]
    fn evictions_wait_for_toleration_seconds() {
        let added = "2026-01-01T00:00:00Z";
        let start: Timestamp = added.parse().unwrap();
        let taints = [taint(UNREACHABLE, added)];
        assert_eq!(eviction_deadline(&pod(json!([])), &taints), Some(start));
        let for_300 = pod(
            json!([{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]),
        );
        assert_eq!(
            eviction_deadline(&for_300, &taints),
            Some(start + jiff::SignedDuration::from_secs(300))
        );
        let forever = pod(json!([{"operator": "Exists"}]));
        assert_eq!(eviction_deadline(&forever, &taints), None);
        let longest = pod(
            json!([{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": i64::MAX}]),
        );
        assert_eq!(
            eviction_deadline(&longest, &taints),
            Some(Timestamp::MAX),
            "saturates rather than overflowing"
        );
        let other_key =
            pod(json!([{"key": NOT_READY, "operator": "Exists", "effect": "NoExecute"}]));
        assert_eq!(eviction_deadline(&other_key, &taints), Some(start));
    }
}
