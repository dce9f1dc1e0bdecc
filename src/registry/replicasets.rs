//! ReplicaSets: created with an empty status; generation counts spec changes.

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct ReplicaSets;

impl Kind for ReplicaSets {
    type Object = ReplicaSet;

    fn defaults(object: &mut ReplicaSet) {
        crate::defaults::replica_set(object);
    }

    fn prepare_create(object: &mut ReplicaSet) {
        object.status = Some(ReplicaSetStatus::default());
    }

    fn validate(object: &ReplicaSet, old: Option<&ReplicaSet>) -> ErrorList {
        validation::replica_set(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    plural: "replicasets",
    singular: "replicaset",
    short_names: &["rs"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status, Subresource::Scale],
    field_labels: &[("status.replicas", "0")],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<ReplicaSets>::NEW,
};
