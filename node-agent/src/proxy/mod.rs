//! Service routing on the node, what kube-proxy does: from watches of Services and
//! EndpointSlices, the node's iptables send each connection to a Service's cluster IP, node
//! port or outside address on to one of its ready endpoints, and refuse it at once when there
//! is none. The rules live in the node container's network namespace, so every pod of the
//! node, the node itself and clients outside reaching the node's address go through them.
//!
//! Each sync renders the whole ruleset from the watched objects and hands what changed since
//! the last sync to `iptables-restore` in one transaction ([`rules`]); changes that arrive
//! together are synced together. A restarted agent writes every chain again and deletes those
//! of Services that went meanwhile.

mod model;
mod rules;

use std::collections::BTreeSet;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

use crate::host::{self, HostError};

/// What can go wrong applying the rules.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(transparent)]
    Host(#[from] HostError),
}

/// How long a failed sync waits before the next try, when nothing changes meanwhile.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Keeps the node's Service rules in step with the API until `shutdown`. `node` is this node's
/// name (its endpoints are the local ones); `cluster_cidr` the network every pod is on.
pub async fn run(client: Client, node: String, cluster_cidr: String, shutdown: CancellationToken) {
    let (services, services_writer) = reflector::store::<Service>();
    let (slices, slices_writer) = reflector::store::<EndpointSlice>();
    let service_changes = reflector::reflector(
        services_writer,
        watcher(
            Api::<Service>::all(client.clone()),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .map(|event| event.map(drop).map_err(|e| e.to_string()));
    let slice_changes = reflector::reflector(
        slices_writer,
        watcher(
            Api::<EndpointSlice>::all(client),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .map(|event| event.map(drop).map_err(|e| e.to_string()));
    let mut changes = pin!(
        futures::stream::select(service_changes, slice_changes)
            .take_until(shutdown.clone().cancelled_owned())
    );
    let ready = async {
        services.wait_until_ready().await.ok();
        slices.wait_until_ready().await.ok();
    };
    let mut ready = pin!(ready);
    // Rules from half the picture would refuse Services whose endpoints are not listed yet:
    // the first sync waits for both lists (the stores fill as the changes are taken).
    loop {
        tokio::select! {
            () = &mut ready => break,
            change = changes.next() => match change {
                None => return,
                Some(Err(error)) => tracing::warn!(%error, "watching Services for routing failed; retrying"),
                Some(Ok(())) => {}
            },
        }
    }
    // What the last sync applied: the next writes only what differs from it.
    let mut applied: Option<Applied> = None;
    loop {
        // Everything that has arrived is in the stores once the ready changes are taken.
        while let Some(Some(change)) = changes.next().now_or_never() {
            if let Err(error) = change {
                tracing::warn!(%error, "watching Services for routing failed; retrying");
            }
        }
        let started = Instant::now();
        let failed = match sync(&services, &slices, &node, &cluster_cidr, &mut applied).await {
            Ok(count) => {
                tracing::debug!(routes = count, took = ?started.elapsed(), "Service rules synced");
                false
            }
            Err(error) => {
                tracing::warn!(%error, "Service rules could not be applied");
                true
            }
        };
        let next = changes.next();
        let retry = tokio::time::sleep(RETRY_AFTER);
        tokio::select! {
            change = next => match change {
                None => return,
                Some(Err(error)) => tracing::warn!(%error, "watching Services for routing failed; retrying"),
                Some(Ok(())) => {}
            },
            () = retry, if failed => {}
        }
    }
}

/// Renders the rules for what the stores hold and applies what differs from `applied`, which
/// it then holds; returns how many Service ports are routed. Without `applied` (the first
/// sync, or one after a failure) the tables are read for chains of ours to delete, and the
/// jumps into our chains are checked.
async fn sync(
    services: &Store<Service>,
    slices: &Store<EndpointSlice>,
    node: &str,
    cluster_cidr: &str,
    applied: &mut Option<Applied>,
) -> Result<usize, ProxyError> {
    let (services, slices) = (services.state(), slices.state());
    let routes = model::routes(
        services.iter().map(|s| &**s),
        slices.iter().map(|s| &**s),
        node,
    );
    let ruleset = rules::render(&routes, cluster_cidr);
    let previous = applied.take();
    let found = match previous {
        Some(_) => BTreeSet::new(),
        None => rules::route_chains(&host::run("iptables-save", &["-t", "nat"], None).await?),
    };
    if let Some(text) = ruleset.restore_input(previous.as_ref().map(|p| &p.ruleset), &found) {
        host::run("iptables-restore", &["-w", "--noflush"], Some(text)).await?;
    }
    match &previous {
        Some(previous) => forget(&model::stale_udp_flows(&previous.routes, &routes)).await,
        None => hook().await?,
    }
    let count = routes.len();
    *applied = Some(Applied { ruleset, routes });
    Ok(count)
}

/// What a sync applied.
struct Applied {
    ruleset: rules::Ruleset,
    routes: Vec<model::Route>,
}

/// Deletes the conntrack entries of `flows`. A failure is logged, not retried: the entries
/// time out by themselves (and a node image without `conntrack` only loses this cleanup).
async fn forget(flows: &[model::StaleFlow]) {
    for flow in flows {
        let (port, endpoint) = (flow.port.to_string(), flow.endpoint.to_string());
        let destination = flow.destination.map(|ip| ip.to_string());
        let mut args = vec![
            "-D",
            "-p",
            "udp",
            "--orig-port-dst",
            &port,
            "--dst-nat",
            &endpoint,
        ];
        if let Some(destination) = &destination {
            args.extend(["--orig-dst", destination.as_str()]);
        }
        match host::run("conntrack", &args, None).await {
            Ok(_) => {}
            // It says so, with status 1, when there was nothing to delete.
            Err(HostError::Failed { stderr, .. }) if stderr.contains("0 flow entries") => {}
            Err(error) => tracing::warn!(%error, "stale UDP flows could not be forgotten"),
        }
    }
}

/// The jumps from the built-in chains into ours. Forwarded traffic is refused from
/// `DOCKER-USER`, which the engine keeps first in FORWARD ahead of its own accepts. The engine
/// leaves these chains' other rules alone when it restarts, so they are checked once per
/// start of the agent (and after a failed sync).
async fn hook() -> Result<(), HostError> {
    let new = [
        "-m",
        "conntrack",
        "--ctstate",
        "NEW",
        "-j",
        rules::FILTER_SERVICES,
    ];
    for chain in ["DOCKER-USER", "INPUT", "OUTPUT"] {
        host::ensure_rule("filter", chain, &new).await?;
    }
    for chain in ["PREROUTING", "OUTPUT"] {
        host::ensure_rule("nat", chain, &["-j", rules::NAT_SERVICES]).await?;
    }
    host::ensure_rule("nat", "POSTROUTING", &["-j", rules::NAT_POSTROUTING]).await
}
