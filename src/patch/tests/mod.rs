//! Tests of the patch engines through their public functions, with literal JSON.

mod apply;
mod custom;
mod json_and_merge;
mod strategic;
mod track_update;

use serde_json::{Value, json};

use super::PatchError;

/// Server-side apply of a built-in kind, whose semantics the object's kind gives.
fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, PatchError> {
    super::apply(live, config, manager, force, now, None)
}

/// An ordinary write's bookkeeping for a built-in kind.
fn track_update(old: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
    super::track_update(old, new, manager, now, None);
}

/// When the first write happens.
const NOW: &str = "2025-01-01T00:00:00Z";
/// When a later write happens.
const LATER: &str = "2025-01-01T00:05:00Z";

/// A Deployment as a user writes it.
fn web(replicas: u32, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]}
            }
        }
    })
}

/// The fields of [`web`] an applier owns.
fn web_applied_fields() -> Value {
    json!({
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                }}}
            }
        }
    })
}

/// The fields of [`web`] the manager creating it owns: maps and lists it brought into
/// existence are owned themselves (`.`).
fn web_created_fields() -> Value {
    json!({
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": {".": {}, "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                }}}
            }
        }
    })
}

fn entry(manager: &str, operation: &str, time: &str, fields: Value) -> Value {
    json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": "apps/v1",
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields
    })
}

fn managed_fields(object: &Value) -> &Value {
    &object["metadata"]["managedFields"]
}
