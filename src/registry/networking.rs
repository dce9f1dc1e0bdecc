//! networking.k8s.io/v1: Ingresses (routed by whichever ingress controller the cluster runs),
//! IngressClasses and NetworkPolicies (stored and served; nothing enforces them on nodes).

use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    Ingresses: Ingress,
    validate: validation::ingress,
    prepare_create: empty_ingress_status,
);
kind!(IngressClasses: IngressClass, validate: validation::ingress_class);
kind!(
    NetworkPolicies: NetworkPolicy,
    validate: validation::network_policy,
    defaults: defaults::network_policy,
);

fn empty_ingress_status(ingress: &mut Ingress) {
    ingress.status = Some(Default::default());
}

const GROUP: &str = "networking.k8s.io";

pub static INGRESSES: Resource = Resource {
    group: GROUP,
    version: "v1",
    kind: "Ingress",
    plural: "ingresses",
    singular: "ingress",
    short_names: &["ing"],
    categories: &[],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Ingresses>::NEW,
};

pub static INGRESS_CLASSES: Resource = Resource {
    kind: "IngressClass",
    plural: "ingressclasses",
    singular: "ingressclass",
    short_names: &[],
    namespaced: false,
    subresources: &[],
    generation: false,
    strategy: &Typed::<IngressClasses>::NEW,
    ..INGRESSES
};

pub static NETWORK_POLICIES: Resource = Resource {
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    singular: "networkpolicy",
    short_names: &["netpol"],
    subresources: &[],
    strategy: &Typed::<NetworkPolicies>::NEW,
    ..INGRESSES
};
