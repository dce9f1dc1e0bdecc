//! Server-side apply: ownership, pruning, conflicts and managedFields.

use serde_json::{Value, json};

use super::super::{Conflict, PatchError};
use super::{
    LATER, NOW, apply, entry, managed_fields, track_update, web, web_applied_fields,
    web_created_fields,
};

fn created_by_apply(config: &Value) -> Value {
    apply(None, config, "kubectl", false, NOW).expect("create by apply")
}

/// `web` as `kubectl create` or client-side apply leaves it: owned by an updater.
fn created_by_update(manager: &str, mut object: Value) -> Value {
    track_update(None, &mut object, manager, NOW);
    object
}

#[test]
fn apply_creates_the_object_and_records_its_fields() {
    let config = web(2, "nginx:1.24");
    let created = created_by_apply(&config);
    let mut expected = config.clone();
    expected["metadata"]["managedFields"] =
        json!([entry("kubectl", "Apply", NOW, web_applied_fields())]);
    assert_eq!(created, expected);
}

#[test]
fn apply_records_set_items_by_value() {
    let config = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "finalizers": ["example.com/keep"]},
        "data": {"mode": "fast"}
    });
    let created = apply(None, &config, "operator", false, NOW).expect("create by apply");
    assert_eq!(
        managed_fields(&created),
        &json!([{
            "manager": "operator",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": NOW,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:mode": {}}, "f:metadata": {"f:finalizers": {"v:\"example.com/keep\"": {}}}}
        }])
    );
}

#[test]
fn reapplying_the_same_configuration_changes_nothing() {
    let config = web(2, "nginx:1.24");
    let created = created_by_apply(&config);
    let reapplied = apply(Some(&created), &config, "kubectl", false, LATER).expect("re-apply");
    assert_eq!(reapplied, created);
}

#[test]
fn reapplying_a_configuration_with_nulls_changes_nothing() {
    let config = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"app": "web"}},
        "data": null,
    });
    let created = created_by_apply(&config);
    assert_eq!(created.get("data"), None);
    let reapplied = apply(Some(&created), &config, "kubectl", false, LATER).expect("re-apply");
    assert_eq!(reapplied, created, "the entry keeps its time");
}

#[test]
fn applying_a_change_updates_the_object_and_the_time() {
    let created = created_by_apply(&web(2, "nginx:1.24"));
    let updated = apply(
        Some(&created),
        &web(3, "nginx:1.25"),
        "kubectl",
        false,
        LATER,
    )
    .expect("apply");
    assert_eq!(updated["spec"]["replicas"], 3);
    assert_eq!(
        updated["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    assert_eq!(
        managed_fields(&updated),
        &json!([entry("kubectl", "Apply", LATER, web_applied_fields())])
    );
}

#[test]
fn dropping_a_field_from_the_configuration_removes_it() {
    let mut with_tier = web(2, "nginx:1.24");
    with_tier["metadata"]["labels"]["tier"] = json!("front");
    with_tier["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "log", "image": "fluent-bit"}));
    let created = created_by_apply(&with_tier);

    let updated = apply(
        Some(&created),
        &web(2, "nginx:1.24"),
        "kubectl",
        false,
        LATER,
    )
    .expect("apply");
    let mut expected = web(2, "nginx:1.24");
    expected["metadata"]["managedFields"] =
        json!([entry("kubectl", "Apply", LATER, web_applied_fields())]);
    assert_eq!(updated, expected);
}

#[test]
fn a_dropped_field_another_manager_also_owns_stays() {
    let created = created_by_apply(&web(3, "nginx:1.24"));
    let scaler = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    let shared = apply(Some(&created), &scaler, "autoscaler", false, LATER)
        .expect("same value, no conflict");
    assert_eq!(
        shared["spec"], created["spec"],
        "agreeing on a value changes nothing"
    );

    let mut without_replicas = web(3, "nginx:1.24");
    without_replicas["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("replicas");
    let updated = apply(Some(&shared), &without_replicas, "kubectl", false, LATER).expect("apply");
    assert_eq!(updated["spec"]["replicas"], 3);
    let entries = managed_fields(&updated).as_array().expect("entries");
    assert_eq!(entries[0]["manager"], "autoscaler");
    assert_eq!(
        entries[0]["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
    assert_eq!(entries[1]["manager"], "kubectl");
    assert_eq!(entries[1]["fieldsV1"]["f:spec"].get("f:replicas"), None);
}

#[test]
fn merged_list_items_follow_the_configuration_and_keep_others_in_place() {
    let containers = |names: &[&str]| -> Value {
        names
            .iter()
            .map(|name| json!({"name": name, "image": name}))
            .collect()
    };
    let mut config = web(2, "unused");
    config["spec"]["template"]["spec"]["containers"] = containers(&["a", "b"]);
    let created = created_by_apply(&config);

    let mut injected = created.clone();
    injected["spec"]["template"]["spec"]["containers"] = containers(&["a", "proxy", "b"]);
    track_update(Some(&created), &mut injected, "injector", NOW);

    config["spec"]["template"]["spec"]["containers"] = containers(&["b", "a"]);
    let reordered = apply(Some(&injected), &config, "kubectl", false, LATER).expect("apply");
    assert_eq!(
        reordered["spec"]["template"]["spec"]["containers"],
        containers(&["proxy", "b", "a"])
    );
}

#[test]
fn changing_a_field_an_updater_owns_is_a_conflict() {
    let created = created_by_update("kubectl-client-side-apply", web(2, "nginx:1.24"));
    let error = apply(
        Some(&created),
        &web(3, "nginx:1.24"),
        "deployer",
        false,
        LATER,
    )
    .expect_err("conflict");
    assert_eq!(
        error.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    assert_eq!(error.status_code(), 409);
    let PatchError::Conflict(conflicts) = error else {
        panic!("expected a conflict")
    };
    assert_eq!(
        conflicts,
        vec![Conflict {
            manager: "\"kubectl-client-side-apply\" using apps/v1".to_owned(),
            field: ".spec.replicas".to_owned()
        }]
    );
}

#[test]
fn several_conflicts_are_listed_by_manager() {
    let created = created_by_update("kubectl-client-side-apply", web(2, "nginx:1.24"));
    let error = apply(
        Some(&created),
        &web(3, "nginx:1.25"),
        "deployer",
        false,
        LATER,
    )
    .expect_err("conflicts");
    assert_eq!(
        error.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n\
         - .spec.replicas\n\
         - .spec.template.spec.containers[name=\"nginx\"].image"
    );
}

#[test]
fn force_takes_ownership_of_conflicting_fields() {
    let created = created_by_update("kubectl-client-side-apply", web(2, "nginx:1.24"));
    let forced = apply(
        Some(&created),
        &web(3, "nginx:1.24"),
        "deployer",
        true,
        LATER,
    )
    .expect("forced apply");
    assert_eq!(forced["spec"]["replicas"], 3);

    let mut updater_fields = web_created_fields();
    updater_fields["f:spec"]
        .as_object_mut()
        .expect("f:spec")
        .remove("f:replicas");
    assert_eq!(
        managed_fields(&forced),
        &json!([
            entry("deployer", "Apply", LATER, web_applied_fields()),
            entry("kubectl-client-side-apply", "Update", NOW, updater_fields)
        ])
    );
}

#[test]
fn kubectl_takes_over_fields_client_side_apply_last_applied() {
    let mut client_side = web(2, "nginx:1.24");
    let last_applied = format!("{client_side}\n");
    client_side["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": last_applied});
    let created = created_by_update("kubectl-client-side-apply", client_side);

    let config = web(2, "nginx:1.25");
    let upgraded =
        apply(Some(&created), &config, "kubectl", false, LATER).expect("no conflict for kubectl");
    assert_eq!(
        upgraded["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    assert_eq!(
        upgraded["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        json!(format!("{config}\n"))
    );

    let error = apply(Some(&created), &config, "deployer", false, LATER)
        .expect_err("other appliers still conflict");
    assert_eq!(error.status_code(), 409);
}

#[test]
fn the_first_apply_to_an_untracked_object_credits_its_fields_first() {
    let untracked = web(2, "nginx:1.24");
    let applied = apply(
        Some(&untracked),
        &web(2, "nginx:1.24"),
        "kubectl",
        false,
        LATER,
    )
    .expect("apply");
    assert_eq!(
        managed_fields(&applied),
        &json!([
            {
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "apps/v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": web_applied_fields()
            },
            entry("before-first-apply", "Update", LATER, web_created_fields())
        ])
    );

    let error = apply(
        Some(&untracked),
        &web(5, "nginx:1.24"),
        "kubectl",
        false,
        LATER,
    )
    .expect_err("conflict");
    assert_eq!(
        error.to_string(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn apply_refuses_invalid_configurations() {
    let created = created_by_apply(&web(2, "nginx:1.24"));

    let mut with_managed_fields = web(2, "nginx:1.24");
    with_managed_fields["metadata"]["managedFields"] = json!([]);
    let error = apply(
        Some(&created),
        &with_managed_fields,
        "kubectl",
        false,
        LATER,
    )
    .expect_err("managedFields set");
    assert_eq!(error.to_string(), "metadata.managedFields must be nil");
    assert_eq!(error.status_code(), 400);

    let mut other_version = web(2, "nginx:1.24");
    other_version["apiVersion"] = json!("apps/v1beta2");
    let error = apply(Some(&created), &other_version, "kubectl", false, LATER)
        .expect_err("version mismatch");
    assert_eq!(
        error.to_string(),
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta2, expected: apps/v1"
    );

    let mut duplicated = web(2, "nginx:1.24");
    let container = duplicated["spec"]["template"]["spec"]["containers"][0].clone();
    duplicated["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(container);
    let error =
        apply(Some(&created), &duplicated, "kubectl", false, LATER).expect_err("duplicate items");
    assert_eq!(
        error.to_string(),
        "failed to create typed patch object: .spec.template.spec.containers: duplicate entries for key [name=\"nginx\"]"
    );
    assert_eq!(error.status_code(), 500);
}
