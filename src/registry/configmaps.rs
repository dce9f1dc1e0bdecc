//! ConfigMaps: configuration data for pods, keys checked, nothing defaulted.

use k8s_openapi::api::core::v1::ConfigMap;

use super::{Kind, Resource, Typed};
use crate::validation::{self, ErrorList};

pub struct ConfigMaps;

impl Kind for ConfigMaps {
    type Object = ConfigMap;

    fn validate(object: &ConfigMap, old: Option<&ConfigMap>) -> ErrorList {
        validation::config_map(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    singular: "configmap",
    short_names: &["cm"],
    categories: &[],
    namespaced: true,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<ConfigMaps>::NEW,
};
