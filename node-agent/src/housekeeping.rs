//! Housekeeping: forgets what a runtime still holds for pods the API no longer has (deleted
//! outright, or gone while the agent was away) and so frees their addresses; upstream's
//! HandlePodCleanups. Deletions seen on the watch are handled at once, everything else by a
//! sweep after each (re)list and at a steady interval.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::fleet::{Fleet, LocalNode};
use crate::runtime::{ContainerRuntime, PodKey, RuntimeError};

/// Work for the housekeeper.
#[derive(Debug)]
enum Chore {
    /// A pod left the API; its node's runtime may still hold it.
    Forget { node: String, pod: PodKey },
    /// Compare every runtime with the API's pods.
    Sweep,
}

/// Hands chores to the housekeeper; cheap to clone, never blocks.
#[derive(Clone)]
pub struct Housekeeping {
    chores: mpsc::UnboundedSender<Chore>,
}

/// The housekeeper's end of the chore queue.
pub struct Chores(mpsc::UnboundedReceiver<Chore>);

pub fn channel() -> (Housekeeping, Chores) {
    let (chores, receiver) = mpsc::unbounded();
    (Housekeeping { chores }, Chores(receiver))
}

impl Housekeeping {
    /// A pod disappeared from the API.
    pub fn forget(&self, pod: &Pod) {
        let node = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        if let (Some(node), Some(pod)) = (node, PodKey::of(pod)) {
            self.send(Chore::Forget { node, pod });
        }
    }

    /// The API's pods were listed afresh.
    pub fn sweep(&self) {
        self.send(Chore::Sweep);
    }

    fn send(&self, chore: Chore) {
        // The housekeeper is gone only when the agent is shutting down.
        let _ = self.chores.unbounded_send(chore);
    }
}

/// Does chores until `shutdown`. Sweeps begin with the first Sweep chore, sent once the pod
/// store has listed: before it, every runtime pod would look forgotten.
pub async fn run<R: ContainerRuntime>(
    fleet: Arc<Fleet<R>>,
    store: Store<Pod>,
    Chores(mut chores): Chores,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut listed = false;
    loop {
        let chore = tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick(), if listed => Chore::Sweep,
            chore = chores.next() => match chore {
                Some(chore) => chore,
                None => return,
            },
        };
        match chore {
            Chore::Forget { node, pod } => {
                if let Some(local) = fleet.get(&node) {
                    forget(local, &pod).await;
                }
            }
            Chore::Sweep => {
                listed = true;
                sweep(&fleet, &store).await;
            }
        }
    }
}

/// Forgets, on every node, the pods the store does not have under the same UID.
async fn sweep<R: ContainerRuntime>(fleet: &Fleet<R>, store: &Store<Pod>) {
    for node in fleet.iter() {
        // The runtime is listed before the store is read: a pod missing from the store then
        // was deleted, never one whose sandbox was created after the listing.
        let held = match node.runtime.list_pods().await {
            Ok(held) => held,
            Err(error) => {
                tracing::warn!(node = %node.config.name, %error, "listing the runtime's pods failed");
                continue;
            }
        };
        for pod in held {
            let current = store.get(&ObjectRef::new(&pod.name).within(&pod.namespace));
            if current.is_none_or(|p| p.metadata.uid.as_deref() != Some(pod.uid.as_str())) {
                forget(node, &pod).await;
            }
        }
    }
}

/// Stops a pod's containers at once and removes them with its sandbox.
async fn forget<R: ContainerRuntime>(node: &LocalNode<R>, pod: &PodKey) {
    node.pulls.forget(&pod.uid);
    let removed = match node.runtime.stop_pod(pod, Duration::ZERO).await {
        Ok(()) => node.runtime.remove_pod(pod).await,
        Err(error) => Err(error),
    };
    match removed {
        Ok(()) => tracing::debug!(node = %node.config.name, %pod, "forgot a deleted pod"),
        Err(RuntimeError::NotFound(_)) => {}
        Err(error) => {
            tracing::warn!(node = %node.config.name, %pod, %error, "removing a deleted pod failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Capacity, fleet};
    use crate::fleet::NodeSetup;
    use crate::runtime::SandboxConfig;
    use crate::runtime::simulated::SimulatedRuntime;
    use kube::runtime::watcher::Event;
    use serde_json::json;

    fn pod(name: &str, uid: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "uid": uid},
            "spec": {"nodeName": "n-1", "containers": []},
        }))
        .unwrap()
    }

    async fn sandbox(runtime: &SimulatedRuntime, pod: &Pod) {
        let key = PodKey::of(pod).unwrap();
        let config = SandboxConfig {
            hostname: key.name.clone(),
            pod: key,
            host_network: false,
            host_ports: Vec::new(),
            dns: None,
        };
        runtime.ensure_sandbox(&config).await.unwrap();
    }

    #[tokio::test]
    async fn a_sweep_forgets_pods_gone_or_recreated_and_keeps_the_rest() {
        let runtime = Arc::new(SimulatedRuntime::new());
        runtime.set_pod_cidr("10.244.1.0/24").await.unwrap();
        let config = fleet(1, "n", &Capacity::default()).remove(0);
        let fleet = Fleet::new(vec![NodeSetup {
            config,
            runtime: runtime.clone(),
        }])
        .unwrap();
        let (kept, gone, recreated) = (pod("kept", "1"), pod("gone", "2"), pod("again", "3"));
        for pod in [&kept, &gone, &recreated] {
            sandbox(&runtime, pod).await;
        }
        let (reader, mut writer) = kube::runtime::reflector::store();
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitApply(kept.clone()));
        writer.apply_watcher_event(&Event::InitApply(pod("again", "4")));
        writer.apply_watcher_event(&Event::InitDone);

        sweep(&fleet, &reader).await;
        let left: Vec<_> = runtime
            .list_pods()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(left, ["kept"]);
    }
}
