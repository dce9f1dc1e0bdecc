//! The catalog: what the stored CustomResourceDefinitions make the server serve, derived
//! anew whenever one changes. It decides what upstream's naming controller decides (a CRD
//! whose plural or kind another, older CRD of its group already uses is not served) and
//! makes each served version's [`Resource`].
//!
//! Handlers hold `&'static Resource`s, built-in and custom alike, so a served version's
//! resource is made once per distinct definition and kept for the life of the process: an
//! unchanged CRD read again reuses it, and only a changed one adds a new, small record.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionNames, CustomResourceDefinitionVersion,
    JSONSchemaProps,
};

use super::cel::Rules;
use super::columns::PrinterColumns;
use super::strategy::CustomStrategy;
use crate::patch::Semantics;
use crate::registry::scale::ScalePaths;
use crate::registry::{Resource, Served, Subresource};
use crate::store::mirror::{Mirror, Objects};
use crate::validation::Path;

/// Where CRDs are stored.
const PREFIX: &str = "/apiextensions.k8s.io/customresourcedefinitions/";

/// The catalog of one server, kept in step with its store.
pub type Catalog = Mirror<Crds>;

/// A catalog that has read nothing yet; [`Mirror::run`] keeps it current.
pub fn catalog() -> Catalog {
    let made = Made::default();
    Mirror::new(PREFIX, move |objects| derive(objects, &made))
}

/// What the stored CRDs make the server serve at one moment.
#[derive(Debug, Default)]
pub struct Crds {
    pub served: Served,
    pub definitions: Vec<Definition>,
    /// The OpenAPI documents of the custom group-versions by path, made on first use: large
    /// schemas are encoded once per change of the CRDs, not once per request.
    pub openapi: OnceLock<BTreeMap<String, Vec<u8>>>,
}

/// What the catalog concluded about one CRD, for the task that keeps its status and removes
/// its objects when it is deleted.
#[derive(Debug)]
pub struct Definition {
    pub crd: CustomResourceDefinition,
    /// The names its resources are served under, or why none are.
    pub accepted: Result<CustomResourceDefinitionNames, String>,
    /// The resource of its storage version: where its objects are kept.
    pub storage: Option<&'static Resource>,
}

impl Definition {
    pub fn name(&self) -> &str {
        self.crd.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn deleting(&self) -> bool {
        self.crd.metadata.deletion_timestamp.is_some()
    }
}

/// The resources made so far, by the definition they were made from.
type Made = Mutex<HashMap<String, &'static Resource>>;

fn derive(objects: &Objects, made: &Made) -> Crds {
    let mut crds: Vec<CustomResourceDefinition> = objects
        .values()
        .filter_map(|value| serde_json::from_slice(value).ok())
        .collect();
    // The older CRD keeps a contested name, as upstream's naming controller decides.
    crds.sort_by(|a, b| {
        let created = |crd: &CustomResourceDefinition| {
            crd.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .unwrap_or_default()
        };
        created(a)
            .cmp(&created(b))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    let mut resources = Vec::new();
    let mut definitions: Vec<Definition> = Vec::new();
    for crd in crds {
        let accepted = accept(&crd, &definitions);
        let mut storage = None;
        if let Ok(names) = &accepted {
            for version in crd.spec.versions.iter() {
                let Some(resource) = resource(&crd, version, names, made) else {
                    continue;
                };
                if version.served {
                    resources.push(resource);
                }
                if version.storage {
                    storage = Some(resource);
                }
            }
        }
        definitions.push(Definition {
            crd,
            accepted,
            storage,
        });
    }
    Crds {
        served: Served::new(resources),
        definitions,
        openapi: OnceLock::new(),
    }
}

/// The CRD's names (defaulted when it was written), unless an earlier CRD of its group has taken its
/// plural, singular, kind, list kind or a short name.
fn accept(
    crd: &CustomResourceDefinition,
    earlier: &[Definition],
) -> Result<CustomResourceDefinitionNames, String> {
    let names = crd.spec.names.clone();
    for other in earlier {
        let Ok(taken) = &other.accepted else {
            continue;
        };
        if other.crd.spec.group != crd.spec.group {
            continue;
        }
        let resources = [
            taken.plural.as_str(),
            taken.singular.as_deref().unwrap_or_default(),
        ];
        for wanted in [
            names.plural.as_str(),
            names.singular.as_deref().unwrap_or_default(),
        ] {
            if !wanted.is_empty() && resources.contains(&wanted) {
                return Err(format!("{wanted:?} is already in use"));
            }
        }
        let kinds = [
            taken.kind.as_str(),
            taken.list_kind.as_deref().unwrap_or_default(),
        ];
        for wanted in [
            names.kind.as_str(),
            names.list_kind.as_deref().unwrap_or_default(),
        ] {
            if !wanted.is_empty() && kinds.contains(&wanted) {
                return Err(format!("{wanted:?} is already in use"));
            }
        }
        for short in names.short_names.iter().flatten() {
            if taken.short_names.iter().flatten().any(|s| s == short) {
                return Err(format!("{short:?} is already in use"));
            }
        }
    }
    Ok(names)
}

/// The resource of one version, made once per distinct definition. `None` when the version
/// cannot be served: its schema's rules do not compile (which validation refuses, so only a
/// CRD stored by an older server could have them).
fn resource(
    crd: &CustomResourceDefinition,
    version: &CustomResourceDefinitionVersion,
    names: &CustomResourceDefinitionNames,
    made: &Made,
) -> Option<&'static Resource> {
    let identity = serde_json::to_string(&(&crd.spec, &version.name, names)).ok()?;
    let mut made = made
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(resource) = made.get(&identity) {
        return Some(resource);
    }
    let resource: &'static Resource = Box::leak(Box::new(make(crd, version, names)?));
    made.insert(identity, resource);
    Some(resource)
}

fn make(
    crd: &CustomResourceDefinition,
    version: &CustomResourceDefinitionVersion,
    names: &CustomResourceDefinitionNames,
) -> Option<Resource> {
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.clone())
        .unwrap_or_else(|| JSONSchemaProps {
            type_: Some("object".into()),
            x_kubernetes_preserve_unknown_fields: Some(true),
            ..JSONSchemaProps::default()
        });
    let rules = match Rules::compile(&schema, &Path::new("schema")) {
        Ok(rules) => rules,
        Err(errors) => {
            tracing::warn!(crd = ?crd.metadata.name, version = version.name, ?errors, "not serving a version whose rules do not compile");
            return None;
        }
    };
    let columns = PrinterColumns::new(version.additional_printer_columns.as_deref().unwrap_or_default())
        .map_err(|error| {
            tracing::warn!(crd = ?crd.metadata.name, version = version.name, error, "not serving a version whose columns do not parse");
        })
        .ok()?;
    let namespaced = crd.spec.scope == "Namespaced";
    let mut subresources = Vec::new();
    if let Some(declared) = &version.subresources {
        if declared.status.is_some() {
            subresources.push(Subresource::Status);
        }
        if declared.scale.is_some() {
            subresources.push(Subresource::Scale);
        }
    }
    let reversed_group: Vec<&str> = crd.spec.group.split('.').rev().collect();
    let scale = version
        .subresources
        .as_ref()
        .and_then(|declared| declared.scale.as_ref())
        .map(ScalePaths::of_crd);
    let strategy = CustomStrategy {
        semantics: Semantics::of_structural(&schema),
        scale,
        schema,
        rules,
        columns,
        namespaced,
        status_subresource: subresources.contains(&Subresource::Status),
        schema_name: format!(
            "{}.{}.{}",
            reversed_group.join("."),
            version.name,
            names.kind
        ),
    };
    Some(Resource {
        group: leak(&crd.spec.group),
        version: leak(&version.name),
        kind: leak(&names.kind),
        plural: leak(&names.plural),
        singular: leak(names.singular.as_deref().unwrap_or_default()),
        short_names: leak_all(names.short_names.as_deref().unwrap_or_default()),
        categories: leak_all(names.categories.as_deref().unwrap_or_default()),
        namespaced,
        subresources: Box::leak(subresources.into_boxed_slice()),
        field_labels: &[],
        generation: true,
        returns_deleted_object: true,
        create_only: false,
        strategy: Box::leak(Box::new(strategy)),
    })
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

fn leak_all(texts: &[String]) -> &'static [&'static str] {
    Box::leak(
        texts
            .iter()
            .map(|t| leak(t))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(group: &str, plural: &str, kind: &str, created: &str) -> (String, bytes::Bytes) {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.{group}"), "creationTimestamp": created},
            "spec": {"group": group, "scope": "Namespaced",
                "names": {"plural": plural, "singular": plural.trim_end_matches('s'), "kind": kind,
                    "listKind": format!("{kind}List")},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}}]},
        });
        (
            format!("{PREFIX}{plural}.{group}"),
            serde_json::to_vec(&crd).unwrap().into(),
        )
    }

    #[test]
    fn the_older_crd_keeps_a_contested_name_and_only_accepted_ones_are_served() {
        let objects: Objects = [
            crd("example.com", "widgets", "Widget", "2026-01-02T00:00:00Z"),
            crd("example.com", "gadgets", "Widget", "2026-01-01T00:00:00Z"),
            crd("other.com", "widgets", "Widget", "2026-01-03T00:00:00Z"),
        ]
        .into_iter()
        .collect();
        let crds = derive(&objects, &Made::default());
        let accepted = |name: &str| {
            let definition = crds.definitions.iter().find(|d| d.name() == name).unwrap();
            definition.accepted.clone().map(|names| names.plural)
        };
        assert_eq!(accepted("gadgets.example.com"), Ok("gadgets".into()));
        assert_eq!(
            accepted("widgets.example.com"),
            Err("\"Widget\" is already in use".into())
        );
        assert_eq!(accepted("widgets.other.com"), Ok("widgets".into()));
        assert!(crds.served.find("example.com", "v1", "gadgets").is_some());
        assert!(crds.served.find("example.com", "v1", "widgets").is_none());
        assert!(crds.served.find("other.com", "v1", "widgets").is_some());
    }

    #[test]
    fn an_unchanged_definition_is_served_by_the_same_resource() {
        let objects: Objects = [crd(
            "example.com",
            "widgets",
            "Widget",
            "2026-01-01T00:00:00Z",
        )]
        .into_iter()
        .collect();
        let made = Made::default();
        let first = derive(&objects, &made);
        let again = derive(&objects, &made);
        let resource = |crds: &Crds| crds.served.find("example.com", "v1", "widgets").unwrap();
        assert!(std::ptr::eq(resource(&first), resource(&again)));
    }
}
