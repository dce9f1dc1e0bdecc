//! The pod network of each node: until a node has a pod CIDR (set by the server's node IPAM
//! controller) its pods cannot get addresses, so they wait at the node's gate, remembered, and
//! are handed back to pod sync when the CIDR arrives. Pods on the host network do not wait.

use std::collections::HashSet;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::StreamExt;
use futures::channel::mpsc;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

use crate::fleet::Fleet;
use crate::runtime::ContainerRuntime;

/// Watches the Node objects of `fleet` until `shutdown`; when one has a pod CIDR, gives it to
/// the node's runtime and opens the node's gate, sending the pods that waited to `wake`.
pub async fn watch_pod_cidrs<R: ContainerRuntime>(
    client: Client,
    fleet: Arc<Fleet<R>>,
    wake: mpsc::UnboundedSender<ObjectRef<Pod>>,
    shutdown: CancellationToken,
) {
    let config = match fleet.single() {
        Some(node) => {
            watcher::Config::default().fields(&format!("metadata.name={}", node.config.name))
        }
        None => watcher::Config::default(),
    };
    let mut nodes = pin!(
        watcher(Api::<Node>::all(client), config)
            .default_backoff()
            .applied_objects()
            .take_until(shutdown.cancelled_owned())
    );
    while let Some(event) = nodes.next().await {
        let node = match event {
            Ok(node) => node,
            Err(error) => {
                tracing::warn!(%error, "watching nodes failed; retrying");
                continue;
            }
        };
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let (Some(local), Some(cidr)) = (
            fleet.get(name),
            node.spec.as_ref().and_then(|spec| spec.pod_cidr.as_deref()),
        ) else {
            continue;
        };
        match local.runtime.set_pod_cidr(cidr).await {
            // A closed channel means pod sync has stopped: the agent is shutting down.
            Ok(()) => local.network.open().into_iter().for_each(|pod| {
                let _ = wake.unbounded_send(pod);
            }),
            Err(error) => tracing::warn!(node = name, %error, "the node's pod CIDR is unusable"),
        }
    }
}

/// One node's gate: closed, remembering the pods waiting at it, until the node's runtime knows
/// the pod CIDR; open for good after that.
#[derive(Debug, Default)]
pub struct NetworkGate {
    state: Mutex<Gate>,
}

#[derive(Debug)]
enum Gate {
    Closed { waiting: HashSet<ObjectRef<Pod>> },
    Open,
}

impl Default for Gate {
    fn default() -> Self {
        Gate::Closed {
            waiting: HashSet::new(),
        }
    }
}

impl NetworkGate {
    /// Whether a pod may get its sandbox now; if not, it is remembered until [`Self::open`].
    pub fn admit(&self, pod: ObjectRef<Pod>) -> bool {
        match &mut *self.lock() {
            Gate::Open => true,
            Gate::Closed { waiting } => {
                waiting.insert(pod);
                false
            }
        }
    }

    /// Opens the gate once the runtime knows the pod CIDR; returns the pods that waited.
    pub fn open(&self) -> Vec<ObjectRef<Pod>> {
        match std::mem::replace(&mut *self.lock(), Gate::Open) {
            Gate::Closed { waiting } => waiting.into_iter().collect(),
            Gate::Open => Vec::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Gate> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_wait_until_the_gate_opens_and_are_handed_back_once() {
        let gate = NetworkGate::default();
        let pod = ObjectRef::<Pod>::new("web").within("default");
        assert!(!gate.admit(pod.clone()));
        assert!(!gate.admit(pod.clone()));
        assert_eq!(gate.open(), vec![pod.clone()]);
        assert!(gate.open().is_empty());
        assert!(gate.admit(pod));
    }
}
