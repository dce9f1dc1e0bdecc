//! APIServices (apiregistration.k8s.io/v1): which server answers each API group-version. Those
//! without a service are served here ("local"); the others are proxied to their service by
//! [`crate::apiserver`]'s aggregation, which also keeps their status. Created with an empty
//! status, as upstream's strategy resets it.

use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    ApiServices: APIService,
    validate: validation::api_service,
    defaults: defaults::api_service,
    prepare_create: empty_status,
);

fn empty_status(service: &mut APIService) {
    service.status = Some(Default::default());
}

pub static RESOURCE: Resource = Resource {
    group: "apiregistration.k8s.io",
    version: "v1",
    kind: "APIService",
    plural: "apiservices",
    singular: "apiservice",
    short_names: &[],
    categories: &["api-extensions"],
    namespaced: false,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<ApiServices>::NEW,
};
