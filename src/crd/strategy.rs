//! The strategy of one served version of a CRD: the generic handlers see custom resources
//! through the same [`Strategy`] as built-in kinds, with the CRD's structural schema standing
//! in for a Rust type. As upstream's customresource strategy: metadata is read as ObjectMeta,
//! unknown fields are pruned, defaults applied, and the object validated against the schema
//! and its CEL rules.

use jiff::Timestamp;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::{Schema, SchemaGenerator};
use serde::Deserialize as _;
use serde_json::{Value, json};

use super::cel::Rules;
use super::columns::PrinterColumns;
use super::schema;
use crate::patch::Semantics;
use crate::registry::scale::ScalePaths;
use crate::registry::{Admitted, Strategy, unknown_fields};
use crate::validation::{self, ErrorList, NameRule};

/// One version's rules, made once when its CRD is registered.
pub struct CustomStrategy {
    pub(super) schema: JSONSchemaProps,
    /// What the schema says of its lists and maps, for server-side apply and managedFields.
    pub(super) semantics: Semantics,
    /// Where the scale subresource, when the version has one, reads and writes.
    pub(super) scale: Option<ScalePaths>,
    pub(super) rules: Rules,
    pub(super) columns: PrinterColumns,
    pub(super) namespaced: bool,
    /// Whether the status is written through its own subresource.
    pub(super) status_subresource: bool,
    /// The OpenAPI definition's name, as upstream names it: the group reversed, then the
    /// version and kind (`io.cert-manager.v1.Certificate`).
    pub(super) schema_name: String,
}

impl Strategy for CustomStrategy {
    fn admit(&self, object: &Value, _create: bool) -> Result<Admitted, String> {
        let mut object = object.clone();
        let metadata = &object["metadata"];
        let meta = ObjectMeta::deserialize(metadata).map_err(|e| e.to_string())?;
        let known = serde_json::to_value(&meta).map_err(|e| e.to_string())?;
        let mut unknown: Vec<String> = unknown_fields(metadata, &known)
            .into_iter()
            .map(|path| format!("metadata.{path}"))
            .collect();
        object["metadata"] = known;
        unknown.extend(
            schema::prune(&mut object, &self.schema)
                .into_iter()
                .map(|path| path.trim_start_matches('.').to_owned()),
        );
        schema::apply_defaults(&mut object, &self.schema);
        Ok(Admitted {
            object,
            unknown_fields: unknown,
        })
    }

    fn validate(&self, object: &Value, old: Option<&Value>) -> ErrorList {
        let meta = |object: &Value| ObjectMeta::deserialize(&object["metadata"]).ok();
        let mut errors = match meta(object) {
            Some(new) => validation::object_meta(
                &new,
                self.namespaced,
                NameRule::DnsSubdomain,
                old.and_then(meta).as_ref(),
            ),
            None => ErrorList::new(),
        };
        errors.extend(schema::validate(object, &self.schema));
        if errors.is_empty() {
            errors.extend(self.rules.validate(object, old));
        }
        errors
    }

    fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        let mut definition = serde_json::to_value(&self.schema).unwrap_or_else(|_| json!({}));
        let properties = &mut definition["properties"];
        if !properties.is_object() {
            *properties = json!({});
        }
        properties["apiVersion"] = json!({"type": "string", "description": API_VERSION});
        properties["kind"] = json!({"type": "string", "description": KIND});
        properties["metadata"] = generator.subschema_for::<ObjectMeta>().to_value();
        let path = generator
            .settings()
            .definitions_path
            .trim_matches(['#', '/'])
            .to_owned();
        generator
            .definitions_mut()
            .insert(self.schema_name.clone(), definition);
        Schema::new_ref(format!("#/{path}/{}", self.schema_name))
    }

    fn schema_name(&self) -> String {
        self.schema_name.clone()
    }

    fn columns(&self) -> Option<Vec<Value>> {
        Some(self.columns.definitions())
    }

    fn cells(&self, object: &Value, now: Timestamp) -> Option<Vec<Value>> {
        Some(self.columns.cells(object, now))
    }

    fn custom_semantics(&self) -> Option<Semantics> {
        Some(self.semantics)
    }

    fn scale_paths(&self) -> Option<&ScalePaths> {
        self.scale.as_ref()
    }

    /// Everything but the metadata counts, as upstream's custom resource strategy counts it
    /// (the status, when it has its own subresource, is the stored one on a main write and is
    /// not counted on a status write).
    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        let counted = |object: &Value| {
            let mut counted = object.as_object().cloned().unwrap_or_default();
            counted.remove("metadata");
            if self.status_subresource {
                counted.remove("status");
            }
            counted
        };
        counted(new) != counted(old)
    }
}

const API_VERSION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Path;

    fn strategy(status_subresource: bool) -> CustomStrategy {
        let schema: JSONSchemaProps = serde_json::from_value(
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        )
        .unwrap();
        CustomStrategy {
            rules: Rules::compile(&schema, &Path::new("schema")).unwrap(),
            semantics: Semantics::of_structural(&schema),
            scale: None,
            schema,
            columns: PrinterColumns::new(&[]).unwrap(),
            namespaced: true,
            status_subresource,
            schema_name: "com.example.v1.Widget".into(),
        }
    }

    #[test]
    fn generation_counts_all_but_metadata_and_a_subresource_status() {
        let old = json!({"metadata": {"generation": 1}, "spec": {"a": 1}, "data": "x", "status": {"s": 1}});
        let relabelled = json!({"metadata": {"labels": {"l": "v"}}, "spec": {"a": 1}, "data": "x", "status": {"s": 1}});
        let data = json!({"metadata": {}, "spec": {"a": 1}, "data": "y", "status": {"s": 1}});
        let status = json!({"metadata": {}, "spec": {"a": 1}, "data": "x", "status": {"s": 2}});
        for subresource in [true, false] {
            let s = strategy(subresource);
            assert!(!s.generation_changed(&relabelled, &old));
            assert!(s.generation_changed(&data, &old));
            assert_eq!(s.generation_changed(&status, &old), !subresource);
        }
    }
}
