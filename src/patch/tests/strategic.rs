//! Strategic merge patch: list strategies, directives, and the patches kubectl sends.

use serde_json::{Value, json};

use super::super::{PatchError, strategic};

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers, "restartPolicy": "Always"}
            }
        }
    })
}

fn patch_deployment(target: &Value, patch: Value) -> Result<Value, PatchError> {
    strategic(target, &patch, "apps/v1", "Deployment")
}

fn patch_pod(target: &Value, patch: Value) -> Result<Value, PatchError> {
    strategic(target, &patch, "v1", "Pod")
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

fn containers(object: &Value) -> &Value {
    &object["spec"]["template"]["spec"]["containers"]
}

#[test]
fn set_image_on_a_multi_container_deployment_keeps_the_other_container_and_the_order() {
    let target = deployment(json!([
        {"name": "sidecar", "image": "busybox", "args": ["sleep", "infinity"]},
        {"name": "nginx", "image": "nginx:1.24", "ports": [{"containerPort": 80}]}
    ]));
    let patched = patch_deployment(
        &target,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}}),
    )
    .expect("set image applies");
    assert_eq!(
        containers(&patched),
        &json!([
            {"name": "sidecar", "image": "busybox", "args": ["sleep", "infinity"]},
            {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}
        ])
    );
    assert_eq!(patched["spec"]["replicas"], 2);
}

#[test]
fn rollout_restart_adds_the_template_annotation() {
    let target = deployment(json!([{"name": "nginx", "image": "nginx:1.24"}]));
    let patched = patch_deployment(
        &target,
        json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"
        }}}}}),
    )
    .expect("restart applies");
    assert_eq!(
        patched["spec"]["template"]["metadata"],
        json!({"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}})
    );
}

#[test]
fn client_side_apply_three_way_patch_updates_appends_and_removes() {
    let target = deployment(
        json!([{"name": "nginx", "image": "nginx:1.24", "imagePullPolicy": "IfNotPresent"}]),
    );
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"}, "labels": {"app": null}},
        "spec": {
            "replicas": null,
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "nginx"}, {"name": "log"}],
                "containers": [{"image": "nginx:1.25", "name": "nginx"}, {"image": "fluent-bit", "name": "log"}]
            }}
        }
    });
    let patched = patch_deployment(&target, patch).expect("three-way patch applies");
    assert_eq!(
        patched,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "labels": {},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"}
            },
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "nginx", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent"},
                            {"name": "log", "image": "fluent-bit"}
                        ],
                        "restartPolicy": "Always"
                    }
                }
            }
        })
    );
}

#[test]
fn set_element_order_appends_new_elements_after_the_existing_ones() {
    let target =
        pod(json!({"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}));
    let patched = patch_pod(
        &target,
        json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
            "containers": [{"name": "c", "image": "c"}]
        }}),
    )
    .expect("append applies");
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}, {"name": "c", "image": "c"}])
    );
}

#[test]
fn set_element_order_reorders_existing_elements() {
    let target =
        pod(json!({"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}));
    let patched = patch_pod(
        &target,
        json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}),
    )
    .expect("reorder applies");
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "b", "image": "b"}, {"name": "a", "image": "a"}])
    );
}

#[test]
fn set_element_order_keeps_server_only_elements_in_place() {
    let target = pod(json!({"containers": [
        {"name": "a", "image": "a"}, {"name": "injected", "image": "proxy"}, {"name": "b", "image": "b"}
    ]}));
    let patched = patch_pod(
        &target,
        json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "b2"}]
        }}),
    )
    .expect("patch applies");
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "a", "image": "a"}, {"name": "injected", "image": "proxy"}, {"name": "b", "image": "b2"}])
    );
}

#[test]
fn merging_by_key_without_an_order_puts_the_patch_order_first_as_upstream_does() {
    // Upstream's "preserve the order from the patch in a merging list 2".
    let target =
        pod(json!({"containers": [{"name": "1"}, {"name": "2", "value": "b"}, {"name": "3"}]}));
    let patched = patch_pod(
        &target,
        json!({"spec": {"containers": [{"name": "3", "value": "c"}, {"name": "1", "value": "a"}]}}),
    )
    .expect("patch applies");
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "2", "value": "b"}, {"name": "3", "value": "c"}, {"name": "1", "value": "a"}])
    );

    // An element new to the list goes ahead of the elements only the object has.
    let target = pod(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
    let patched = patch_pod(&target, json!({"spec": {"containers": [{"name": "c"}]}}))
        .expect("patch applies");
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "c"}, {"name": "a"}, {"name": "b"}])
    );
}

#[test]
fn env_vars_are_added_and_removed_by_name() {
    let target = pod(
        json!({"containers": [{"name": "app", "image": "app", "env": [
            {"name": "A", "value": "1"}, {"name": "B", "value": "2"}
        ]}]}),
    );
    // What `kubectl set env pod/p A- C=3` sends.
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "app"}], "containers": [{
        "$setElementOrder/env": [{"name": "B"}, {"name": "C"}],
        "env": [{"name": "C", "value": "3"}, {"$patch": "delete", "name": "A"}],
        "name": "app"
    }]}});
    let patched = patch_pod(&target, patch).expect("env patch applies");
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "app", "image": "app", "env": [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}]}])
    );
}

#[test]
fn ports_merge_by_container_port_and_mounts_by_mount_path() {
    let target = pod(json!({
        "containers": [{
            "name": "app",
            "ports": [{"containerPort": 80, "name": "http"}],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]
        }],
        "volumes": [{"name": "config", "configMap": {"name": "app"}}]
    }));
    let patch = json!({"spec": {
        "containers": [{
            "name": "app",
            "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "name": "https"}],
            "volumeMounts": [{"mountPath": "/etc/app", "readOnly": true}]
        }],
        "$setElementOrder/volumes": [{"name": "config"}, {"name": "cache"}],
        "volumes": [{"name": "cache", "emptyDir": {}}]
    }});
    let patched = patch_pod(&target, patch).expect("patch applies");
    assert_eq!(
        patched["spec"],
        json!({
            "containers": [{
                "name": "app",
                "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}, {"containerPort": 443, "name": "https"}],
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": true}]
            }],
            "volumes": [{"name": "config", "configMap": {"name": "app"}}, {"name": "cache", "emptyDir": {}}]
        })
    );
}

#[test]
fn lists_without_a_strategy_are_replaced() {
    let target = pod(json!({
        "containers": [{"name": "app", "args": ["a", "b"]}],
        "tolerations": [{"key": "a", "operator": "Exists"}]
    }));
    let patched = patch_pod(
        &target,
        json!({"spec": {
            "tolerations": [{"key": "b", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{"name": "app", "args": ["c"]}]
        }}),
    )
    .expect("patch applies");
    assert_eq!(
        patched["spec"]["tolerations"],
        json!([{"key": "b", "operator": "Exists", "effect": "NoSchedule"}])
    );
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "app", "args": ["c"]}])
    );

    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "spec": {
        "podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]
    }});
    let patched = strategic(
        &node,
        &json!({"spec": {"podCIDRs": ["fd00::/64"], "taints": [{"key": "b", "effect": "NoExecute"}]}}),
        "v1",
        "Node",
    )
    .expect("node patch applies");
    // podCIDRs merge as a set; like a new map element, the new value leads.
    assert_eq!(
        patched["spec"],
        json!({"podCIDRs": ["fd00::/64", "10.0.0.0/24"], "taints": [{"key": "b", "effect": "NoExecute"}]})
    );
}

#[test]
fn finalizers_merge_as_a_set_and_delete_from_primitive_list_removes() {
    let target = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b"]}});
    let merged = strategic(
        &target,
        &json!({"metadata": {"finalizers": ["b", "c"]}}),
        "v1",
        "ConfigMap",
    )
    .expect("merge applies");
    assert_eq!(merged["metadata"]["finalizers"], json!(["a", "b", "c"]));

    let pruned = strategic(
        &merged,
        &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "c"]}}),
        "v1",
        "ConfigMap",
    )
    .expect("deletion applies");
    assert_eq!(pruned["metadata"]["finalizers"], json!(["b"]));
}

#[test]
fn patch_directives_replace_delete_and_merge_maps() {
    let target = deployment(json!([{"name": "nginx", "image": "nginx"}]));
    let replaced = patch_deployment(
        &target,
        json!({"spec": {"template": {"metadata": {"labels": {"$patch": "replace", "tier": "web"}}}}}),
    )
    .expect("replace applies");
    assert_eq!(
        replaced["spec"]["template"]["metadata"]["labels"],
        json!({"tier": "web"})
    );

    let deleted = patch_deployment(&target, json!({"spec": {"strategy": {"$patch": "delete"}}}))
        .expect("delete applies");
    assert_eq!(deleted["spec"]["strategy"], json!({}));

    let merged = patch_deployment(
        &target,
        json!({"metadata": {"labels": {"$patch": "merge", "tier": "web"}}}),
    )
    .expect("merge applies");
    assert_eq!(
        merged["metadata"]["labels"],
        json!({"app": "web", "tier": "web"})
    );
}

#[test]
fn patch_directives_in_list_elements() {
    let target = deployment(json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]));
    let replaced = patch_deployment(
        &target,
        json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "c", "image": "c"}]}}}}),
    )
    .expect("replace applies");
    assert_eq!(containers(&replaced), &json!([{"name": "c", "image": "c"}]));

    let deleted = patch_deployment(
        &target,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}}),
    )
    .expect("delete applies");
    assert_eq!(containers(&deleted), &json!([{"name": "b", "image": "b"}]));

    let merged = patch_deployment(
        &target,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "$patch": "merge", "image": "b2"}]}}}}),
    )
    .expect("merge applies");
    assert_eq!(
        containers(&merged),
        &json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b2"}])
    );
}

#[test]
fn retain_keys_clears_the_keys_it_does_not_list() {
    let target = deployment(json!([{"name": "nginx", "image": "nginx"}]));
    let patched = patch_deployment(
        &target,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}}),
    )
    .expect("retainKeys applies");
    assert_eq!(patched["spec"]["strategy"], json!({"type": "Recreate"}));

    let error = patch_deployment(
        &target,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "paused": true}}}),
    )
    .expect_err("the patch sets a key it does not retain");
    assert_eq!(error.to_string(), "invalid patch format of retainKeys");
    assert_eq!(error.status_code(), 400);
}

#[test]
fn a_volume_switching_source_keeps_only_the_retained_keys() {
    let target = pod(json!({"containers": [], "volumes": [{"name": "data", "emptyDir": {}}]}));
    // What client-side apply sends for a volume whose source changed.
    let patch = json!({"spec": {"volumes": [
        {"$retainKeys": ["configMap", "name"], "configMap": {"name": "settings"}, "name": "data"}
    ]}});
    let patched = patch_pod(&target, patch).expect("patch applies");
    assert_eq!(
        patched["spec"]["volumes"],
        json!([{"name": "data", "configMap": {"name": "settings"}}])
    );
}

#[test]
fn null_deletes_and_nulls_in_new_subtrees_are_dropped() {
    let target = deployment(json!([{"name": "nginx", "image": "nginx"}]));
    let patched = patch_deployment(
        &target,
        json!({"metadata": {"labels": null, "annotations": {"a": "1", "b": null}}, "spec": {"paused": null}}),
    )
    .expect("patch applies");
    assert_eq!(
        patched["metadata"],
        json!({"name": "web", "namespace": "default", "annotations": {"a": "1"}})
    );
}

#[test]
fn conditions_owner_references_and_service_ports_merge_by_key() {
    let target = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "ownerReferences": [{"uid": "1", "kind": "ReplicaSet", "name": "rs"}]},
        "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}]}
    });
    let patched = patch_pod(
        &target,
        json!({
            "metadata": {"ownerReferences": [{"uid": "1", "controller": true}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        }),
    )
    .expect("patch applies");
    assert_eq!(
        patched["status"]["conditions"],
        json!([{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}])
    );
    assert_eq!(
        patched["metadata"]["ownerReferences"],
        json!([{"uid": "1", "kind": "ReplicaSet", "name": "rs", "controller": true}])
    );

    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [
        {"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}
    ]}});
    let patched = strategic(
        &service,
        &json!({"spec": {"ports": [{"port": 443, "nodePort": 30443}]}}),
        "v1",
        "Service",
    )
    .expect("service patch applies");
    assert_eq!(
        patched["spec"]["ports"],
        json!([{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443, "nodePort": 30443}])
    );
}

#[test]
fn unknown_kinds_merge_maps_and_replace_lists() {
    let target = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"size": 1, "parts": [{"name": "a"}, {"name": "b"}]}});
    let patched = strategic(
        &target,
        &json!({"spec": {"parts": [{"name": "c"}], "color": "red"}}),
        "example.com/v1",
        "Widget",
    )
    .expect("patch applies");
    assert_eq!(
        patched["spec"],
        json!({"size": 1, "color": "red", "parts": [{"name": "c"}]})
    );
}

#[test]
fn malformed_patches_are_reported_like_upstream() {
    let target = deployment(json!([{"name": "nginx", "image": "nginx"}]));

    let error = patch_deployment(
        &target,
        json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
    )
    .expect_err("the element has no merge key");
    assert_eq!(
        error.to_string(),
        "map: {\"image\":\"x\"} does not contain declared merge key: name"
    );
    assert_eq!(error.status_code(), 500);

    let error = patch_deployment(&target, json!({"metadata": {"$patch": "frobnicate"}}))
        .expect_err("unknown directive");
    assert_eq!(
        error.to_string(),
        "unknown patch type: frobnicate in map: {}"
    );

    let mut finalizing = target.clone();
    finalizing["metadata"]["finalizers"] = json!([]);
    let error = patch_deployment(
        &finalizing,
        json!({"metadata": {"finalizers": [["nested"]]}}),
    )
    .expect_err("list of lists");
    assert_eq!(error.to_string(), "lists of lists are not supported");
    assert_eq!(error.status_code(), 422);

    let error = patch_deployment(&target, json!({"spec": {"$setElementOrderX": []}}))
        .expect_err("bad directive key");
    assert_eq!(
        error.to_string(),
        "invalid patch format of setElementOrder list"
    );

    let error = patch_deployment(
        &target,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "b", "image": "b"}]
        }}}}),
    )
    .expect_err("the list does not follow its order");
    assert!(error.to_string().starts_with("The order in patch list:"));

    let error = strategic(&target, &json!(["not a map"]), "apps/v1", "Deployment")
        .expect_err("not an object");
    assert_eq!(error.status_code(), 400);
}
