//! EndpointSlices: the newer, sharded form of Endpoints.

use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::{Kind, Resource, Typed};
use crate::validation::{self, ErrorList};

pub struct EndpointSlices;

impl Kind for EndpointSlices {
    type Object = EndpointSlice;

    fn defaults(object: &mut EndpointSlice) {
        crate::defaults::endpoint_slice(object);
    }

    fn validate(object: &EndpointSlice, old: Option<&EndpointSlice>) -> ErrorList {
        validation::endpoint_slice(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "discovery.k8s.io",
    version: "v1",
    kind: "EndpointSlice",
    plural: "endpointslices",
    singular: "endpointslice",
    short_names: &[],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<EndpointSlices>::NEW,
};
