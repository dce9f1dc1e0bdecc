//! JSON merge patch and JSON patch.

use serde_json::json;

use super::super::{PatchError, json, merge};

fn config_map() -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "labels": {"app": "web", "tier": "front"}},
        "data": {"mode": "fast", "level": "3"}
    })
}

#[test]
fn merge_patch_deletes_nulls_and_merges_objects() {
    let patch = json!({"metadata": {"labels": {"tier": null, "release": "stable"}}, "data": {"level": "4"}});
    let merged = merge(&config_map(), &patch).expect("merge patch applies");
    assert_eq!(
        merged,
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "labels": {"app": "web", "release": "stable"}},
            "data": {"mode": "fast", "level": "4"}
        })
    );
}

#[test]
fn merge_patch_replaces_lists_and_drops_nulls_inside_new_objects() {
    let target = json!({"spec": {"args": ["a", "b"]}});
    let patch = json!({"spec": {"args": ["c"], "extra": {"keep": 1, "drop": null}}});
    assert_eq!(
        merge(&target, &patch).expect("merge patch applies"),
        json!({"spec": {"args": ["c"], "extra": {"keep": 1}}})
    );
}

#[test]
fn merge_patch_must_be_an_object() {
    let error =
        merge(&config_map(), &json!(["not", "an", "object"])).expect_err("arrays are refused");
    assert_eq!(error.to_string(), "Invalid JSON Patch");
    assert_eq!(error.status_code(), 400);
}

#[test]
fn json_patch_adds_removes_and_replaces() {
    let patch = json!([
        {"op": "add", "path": "/metadata/labels/release", "value": "stable"},
        {"op": "remove", "path": "/metadata/labels/tier"},
        {"op": "replace", "path": "/data/mode", "value": "slow"},
        {"op": "test", "path": "/data/level", "value": "3"}
    ]);
    assert_eq!(
        json(&config_map(), &patch).expect("JSON patch applies"),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "labels": {"app": "web", "release": "stable"}},
            "data": {"mode": "slow", "level": "3"}
        })
    );
}

#[test]
fn json_patch_failed_test_is_unprocessable() {
    let patch = json!([
        {"op": "replace", "path": "/data/mode", "value": "slow"},
        {"op": "test", "path": "/data/level", "value": "9"}
    ]);
    let error = json(&config_map(), &patch).expect_err("the test fails");
    assert_eq!(
        error.to_string(),
        "testing value /data/level failed: test failed"
    );
    assert_eq!(error.status_code(), 422);
}

#[test]
fn json_patch_on_missing_paths_is_unprocessable() {
    let replace = json!([{"op": "replace", "path": "/data/missing", "value": "x"}]);
    let error = json(&config_map(), &replace).expect_err("nothing to replace");
    assert_eq!(
        error.to_string(),
        "replace operation does not apply: doc is missing key: /data/missing: missing value"
    );

    let remove = json!([{"op": "remove", "path": "/spec/replicas"}]);
    let error = json(&config_map(), &remove).expect_err("nothing to remove");
    assert_eq!(
        error.to_string(),
        "remove operation does not apply: doc is missing path: \"/spec/replicas\": missing value"
    );

    let add = json!([{"op": "add", "path": "/spec/replicas", "value": 2}]);
    let error = json(&config_map(), &add).expect_err("no parent to add to");
    assert!(matches!(error, PatchError::Unprocessable(_)));
    assert_eq!(
        error.to_string(),
        "add operation does not apply: doc is missing path: \"/spec/replicas\": missing value"
    );
}

#[test]
fn json_patch_that_is_not_a_list_of_operations_is_malformed() {
    let error = json(&config_map(), &json!({"op": "add"})).expect_err("not a list");
    assert!(matches!(error, PatchError::Malformed(_)));
    let error =
        json(&config_map(), &json!([{"op": "frobnicate", "path": "/a"}])).expect_err("unknown op");
    assert_eq!(error.status_code(), 400);
}

#[test]
fn json_patch_has_upstreams_operation_limit() {
    let operations: Vec<_> = (0..10_001)
        .map(|_| json!({"op": "test", "path": "/kind", "value": "ConfigMap"}))
        .collect();
    let error = json(&config_map(), &json!(operations)).expect_err("too many operations");
    assert_eq!(
        error.to_string(),
        "The allowed maximum operations in a JSON patch is 10000, got 10001"
    );
    assert_eq!(error.status_code(), 413);
}
