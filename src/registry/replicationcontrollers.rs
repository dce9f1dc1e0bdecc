//! ReplicationControllers: the core group's ReplicaSets, with a map selector. Created with an
//! empty status; generation counts spec changes.

use k8s_openapi::api::core::v1::ReplicationController;

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    ReplicationControllers: ReplicationController,
    validate: validation::replication_controller,
    defaults: defaults::replication_controller,
    prepare_create: empty_status,
);

fn empty_status(controller: &mut ReplicationController) {
    controller.status = Some(Default::default());
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "ReplicationController",
    plural: "replicationcontrollers",
    singular: "replicationcontroller",
    short_names: &["rc"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status, Subresource::Scale],
    field_labels: &[("status.replicas", "0")],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<ReplicationControllers>::NEW,
};
