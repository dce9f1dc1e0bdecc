//! One node and the pods bound or assumed onto it, aggregated into what filtering and scoring
//! read: allocatable and requested resources, host ports in use and pods per controller. The
//! scheduler keeps one per node and updates it in place as pods come and go.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, Taint};

use super::resources::{Resources, allocatable, is_sidecar, pod_requests};
use super::score::owner_uid;

/// The host IP that binds every address, and so conflicts with all of them.
const ALL_HOST_IPS: &str = "0.0.0.0";
const DEFAULT_PROTOCOL: &str = "TCP";

/// What a node's `Ready` condition says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// `Ready` is `False`, or not reported yet.
    NotReady,
    /// `Ready` is `Unknown`: the node stopped reporting.
    Unreachable,
}

impl Readiness {
    fn of(node: &Node) -> Readiness {
        let ready = node
            .status
            .as_ref()
            .and_then(|status| status.conditions.as_ref())
            .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Ready"));
        match ready.map(|condition| condition.status.as_str()) {
            Some("True") => Readiness::Ready,
            Some("Unknown") => Readiness::Unreachable,
            _ => Readiness::NotReady,
        }
    }

    /// The `NoSchedule` taint upstream's node lifecycle controller puts on a node in this state.
    pub fn taint_key(self) -> Option<&'static str> {
        match self {
            Readiness::Ready => None,
            Readiness::NotReady => Some("node.kubernetes.io/not-ready"),
            Readiness::Unreachable => Some("node.kubernetes.io/unreachable"),
        }
    }
}

/// A host port a container claims, keyed as upstream's `HostPortInfo` keys it: an empty host IP
/// means all of them and an empty protocol means TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostPort<'a> {
    pub ip: &'a str,
    pub protocol: &'a str,
    pub port: i32,
}

impl HostPort<'_> {
    /// Whether two claims cannot both be bound: same protocol and port, on the same IP or on
    /// all IPs.
    pub fn conflicts(&self, other: &HostPort<'_>) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || self.ip == ALL_HOST_IPS || other.ip == ALL_HOST_IPS)
    }
}

/// The host ports `pod` claims: those of its regular containers and of its sidecars, which run
/// for the pod's whole life; other init containers have exited by then.
pub fn host_ports(pod: &Pod) -> impl Iterator<Item = HostPort<'_>> {
    let spec = pod.spec.as_ref();
    let sidecars = spec
        .and_then(|spec| spec.init_containers.as_ref())
        .into_iter()
        .flatten()
        .filter(|container| is_sidecar(container));
    let containers = spec.into_iter().flat_map(|spec| &spec.containers);
    sidecars
        .chain(containers)
        .flat_map(|container| container.ports.iter().flatten())
        .filter_map(|port| {
            let number = port.host_port.filter(|&number| number > 0)?;
            Some(HostPort {
                ip: non_empty(port.host_ip.as_deref()).unwrap_or(ALL_HOST_IPS),
                protocol: non_empty(port.protocol.as_deref()).unwrap_or(DEFAULT_PROTOCOL),
                port: number,
            })
        })
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

/// A host port held by a pod on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
struct UsedPort {
    ip: Box<str>,
    protocol: Box<str>,
    port: i32,
}

impl UsedPort {
    fn new(claim: HostPort<'_>) -> UsedPort {
        UsedPort {
            ip: claim.ip.into(),
            protocol: claim.protocol.into(),
            port: claim.port,
        }
    }

    fn claim(&self) -> HostPort<'_> {
        HostPort {
            ip: &self.ip,
            protocol: &self.protocol,
            port: self.port,
        }
    }
}

/// What one pod added to its node, kept so that removal takes back exactly that.
#[derive(Debug)]
struct PodUsage {
    requests: Resources,
    ports: Vec<UsedPort>,
    owner: Option<Arc<str>>,
}

/// A node and the pods on it, aggregated.
#[derive(Debug)]
pub struct NodeInfo {
    node: Arc<Node>,
    allocatable: Resources,
    readiness: Readiness,
    /// Sum of the pods' requests; `pods` counts the pods.
    requested: Resources,
    /// Sum of the pods' requests as ranking counts them ([`Resources::non_zero`]).
    non_zero_requested: Resources,
    /// Pods by uid.
    pods: HashMap<Box<str>, PodUsage>,
    /// Host ports of the pods, one entry per claim.
    used_ports: Vec<UsedPort>,
    /// Pods per controller uid.
    owners: HashMap<Arc<str>, u32>,
}

impl NodeInfo {
    /// A node with no pods yet.
    pub fn new(node: Arc<Node>) -> NodeInfo {
        NodeInfo {
            allocatable: allocatable(&node),
            readiness: Readiness::of(&node),
            node,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: HashMap::new(),
            used_ports: Vec::new(),
            owners: HashMap::new(),
        }
    }

    /// Replaces the node object after an update, keeping its pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.allocatable = allocatable(&node);
        self.readiness = Readiness::of(&node);
        self.node = node;
    }

    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    pub fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn taints(&self) -> &[Taint] {
        let spec = self.node.spec.as_ref();
        spec.and_then(|spec| spec.taints.as_deref())
            .unwrap_or_default()
    }

    pub fn allocatable(&self) -> &Resources {
        &self.allocatable
    }

    pub fn readiness(&self) -> Readiness {
        self.readiness
    }

    pub fn requested(&self) -> &Resources {
        &self.requested
    }

    pub fn non_zero_requested(&self) -> &Resources {
        &self.non_zero_requested
    }

    #[cfg(test)]
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    #[cfg(test)]
    pub fn has_pod(&self, uid: &str) -> bool {
        self.pods.contains_key(uid)
    }

    /// How many of this node's pods the controller with uid `owner` has.
    pub fn owner_pods(&self, owner: &str) -> u32 {
        self.owners.get(owner).copied().unwrap_or(0)
    }

    /// Whether a pod on this node holds a host port that `claim` conflicts with.
    pub fn port_in_use(&self, claim: &HostPort<'_>) -> bool {
        self.used_ports
            .iter()
            .any(|used| used.claim().conflicts(claim))
    }

    /// Accounts for `pod` on this node. A pod already here, by uid, is replaced, so adding an
    /// assumed pod again when its binding is observed changes nothing. Pods without a uid are
    /// not tracked, as upstream's cache refuses them.
    pub fn add_pod(&mut self, pod: &Pod) {
        let Some(uid) = pod_uid(pod) else { return };
        self.remove_uid(uid);
        let usage = PodUsage {
            requests: pod_requests(pod),
            ports: host_ports(pod).map(UsedPort::new).collect(),
            owner: owner_uid(pod).map(|owner| self.owner_key(owner)),
        };
        self.requested += usage.requests;
        self.non_zero_requested += usage.requests.non_zero();
        self.used_ports.extend(usage.ports.iter().cloned());
        if let Some(owner) = &usage.owner {
            *self.owners.entry(Arc::clone(owner)).or_insert(0) += 1;
        }
        self.pods.insert(uid.into(), usage);
    }

    /// Takes back what `pod` added; a pod not on this node changes nothing.
    pub fn remove_pod(&mut self, pod: &Pod) {
        if let Some(uid) = pod_uid(pod) {
            self.remove_uid(uid);
        }
    }

    fn remove_uid(&mut self, uid: &str) {
        let Some(usage) = self.pods.remove(uid) else {
            return;
        };
        self.requested -= usage.requests;
        self.non_zero_requested -= usage.requests.non_zero();
        for port in &usage.ports {
            if let Some(index) = self.used_ports.iter().position(|used| used == port) {
                self.used_ports.swap_remove(index);
            }
        }
        if let Some(owner) = usage.owner {
            self.release_owner(&owner);
        }
    }

    /// The shared key for controller `owner`, so its pods hold one copy of the uid.
    fn owner_key(&self, owner: &str) -> Arc<str> {
        self.owners
            .get_key_value(owner)
            .map_or_else(|| Arc::from(owner), |(key, _)| Arc::clone(key))
    }

    fn release_owner(&mut self, owner: &str) {
        if let Some(count) = self.owners.get_mut(owner) {
            *count -= 1;
            if *count == 0 {
                self.owners.remove(owner);
            }
        }
    }
}

fn pod_uid(pod: &Pod) -> Option<&str> {
    non_empty(pod.metadata.uid.as_deref())
}
