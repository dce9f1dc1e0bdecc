//! ControllerRevisions: the immutable snapshots of a StatefulSet's or DaemonSet's template
//! that their controllers roll between.

use k8s_openapi::api::apps::v1::ControllerRevision;

use super::{Kind, Resource, Typed};
use crate::validation::{self, ErrorList};

pub struct ControllerRevisions;

impl Kind for ControllerRevisions {
    type Object = ControllerRevision;

    fn validate(object: &ControllerRevision, old: Option<&ControllerRevision>) -> ErrorList {
        validation::controller_revision(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "apps",
    version: "v1",
    kind: "ControllerRevision",
    plural: "controllerrevisions",
    singular: "controllerrevision",
    short_names: &[],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<ControllerRevisions>::NEW,
};
