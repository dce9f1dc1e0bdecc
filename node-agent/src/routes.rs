//! Pod traffic between nodes on Docker: on this node, a route to every other node's pod CIDR
//! through that node's address, kept in step with the Node list as nodes join and leave, and
//! the iptables rules that let that traffic through with its pods' own source addresses.
//!
//! Routes are added with a protocol number of our own, so the ones this agent made are found
//! again (after a restart, or when a node leaves) without touching anyone else's. Rules and
//! routes live in the node container's network namespace and are lost when it restarts; the
//! agent applies them again on start.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::pin::pin;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

use crate::host;

/// The routing protocol number marking our routes (`ip route … proto 199`).
const PROTO: &str = "199";

/// What can go wrong applying routes or rules.
#[derive(Debug, thiserror::Error)]
pub enum RoutesError {
    #[error(transparent)]
    Host(#[from] host::HostError),
    #[error("`ip -j route` printed what it should not: {0}")]
    Parse(#[from] serde_json::Error),
}

/// The routes this node needs: each other node's pod CIDR through its InternalIP.
pub fn desired_routes(nodes: &[Node], own: &str) -> BTreeMap<String, IpAddr> {
    nodes
        .iter()
        .filter(|node| node.metadata.name.as_deref() != Some(own))
        .filter(|node| node.metadata.deletion_timestamp.is_none())
        .filter_map(|node| {
            let cidr = node.spec.as_ref()?.pod_cidr.clone()?;
            let address = node
                .status
                .as_ref()?
                .addresses
                .as_ref()?
                .iter()
                .find(|a| a.type_ == "InternalIP")?
                .address
                .parse()
                .ok()?;
            Some((cidr, address))
        })
        .collect()
}

/// Keeps the routes to other nodes' pods until `shutdown`. `cluster_cidr` is the network every
/// pod CIDR is carved from; `own_cidr` comes with this node's pod CIDR.
pub async fn run(client: Client, own: String, cluster_cidr: String, shutdown: CancellationToken) {
    let (store, writer) = reflector::store();
    let mut changes = pin!(
        reflector(
            writer,
            watcher(Api::<Node>::all(client), watcher::Config::default())
        )
        .default_backoff()
        .applied_objects()
        .take_until(shutdown.cancelled_owned())
    );
    let mut rules_for: Option<String> = None;
    while let Some(change) = changes.next().await {
        if let Err(error) = change {
            tracing::warn!(%error, "watching nodes for pod routes failed; retrying");
            continue;
        }
        let nodes: Vec<Node> = store.state().iter().map(|n| (**n).clone()).collect();
        let own_cidr = nodes
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(own.as_str()))
            .and_then(|n| n.spec.as_ref()?.pod_cidr.clone());
        if let Some(own_cidr) = own_cidr
            && rules_for.as_deref() != Some(own_cidr.as_str())
        {
            match keep_pod_sources(&own_cidr, &cluster_cidr).await {
                Ok(()) => rules_for = Some(own_cidr),
                Err(error) => tracing::warn!(%error, "pod traffic rules could not be applied"),
            }
        }
        if let Err(error) = sync_routes(&desired_routes(&nodes, &own)).await {
            tracing::warn!(%error, "pod routes could not be brought in step");
        }
    }
}

/// Makes our routes exactly `desired`: replaces each wanted one, removes the rest of ours.
async fn sync_routes(desired: &BTreeMap<String, IpAddr>) -> Result<(), RoutesError> {
    for (cidr, via) in desired {
        run_ip(&[
            "route",
            "replace",
            cidr,
            "via",
            &via.to_string(),
            "proto",
            PROTO,
        ])
        .await?;
    }
    let listed = run_ip(&["-j", "route", "show", "proto", PROTO]).await?;
    for cidr in our_routes(&listed)? {
        if !desired.contains_key(&cidr) {
            run_ip(&["route", "del", &cidr, "proto", PROTO]).await?;
        }
    }
    Ok(())
}

/// The destinations of the routes in `ip -j route` output.
fn our_routes(json: &str) -> Result<Vec<String>, RoutesError> {
    #[derive(serde::Deserialize)]
    struct Route {
        dst: String,
    }
    let routes: Vec<Route> = if json.trim().is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(json)?
    };
    Ok(routes.into_iter().map(|r| r.dst).collect())
}

/// Lets pod traffic from other nodes and from outside (NodePorts) into this node's pods
/// through the forward chain (Docker drops what it did not publish), and masquerades as the
/// node's address only what pods send out of the cluster: between pods, source addresses are
/// kept. The pod network is made without the engine's own masquerading (the engine inserts its
/// rule first in the chain whenever it makes the network, which may be after these rules), so
/// only these rules decide.
async fn keep_pod_sources(own_cidr: &str, cluster_cidr: &str) -> Result<(), RoutesError> {
    host::ensure_rule(
        "filter",
        "DOCKER-USER",
        &["-d", cluster_cidr, "-j", "ACCEPT"],
    )
    .await?;
    let masquerade = ["-s", own_cidr, "!", "-d", cluster_cidr, "-j", "MASQUERADE"];
    host::ensure_rule("nat", "POSTROUTING", &masquerade).await?;
    Ok(())
}

async fn run_ip(args: &[&str]) -> Result<String, RoutesError> {
    Ok(host::run("ip", args, None).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, cidr: Option<&str>, ip: &str) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"podCIDR": cidr},
            "status": {"addresses": [{"type": "Hostname", "address": name},
                                     {"type": "InternalIP", "address": ip}]},
        }))
        .unwrap()
    }

    #[test]
    fn every_other_node_with_a_pod_cidr_gets_a_route_through_its_address() {
        let nodes = [
            node("a", Some("10.244.0.0/24"), "10.89.0.2"),
            node("b", Some("10.244.1.0/24"), "10.89.0.3"),
            node("c", None, "10.89.0.4"),
        ];
        let routes = desired_routes(&nodes, "a");
        assert_eq!(
            routes.into_iter().collect::<Vec<_>>(),
            [("10.244.1.0/24".to_owned(), "10.89.0.3".parse().unwrap())]
        );
    }

    #[test]
    fn our_routes_are_read_from_ip_json() {
        let listed = r#"[{"dst":"10.244.1.0/24","gateway":"10.89.0.3","dev":"eth0","protocol":"199","flags":[]}]"#;
        assert_eq!(our_routes(listed).unwrap(), ["10.244.1.0/24"]);
        assert!(our_routes("\n").unwrap().is_empty());
    }
}
