//! The pod table: readiness, the one-word status kubectl users read first ("Running",
//! "CrashLoopBackOff", "Init:0/1", "Terminating" ...), restarts and placement.
//!
//! The status word is derived the way upstream derives it: start from the phase (or the pod's
//! reason), let a blocking init container speak as `Init:...`, then let the first app container
//! with something to report (waiting or terminated) override it, and finally let deletion win.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerStateTerminated, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer, duration};

pub(super) static PODS: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 9] = [
    NAME,
    Column::string("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    Column::string("Status", "The aggregate status of the containers in this pod."),
    Column::string(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    Column::string(
        "IP",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    )
    .wide(),
    Column::string(
        "Node",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
    )
    .wide(),
    Column::string(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
    )
    .wide(),
    Column::string(
        "Readiness Gates",
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
    )
    .wide(),
];

/// The pod reason a node controller sets on pods of a node it lost contact with.
const NODE_LOST: &str = "NodeLost";

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let pod: Pod = common::parse(object)?;
    let spec = pod.spec.unwrap_or_default();
    let status = pod.status.unwrap_or_default();
    let mut summary = summarize(&spec, &status);
    if let Some(reason) = deletion_reason(&pod.metadata, &status) {
        reason.clone_into(&mut summary.reason);
    }
    Some(vec![
        common::name(&pod.metadata),
        format!("{}/{}", summary.ready, summary.total).into(),
        summary.reason.into(),
        summary.restarts.cell(now).into(),
        common::age(&pod.metadata, now),
        common::or_none(pod_ip(&status)).into(),
        common::or_none(spec.node_name.as_deref()).into(),
        common::or_none(status.nominated_node_name.as_deref()).into(),
        readiness_gates(&spec, &status).into(),
    ])
}

/// The status of a deleted pod: "Terminating" until it has finished, "Unknown" when its node
/// was lost and nobody can tell.
fn deletion_reason(meta: &ObjectMeta, status: &PodStatus) -> Option<&'static str> {
    meta.deletion_timestamp.as_ref()?;
    if status.reason.as_deref() == Some(NODE_LOST) {
        Some("Unknown")
    } else if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
        None
    } else {
        Some("Terminating")
    }
}

/// What the READY, STATUS and RESTARTS cells are made of.
struct Summary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: Restarts,
}

/// Restarts counted over some containers, with the time the latest of them last stopped.
#[derive(Default, Clone, Copy)]
struct Restarts {
    count: i64,
    last: Option<Timestamp>,
}

impl Restarts {
    fn add(&mut self, status: &ContainerStatus) {
        self.count += i64::from(status.restart_count);
        let finished = status
            .last_state
            .as_ref()
            .and_then(|state| state.terminated.as_ref())
            .and_then(|terminated| terminated.finished_at.as_ref())
            .map(|time| time.0);
        self.last = self.last.max(finished);
    }

    /// "3", or "3 (5m ago)" once a restart time is known.
    fn cell(self, now: Timestamp) -> String {
        match self.last {
            Some(last) if self.count != 0 => {
                format!("{} ({} ago)", self.count, duration::since(Some(last), now))
            }
            _ => self.count.to_string(),
        }
    }
}

fn summarize(spec: &PodSpec, status: &PodStatus) -> Summary {
    let init_containers = spec.init_containers.as_deref().unwrap_or_default();
    let sidecars = init_containers
        .iter()
        .filter(|container| is_sidecar(container))
        .count();
    let mut summary = Summary {
        ready: 0,
        total: spec.containers.len() + sidecars,
        reason: initial_reason(status),
        restarts: Restarts::default(),
    };
    let init = walk_init_containers(init_containers, status, &mut summary);
    if !init.blocked || has_true_condition(status, "Initialized") {
        summary.restarts = init.sidecar_restarts;
        walk_app_containers(status, &mut summary);
    }
    summary
}

/// The phase, or the pod's own reason when it has one, or `SchedulingGated` while scheduling
/// gates hold the pod back.
fn initial_reason(status: &PodStatus) -> String {
    let gated = conditions(status).iter().any(|condition| {
        condition.type_ == "PodScheduled" && condition.reason.as_deref() == Some("SchedulingGated")
    });
    if gated {
        return "SchedulingGated".to_owned();
    }
    let reason = status.reason.as_deref().filter(|reason| !reason.is_empty());
    reason
        .or(status.phase.as_deref())
        .unwrap_or_default()
        .to_owned()
}

/// What walking the init containers found.
struct InitWalk {
    /// An init container has not finished: the pod is still initializing.
    blocked: bool,
    /// Restarts of the sidecars walked, which keep counting once the pod runs.
    sidecar_restarts: Restarts,
}

/// Walks the init containers in order up to the first that has not finished, counting ready
/// sidecars and restarts, and sets an `Init:...` reason when one blocks.
fn walk_init_containers(
    init_containers: &[Container],
    status: &PodStatus,
    summary: &mut Summary,
) -> InitWalk {
    let mut walk = InitWalk {
        blocked: false,
        sidecar_restarts: Restarts::default(),
    };
    let statuses = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    for (index, container_status) in statuses.iter().enumerate() {
        summary.restarts.add(container_status);
        let sidecar = init_containers
            .iter()
            .find(|container| container.name == container_status.name)
            .is_some_and(is_sidecar);
        if sidecar {
            walk.sidecar_restarts.add(container_status);
        }
        match init_state(container_status, sidecar) {
            InitState::Finished => {}
            InitState::SidecarStarted => summary.ready += usize::from(container_status.ready),
            InitState::Blocking(reason) => {
                summary.reason =
                    reason.unwrap_or_else(|| format!("{index}/{}", init_containers.len()));
                summary.reason.insert_str(0, "Init:");
                walk.blocked = true;
                break;
            }
        }
    }
    walk
}

enum InitState {
    Finished,
    SidecarStarted,
    /// Holds the pod in initialization, with the reason to show if there is one.
    Blocking(Option<String>),
}

/// Where one init container stands, in the order upstream asks: finished successfully, a
/// started sidecar, failed, waiting, or otherwise not done.
fn init_state(status: &ContainerStatus, sidecar: bool) -> InitState {
    let state = status.state.as_ref();
    let terminated = state.and_then(|state| state.terminated.as_ref());
    let waiting_reason = state
        .and_then(|state| state.waiting.as_ref())
        .and_then(|waiting| waiting.reason.as_deref())
        .filter(|reason| !reason.is_empty() && *reason != "PodInitializing");
    match terminated {
        Some(terminated) if terminated.exit_code == 0 => InitState::Finished,
        _ if sidecar && status.started == Some(true) => InitState::SidecarStarted,
        Some(terminated) => InitState::Blocking(Some(termination_reason(terminated))),
        None => InitState::Blocking(waiting_reason.map(str::to_owned)),
    }
}

/// Walks the app containers from last to first, so that the first of them with a waiting or
/// terminated state to report has the last word; ready running ones count as ready.
fn walk_app_containers(status: &PodStatus, summary: &mut Summary) {
    let mut has_running = false;
    for container_status in status.container_statuses.iter().flatten().rev() {
        summary.restarts.add(container_status);
        let state = container_status.state.as_ref();
        let waiting_reason = state
            .and_then(|state| state.waiting.as_ref())
            .and_then(|waiting| waiting.reason.as_deref())
            .filter(|reason| !reason.is_empty());
        let terminated = state.and_then(|state| state.terminated.as_ref());
        let running = state.is_some_and(|state| state.running.is_some());
        if let Some(reason) = waiting_reason {
            reason.clone_into(&mut summary.reason);
        } else if let Some(terminated) = terminated {
            summary.reason = termination_reason(terminated);
        } else if container_status.ready && running {
            has_running = true;
            summary.ready += 1;
        }
    }
    // A container that completed while another still runs does not make the pod "Completed".
    if summary.reason == "Completed" && has_running {
        let ready = has_true_condition(status, "Ready");
        let reason = if ready { "Running" } else { "NotReady" };
        reason.clone_into(&mut summary.reason);
    }
}

/// The terminated state's reason, or its signal, or its exit code.
fn termination_reason(terminated: &ContainerStateTerminated) -> String {
    match (terminated.reason.as_deref(), terminated.signal.unwrap_or(0)) {
        (Some(reason), _) if !reason.is_empty() => reason.to_owned(),
        (_, 0) => format!("ExitCode:{}", terminated.exit_code),
        (_, signal) => format!("Signal:{signal}"),
    }
}

/// Init containers with restart policy Always run alongside the app containers as sidecars.
fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

fn conditions(status: &PodStatus) -> &[PodCondition] {
    status.conditions.as_deref().unwrap_or_default()
}

/// Whether the first condition of this type is true.
fn has_true_condition(status: &PodStatus, condition_type: &str) -> bool {
    conditions(status)
        .iter()
        .find(|condition| condition.type_ == condition_type)
        .is_some_and(|condition| condition.status == "True")
}

/// The pod's primary IP: the first of `podIPs`, else `podIP`.
fn pod_ip(status: &PodStatus) -> Option<&str> {
    let first = status
        .pod_ips
        .as_deref()
        .and_then(<[_]>::first)
        .map(|pod_ip| pod_ip.ip.as_str());
    first.or(status.pod_ip.as_deref())
}

/// "satisfied/declared" readiness gates, or `<none>` when the pod declares none.
fn readiness_gates(spec: &PodSpec, status: &PodStatus) -> String {
    let gates = spec.readiness_gates.as_deref().unwrap_or_default();
    if gates.is_empty() {
        return "<none>".to_owned();
    }
    let satisfied = gates
        .iter()
        .filter(|gate| has_true_condition(status, &gate.condition_type))
        .count();
    format!("{satisfied}/{}", gates.len())
}
