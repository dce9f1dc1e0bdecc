//! Ranking of the nodes a pod fits on, higher first, after kube-scheduler's default scoring
//! plugins. A score depends on the pod and one node only, so the scheduler can rank nodes as
//! it filters them; where upstream normalises across nodes, the parts are instead weighted so
//! that each decides before the next:
//!
//! 1. each `PreferNoSchedule` taint the pod does not tolerate (TaintToleration) costs
//!    [`TAINT_STEP`], more than spreading can tell nodes apart by;
//! 2. each pod of the same controller already on the node (the intent of the default
//!    PodTopologySpread constraints: replicas apart) costs [`SPREAD_STEP`], more than the
//!    resource part can tell nodes apart by;
//! 3. the resource part, 0 to [`MAX_RESOURCE_SCORE`], is LeastAllocated plus
//!    BalancedAllocation for cpu and memory with the pod added, each 0 to 100 and weighted 1 as
//!    upstream weights them.

use k8s_openapi::api::core::v1::Pod;

use super::filter::{PREFER_NO_SCHEDULE, pod_tolerations, tolerated};
use super::node_info::NodeInfo;
use super::resources::Resources;

/// The most one upstream scoring plugin gives a node.
pub const MAX_NODE_SCORE: i64 = 100;
/// The most the resource part gives: LeastAllocated plus BalancedAllocation.
pub const MAX_RESOURCE_SCORE: i64 = 2 * MAX_NODE_SCORE;
/// What each pod of the pod's controller on the node costs.
pub const SPREAD_STEP: i64 = MAX_RESOURCE_SCORE + 1;
/// What each untolerated `PreferNoSchedule` taint costs: more than the spread part differs by
/// between nodes holding fewer than 2^20 pods of one controller.
pub const TAINT_STEP: i64 = SPREAD_STEP << 20;

/// The controller owning `pod`, by the uid in its `controller: true` owner reference: the set
/// of pods that ranking spreads across nodes.
pub fn owner_uid(pod: &Pod) -> Option<&str> {
    pod.metadata
        .owner_references
        .as_deref()?
        .iter()
        .find(|reference| reference.controller == Some(true))
        .map(|reference| reference.uid.as_str())
}

/// How well `node` suits `pod`, whose controller is `owner_uid` (from [`owner_uid`]) and whose
/// requests are `requests` (from `pod_requests`); see the module documentation for the parts.
pub fn score(pod: &Pod, owner_uid: Option<&str>, requests: &Resources, node: &NodeInfo) -> i64 {
    let taints = untolerated_preferences(pod, node);
    let siblings = i64::from(owner_uid.map_or(0, |uid| node.owner_pods(uid)));
    let resources = least_allocated(requests, node) + balanced_allocation(requests, node);
    resources
        .saturating_sub(SPREAD_STEP.saturating_mul(siblings))
        .saturating_sub(TAINT_STEP.saturating_mul(taints))
}

/// The node's `PreferNoSchedule` taints that `pod` does not tolerate.
fn untolerated_preferences(pod: &Pod, node: &NodeInfo) -> i64 {
    let tolerations = pod_tolerations(pod);
    let untolerated = node.taints().iter().filter(|taint| {
        let value = taint.value.as_deref().unwrap_or_default();
        taint.effect == PREFER_NO_SCHEDULE
            && !tolerated(tolerations, &taint.key, value, &taint.effect)
    });
    i64::try_from(untolerated.count()).unwrap_or(i64::MAX)
}

/// LeastAllocated: the share of cpu and of memory left free once the pod is added, averaged
/// over the resources the node has. Requests count with [`Resources::non_zero`] defaults.
fn least_allocated(requests: &Resources, node: &NodeInfo) -> i64 {
    let pod = requests.non_zero();
    let used = node.non_zero_requested();
    let capacity = node.allocatable();
    let scores = [
        free_share(
            capacity.milli_cpu,
            used.milli_cpu.saturating_add(pod.milli_cpu),
        ),
        free_share(capacity.memory, used.memory.saturating_add(pod.memory)),
    ];
    let (total, counted) = scores
        .iter()
        .flatten()
        .fold((0, 0), |(total, counted), score| {
            (total + score, counted + 1)
        });
    total.checked_div(counted).unwrap_or(0)
}

/// `(capacity - requested) × 100 / capacity`, 0 when overcommitted; `None` for a resource the
/// node does not have.
fn free_share(capacity: i64, requested: i64) -> Option<i64> {
    if capacity <= 0 {
        return None;
    }
    let free = i128::from(capacity.saturating_sub(requested).max(0));
    let share = free * i128::from(MAX_NODE_SCORE) / i128::from(capacity);
    Some(i64::try_from(share).unwrap_or(0))
}

/// BalancedAllocation: 100 when cpu and memory would be used in equal shares, less the more
/// they differ, from the pods' actual requests. Upstream skips pods requesting neither, which
/// would otherwise pile onto whichever node is balanced already.
fn balanced_allocation(requests: &Resources, node: &NodeInfo) -> i64 {
    if requests.milli_cpu == 0 && requests.memory == 0 {
        return 0;
    }
    let used = node.requested();
    let capacity = node.allocatable();
    let cpu = used_share(
        capacity.milli_cpu,
        used.milli_cpu.saturating_add(requests.milli_cpu),
    );
    let memory = used_share(capacity.memory, used.memory.saturating_add(requests.memory));
    let deviation = match (cpu, memory) {
        (Some(cpu), Some(memory)) => (cpu - memory).abs() / 2.0,
        _ => 0.0,
    };
    ((1.0 - deviation) * MAX_NODE_SCORE as f64) as i64
}

/// `requested / capacity`, at most 1; `None` for a resource the node does not have.
fn used_share(capacity: i64, requested: i64) -> Option<f64> {
    (capacity > 0).then(|| (requested as f64 / capacity as f64).min(1.0))
}
