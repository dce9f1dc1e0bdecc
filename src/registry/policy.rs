//! PodDisruptionBudgets (policy/v1): how many of a set of pods may be down at once, honoured by
//! evictions. Created with an empty status; generation counts spec changes.

use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::validation;

kind!(
    PodDisruptionBudgets: PodDisruptionBudget,
    validate: validation::pod_disruption_budget,
    prepare_create: empty_status,
);

fn empty_status(budget: &mut PodDisruptionBudget) {
    budget.status = Some(Default::default());
}

pub static RESOURCE: Resource = Resource {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    singular: "poddisruptionbudget",
    short_names: &["pdb"],
    categories: &[],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<PodDisruptionBudgets>::NEW,
};
