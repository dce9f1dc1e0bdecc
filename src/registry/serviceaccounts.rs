//! ServiceAccounts: the identities pods run as.

use k8s_openapi::api::core::v1::ServiceAccount;

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorList};

pub struct ServiceAccounts;

impl Kind for ServiceAccounts {
    type Object = ServiceAccount;

    fn validate(object: &ServiceAccount, old: Option<&ServiceAccount>) -> ErrorList {
        validation::service_account(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    singular: "serviceaccount",
    short_names: &["sa"],
    categories: &[],
    namespaced: true,
    subresources: &[Subresource::Token],
    field_labels: &[],
    generation: false,
    returns_deleted_object: true,
    create_only: false,
    strategy: &Typed::<ServiceAccounts>::NEW,
};
