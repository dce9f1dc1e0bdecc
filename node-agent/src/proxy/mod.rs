//! Service routing on the node, what kube-proxy does: from watches of Services and
//! EndpointSlices, the node's iptables send each connection to a Service's cluster IP, node
//! port or outside address on to one of its ready endpoints, and refuse it at once when there
//! is none. The rules live in the node container's network namespace, so every pod of the
//! node, the node itself and clients outside reaching the node's address go through them.
//!
//! Each sync renders the whole ruleset from the watched objects and hands it to
//! `iptables-restore` in one transaction ([`rules`]); changes that arrive together are
//! synced together. The jumps into our chains from the built-in ones are checked on every
//! sync, since the engine may rebuild its own chains when it restarts.

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
    loop {
        // Everything that has arrived is in the stores once the ready changes are taken.
        while let Some(Some(change)) = changes.next().now_or_never() {
            if let Err(error) = change {
                tracing::warn!(%error, "watching Services for routing failed; retrying");
            }
        }
        let started = Instant::now();
        let failed = match sync(&services, &slices, &node, &cluster_cidr).await {
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

/// Renders and applies the rules for what the stores hold; returns how many Service ports
/// were routed.
async fn sync(
    services: &Store<Service>,
    slices: &Store<EndpointSlice>,
    node: &str,
    cluster_cidr: &str,
) -> Result<usize, ProxyError> {
    let (services, slices) = (services.state(), slices.state());
    let routes = model::routes(
        services.iter().map(|s| &**s),
        slices.iter().map(|s| &**s),
        node,
    );
    let saved = host::run("iptables-save", &["-t", "nat"], None).await?;
    let existing: BTreeSet<String> = rules::route_chains(&saved);
    let text = rules::render(&routes, cluster_cidr, &existing);
    host::run("iptables-restore", &["-w", "--noflush"], Some(text)).await?;
    hook().await?;
    Ok(routes.len())
}

/// The jumps from the built-in chains into ours. Forwarded traffic is refused from
/// `DOCKER-USER`, which the engine keeps first in FORWARD ahead of its own accepts.
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
