//! CustomResourceDefinitions (apiextensions.k8s.io/v1): stored like any kind, and read by the
//! [`crate::crd`] catalog, which serves the resources they define.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use serde_json::Value;

use super::{Kind, Resource, Subresource, Typed};
use crate::apiserver::meta;
use crate::validation::{ErrorList, FieldError, Path};
use crate::{crd, defaults, validation};

pub struct CustomResourceDefinitions;

impl Kind for CustomResourceDefinitions {
    type Object = CustomResourceDefinition;

    const HAS_FLOATS: bool = true;

    fn defaults(crd: &mut CustomResourceDefinition) {
        defaults::custom_resource_definition(crd);
    }

    fn prepare_create(crd: &mut CustomResourceDefinition) {
        defaults::prepare_custom_resource_definition(crd);
    }

    fn prepare_update(crd: &mut CustomResourceDefinition) {
        defaults::prepare_custom_resource_definition_update(crd);
    }

    fn validate(
        crd: &CustomResourceDefinition,
        old: Option<&CustomResourceDefinition>,
    ) -> ErrorList {
        validate(crd, old)
    }

    /// A deleted CRD stays until the catalog's controller has removed its objects, as
    /// upstream's CRD storage adds its cleanup finalizer on the first delete.
    fn begin_deletion(crd: &mut Value, _grace_period: Option<i64>) -> bool {
        if !meta::is_deleting(crd) {
            meta::add_finalizer(crd, crd::CLEANUP_FINALIZER);
        }
        false
    }
}

pub static RESOURCE: Resource = Resource {
    group: "apiextensions.k8s.io",
    version: "v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    singular: "customresourcedefinition",
    short_names: &["crd", "crds"],
    categories: &["api-extensions"],
    namespaced: false,
    subresources: &[Subresource::Status],
    field_labels: &[],
    generation: true,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<CustomResourceDefinitions>::NEW,
};

/// Upstream's CRD validation, then what only the catalog's own parts can tell: that every
/// `x-kubernetes-validations` rule compiles and every printer column's JSONPath parses.
fn validate(crd: &CustomResourceDefinition, old: Option<&CustomResourceDefinition>) -> ErrorList {
    let mut errors = validation::custom_resource_definition(crd, old);
    let versions = Path::new("spec").child("versions");
    for (i, version) in crd.spec.versions.iter().enumerate() {
        let at = versions.index(i);
        if let Some(schema) = version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            && let Err(compile) =
                crd::Rules::compile(schema, &at.child("schema").child("openAPIV3Schema"))
        {
            errors.extend(compile);
        }
        for (j, column) in version
            .additional_printer_columns
            .iter()
            .flatten()
            .enumerate()
        {
            if let Err(message) = crd::check_json_path(&column.json_path) {
                let path = at
                    .child("additionalPrinterColumns")
                    .index(j)
                    .child("jsonPath");
                errors.push(FieldError::invalid(
                    &path,
                    column.json_path.as_str(),
                    message,
                ));
            }
        }
    }
    errors
}
