//! Endpoints: the ready addresses behind a Service, written by the endpoints controller.

use k8s_openapi::api::core::v1::Endpoints as EndpointsObject;

use super::{Kind, Resource, Typed};
use crate::validation::{self, ErrorList};

pub struct Endpoints;

impl Kind for Endpoints {
    type Object = EndpointsObject;

    fn defaults(object: &mut EndpointsObject) {
        crate::defaults::endpoints(object);
    }

    fn validate(object: &EndpointsObject, old: Option<&EndpointsObject>) -> ErrorList {
        validation::endpoints(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "Endpoints",
    plural: "endpoints",
    singular: "endpoints",
    short_names: &["ep"],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Endpoints>::NEW,
};
