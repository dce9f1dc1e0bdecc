//! The seam between `mkc up`/`down` and what runs node containers (after kind's providers):
//! the steps speak of networks, nodes and clusters, and the Docker provider maps them to the
//! engine's objects. Every object a provider makes carries the cluster's label, so clusters are
//! found again from the engine alone.

use std::future::Future;
use std::net::Ipv4Addr;

use super::files::File;
use super::names::{ClusterName, Role};

/// What can go wrong in a provider.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "cannot reach the Docker engine: {0}; is dockerd running and is /var/run/docker.sock (or DOCKER_HOST) yours to use?"
    )]
    Unreachable(String),
    #[error("no free /24 network for the cluster among {0}: remove unused Docker networks")]
    NoFreeSubnet(String),
    #[error("Docker refused to {what}: {message}")]
    Refused { what: String, message: String },
}

/// A cluster network's IPv4 /24: node addresses are hosts in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub base: Ipv4Addr,
}

impl Subnet {
    /// The gateway, `.1`, is the engine's; nodes take `.2` onwards.
    pub fn host(&self, index: u8) -> Ipv4Addr {
        let [a, b, c, _] = self.base.octets();
        Ipv4Addr::new(a, b, c, index)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/24", self.base)
    }
}

/// One node container to create and start.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub cluster: ClusterName,
    pub name: String,
    pub role: Role,
    pub image: String,
    pub address: Ipv4Addr,
    pub env: Vec<(String, String)>,
    /// Placed in the container before it starts.
    pub files: Vec<File>,
    /// The host port on 127.0.0.1 the API server's port is published on.
    pub publish_api: Option<u16>,
}

/// How a node container was let do what a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Privileged,
    /// The capability set that works where `--privileged` cannot be applied (a capability
    /// missing from the host's bounding set).
    Fallback,
}

/// What loading an image into a node did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    Copied,
    /// The node held the same image already.
    AlreadyThere,
}

/// What was removed with a cluster.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Removed {
    pub containers: usize,
    pub volumes: usize,
    pub networks: usize,
}

impl Removed {
    pub fn is_empty(&self) -> bool {
        *self == Removed::default()
    }
}

/// What `up` and `down` need from a container platform.
pub trait NodeProvider: Sync {
    /// The names of the clusters that have any object.
    fn clusters(&self) -> impl Future<Output = Result<Vec<String>, ProviderError>> + Send;

    /// Creates the cluster's network on a /24 no other network uses.
    fn create_network(
        &self,
        cluster: &ClusterName,
    ) -> impl Future<Output = Result<Subnet, ProviderError>> + Send;

    /// Creates and starts a node container with its files in place.
    fn create_node(
        &self,
        node: &NodeSpec,
    ) -> impl Future<Output = Result<Security, ProviderError>> + Send;

    /// The names of the cluster's node containers.
    fn nodes(
        &self,
        cluster: &ClusterName,
    ) -> impl Future<Output = Result<Vec<String>, ProviderError>> + Send;

    /// Loads an image from the host's engine into a node's own engine, unless the node holds
    /// that very image (same ID) already.
    fn load_image(
        &self,
        node: &str,
        image: &str,
    ) -> impl Future<Output = Result<Loaded, ProviderError>> + Send;

    /// Removes every container, volume and network of the cluster.
    fn delete_cluster(
        &self,
        cluster: &ClusterName,
    ) -> impl Future<Output = Result<Removed, ProviderError>> + Send;
}
