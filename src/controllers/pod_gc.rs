//! Pod garbage collection: a pod bound to a node that no longer exists can never be confirmed
//! stopped by that node, so it is deleted at once (grace period zero), as upstream's pod GC
//! does for orphaned pods; its controller then replaces it on a node that exists.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::informers::{Informers, Synced};

struct Context {
    client: Client,
    nodes: Store<Node>,
    nodes_synced: Synced,
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let nodes = informers.nodes.store();
    let pods = informers.pods.store();
    let context = Arc::new(Context {
        client: client.clone(),
        nodes: nodes.clone(),
        nodes_synced: informers.nodes.synced(),
    });
    // Only a node that is gone from the cache concerns its pods; updates of live nodes do not.
    let pods_of_gone_node = move |node: Arc<Node>| {
        let name = node.name_any();
        let gone = nodes.get(&ObjectRef::new(&name)).is_none();
        let orphans: Vec<ObjectRef<Pod>> = if gone {
            pods.state()
                .iter()
                .filter(|p| node_of(p) == Some(name.as_str()))
                .map(|p| ObjectRef::from_obj(p.as_ref()))
                .collect()
        } else {
            Vec::new()
        };
        orphans
    };
    let (controller, synced) = informers.pods.controller(shutdown);
    let controller =
        controller.watches_shared_stream(informers.nodes.subscribe(), pods_of_gone_node);
    synced.run(controller, reconcile, error_policy, context)
}

async fn reconcile(pod: Arc<Pod>, ctx: Arc<Context>) -> Result<Action, Error> {
    let Some(node) = node_of(&pod) else {
        return Ok(Action::await_change());
    };
    if !ctx.nodes_synced.wait().await || ctx.nodes.get(&ObjectRef::new(node)).is_some() {
        return Ok(Action::await_change());
    }
    // The cache may not have caught up with a node that just registered: ask the API.
    let nodes: Api<Node> = Api::all(ctx.client.clone());
    if nodes.get_opt(node).await?.is_some() {
        return Ok(Action::await_change());
    }
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &pod.namespace().unwrap_or_default());
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: pod.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(&pod.name_any(), &params).await {
        Ok(_) => Ok(Action::await_change()),
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {
            Ok(Action::await_change())
        }
        Err(err) => Err(err.into()),
    }
}

fn error_policy(_pod: Arc<Pod>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "pod garbage collection will retry");
    Action::requeue(Duration::from_secs(1))
}
