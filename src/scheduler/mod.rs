//! The scheduler: binds each pending pod (`spec.schedulerName: default-scheduler`, no node yet)
//! to the best node through `pods/<name>/binding`, and tells why when no node fits.
//!
//! One task owns the queue and the cache of nodes and their pods, fed by a pod watch and a node
//! watch; placing a pod is a pure search over the cache ([`cache::Cache::place`], built on the
//! filter and score functions), bindings run concurrently and are assumed in the cache until
//! the watch confirms them, and pods that fit nowhere wait until a node or a pod changes.

mod cache;
mod filter;
mod node_info;
mod resources;
mod score;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::{Binding, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::controllers::events::{Kind, Recorder};
use cache::{Cache, Placement};

pub const NAME: &str = "default-scheduler";
/// Bindings under way at once; the store groups their writes into shared commits.
const IN_FLIGHT: usize = 256;
/// How often pods that fit nowhere are tried again even if nothing seemed to change.
const RETRY_UNSCHEDULABLE: Duration = Duration::from_secs(30);
/// How long a pod whose binding failed waits before it is tried again.
const BIND_BACKOFF: Duration = Duration::from_secs(1);

enum Input {
    Pod(watcher::Event<Pod>),
    Node(watcher::Event<Node>),
}

/// The scheduler's state, owned by its one task.
struct Scheduler {
    client: Client,
    recorder: Recorder,
    cache: Cache,
    /// Unbound pods waiting for a node, by uid.
    pending: HashMap<String, Arc<Pod>>,
    active: VecDeque<String>,
    queued: HashSet<String>,
    unschedulable: HashSet<String>,
    /// The last FailedScheduling message reported per pod, so each is reported once.
    reported: HashMap<String, String>,
    synced: (bool, bool),
}

pub async fn run(client: Client, shutdown: CancellationToken) {
    // Placement never reads managedFields; dropping them keeps the cache to what it needs.
    let pods = watcher(Api::<Pod>::all(client.clone()), watcher::Config::default())
        .default_backoff()
        .modify(|pod| pod.managed_fields_mut().clear())
        .map(|e| e.map(Input::Pod));
    let nodes = watcher(Api::<Node>::all(client.clone()), watcher::Config::default())
        .default_backoff()
        .modify(|node| node.managed_fields_mut().clear())
        .map(|e| e.map(Input::Node));
    let mut inputs = std::pin::pin!(stream::select(pods, nodes));
    let mut scheduler = Scheduler {
        recorder: Recorder::new(client.clone(), NAME),
        client,
        cache: Cache::default(),
        pending: HashMap::new(),
        active: VecDeque::new(),
        queued: HashSet::new(),
        unschedulable: HashSet::new(),
        reported: HashMap::new(),
        synced: (false, false),
    };
    let mut bindings: JoinSet<(String, Arc<Pod>, String, Result<(), kube::Error>)> = JoinSet::new();
    let (retry, mut retries) = mpsc::unbounded_channel::<String>();
    let mut flush = tokio::time::interval(RETRY_UNSCHEDULABLE);
    loop {
        if scheduler.synced == (true, true) {
            while bindings.len() < IN_FLIGHT {
                let Some((uid, pod, node)) = scheduler.schedule_next() else {
                    break;
                };
                let client = scheduler.client.clone();
                bindings.spawn(async move {
                    let result = bind(&client, &pod, &node).await;
                    (uid, pod, node, result)
                });
            }
        }
        tokio::select! {
            input = inputs.next() => match input {
                Some(Ok(input)) => scheduler.observe(input),
                Some(Err(err)) => tracing::debug!(error = %err, "scheduler watch failed; retrying"),
                None => return,
            },
            Some(done) = bindings.join_next(), if !bindings.is_empty() => {
                let Ok((uid, pod, node, result)) = done else { continue };
                scheduler.bound(uid, pod, node, result, &retry);
            }
            Some(uid) = retries.recv() => scheduler.enqueue(&uid),
            _ = flush.tick() => scheduler.retry_unschedulable(),
            () = shutdown.cancelled() => {
                bindings.abort_all();
                return;
            }
        }
    }
}

fn is_ours(pod: &Pod) -> bool {
    let name = pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref());
    name.is_none_or(|n| n.is_empty() || n == NAME)
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

fn is_finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

impl Scheduler {
    fn observe(&mut self, input: Input) {
        match input {
            Input::Pod(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => {
                self.pod_changed(pod)
            }
            Input::Pod(watcher::Event::Delete(pod)) => self.pod_gone(&pod),
            Input::Pod(watcher::Event::InitDone) => self.synced.0 = true,
            Input::Node(watcher::Event::Apply(node) | watcher::Event::InitApply(node)) => {
                self.cache.upsert_node(Arc::new(node));
                self.retry_unschedulable();
            }
            Input::Node(watcher::Event::Delete(node)) => self.cache.remove_node(&node.name_any()),
            Input::Node(watcher::Event::InitDone) => self.synced.1 = true,
            Input::Pod(watcher::Event::Init) | Input::Node(watcher::Event::Init) => {}
        }
    }

    fn pod_changed(&mut self, pod: Pod) {
        let Some(uid) = pod.uid() else { return };
        match node_of(&pod) {
            Some(_) if is_finished(&pod) => self.pod_gone(&pod),
            Some(node) => {
                let node = node.to_owned();
                self.pending.remove(&uid);
                self.reported.remove(&uid);
                self.cache.assign(&uid, &node, Arc::new(pod));
            }
            None if is_ours(&pod)
                && pod.metadata.deletion_timestamp.is_none()
                && !is_finished(&pod) =>
            {
                if self.cache.is_assigned(&uid) {
                    // Bound by this scheduler; the watch has not caught up yet.
                    return;
                }
                self.pending.insert(uid.clone(), Arc::new(pod));
                self.unschedulable.remove(&uid);
                self.enqueue(&uid);
            }
            None => {
                self.pending.remove(&uid);
            }
        }
    }

    fn pod_gone(&mut self, pod: &Pod) {
        let Some(uid) = pod.uid() else { return };
        self.pending.remove(&uid);
        self.reported.remove(&uid);
        if self.cache.is_assigned(&uid) {
            self.cache.unassign(&uid);
            self.retry_unschedulable();
        }
    }

    fn enqueue(&mut self, uid: &str) {
        if self.pending.contains_key(uid) && self.queued.insert(uid.to_owned()) {
            self.active.push_back(uid.to_owned());
        }
    }

    /// Moves every pod that fit nowhere back to the queue: something changed that may help.
    fn retry_unschedulable(&mut self) {
        for uid in std::mem::take(&mut self.unschedulable) {
            self.enqueue(&uid);
        }
    }

    /// Places the next queued pod, assuming it on its node; pods that fit nowhere are reported
    /// and set aside.
    fn schedule_next(&mut self) -> Option<(String, Arc<Pod>, String)> {
        while let Some(uid) = self.active.pop_front() {
            self.queued.remove(&uid);
            let Some(pod) = self.pending.get(&uid).cloned() else {
                continue;
            };
            match self.cache.place(&pod) {
                Placement::Node(node) => {
                    self.pending.remove(&uid);
                    self.cache.assign(&uid, &node, pod.clone());
                    return Some((uid, pod, node));
                }
                Placement::Unschedulable { total, unfit } => {
                    self.unschedulable.insert(uid.clone());
                    let message = filter::failed_scheduling_message(total, &unfit);
                    if self.reported.get(&uid) != Some(&message) {
                        self.reported.insert(uid, message.clone());
                        tokio::spawn(report_unschedulable(
                            self.client.clone(),
                            self.recorder.clone(),
                            pod,
                            message,
                        ));
                    }
                }
            }
        }
        None
    }

    /// Settles a binding: confirmed, or forgotten and retried after a pause.
    fn bound(
        &mut self,
        uid: String,
        pod: Arc<Pod>,
        node: String,
        result: Result<(), kube::Error>,
        retry: &mpsc::UnboundedSender<String>,
    ) {
        match result {
            Ok(()) => {
                let recorder = self.recorder.clone();
                let message = format!(
                    "Successfully assigned {}/{} to {node}",
                    pod.namespace().unwrap_or_default(),
                    pod.name_any()
                );
                tokio::spawn(async move {
                    recorder
                        .publish(pod.as_ref(), Kind::Normal, "Scheduled", message)
                        .await
                });
            }
            Err(err) => {
                tracing::debug!(%uid, %node, error = %err, "binding failed");
                self.cache.unassign(&uid);
                let gone = matches!(&err, kube::Error::Api(status) if status.code == 404);
                if !gone {
                    self.pending.insert(uid.clone(), pod);
                    let retry = retry.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(BIND_BACKOFF).await;
                        let _ = retry.send(uid);
                    });
                }
            }
        }
    }
}

async fn bind(client: &Client, pod: &Pod, node: &str) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace().unwrap_or_default());
    let binding = Binding {
        metadata: ObjectMeta {
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..ObjectMeta::default()
        },
        target: ObjectReference {
            kind: Some("Node".into()),
            api_version: Some("v1".into()),
            name: Some(node.to_owned()),
            ..ObjectReference::default()
        },
    };
    api.create_subresource::<Binding, serde_json::Value>(
        "binding",
        &pod.name_any(),
        &PostParams::default(),
        &binding,
    )
    .await
    .map(drop)
}

/// Records FailedScheduling and sets the pod's PodScheduled condition to False, as upstream.
async fn report_unschedulable(client: Client, recorder: Recorder, pod: Arc<Pod>, message: String) {
    recorder
        .publish(
            pod.as_ref(),
            Kind::Warning,
            "FailedScheduling",
            message.clone(),
        )
        .await;
    let api: Api<Pod> = Api::namespaced(client, &pod.namespace().unwrap_or_default());
    let patch = json!({"status": {"conditions": [{
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
        "lastProbeTime": null,
        "lastTransitionTime": Time(jiff::Timestamp::now()),
    }]}});
    if let Err(err) = api
        .patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        tracing::debug!(error = %err, "could not mark the pod unschedulable");
    }
}
