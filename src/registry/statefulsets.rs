//! StatefulSets: created with an empty status; generation counts spec changes.

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct StatefulSets;

impl Kind for StatefulSets {
    type Object = StatefulSet;

    fn defaults(object: &mut StatefulSet) {
        crate::defaults::stateful_set(object);
    }

    fn prepare_create(object: &mut StatefulSet) {
        object.status = Some(StatefulSetStatus::default());
    }

    fn validate(object: &StatefulSet, old: Option<&StatefulSet>) -> ErrorList {
        validation::stateful_set(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "apps",
    version: "v1",
    kind: "StatefulSet",
    plural: "statefulsets",
    singular: "statefulset",
    short_names: &["sts"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status, Subresource::Scale],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<StatefulSets>::NEW,
};
