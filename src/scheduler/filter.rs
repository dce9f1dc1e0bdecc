//! Whether a pod may run on a node, checked as kube-scheduler's default filter plugins check it
//! and in their order, and the `FailedScheduling` message built from the reasons nodes were
//! refused. Filtering runs for many nodes per pod, so the passing path borrows and never
//! allocates; only a refusal for a taint copies the taint.

use std::borrow::Cow;
use std::collections::HashMap;

use k8s_openapi::api::core::v1::{
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Toleration,
};

use super::node_info::{NodeInfo, host_ports};
use super::resources::{Resources, Shortfall};

pub const NO_SCHEDULE: &str = "NoSchedule";
pub const NO_EXECUTE: &str = "NoExecute";
pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
const NODE_NAME_FIELD: &str = "metadata.name";

const NO_NODES: &str = "no nodes available to schedule pods";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

/// Why a node cannot take a pod: the first default filter plugin that refused it, with what
/// its reason strings need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unfit {
    /// NodeAffinity's pre-filter left the node out: every required term pins nodes by
    /// `metadata.name`, and none names this one.
    NotNamedByAffinity,
    /// NodeUnschedulable: the node is cordoned.
    Unschedulable,
    /// NodeName: the pod names another node.
    NodeName,
    /// TaintToleration: a `NoSchedule` or `NoExecute` taint the pod does not tolerate.
    UntoleratedTaint { key: String, value: String },
    /// NodeAffinity: the node selector or the required node affinity does not match.
    NodeAffinity,
    /// NodePorts: a host port the pod wants is taken.
    HostPorts,
    /// NodeResourcesFit: requests beyond what the node has left; `unresolvable` when they
    /// exceed what the node has at all.
    Insufficient {
        shortfall: Shortfall,
        unresolvable: bool,
    },
}

impl Unfit {
    /// Whether evicting pods could make room, upstream's `Unschedulable` status as opposed to
    /// `UnschedulableAndUnresolvable`.
    pub fn resolvable(&self) -> bool {
        match self {
            Unfit::HostPorts => true,
            Unfit::Insufficient { unresolvable, .. } => !unresolvable,
            _ => false,
        }
    }

    /// Upstream's reason strings for this refusal; resource shortfalls give one per resource.
    pub fn reasons(&self) -> Vec<Cow<'static, str>> {
        let fixed = match self {
            Unfit::NotNamedByAffinity => "node(s) didn't satisfy plugin(s) [NodeAffinity]",
            Unfit::Unschedulable => "node(s) were unschedulable",
            Unfit::NodeName => "node(s) didn't match the requested node name",
            Unfit::NodeAffinity => "node(s) didn't match Pod's node affinity/selector",
            Unfit::HostPorts => "node(s) didn't have free ports for the requested pod ports",
            Unfit::UntoleratedTaint { key, value } => {
                return vec![format!("node(s) had untolerated taint {{{key}: {value}}}").into()];
            }
            Unfit::Insufficient { shortfall, .. } => {
                let named = [
                    (shortfall.pods, "Too many pods"),
                    (shortfall.cpu, "Insufficient cpu"),
                    (shortfall.memory, "Insufficient memory"),
                    (
                        shortfall.ephemeral_storage,
                        "Insufficient ephemeral-storage",
                    ),
                ];
                return named
                    .into_iter()
                    .filter(|(short, _)| *short)
                    .map(|(_, reason)| reason.into())
                    .collect();
            }
        };
        vec![fixed.into()]
    }
}

/// Checks `pod`, whose requests are `requests` (from `pod_requests`), against `node`, in the
/// order of upstream's default filter plugins, and returns the first refusal.
///
/// A node whose `Ready` condition is not `True` is refused as the `not-ready` (or, when the
/// condition is `Unknown`, `unreachable`) `NoSchedule` taint would refuse it upstream, since
/// the taint may lag the condition.
pub fn filter(pod: &Pod, requests: &Resources, node: &NodeInfo) -> Result<(), Unfit> {
    let spec = pod.spec.as_ref();
    let tolerations = pod_tolerations(pod);
    let required = spec.and_then(required_node_affinity);
    check_named_by_affinity(required, node)?;
    check_unschedulable(tolerations, node)?;
    check_node_name(spec, node)?;
    check_taints(tolerations, node)?;
    check_node_affinity(spec, required, node)?;
    check_host_ports(pod, node)?;
    check_resources(requests, node)
}

/// The pod's tolerations; none for a pod without a spec.
pub fn pod_tolerations(pod: &Pod) -> &[Toleration] {
    let spec = pod.spec.as_ref();
    spec.and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
}

/// Whether `tolerations` tolerate the taint `key=value:effect`, with upstream's matching: an
/// empty toleration effect matches every effect, an empty key every key, and the operator is
/// `Equal` (values compared) unless it is `Exists`.
pub fn tolerated(tolerations: &[Toleration], key: &str, value: &str, effect: &str) -> bool {
    tolerations.iter().any(|toleration| {
        let matches = |field: &Option<String>, taint_field: &str| {
            field
                .as_deref()
                .is_none_or(|f| f.is_empty() || f == taint_field)
        };
        matches(&toleration.effect, effect)
            && matches(&toleration.key, key)
            && match toleration.operator.as_deref().unwrap_or_default() {
                "" | "Equal" => toleration.value.as_deref().unwrap_or_default() == value,
                "Exists" => true,
                _ => false,
            }
    })
}

/// The `FailedScheduling` message upstream gives when no node of `total_nodes` fits, `unfit`
/// holding each refused node's reason: the refusals counted per reason, then what preemption
/// found. No pod is preempted here, so a node where eviction could help is reported as having
/// no victims, as upstream reports it when no pod of lower priority runs there.
pub fn failed_scheduling_message(total_nodes: usize, unfit: &[Unfit]) -> String {
    if total_nodes == 0 {
        return NO_NODES.to_owned();
    }
    let mut filter_counts: HashMap<Cow<'static, str>, usize> = HashMap::new();
    for reason in unfit.iter().flat_map(Unfit::reasons) {
        *filter_counts.entry(reason).or_insert(0) += 1;
    }
    let resolvable = unfit.iter().filter(|u| u.resolvable()).count();
    let preemption_counts = [
        (Cow::Borrowed(NO_VICTIMS), resolvable),
        (
            Cow::Borrowed(NOT_HELPFUL),
            total_nodes.saturating_sub(resolvable),
        ),
    ];
    format!(
        "{} preemption: {}",
        nodes_available(total_nodes, filter_counts),
        nodes_available(total_nodes, preemption_counts),
    )
}

/// Upstream's `FitError` text: each reason after the number of nodes it refused, sorted as
/// strings.
fn nodes_available(
    total_nodes: usize,
    counts: impl IntoIterator<Item = (Cow<'static, str>, usize)>,
) -> String {
    let mut entries: Vec<String> = counts
        .into_iter()
        .filter(|&(_, count)| count > 0)
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    entries.sort_unstable();
    let mut message = format!("0/{total_nodes} nodes are available:");
    if !entries.is_empty() {
        message.push(' ');
        message.push_str(&entries.join(", "));
        message.push('.');
    }
    message
}

fn required_node_affinity(spec: &PodSpec) -> Option<&NodeSelector> {
    spec.affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()
}

/// NodeAffinity's pre-filter: when every required term has `metadata.name In` requirements,
/// only nodes named by all of some term's requirements are considered at all.
fn check_named_by_affinity(required: Option<&NodeSelector>, node: &NodeInfo) -> Result<(), Unfit> {
    let Some(required) = required else {
        return Ok(());
    };
    let terms = &required.node_selector_terms;
    let name = node.name();
    // A term without name pins admits every node, as `all` holds for none.
    let admits = |term: &NodeSelectorTerm| {
        term.match_fields.iter().flatten().all(|r| {
            r.key != NODE_NAME_FIELD
                || r.operator != "In"
                || r.values.iter().flatten().any(|v| v == name)
        })
    };
    if terms.is_empty() || terms.iter().any(admits) {
        Ok(())
    } else {
        Err(Unfit::NotNamedByAffinity)
    }
}

/// NodeUnschedulable: a cordoned node takes only pods tolerating the `unschedulable` taint.
fn check_unschedulable(tolerations: &[Toleration], node: &NodeInfo) -> Result<(), Unfit> {
    let cordoned = node.node().spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    if cordoned && !tolerated(tolerations, UNSCHEDULABLE_TAINT, "", NO_SCHEDULE) {
        return Err(Unfit::Unschedulable);
    }
    Ok(())
}

/// NodeName: a pod that names its node runs there only.
fn check_node_name(spec: Option<&PodSpec>, node: &NodeInfo) -> Result<(), Unfit> {
    match spec.and_then(|s| s.node_name.as_deref()) {
        Some(wanted) if !wanted.is_empty() && wanted != node.name() => Err(Unfit::NodeName),
        _ => Ok(()),
    }
}

/// TaintToleration: the first `NoSchedule` or `NoExecute` taint not tolerated refuses the
/// node, then the taint the node's readiness stands for.
fn check_taints(tolerations: &[Toleration], node: &NodeInfo) -> Result<(), Unfit> {
    for taint in node.taints() {
        let value = taint.value.as_deref().unwrap_or_default();
        let effect = taint.effect.as_str();
        if (effect == NO_SCHEDULE || effect == NO_EXECUTE)
            && !tolerated(tolerations, &taint.key, value, effect)
        {
            return Err(untolerated(&taint.key, value));
        }
    }
    match node.readiness().taint_key() {
        Some(key) if !tolerated(tolerations, key, "", NO_SCHEDULE) => Err(untolerated(key, "")),
        _ => Ok(()),
    }
}

fn untolerated(key: &str, value: &str) -> Unfit {
    Unfit::UntoleratedTaint {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// NodeAffinity: every `nodeSelector` label must match, and one of the required terms.
fn check_node_affinity(
    spec: Option<&PodSpec>,
    required: Option<&NodeSelector>,
    node: &NodeInfo,
) -> Result<(), Unfit> {
    let labels = node.node().metadata.labels.as_ref();
    let label = |key: &str| {
        labels
            .and_then(|labels| labels.get(key))
            .map(String::as_str)
    };
    let selector = spec.and_then(|s| s.node_selector.as_ref());
    let selected = selector
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == Some(value.as_str()));
    let name = node.name();
    let affine = required.is_none_or(|required| {
        required
            .node_selector_terms
            .iter()
            .any(|term| term_matches(term, &label, name))
    });
    if selected && affine {
        Ok(())
    } else {
        Err(Unfit::NodeAffinity)
    }
}

/// A term matches when all its expressions and fields do. A term with neither matches no
/// node, and one with a malformed requirement matches none either, as upstream ignores it.
fn term_matches<'a>(
    term: &NodeSelectorTerm,
    label: &impl Fn(&str) -> Option<&'a str>,
    node_name: &str,
) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    (!expressions.is_empty() || !fields.is_empty())
        && expressions
            .iter()
            .all(|r| expression_matches(r, label(&r.key)))
        && fields.iter().all(|r| field_matches(r, node_name))
}

/// A label requirement against the label's value, if the node has the label.
fn expression_matches(requirement: &NodeSelectorRequirement, label: Option<&str>) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    let contains = |label: &str| values.iter().any(|v| v == label);
    match requirement.operator.as_str() {
        "In" => !values.is_empty() && label.is_some_and(contains),
        "NotIn" => !values.is_empty() && !label.is_some_and(contains),
        "Exists" => values.is_empty() && label.is_some(),
        "DoesNotExist" => values.is_empty() && label.is_none(),
        "Gt" => compare_integers(values, label).is_some_and(|(label, bound)| label > bound),
        "Lt" => compare_integers(values, label).is_some_and(|(label, bound)| label < bound),
        _ => false,
    }
}

/// The label and the requirement's single value as integers, when both are.
fn compare_integers(values: &[String], label: Option<&str>) -> Option<(i64, i64)> {
    let [bound] = values else { return None };
    Some((label?.parse().ok()?, bound.parse().ok()?))
}

/// A field requirement: `metadata.name` `In` or `NotIn` exactly one name.
fn field_matches(requirement: &NodeSelectorRequirement, node_name: &str) -> bool {
    let values = requirement.values.as_deref().unwrap_or_default();
    let [value] = values else { return false };
    if requirement.key != NODE_NAME_FIELD {
        return false;
    }
    match requirement.operator.as_str() {
        "In" => value == node_name,
        "NotIn" => value != node_name,
        _ => false,
    }
}

/// NodePorts: no host port the pod wants may conflict with one in use on the node.
fn check_host_ports(pod: &Pod, node: &NodeInfo) -> Result<(), Unfit> {
    if host_ports(pod).any(|claim| node.port_in_use(&claim)) {
        return Err(Unfit::HostPorts);
    }
    Ok(())
}

/// NodeResourcesFit: the requests must fit in what the node has left.
fn check_resources(requests: &Resources, node: &NodeInfo) -> Result<(), Unfit> {
    let allocatable = node.allocatable();
    if allocatable.fits(node.requested(), requests) {
        return Ok(());
    }
    let beyond_node = allocatable.shortfall(&Resources::default(), requests);
    Err(Unfit::Insufficient {
        shortfall: allocatable.shortfall(node.requested(), requests),
        unresolvable: beyond_node.cpu || beyond_node.memory || beyond_node.ephemeral_storage,
    })
}
