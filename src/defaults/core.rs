//! Namespace, Node, Secret and LimitRange defaults.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{LimitRange, Namespace, Node, Secret};

use super::set_if_unset;

const NAME_LABEL: &str = "kubernetes.io/metadata.name";
const KUBERNETES_FINALIZER: &str = "kubernetes";

/// Labels a Namespace with its name and marks it Active.
pub fn namespace(namespace: &mut Namespace) {
    if let Some(name) = namespace.metadata.name.clone().filter(|n| !n.is_empty()) {
        namespace
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(NAME_LABEL.to_string(), name);
    }
    set_if_unset(
        &mut namespace.status.get_or_insert_with(Default::default).phase,
        "Active",
    );
}

/// On create only: a new Namespace carries the `kubernetes` finalizer, which the namespace
/// controller removes once it has emptied the namespace (so it is not a default: defaults run
/// on every write and would put it back).
pub fn namespace_finalizer(namespace: &mut Namespace) {
    let finalizers = namespace
        .spec
        .get_or_insert_with(Default::default)
        .finalizers
        .get_or_insert_with(Vec::new);
    if !finalizers.iter().any(|f| f == KUBERNETES_FINALIZER) {
        finalizers.push(KUBERNETES_FINALIZER.to_string());
    }
}

/// A Node that reports capacity but no allocatable amounts can allocate all of it.
pub fn node(node: &mut Node) {
    if let Some(status) = node.status.as_mut().filter(|s| s.allocatable.is_none()) {
        status.allocatable.clone_from(&status.capacity);
    }
}

/// Secrets are `Opaque` unless typed, and `stringData` is merged into `data` (its values win)
/// and never stored, as upstream does when it decodes a Secret.
pub fn secret(secret: &mut Secret) {
    set_if_unset(&mut secret.type_, "Opaque");
    if let Some(string_data) = secret.string_data.take() {
        let data = secret.data.get_or_insert_with(Default::default);
        for (key, value) in string_data {
            data.insert(key, ByteString(value.into_bytes()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespaces_are_labelled_active_and_finalized() {
        let mut ns: Namespace =
            serde_json::from_value(json!({"metadata": {"name": "team-a"}})).expect("namespace");
        namespace(&mut ns);
        namespace_finalizer(&mut ns);
        namespace_finalizer(&mut ns);
        assert_eq!(
            serde_json::to_value(&ns).expect("json"),
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}
            })
        );
    }

    #[test]
    fn secrets_are_opaque_with_string_data_merged() {
        let mut s: Secret = serde_json::from_value(json!({
            "metadata": {"name": "creds"},
            "data": {"user": "YWRtaW4=", "password": "b2xk"},
            "stringData": {"password": "new"}
        }))
        .expect("secret");
        secret(&mut s);
        let out = serde_json::to_value(&s).expect("json");
        assert_eq!(out["type"], "Opaque");
        assert_eq!(out["data"], json!({"password": "bmV3", "user": "YWRtaW4="}));
        assert!(out.get("stringData").is_none());
    }

    #[test]
    fn nodes_allocate_their_capacity() {
        let mut n: Node = serde_json::from_value(
            json!({"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4"}}}),
        )
        .expect("node");
        node(&mut n);
        assert_eq!(
            serde_json::to_value(&n).expect("json")["status"]["allocatable"],
            json!({"cpu": "4"})
        );
    }
}

/// A container limit range fills what it leaves out: the default limit from the maximum, the
/// default request from the default limit, else from the minimum.
pub fn limit_range(range: &mut LimitRange) {
    let items = range.spec.iter_mut().flat_map(|s| s.limits.iter_mut());
    for item in items.filter(|i| i.type_ == "Container") {
        let default = item.default.get_or_insert_with(Default::default);
        for (key, value) in item.max.iter().flatten() {
            default.entry(key.clone()).or_insert_with(|| value.clone());
        }
        let request = item.default_request.get_or_insert_with(Default::default);
        for (key, value) in default.iter().chain(item.min.iter().flatten()) {
            request.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
}
