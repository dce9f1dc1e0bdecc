//! Events: what happened to an object, listed by kubectl describe through `involvedObject.*`
//! field selectors.

use k8s_openapi::api::core::v1::Event;

use super::{Kind, Resource, Typed};
use crate::validation::{self, ErrorList};

pub struct Events;

impl Kind for Events {
    type Object = Event;

    fn validate(object: &Event, old: Option<&Event>) -> ErrorList {
        validation::event(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    singular: "event",
    short_names: &["ev"],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[
        ("involvedObject.kind", ""),
        ("involvedObject.namespace", ""),
        ("involvedObject.name", ""),
        ("involvedObject.uid", ""),
        ("involvedObject.apiVersion", ""),
        ("involvedObject.resourceVersion", ""),
        ("involvedObject.fieldPath", ""),
        ("reason", ""),
        ("reportingComponent", ""),
        ("source", ""),
        ("type", ""),
    ],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Events>::NEW,
};
