//! What the scheduler knows of the cluster: every node with the pods assigned to it, including
//! pods it has bound but not yet seen bound ("assumed", as upstream's cache calls them), so a
//! burst of bindings never overcommits a node while the watch catches up.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use super::filter::{Unfit, filter};
use super::node_info::NodeInfo;
use super::resources::{Resources, pod_requests};
use super::score::{owner_uid, score};

/// Nodes in a stable order, with the pods assigned to each.
#[derive(Default)]
pub struct Cache {
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    /// The node each assigned pod is accounted on, and the pod as accounted.
    assigned: HashMap<String, (String, Arc<Pod>)>,
    /// Where the next search for a node starts, so consecutive pods spread their searches.
    next_start: usize,
}

/// The outcome of looking for a node.
pub enum Placement {
    Node(String),
    Unschedulable { total: usize, unfit: Vec<Unfit> },
}

impl Cache {
    /// Adds or updates a node, keeping the pods already accounted on it.
    pub fn upsert_node(&mut self, node: Arc<Node>) {
        let Some(name) = node.metadata.name.clone() else {
            return;
        };
        match self.index.get(&name) {
            Some(&i) => self.nodes[i].set_node(node),
            None => {
                self.index.insert(name, self.nodes.len());
                let mut info = NodeInfo::new(node);
                for (_, (node_name, pod)) in self.assigned.iter() {
                    if node_name == info.name() {
                        info.add_pod(pod);
                    }
                }
                self.nodes.push(info);
            }
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name().to_owned(), i);
        }
    }

    /// Accounts `pod` on `node` (observed bound, or assumed while its binding is under way).
    pub fn assign(&mut self, uid: &str, node: &str, pod: Arc<Pod>) {
        if let Some((previous, _)) = self.assigned.get(uid)
            && previous == node
        {
            return;
        }
        self.unassign(uid);
        if let Some(&i) = self.index.get(node) {
            self.nodes[i].add_pod(&pod);
        }
        self.assigned.insert(uid.to_owned(), (node.to_owned(), pod));
    }

    /// Forgets a pod's assignment (deleted, finished, or a binding that failed).
    pub fn unassign(&mut self, uid: &str) {
        if let Some((node, pod)) = self.assigned.remove(uid)
            && let Some(&i) = self.index.get(&node)
        {
            self.nodes[i].remove_pod(&pod);
        }
    }

    pub fn is_assigned(&self, uid: &str) -> bool {
        self.assigned.contains_key(uid)
    }

    /// How many feasible nodes are enough to choose among, after upstream's adaptive
    /// percentageOfNodesToScore: all of a small cluster, a shrinking share of a large one, and
    /// never fewer than 100.
    fn enough(&self) -> usize {
        let total = self.nodes.len();
        if total < 100 {
            return total;
        }
        let percent = (50 - total / 125).max(5);
        (total * percent / 100).max(100)
    }

    /// Finds the best node for `pod`, searching from a rotating start until enough feasible
    /// nodes are found, then scoring them.
    pub fn place(&mut self, pod: &Pod) -> Placement {
        let total = self.nodes.len();
        let requests: Resources = pod_requests(pod);
        let owner = owner_uid(pod);
        let enough = self.enough();
        let mut best: Option<(i64, usize)> = None;
        let mut feasible = 0;
        let mut unfit = Vec::new();
        let mut visited = 0;
        while visited < total && feasible < enough {
            let i = (self.next_start + visited) % total;
            visited += 1;
            let node = &self.nodes[i];
            match filter(pod, &requests, node) {
                Ok(()) => {
                    feasible += 1;
                    let value = score(pod, owner, &requests, node);
                    if best.is_none_or(|(top, _)| value > top) {
                        best = Some((value, i));
                    }
                }
                Err(reason) => unfit.push(reason),
            }
        }
        if total > 0 {
            self.next_start = (self.next_start + visited) % total;
        }
        match best {
            Some((_, i)) => Placement::Node(self.nodes[i].name().to_owned()),
            None => Placement::Unschedulable { total, unfit },
        }
    }
}
