//! Deployments: created with an empty status; generation counts spec changes.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct Deployments;

impl Kind for Deployments {
    type Object = Deployment;

    fn defaults(object: &mut Deployment) {
        crate::defaults::deployment(object);
    }

    fn prepare_create(object: &mut Deployment) {
        object.status = Some(DeploymentStatus::default());
    }

    fn validate(object: &Deployment, old: Option<&Deployment>) -> ErrorList {
        validation::deployment(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    singular: "deployment",
    short_names: &["deploy"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status, Subresource::Scale],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<Deployments>::NEW,
};
