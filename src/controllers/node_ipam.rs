//! Node IPAM: each node gets a /24 pod CIDR out of the cluster CIDR (10.244.0.0/16 unless
//! `--cluster-cidr` says otherwise), the lowest free one, in `spec.podCIDR` and `spec.podCIDRs`.
//! The node agent hands out pod IPs from it; on Docker it becomes the node's bridge network.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::events::{Kind, Recorder};
use super::informers::Informers;

/// The size of each node's pod CIDR.
const NODE_PREFIX: u8 = 24;

/// An IPv4 network, such as the cluster CIDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let invalid = || format!("{text:?} is not an IPv4 CIDR like 10.244.0.0/16");
        let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let network: Ipv4Addr = address.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        if prefix > NODE_PREFIX {
            return Err(format!(
                "the cluster CIDR {text} is smaller than one node's /{NODE_PREFIX}"
            ));
        }
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
        Ok(Cidr {
            network: Ipv4Addr::from(u32::from(network) & mask),
            prefix,
        })
    }
}

impl Cidr {
    /// How many node CIDRs fit.
    fn capacity(&self) -> u32 {
        1 << (NODE_PREFIX - self.prefix)
    }

    /// The `index`th node CIDR.
    fn subnet(&self, index: u32) -> String {
        let base = u32::from(self.network) + (index << (32 - NODE_PREFIX));
        format!("{}/{NODE_PREFIX}", Ipv4Addr::from(base))
    }

    /// The index of a node CIDR inside this network, if it is one.
    fn index_of(&self, cidr: &str) -> Option<u32> {
        let (address, prefix) = cidr.split_once('/')?;
        if prefix != NODE_PREFIX.to_string() {
            return None;
        }
        let offset =
            u32::from(address.parse::<Ipv4Addr>().ok()?).checked_sub(u32::from(self.network))?;
        let index = offset >> (32 - NODE_PREFIX);
        (index < self.capacity()).then_some(index)
    }
}

/// Which node holds which CIDR index, read from the node cache on first use and kept up to
/// date with every assignment, including those the cache has not shown yet.
struct Allocator {
    cidr: Cidr,
    holders: Option<Holders>,
}

#[derive(Default)]
struct Holders {
    by_index: BTreeMap<u32, String>,
    by_node: HashMap<String, u32>,
}

impl Holders {
    fn insert(&mut self, index: u32, node: &str) {
        if let Some(previous) = self.by_index.insert(index, node.to_owned()) {
            self.by_node.remove(&previous);
        }
        self.by_node.insert(node.to_owned(), index);
    }
}

impl Allocator {
    /// The index `node` holds, or the lowest one no existing node holds, taken for `node`.
    fn take(&mut self, node: &str, nodes: &Store<Node>) -> Option<u32> {
        let cidr = self.cidr;
        let holders = self.holders.get_or_insert_with(|| {
            let mut holders = Holders::default();
            for n in nodes.state() {
                if let Some(index) = n
                    .spec
                    .as_ref()
                    .and_then(|s| s.pod_cidr.as_deref())
                    .and_then(|c| cidr.index_of(c))
                {
                    holders.insert(index, &n.name_any());
                }
            }
            holders
        });
        if let Some(index) = holders.by_node.get(node) {
            return Some(*index);
        }
        let gone = |holder: &String| nodes.get(&ObjectRef::new(holder)).is_none();
        let free = (0..cidr.capacity()).find(|i| holders.by_index.get(i).is_none_or(gone))?;
        holders.insert(free, node);
        Some(free)
    }

    fn record(&mut self, node: &str, cidr: &str) {
        if let (Some(holders), Some(index)) = (self.holders.as_mut(), self.cidr.index_of(cidr)) {
            holders.insert(index, node);
        }
    }
}

struct Context {
    client: Client,
    nodes: Store<Node>,
    allocator: Mutex<Allocator>,
    recorder: Recorder,
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    cidr: Cidr,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let context = Arc::new(Context {
        client: client.clone(),
        nodes: informers.nodes.store(),
        allocator: Mutex::new(Allocator {
            cidr,
            holders: None,
        }),
        recorder: Recorder::new(client.clone(), "node-ipam-controller"),
    });
    let (controller, synced) = informers.nodes.controller(shutdown);
    synced.run(controller, reconcile, error_policy, context)
}

async fn reconcile(node: Arc<Node>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = node.name_any();
    if let Some(cidr) = node.spec.as_ref().and_then(|s| s.pod_cidr.as_deref()) {
        if let Ok(mut allocator) = ctx.allocator.lock() {
            allocator.record(&name, cidr);
        }
        return Ok(Action::await_change());
    }
    let taken = match ctx.allocator.lock() {
        Ok(mut allocator) => allocator
            .take(&name, &ctx.nodes)
            .map(|i| allocator.cidr.subnet(i)),
        Err(_) => None,
    };
    let Some(cidr) = taken else {
        let message = format!("Node {name} status is now: CIDRNotAvailable");
        ctx.recorder
            .publish(node.as_ref(), Kind::Warning, "CIDRNotAvailable", message)
            .await;
        return Ok(Action::requeue(Duration::from_secs(30)));
    };
    let api: Api<Node> = Api::all(ctx.client.clone());
    let patch = json!({"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(Action::await_change())
}

fn error_policy(_node: Arc<Node>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "node IPAM will retry");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_are_carved_in_order_and_recognised() {
        let cidr: Cidr = "10.244.0.0/16".parse().unwrap();
        assert_eq!(cidr.capacity(), 256);
        assert_eq!(cidr.subnet(0), "10.244.0.0/24");
        assert_eq!(cidr.subnet(3), "10.244.3.0/24");
        assert_eq!(cidr.index_of("10.244.3.0/24"), Some(3));
        assert_eq!(cidr.index_of("10.245.0.0/24"), None);
        assert_eq!(cidr.index_of("10.244.3.0/25"), None);
        let wide: Cidr = "10.128.0.0/9".parse().unwrap();
        assert_eq!(wide.capacity(), 32768);
        assert_eq!(wide.subnet(300), "10.129.44.0/24");
    }

    #[test]
    fn bad_cluster_cidrs_are_refused_with_the_reason() {
        assert!(
            "10.244.0.0"
                .parse::<Cidr>()
                .unwrap_err()
                .contains("is not an IPv4 CIDR")
        );
        assert!(
            "10.244.0.0/26"
                .parse::<Cidr>()
                .unwrap_err()
                .contains("smaller than one node's /24")
        );
        assert_eq!(
            "10.244.7.9/16".parse::<Cidr>().unwrap().network,
            Ipv4Addr::new(10, 244, 0, 0)
        );
    }
}
