//! Tables of the apps group: deployments, replica sets, stateful sets, daemon sets and the
//! controller revisions behind their rollouts.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::Value;

use super::common::{self, AGE, CONTAINERS, DEFAULT_REPLICAS, IMAGES, NAME};
use super::labels::{format_labels, format_selector, selector_text};
use super::{Column, Printer};

pub(super) static DEPLOYMENTS: Printer = Printer {
    columns: &DEPLOYMENT_COLUMNS,
    row: deployment_row,
};
pub(super) static REPLICA_SETS: Printer = Printer {
    columns: &REPLICA_SET_COLUMNS,
    row: replica_set_row,
};
pub(super) static STATEFUL_SETS: Printer = Printer {
    columns: &STATEFUL_SET_COLUMNS,
    row: stateful_set_row,
};
pub(super) static DAEMON_SETS: Printer = Printer {
    columns: &DAEMON_SET_COLUMNS,
    row: daemon_set_row,
};
pub(super) static CONTROLLER_REVISIONS: Printer = Printer {
    columns: &CONTROLLER_REVISION_COLUMNS,
    row: controller_revision_row,
};

const READY: Column = Column::string("Ready", "Number of the pod with ready state");

const DEPLOYMENT_COLUMNS: [Column; 8] = [
    NAME,
    READY,
    Column::string(
        "Up-to-date",
        "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
    ),
    Column::string(
        "Available",
        "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::string(
        "Selector",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
    )
    .wide(),
];

const REPLICA_SET_COLUMNS: [Column; 8] = [
    NAME,
    Column::integer(
        "Desired",
        "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    Column::integer(
        "Current",
        "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    Column::integer("Ready", "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::string(
        "Selector",
        "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    )
    .wide(),
];

const STATEFUL_SET_COLUMNS: [Column; 5] = [NAME, READY, AGE, CONTAINERS, IMAGES];

const DAEMON_SET_COLUMNS: [Column; 11] = [
    NAME,
    Column::integer(
        "Desired",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    ),
    Column::integer(
        "Current",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    ),
    Column::integer(
        "Ready",
        "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
    ),
    Column::integer("Up-to-date", "The total number of nodes that are running updated daemon pod"),
    Column::integer(
        "Available",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    Column::string(
        "Node Selector",
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::string(
        "Selector",
        "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    )
    .wide(),
];

const CONTROLLER_REVISION_COLUMNS: [Column; 4] = [
    NAME,
    Column::string("Controller", "Controller of the object"),
    Column::string(
        "Revision",
        "Revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];

fn deployment_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let deployment: Deployment = common::parse(object)?;
    let spec = deployment.spec.unwrap_or_default();
    let status = deployment.status.unwrap_or_default();
    let desired = spec.replicas.unwrap_or(DEFAULT_REPLICAS);
    let [containers, images] = common::container_cells(Some(&spec.template));
    let selector = selector_text(Some(&spec.selector)).unwrap_or_else(|| "<invalid>".to_owned());
    Some(vec![
        common::name(&deployment.metadata),
        format!("{}/{desired}", status.ready_replicas.unwrap_or(0)).into(),
        status.updated_replicas.unwrap_or(0).into(),
        status.available_replicas.unwrap_or(0).into(),
        common::age(&deployment.metadata, now),
        containers,
        images,
        selector.into(),
    ])
}

fn replica_set_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let replica_set: ReplicaSet = common::parse(object)?;
    let spec = replica_set.spec.unwrap_or_default();
    let status = replica_set.status.unwrap_or_default();
    let [containers, images] = common::container_cells(spec.template.as_ref());
    Some(vec![
        common::name(&replica_set.metadata),
        spec.replicas.unwrap_or(DEFAULT_REPLICAS).into(),
        status.replicas.into(),
        status.ready_replicas.unwrap_or(0).into(),
        common::age(&replica_set.metadata, now),
        containers,
        images,
        format_selector(Some(&spec.selector)).into(),
    ])
}

fn stateful_set_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let stateful_set: StatefulSet = common::parse(object)?;
    let spec = stateful_set.spec.unwrap_or_default();
    let ready = stateful_set
        .status
        .and_then(|status| status.ready_replicas)
        .unwrap_or(0);
    let [containers, images] = common::container_cells(Some(&spec.template));
    Some(vec![
        common::name(&stateful_set.metadata),
        format!("{ready}/{}", spec.replicas.unwrap_or(DEFAULT_REPLICAS)).into(),
        common::age(&stateful_set.metadata, now),
        containers,
        images,
    ])
}

fn daemon_set_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let daemon_set: DaemonSet = common::parse(object)?;
    let spec = daemon_set.spec.unwrap_or_default();
    let status = daemon_set.status.unwrap_or_default();
    let node_selector = spec
        .template
        .spec
        .as_ref()
        .and_then(|pod| pod.node_selector.as_ref());
    let [containers, images] = common::container_cells(Some(&spec.template));
    Some(vec![
        common::name(&daemon_set.metadata),
        status.desired_number_scheduled.into(),
        status.current_number_scheduled.into(),
        status.number_ready.into(),
        status.updated_number_scheduled.unwrap_or(0).into(),
        status.number_available.unwrap_or(0).into(),
        format_labels(node_selector).into(),
        common::age(&daemon_set.metadata, now),
        containers,
        images,
        format_selector(Some(&spec.selector)).into(),
    ])
}

fn controller_revision_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let revision: ControllerRevision = common::parse(object)?;
    let owners = revision
        .metadata
        .owner_references
        .as_deref()
        .unwrap_or_default();
    let controller = match owners.iter().find(|owner| owner.controller == Some(true)) {
        Some(owner) => controller_name(owner)?,
        None => "<none>".to_owned(),
    };
    Some(vec![
        common::name(&revision.metadata),
        controller.into(),
        revision.revision.into(),
        common::age(&revision.metadata, now),
    ])
}

/// "kind.group/name" in lower case ("statefulset.apps/web"); `None` for an unreadable
/// apiVersion.
fn controller_name(owner: &OwnerReference) -> Option<String> {
    let group = match owner.api_version.split('/').collect::<Vec<_>>()[..] {
        [_version] => "",
        [group, _version] => group,
        _ => return None,
    };
    let kind = match (group, owner.kind.as_str()) {
        ("", "") => return Some(owner.name.clone()),
        ("", kind) => kind.to_owned(),
        (group, kind) => format!("{kind}.{group}"),
    };
    Some(format!("{}/{}", kind.to_lowercase(), owner.name))
}
