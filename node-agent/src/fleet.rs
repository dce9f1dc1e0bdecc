//! The nodes one process runs, looked up by name: each node's configuration, its runtime and
//! its pod-network gate. One node for a real kubelet, thousands for a simulated fleet; the rest
//! of the agent does not tell the two apart.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::NodeConfig;
use crate::network::NetworkGate;
use crate::pulls::PullFailures;

/// A node to run and the runtime that runs its containers. The runtime is shared so it can
/// outlive the agent, as a node's container runtime outlives its kubelet.
pub struct NodeSetup<R> {
    pub config: NodeConfig,
    pub runtime: Arc<R>,
}

impl<R> Clone for NodeSetup<R> {
    fn clone(&self) -> Self {
        NodeSetup {
            config: self.config.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

/// One node of this process.
pub struct LocalNode<R> {
    pub config: NodeConfig,
    pub runtime: Arc<R>,
    pub network: NetworkGate,
    /// The images of its pods that could not be pulled.
    pub pulls: PullFailures,
    /// Where in the fleet the node stands, for staggering its heartbeats.
    pub index: u32,
}

/// Why a set of nodes cannot run.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("no nodes to run")]
    Empty,
    #[error("node {0:?} appears twice")]
    Duplicate(String),
    #[error("too many nodes for one process")]
    TooMany,
}

pub struct Fleet<R> {
    nodes: Vec<Arc<LocalNode<R>>>,
    by_name: HashMap<String, Arc<LocalNode<R>>>,
    count: u32,
}

impl<R> Fleet<R> {
    pub fn new(setups: Vec<NodeSetup<R>>) -> Result<Fleet<R>, FleetError> {
        if setups.is_empty() {
            return Err(FleetError::Empty);
        }
        let count = u32::try_from(setups.len()).map_err(|_| FleetError::TooMany)?;
        let mut nodes = Vec::with_capacity(setups.len());
        let mut by_name = HashMap::with_capacity(setups.len());
        for (index, setup) in (0..count).zip(setups) {
            let node = Arc::new(LocalNode {
                index,
                config: setup.config,
                runtime: setup.runtime,
                network: NetworkGate::default(),
                pulls: PullFailures::default(),
            });
            if by_name
                .insert(node.config.name.clone(), node.clone())
                .is_some()
            {
                return Err(FleetError::Duplicate(node.config.name.clone()));
            }
            nodes.push(node);
        }
        Ok(Fleet {
            nodes,
            by_name,
            count,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<LocalNode<R>>> {
        self.by_name.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<LocalNode<R>>> {
        self.nodes.iter()
    }

    pub fn len(&self) -> u32 {
        self.count
    }

    /// The one node when the process runs a single node: it then watches like a real kubelet,
    /// selecting its own name on the server.
    pub fn single(&self) -> Option<&LocalNode<R>> {
        match self.nodes.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Capacity, fleet};

    fn setups(names: &[&str]) -> Vec<NodeSetup<()>> {
        names
            .iter()
            .flat_map(|name| fleet(1, name, &Capacity::default()))
            .map(|config| NodeSetup {
                config,
                runtime: Arc::new(()),
            })
            .collect()
    }

    #[test]
    fn nodes_are_found_by_name_and_keep_their_order() {
        let fleet = Fleet::new(setups(&["a", "b"])).unwrap();
        assert_eq!(fleet.get("b-1").map(|n| n.index), Some(1));
        assert!(fleet.get("c-1").is_none());
        assert!(fleet.single().is_none());
        assert_eq!(fleet.len(), 2);
        let single = Fleet::new(setups(&["a"])).unwrap();
        assert_eq!(single.single().map(|n| n.config.name.as_str()), Some("a-1"));
    }

    #[test]
    fn empty_and_duplicate_sets_are_refused() {
        assert!(matches!(Fleet::new(setups(&[])), Err(FleetError::Empty)));
        assert!(matches!(
            Fleet::new(setups(&["a", "a"])),
            Err(FleetError::Duplicate(name)) if name == "a-1"
        ));
    }
}
