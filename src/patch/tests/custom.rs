//! Server-side apply of a custom resource, with the list and map semantics its CRD's
//! structural schema declares.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::{Value, json};

use super::super::{PatchError, Semantics, apply};
use super::{LATER, NOW, managed_fields};

fn semantics() -> Semantics {
    let schema: JSONSchemaProps = serde_json::from_value(json!({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name", "protocol"],
                    "items": {"type": "object", "properties": {
                        "name": {"type": "string"},
                        "protocol": {"type": "string", "default": "TCP"},
                        "port": {"type": "integer"},
                    }},
                },
                "hosts": {"type": "array", "x-kubernetes-list-type": "set",
                          "items": {"type": "string"}},
                "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                             "additionalProperties": {"type": "string"}},
                "args": {"type": "array", "items": {"type": "string"}},
            }},
        },
    }))
    .unwrap();
    Semantics::of_structural(&schema)
}

fn gateway(spec: Value) -> Value {
    json!({
        "apiVersion": "example.com/v1", "kind": "Gateway",
        "metadata": {"name": "g", "namespace": "default"},
        "spec": spec,
    })
}

fn apply_as(
    live: Option<&Value>,
    manager: &str,
    spec: Value,
    custom: Option<Semantics>,
) -> Result<Value, PatchError> {
    let now = if live.is_some() { LATER } else { NOW };
    apply(live, &gateway(spec), manager, false, now, custom)
}

#[test]
fn map_and_set_lists_are_shared_between_appliers() {
    let custom = Some(semantics());
    let first = apply_as(
        None,
        "alpha",
        json!({"ports": [{"name": "a", "port": 1}], "hosts": ["a.example"], "args": ["x"]}),
        custom,
    )
    .unwrap();
    let both = apply_as(
        Some(&first),
        "beta",
        json!({"ports": [{"name": "b", "port": 2}], "hosts": ["b.example"]}),
        custom,
    )
    .expect("items of a map or set list belong to whoever applied them");
    assert_eq!(
        both["spec"]["ports"],
        json!([{"name": "a", "port": 1}, {"name": "b", "port": 2}])
    );
    assert_eq!(both["spec"]["hosts"], json!(["a.example", "b.example"]));
    let beta = &managed_fields(&both)[1];
    assert_eq!(beta["manager"], "beta");
    assert_eq!(
        beta["fieldsV1"]["f:spec"],
        json!({
            "f:hosts": {"v:\"b.example\"": {}},
            "f:ports": {"k:{\"name\":\"b\",\"protocol\":\"TCP\"}": {
                ".": {}, "f:name": {}, "f:port": {},
            }},
        })
    );

    // Dropping its item later removes only that item.
    let alpha_again = apply_as(
        Some(&both),
        "alpha",
        json!({"ports": [], "hosts": ["a.example"], "args": ["x"]}),
        custom,
    )
    .unwrap();
    assert_eq!(
        alpha_again["spec"]["ports"],
        json!([{"name": "b", "port": 2}])
    );
}

#[test]
fn atomic_lists_and_maps_conflict_as_wholes() {
    let custom = Some(semantics());
    let first = apply_as(
        None,
        "alpha",
        json!({"args": ["x"], "selector": {"app": "a"}}),
        custom,
    )
    .unwrap();
    for spec in [json!({"args": ["y"]}), json!({"selector": {"tier": "b"}})] {
        let error = apply_as(Some(&first), "beta", spec.clone(), custom)
            .expect_err("an atomic value another applier owns");
        assert!(
            matches!(error, PatchError::Conflict(_)),
            "{spec}: {error:?}"
        );
    }
}

#[test]
fn without_the_schema_every_list_is_atomic() {
    let first = apply_as(None, "alpha", json!({"ports": [{"name": "a"}]}), None).unwrap();
    let error = apply_as(
        Some(&first),
        "beta",
        json!({"ports": [{"name": "b"}]}),
        None,
    )
    .expect_err("an atomic list another applier owns");
    assert!(matches!(error, PatchError::Conflict(_)), "{error:?}");
}
