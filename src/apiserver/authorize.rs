//! Authorization of every request, after authentication and impersonation: the request's
//! attributes are read from its method and path the way upstream's RequestInfoFactory reads
//! them (before anything is looked up, so a refused client learns nothing of what exists),
//! then `system:masters` is allowed everything, nodes are decided by the node authorizer, and
//! everyone else by RBAC. A refusal is a 403 Status in upstream's words.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use k8s_openapi::api::core::v1::Pod;

use super::{ApiError, ApiState, QualifiedResource, User};
use crate::rbac::{Attributes, Decision, NodeCheck, Target};
use crate::registry;

/// The group whose members may do anything, as upstream's authorizer short-cuts it.
pub const MASTERS: &str = "system:masters";

/// Namespace subresources, which would otherwise read as a resource inside the namespace.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// Reads a request's attributes from its method, path and query: a list or watch of one
/// name by field selector is a request for that name, as upstream reads it.
pub fn attributes(method: &Method, path: &str, query: Option<&str>) -> Attributes {
    let param = |wanted: &str| {
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(key, _)| key == wanted)
            .map(|(_, value)| value.into_owned())
    };
    let watch = param("watch").is_some_and(|v| v == "true" || v == "1");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segments.as_slice() {
        ["api", _version, rest @ ..] if !rest.is_empty() => ("", rest),
        ["apis", group, _version, rest @ ..] if !rest.is_empty() => (*group, rest),
        _ => return Attributes::non_resource(&non_resource_verb(method), path),
    };
    let (legacy_watch, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let mut namespace = "";
    let mut parts = rest;
    if let ["namespaces", ns, tail @ ..] = rest {
        namespace = ns;
        if !tail.is_empty() && !NAMESPACE_SUBRESOURCES.contains(&tail[0]) {
            parts = tail;
        }
    }
    let resource = parts.first().copied().unwrap_or_default();
    let selected = param("fieldSelector").and_then(|selector| {
        let name = selector
            .strip_prefix("metadata.name==")
            .or_else(|| selector.strip_prefix("metadata.name="))?;
        (!name.contains(',')).then(|| name.to_owned())
    });
    let listed = parts.len() == 1 && matches!(*method, Method::GET | Method::HEAD);
    let name = match (&selected, listed) {
        (Some(selected), true) => selected.as_str(),
        _ => parts.get(1).copied().unwrap_or_default(),
    };
    let subresource = if parts.len() > 2 { parts[2] } else { "" };
    let verb = match *method {
        Method::GET | Method::HEAD if legacy_watch || (watch && (listed || name.is_empty())) => {
            "watch"
        }
        Method::GET | Method::HEAD if listed || name.is_empty() => "list",
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if name.is_empty() => "deletecollection",
        Method::DELETE => "delete",
        _ => "",
    };
    Attributes::resource(verb, group, resource, subresource, namespace, name)
}

fn non_resource_verb(method: &Method) -> String {
    match *method {
        Method::HEAD => "get".into(),
        ref other => other.as_str().to_ascii_lowercase(),
    }
}

/// The decision for `user`: `Ok` with the reason it is allowed, or `Err` with the reason the
/// authorizer that refused gives (often none).
pub async fn decide(
    state: &ApiState,
    user: &User,
    attributes: &Attributes,
) -> Result<String, String> {
    if user.groups.iter().any(|g| g == MASTERS) {
        return Ok(String::new());
    }
    // As upstream chains its authorizers: the node authorizer first, then RBAC, which may
    // allow what the node authorizer does not; a refusal carries the node authorizer's reason.
    let mut refusal = String::new();
    if let Some(node) = crate::rbac::node_name(&user.name, &user.groups) {
        match node_decision(state, node, attributes).await {
            Ok(()) => return Ok(String::new()),
            Err(reason) => refusal = reason,
        }
    }
    state.policy.loaded().await;
    match state.policy.get().authorize(user, attributes) {
        Decision::Allow(reason) => Ok(reason),
        Decision::NoOpinion => Err(refusal),
    }
}

/// The node authorizer's answer for `node`, looking up the pods it needs to.
async fn node_decision(
    state: &ApiState,
    node: &str,
    attributes: &Attributes,
) -> Result<(), String> {
    match crate::rbac::check_node(node, attributes) {
        NodeCheck::Allow => Ok(()),
        NodeCheck::Deny(reason) => Err(reason),
        NodeCheck::PodOnNode { namespace, name } => {
            let pod = pod(state, &namespace, &name).await;
            if pod.as_ref().is_some_and(|p| bound_to(p, node)) {
                Ok(())
            } else {
                Err(format!(
                    "node {node:?} can only update pod status for pods with spec.nodeName set to itself"
                ))
            }
        }
        NodeCheck::UsedByPodOnNode {
            kind,
            namespace,
            name,
        } => {
            if used_on_node(state, node, kind, &namespace, &name).await {
                Ok(())
            } else {
                Err(format!(
                    "no relationship found between node '{node}' and this object"
                ))
            }
        }
    }
}

/// Refuses with 403 what the user may not do.
pub async fn authorize(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let attributes = attributes(
        request.method(),
        request.uri().path(),
        request.uri().query(),
    );
    let user = request
        .extensions()
        .get::<User>()
        .cloned()
        .unwrap_or_else(User::anonymous);
    match decide(&state, &user, &attributes).await {
        Ok(_) => next.run(request).await,
        Err(reason) => {
            let refusal = denied(&user, &attributes, &reason);
            super::handlers::refuse(request.into_body(), refusal).await
        }
    }
}

/// Upstream's 403 for a refused request.
pub fn denied(user: &User, attributes: &Attributes, reason: &str) -> ApiError {
    let verb = &attributes.verb;
    let (resource, name, mut message) = match &attributes.target {
        Target::NonResource { path } => (
            QualifiedResource::new("", ""),
            String::new(),
            format!("User {:?} cannot {verb} path {path:?}", user.name),
        ),
        Target::Resource {
            group,
            resource,
            subresource,
            namespace,
            name,
        } => {
            let shown = if subresource.is_empty() {
                resource.clone()
            } else {
                format!("{resource}/{subresource}")
            };
            let scope = if namespace.is_empty() {
                "at the cluster scope".to_string()
            } else {
                format!("in the namespace {namespace:?}")
            };
            (
                QualifiedResource::new(group, resource),
                name.clone(),
                format!(
                    "User {:?} cannot {verb} resource {shown:?} in API group {group:?} {scope}",
                    user.name
                ),
            )
        }
    };
    if !reason.is_empty() {
        message.push_str(": ");
        message.push_str(reason);
    }
    ApiError::Denied {
        resource,
        name,
        message,
    }
}

async fn pod(state: &ApiState, namespace: &str, name: &str) -> Option<Pod> {
    let pods = registry::find("", "v1", "pods")?;
    let object = state.objects.get(pods, Some(namespace), name).await.ok()?;
    serde_json::from_value(object).ok()
}

fn bound_to(pod: &Pod, node: &str) -> bool {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)
}

/// Whether a pod bound to `node` in `namespace` uses the `kind` object `name`.
async fn used_on_node(
    state: &ApiState,
    node: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> bool {
    let Some(pods) = registry::find("", "v1", "pods") else {
        return false;
    };
    let Ok(page) = state.objects.list(pods, Some(namespace), None, None).await else {
        return false;
    };
    page.items
        .into_iter()
        .filter_map(|object| serde_json::from_value::<Pod>(object).ok())
        .any(|pod| bound_to(&pod, node) && uses(&pod, kind, name))
}

/// Whether a pod refers to a secret, config map, claim or service account by name.
fn uses(pod: &Pod, kind: &str, name: &str) -> bool {
    let Some(spec) = &pod.spec else { return false };
    if kind == "serviceaccount" {
        return spec.service_account_name.as_deref().unwrap_or("default") == name;
    }
    let is = |n: Option<&str>| n == Some(name);
    let volumes = spec.volumes.iter().flatten().any(|v| match kind {
        "secret" => {
            is(v.secret.as_ref().and_then(|s| s.secret_name.as_deref()))
                || v.projected
                    .iter()
                    .flat_map(|p| p.sources.iter().flatten())
                    .any(|s| is(s.secret.as_ref().map(|s| s.name.as_str())))
        }
        "configmap" => {
            is(v.config_map.as_ref().map(|c| c.name.as_str()))
                || v.projected
                    .iter()
                    .flat_map(|p| p.sources.iter().flatten())
                    .any(|s| is(s.config_map.as_ref().map(|c| c.name.as_str())))
        }
        "persistentvolumeclaim" => is(v
            .persistent_volume_claim
            .as_ref()
            .map(|c| c.claim_name.as_str())),
        _ => false,
    });
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    let environment = containers.clone().any(|c| {
        let env = c
            .env
            .iter()
            .flatten()
            .filter_map(|e| e.value_from.as_ref())
            .any(|from| match kind {
                "secret" => is(from.secret_key_ref.as_ref().map(|r| r.name.as_str())),
                "configmap" => is(from.config_map_key_ref.as_ref().map(|r| r.name.as_str())),
                _ => false,
            });
        let env_from = c.env_from.iter().flatten().any(|from| match kind {
            "secret" => is(from.secret_ref.as_ref().map(|r| r.name.as_str())),
            "configmap" => is(from.config_map_ref.as_ref().map(|r| r.name.as_str())),
            _ => false,
        });
        env || env_from
    });
    let pull_secrets = kind == "secret"
        && spec
            .image_pull_secrets
            .iter()
            .flatten()
            .any(|s| is(Some(s.name.as_str())));
    volumes || environment || pull_secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(method: Method, path: &str) -> Attributes {
        attributes(&method, path, None)
    }

    #[test]
    fn resource_requests_are_read_from_the_path() {
        assert_eq!(
            attrs(Method::GET, "/api/v1/namespaces/default/pods/web/log"),
            Attributes::resource("get", "", "pods", "log", "default", "web")
        );
        assert_eq!(
            attrs(Method::GET, "/apis/apps/v1/deployments"),
            Attributes::resource("list", "apps", "deployments", "", "", "")
        );
        assert_eq!(
            attributes(
                &Method::GET,
                "/api/v1/namespaces/d/pods",
                Some("watch=true")
            ),
            Attributes::resource("watch", "", "pods", "", "d", "")
        );
        assert_eq!(
            attributes(
                &Method::GET,
                "/api/v1/namespaces/d/secrets",
                Some("fieldSelector=metadata.name%3Ddb&watch=1")
            ),
            Attributes::resource("watch", "", "secrets", "", "d", "db")
        );
        assert_eq!(
            attrs(Method::GET, "/api/v1/watch/namespaces/d/pods/p"),
            Attributes::resource("watch", "", "pods", "", "d", "p")
        );
        assert_eq!(
            attrs(Method::DELETE, "/api/v1/namespaces/d/configmaps"),
            Attributes::resource("deletecollection", "", "configmaps", "", "d", "")
        );
    }

    #[test]
    fn resources_of_groups_served_elsewhere_are_read_the_same_way() {
        assert_eq!(
            attrs(Method::GET, "/apis/metrics.k8s.io/v1beta1/nodes"),
            Attributes::resource("list", "metrics.k8s.io", "nodes", "", "", "")
        );
        assert_eq!(
            attrs(
                Method::GET,
                "/apis/metrics.k8s.io/v1beta1/namespaces/d/pods/web"
            ),
            Attributes::resource("get", "metrics.k8s.io", "pods", "", "d", "web")
        );
        assert_eq!(
            attrs(Method::GET, "/apis/metrics.k8s.io/v1beta1"),
            Attributes::non_resource("get", "/apis/metrics.k8s.io/v1beta1")
        );
    }

    #[test]
    fn a_namespace_is_its_own_namespace() {
        assert_eq!(
            attrs(Method::GET, "/api/v1/namespaces/kube-system"),
            Attributes::resource("get", "", "namespaces", "", "kube-system", "kube-system")
        );
        assert_eq!(
            attrs(Method::PUT, "/api/v1/namespaces/x/finalize"),
            Attributes::resource("update", "", "namespaces", "finalize", "x", "x")
        );
    }

    #[test]
    fn discovery_and_health_are_paths() {
        assert_eq!(
            attrs(Method::GET, "/apis/apps/v1"),
            Attributes::non_resource("get", "/apis/apps/v1")
        );
        assert_eq!(
            attrs(Method::GET, "/healthz"),
            Attributes::non_resource("get", "/healthz")
        );
        assert_eq!(
            attrs(Method::GET, "/api"),
            Attributes::non_resource("get", "/api")
        );
    }

    #[test]
    fn refusals_read_as_upstream_s() {
        let alice = User {
            name: "alice".into(),
            groups: vec![],
        };
        let list = Attributes::resource("list", "", "pods", "", "default", "");
        assert_eq!(
            denied(&alice, &list, "").to_string(),
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        let get = Attributes::resource("get", "apps", "deployments", "scale", "", "web");
        assert_eq!(
            denied(&alice, &get, "").to_string(),
            "deployments.apps \"web\" is forbidden: User \"alice\" cannot get resource \"deployments/scale\" in API group \"apps\" at the cluster scope"
        );
        let path = Attributes::non_resource("get", "/metrics");
        assert_eq!(
            denied(&alice, &path, "").to_string(),
            "forbidden: User \"alice\" cannot get path \"/metrics\""
        );
    }
}
