//! How kind-specific rules plug into generic handlers: a typed [`Kind`] per resource, seen by the
//! handlers through the object-safe [`Strategy`] that decodes JSON into the kind's
//! `k8s-openapi` type and back.

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::validation::ErrorList;

/// The rules of one kind, on its typed form.
pub trait Kind: Send + Sync + 'static {
    type Object: DeserializeOwned + Serialize + JsonSchema;

    /// Upstream's defaults (SetDefaults_*), applied on every write.
    fn defaults(_object: &mut Self::Object) {}

    /// Resets what a client may not choose at creation, such as the status.
    fn prepare_create(_object: &mut Self::Object) {}

    /// What an update sets whatever the client sent (upstream's PrepareForUpdate beyond
    /// keeping the status, which the handlers do for every kind).
    fn prepare_update(_object: &mut Self::Object) {}

    /// Upstream's validation; `old` is the stored object on updates.
    fn validate(object: &Self::Object, old: Option<&Self::Object>) -> ErrorList;

    /// What a delete of the kind must do before the object may go (upstream's
    /// `CheckGracefulDelete` and the registries' own delete steps): a pod on a node is given
    /// its grace period, a CRD its cleanup finalizer. Returns whether the object stays for a
    /// grace period; finalizers hold it by themselves.
    fn begin_deletion(_object: &mut Value, _grace_period: Option<i64>) -> bool {
        false
    }

    /// The object as this version shows it, from its stored form: itself, but for a version
    /// the kind is not stored in (autoscaling/v1 HorizontalPodAutoscalers, stored as v2).
    fn from_storage(stored: Value) -> Value {
        stored
    }

    /// The stored form of an object of this version; see [`Kind::from_storage`].
    fn to_storage(view: Value) -> Value {
        view
    }

    /// Whether the kind's objects hold cluster-wide addresses no other object of the kind may
    /// hold (a Service's ClusterIPs and NodePorts), which the API server assigns on every
    /// write, one write at a time, from the Services' allocator.
    const RESERVES_ADDRESSES: bool = false;

    /// Whether the typed form holds floats (a CRD schema's `maximum`, `minimum`,
    /// `multipleOf`), whose integral values are written back as Go writes them; the other
    /// kinds' writes skip the walk that looks for them.
    const HAS_FLOATS: bool = false;
}

/// Declares a [`Kind`] from upstream's defaults, creation rules and validation of one type.
macro_rules! kind {
    ($(#[$doc:meta])* $name:ident: $object:ty, validate: $validate:path
        $(, defaults: $defaults:path)? $(, prepare_create: $prepare:path)? $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::registry::Kind for $name {
            type Object = $object;

            $(fn defaults(object: &mut $object) {
                $defaults(object);
            })?

            $(fn prepare_create(object: &mut $object) {
                $prepare(object);
            })?

            fn validate(object: &$object, old: Option<&$object>) -> $crate::validation::ErrorList {
                $validate(object, old)
            }
        }
    };
}
pub(crate) use kind;

/// An object that went through its kind's type.
#[derive(Debug)]
pub struct Admitted {
    pub object: Value,
    /// Paths of fields the kind does not have (`spec.foo`), dropped from `object`.
    pub unknown_fields: Vec<String>,
}

/// The kind-specific steps of a write, on JSON.
pub trait Strategy: Send + Sync {
    /// Decodes `object` into the kind's type, applies defaults and the creation or update
    /// rules, and encodes it back. Fails with the decoder's message on a type mismatch.
    fn admit(&self, object: &Value, create: bool) -> Result<Admitted, String>;

    /// Validates an admitted object against upstream's rules.
    fn validate(&self, object: &Value, old: Option<&Value>) -> ErrorList;

    /// The kind's OpenAPI schema, its nested types added to `generator`'s definitions.
    fn schema(&self, generator: &mut SchemaGenerator) -> Schema;

    /// The kind's name among the OpenAPI definitions (`io.k8s.api.apps.v1.Deployment`).
    fn schema_name(&self) -> String;

    /// See [`Kind::begin_deletion`].
    fn begin_deletion(&self, _object: &mut Value, _grace_period: Option<i64>) -> bool {
        false
    }

    /// See [`Kind::from_storage`].
    fn from_storage(&self, stored: Value) -> Value {
        stored
    }

    /// See [`Kind::to_storage`].
    fn to_storage(&self, view: Value) -> Value {
        view
    }

    /// The Table columns of a kind that brings its own (custom resources' printer columns);
    /// the built-in kinds' are in [`crate::printers`].
    fn columns(&self) -> Option<Vec<Value>> {
        None
    }

    /// One object's Table cells, for a kind that brings its own columns.
    fn cells(&self, _object: &Value, _now: jiff::Timestamp) -> Option<Vec<Value>> {
        None
    }

    /// Whether an update changed what `metadata.generation` counts: the spec, as upstream's
    /// built-in strategies count it.
    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        new["spec"] != old["spec"]
    }

    /// The list and map semantics of a custom resource's fields, from its CRD's schema;
    /// `None` for built-in kinds, whose semantics the patch engines know by kind. Strategic
    /// merge patches are refused where they are `Some`, as upstream refuses them for custom
    /// resources, whose lists have no merge keys a client could know.
    fn custom_semantics(&self) -> Option<crate::patch::Semantics> {
        None
    }

    /// See [`Kind::RESERVES_ADDRESSES`].
    fn reserves_addresses(&self) -> bool {
        false
    }

    /// Where a custom resource keeps what its `scale` subresource shows; `None` for built-in
    /// kinds, which keep it where [`super::scale`] says.
    fn scale_paths(&self) -> Option<&super::scale::ScalePaths> {
        None
    }
}

/// The [`Strategy`] of a [`Kind`].
pub struct Typed<K>(PhantomData<fn() -> K>);

impl<K> Typed<K> {
    pub const NEW: Typed<K> = Typed(PhantomData);
}

impl<K: Kind> Strategy for Typed<K> {
    fn admit(&self, object: &Value, create: bool) -> Result<Admitted, String> {
        let mut typed = K::Object::deserialize(object).map_err(|e| e.to_string())?;
        K::defaults(&mut typed);
        if create {
            K::prepare_create(&mut typed);
        } else {
            K::prepare_update(&mut typed);
        }
        let mut admitted = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
        if K::HAS_FLOATS {
            integral_floats_as_integers(&mut admitted);
        }
        let mut unknown = unknown_fields(object, &admitted);
        if !unknown.is_empty() {
            // Defaults and preparation may also drop a field they fold elsewhere (a Secret's
            // stringData) or reset; the input's unknown fields are those its plain decoding
            // lacks. Looked for only when needed, as most writes have none.
            let decoded =
                serde_json::to_value(K::Object::deserialize(object).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            unknown = unknown_fields(object, &decoded);
        }
        Ok(Admitted {
            unknown_fields: unknown,
            object: admitted,
        })
    }

    fn validate(&self, object: &Value, old: Option<&Value>) -> ErrorList {
        let Ok(typed) = K::Object::deserialize(object) else {
            return Vec::new();
        };
        let old = old.and_then(|old| K::Object::deserialize(old).ok());
        K::validate(&typed, old.as_ref())
    }

    fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<K::Object>()
    }

    fn schema_name(&self) -> String {
        K::Object::schema_name().into_owned()
    }

    fn begin_deletion(&self, object: &mut Value, grace_period: Option<i64>) -> bool {
        K::begin_deletion(object, grace_period)
    }

    fn from_storage(&self, stored: Value) -> Value {
        K::from_storage(stored)
    }

    fn to_storage(&self, view: Value) -> Value {
        K::to_storage(view)
    }

    fn reserves_addresses(&self) -> bool {
        K::RESERVES_ADDRESSES
    }
}

/// Writes every float with an integral value as the integer, as Go encodes a float64: the typed
/// fields that are floats (a CRD schema's `maximum`, say) come back as the client sent them,
/// `60000` rather than `60000.0`, and an apply comparing the two sees no change.
fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            // Go writes integral floats below 1e21 without a fraction; these an i64 holds.
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9.0e18
            {
                *number = serde_json::Number::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// The paths of the non-null fields of `input` that `known` (its decoded and encoded form)
/// lacks, as strict field validation names them: `spec.foo`, `spec.list[0].bar`.
pub fn unknown_fields(input: &Value, known: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_unknown(input, known, &mut String::new(), &mut out);
    out
}

use serde::Deserialize as _;

/// Walks `input` beside `known`, recording the paths of non-null input fields `known` lacks.
fn collect_unknown(input: &Value, known: &Value, path: &mut String, out: &mut Vec<String>) {
    match (input, known) {
        (Value::Object(input), Value::Object(known)) => {
            for (key, value) in input {
                if value.is_null() {
                    continue;
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match known.get(key) {
                    Some(known) => collect_unknown(value, known, path, out),
                    None => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        (Value::Array(input), Value::Array(known)) => {
            for (i, (value, known)) in input.iter().zip(known).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                collect_unknown(value, known, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_reported_by_path_and_nulls_are_not() {
        let input =
            json!({"spec": {"a": 1, "x": 2, "n": null, "list": [{"b": 1, "y": 3}]}, "z": {}});
        let known = json!({"spec": {"a": 1, "list": [{"b": 1}]}});
        let mut out = Vec::new();
        collect_unknown(&input, &known, &mut String::new(), &mut out);
        assert_eq!(out, ["spec.list[0].y", "spec.x", "z"]);
    }

    fn admitted(group: &str, plural: &str, object: Value) -> Admitted {
        let r = crate::registry::find(group, "v1", plural).unwrap();
        r.strategy.admit(&object, true).unwrap()
    }

    #[test]
    fn what_defaults_fold_away_is_not_unknown() {
        let secret = admitted(
            "",
            "secrets",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                   "stringData": {"a": "b"}, "bogus": 1}),
        );
        assert_eq!(secret.object["data"], json!({"a": "Yg=="}));
        assert_eq!(secret.unknown_fields, ["bogus"]);
    }

    #[test]
    fn integral_floats_come_back_as_integers() {
        let crd = admitted(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                   "metadata": {"name": "things.example.com"},
                   "spec": {"group": "example.com", "scope": "Namespaced",
                            "names": {"plural": "things", "kind": "Thing"},
                            "versions": [{"name": "v1", "served": true, "storage": true,
                                          "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                              "a": {"type": "integer", "maximum": 60000},
                                              "b": {"type": "number", "minimum": 0.5}}}}}]}}),
        );
        let properties =
            &crd.object["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
        assert_eq!(
            serde_json::to_string(&properties["a"]["maximum"]).unwrap(),
            "60000"
        );
        assert_eq!(
            serde_json::to_string(&properties["b"]["minimum"]).unwrap(),
            "0.5"
        );
        assert!(crd.unknown_fields.is_empty(), "{:?}", crd.unknown_fields);
    }
}
