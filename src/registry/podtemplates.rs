//! PodTemplates: stored pod templates, defaulted as a pod's spec is.

use k8s_openapi::api::core::v1::PodTemplate;

use super::strategy::kind;
use super::{Resource, Typed};
use crate::{defaults, validation};

kind!(
    PodTemplates: PodTemplate,
    validate: validation::pod_template,
    defaults: defaults::pod_template,
);

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "PodTemplate",
    plural: "podtemplates",
    singular: "podtemplate",
    short_names: &[],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<PodTemplates>::NEW,
};
