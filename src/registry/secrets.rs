//! Secrets: like ConfigMaps, with a type (Opaque by default) that selects what keys it needs.

use k8s_openapi::api::core::v1::Secret;

use super::{Kind, Resource, Typed};
use crate::validation::{self, ErrorList};

pub struct Secrets;

impl Kind for Secrets {
    type Object = Secret;

    fn defaults(object: &mut Secret) {
        crate::defaults::secret(object);
    }

    fn validate(object: &Secret, old: Option<&Secret>) -> ErrorList {
        validation::secret(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "Secret",
    plural: "secrets",
    singular: "secret",
    short_names: &[],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[("type", "")],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Secrets>::NEW,
};
