//! Load balancers for `type: LoadBalancer` Services, the way k3d's servicelb gives them: the
//! Service's addresses are its nodes' own (`status.loadBalancer.ingress`, one per node, in
//! address order), where every node's Service rules take the Service's port to its endpoints.
//! The host reaches node addresses on the cluster's Docker network, so the address shown by
//! `kubectl get service` answers from the host, and from pods. A Service that stops being a
//! LoadBalancer loses its addresses.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Service};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::informers::Informers;

struct Context {
    client: Client,
    nodes: Store<Node>,
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let services = informers.services.store();
    let context = Arc::new(Context {
        client: client.clone(),
        nodes: informers.nodes.store(),
    });
    // A node joining or leaving changes every load balancer's addresses.
    let load_balancers = move |_: Arc<Node>| {
        services
            .state()
            .iter()
            .filter(|s| is_load_balancer(s) || !ingress(s).is_empty())
            .map(|s| ObjectRef::from_obj(s.as_ref()))
            .collect::<Vec<_>>()
    };
    let (controller, synced) = informers.services.controller(shutdown);
    let controller = controller.watches_shared_stream(informers.nodes.subscribe(), load_balancers);
    synced.run(controller, reconcile, error_policy, context)
}

fn is_load_balancer(service: &Service) -> bool {
    service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

/// The ingress addresses the Service shows now.
fn ingress(service: &Service) -> Vec<String> {
    service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| i.ip.clone())
        .collect()
}

/// The addresses of the nodes that are not going away, in address order.
fn node_addresses(nodes: &[Arc<Node>]) -> Vec<String> {
    let mut addresses: Vec<IpAddr> = nodes
        .iter()
        .filter(|n| n.metadata.deletion_timestamp.is_none())
        .filter_map(|n| {
            n.status
                .as_ref()?
                .addresses
                .as_ref()?
                .iter()
                .find(|a| a.type_ == "InternalIP")?
                .address
                .parse()
                .ok()
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses.iter().map(IpAddr::to_string).collect()
}

async fn reconcile(service: Arc<Service>, ctx: Arc<Context>) -> Result<Action, Error> {
    if service.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let wanted = if is_load_balancer(&service) {
        node_addresses(&ctx.nodes.state())
    } else {
        Vec::new()
    };
    if ingress(&service) == wanted {
        return Ok(Action::await_change());
    }
    let entries: Vec<Value> = wanted
        .iter()
        .map(|ip| json!({"ip": ip, "ipMode": "VIP"}))
        .collect();
    let patch = json!({"status": {"loadBalancer": {"ingress": entries}}});
    let api: Api<Service> =
        Api::namespaced(ctx.client.clone(), &service.namespace().unwrap_or_default());
    api.patch_status(
        &service.name_any(),
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await?;
    Ok(Action::await_change())
}

fn error_policy(_service: Arc<Service>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "the load-balancer controller will retry");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, ip: &str, leaving: bool) -> Arc<Node> {
        let mut node: Node = serde_json::from_value(json!({
            "metadata": {"name": name},
            "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}]},
        }))
        .unwrap();
        if leaving {
            node.metadata.deletion_timestamp = Some(
                k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH),
            );
        }
        Arc::new(node)
    }

    #[test]
    fn every_staying_node_address_once_in_address_order() {
        let nodes = [
            node("b", "172.18.0.10", false),
            node("a", "172.18.0.9", false),
            node("c", "172.18.0.11", true),
        ];
        assert_eq!(node_addresses(&nodes), ["172.18.0.9", "172.18.0.10"]);
    }
}
