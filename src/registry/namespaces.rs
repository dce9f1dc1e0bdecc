//! Namespaces: created Active with the `kubernetes` finalizer, which the namespace controller
//! removes once everything inside is gone.

use k8s_openapi::api::core::v1::{Namespace, NamespaceStatus};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct Namespaces;

impl Kind for Namespaces {
    type Object = Namespace;

    fn defaults(object: &mut Namespace) {
        crate::defaults::namespace(object);
    }

    fn prepare_create(object: &mut Namespace) {
        crate::defaults::namespace_finalizer(object);
        object.status = Some(NamespaceStatus {
            phase: Some("Active".into()),
            ..NamespaceStatus::default()
        });
    }

    fn validate(object: &Namespace, old: Option<&Namespace>) -> ErrorList {
        validation::namespace(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    singular: "namespace",
    short_names: &["ns"],
    categories: &[],
    namespaced: false,
    subresources: &[Subresource::Status, Subresource::Finalize],
    field_labels: &[("status.phase", "")],
    generation: false,
    returns_deleted_object: true,
    create_only: false,
    strategy: &Typed::<Namespaces>::NEW,
};

/// The namespaces every cluster has from its first start.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];
