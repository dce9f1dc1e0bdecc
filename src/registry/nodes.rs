//! Nodes: registered by their node agents, cluster-scoped.

use k8s_openapi::api::core::v1::Node;

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct Nodes;

impl Kind for Nodes {
    type Object = Node;

    fn defaults(object: &mut Node) {
        crate::defaults::node(object);
    }

    fn validate(object: &Node, old: Option<&Node>) -> ErrorList {
        validation::node(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "Node",
    plural: "nodes",
    singular: "node",
    short_names: &["no"],
    categories: &[],
    namespaced: false,
    subresources: &[Subresource::Status],
    field_labels: &[("spec.unschedulable", "false")],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Nodes>::NEW,
};
