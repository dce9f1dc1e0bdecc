//! Ownership bookkeeping of ordinary writes.

use serde_json::{Value, json};

use super::{LATER, NOW, entry, managed_fields, track_update, web, web_created_fields};

fn created(manager: &str) -> Value {
    let mut object = web(2, "nginx:1.24");
    track_update(None, &mut object, manager, NOW);
    object
}

/// Writes `change` over `old` as `manager` would, returning the stored result.
fn write(old: &Value, manager: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut new = old.clone();
    change(&mut new);
    track_update(Some(old), &mut new, manager, LATER);
    new
}

#[test]
fn a_create_credits_every_field_to_its_manager() {
    let object = created("kubectl-create");
    assert_eq!(
        managed_fields(&object),
        &json!([entry("kubectl-create", "Update", NOW, web_created_fields())])
    );
}

#[test]
fn server_set_metadata_and_status_are_not_tracked() {
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "uid": "u-1", "resourceVersion": "7", "creationTimestamp": "2025-01-01T00:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "app"}]},
        "status": {"phase": "Pending"}
    });
    track_update(None, &mut pod, "kubelet", NOW);
    assert_eq!(
        managed_fields(&pod)[0]["fieldsV1"],
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
    );
}

#[test]
fn an_update_credits_the_changed_fields_and_takes_them_from_others() {
    let object = created("kubectl-create");
    let scaled = write(&object, "autoscaler", |new| {
        new["spec"]["replicas"] = json!(5);
        new["metadata"]["resourceVersion"] = json!("8");
        new["metadata"]["generation"] = json!(2);
    });
    let mut creator_fields = web_created_fields();
    creator_fields["f:spec"]
        .as_object_mut()
        .expect("f:spec")
        .remove("f:replicas");
    assert_eq!(
        managed_fields(&scaled),
        &json!([
            entry("kubectl-create", "Update", NOW, creator_fields),
            entry(
                "autoscaler",
                "Update",
                LATER,
                json!({"f:spec": {"f:replicas": {}}})
            )
        ])
    );
}

#[test]
fn a_manager_left_with_no_fields_loses_its_entry() {
    let object = created("kubectl-create");
    let labelled = write(&object, "labeler", |new| {
        new["metadata"]["labels"]["tier"] = json!("front")
    });
    assert_eq!(
        managed_fields(&labelled)[1]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
    );

    let relabelled = write(&labelled, "editor", |new| {
        new["metadata"]["labels"]["tier"] = json!("back")
    });
    let managers: Vec<&Value> = managed_fields(&relabelled)
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["manager"])
        .collect();
    assert_eq!(managers, vec!["kubectl-create", "editor"]);
}

#[test]
fn an_update_that_changes_nothing_keeps_the_entries() {
    let object = created("kubectl-create");
    let unchanged = write(&object, "kubectl-edit", |_| {});
    assert_eq!(unchanged, object);
}

#[test]
fn removing_a_field_takes_it_from_its_owner() {
    let object = created("kubectl-create");
    let trimmed = write(&object, "kubectl-edit", |new| {
        new["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("labels");
    });
    let entries = managed_fields(&trimmed).as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["fieldsV1"].get("f:metadata"), None);
}

#[test]
fn objects_without_managed_fields_stay_untracked() {
    let untracked = web(2, "nginx:1.24");
    let updated = write(&untracked, "kubectl-edit", |new| {
        new["spec"]["replicas"] = json!(3)
    });
    assert_eq!(updated["metadata"].get("managedFields"), None);
}

#[test]
fn a_request_can_reset_managed_fields() {
    let object = created("kubectl-create");
    let reset = write(&object, "kubectl-edit", |new| {
        new["metadata"]["managedFields"] = json!([{}])
    });
    assert_eq!(reset["metadata"].get("managedFields"), None);
}

#[test]
fn an_empty_list_keeps_the_stored_managed_fields() {
    let object = created("kubectl-create");
    let kept = write(&object, "kubectl-edit", |new| {
        new["metadata"]["managedFields"] = json!([]);
        new["spec"]["replicas"] = json!(5);
    });
    let managers: Vec<&Value> = managed_fields(&kept)
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["manager"])
        .collect();
    assert_eq!(managers, [&json!("kubectl-create"), &json!("kubectl-edit")]);
}

#[test]
fn a_request_can_rewrite_managed_fields() {
    let object = created("kubectl-create");
    let handed_over = write(&object, "kubectl-edit", |new| {
        new["metadata"]["managedFields"][0]["manager"] = json!("gitops")
    });
    assert_eq!(
        managed_fields(&handed_over),
        &json!([entry("gitops", "Update", NOW, web_created_fields())])
    );
}
