//! DaemonSets: created with an empty status; generation counts spec changes.

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct DaemonSets;

impl Kind for DaemonSets {
    type Object = DaemonSet;

    fn defaults(object: &mut DaemonSet) {
        crate::defaults::daemon_set(object);
    }

    fn prepare_create(object: &mut DaemonSet) {
        object.status = Some(DaemonSetStatus::default());
    }

    fn validate(object: &DaemonSet, old: Option<&DaemonSet>) -> ErrorList {
        validation::daemon_set(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    plural: "daemonsets",
    singular: "daemonset",
    short_names: &["ds"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<DaemonSets>::NEW,
};
