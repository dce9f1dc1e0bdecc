//! Leases: node heartbeats (kube-node-lease) and leader election.

use k8s_openapi::api::coordination::v1::Lease;

use super::{Kind, Resource, Typed};
use crate::validation::{self, ErrorList};

pub struct Leases;

impl Kind for Leases {
    type Object = Lease;

    fn validate(object: &Lease, old: Option<&Lease>) -> ErrorList {
        validation::lease(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    singular: "lease",
    short_names: &[],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Leases>::NEW,
};
