//! The pod subresources served by the node a pod runs on: `log`, `exec`, `attach` and
//! `portforward`. They belong to the node a pod runs on; until a node runtime serves them, the
//! API server says which runtime the node has and that it does not serve them.

use std::sync::Arc;

use axum::response::Response;

use super::handlers::{Answer, Request};
use super::{ApiError, ApiState};
use crate::registry;

/// `pods/<name>/log`.
pub async fn serve(state: &Arc<ApiState>, request: &Request) -> Result<Response, ApiError> {
    Err(not_served(state, request)
        .await
        .err()
        .unwrap_or(ApiError::MethodNotAllowed))
}

/// The error for a pod subresource its node does not serve: no node runtime mkc has yet
/// runs processes that could be streamed, attached to or forwarded to, so the answer names
/// the node's runtime, as the node reports it, and what it does not serve.
pub async fn not_served(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let name = request.info.name();
    let pod = state.objects.get(r, request.info.namespace(), name).await?;
    let Some(node) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) else {
        return Err(ApiError::BadRequest(format!(
            "pod {name} does not have a host assigned"
        )));
    };
    let nodes = registry::find("", "v1", "nodes").ok_or(ApiError::NoSuchPath)?;
    let runtime = match state.objects.get(nodes, None, node).await {
        Ok(node) => node["status"]["nodeInfo"]["containerRuntimeVersion"]
            .as_str()
            .filter(|v| !v.is_empty())
            .map_or_else(|| "an unknown runtime".to_owned(), |v| format!("{v:?}")),
        Err(ApiError::NotFound { .. }) => "no runtime (the node is gone)".to_owned(),
        Err(err) => return Err(err),
    };
    let what = request.info.subresource.map_or("", |s| s.name());
    Err(ApiError::Unavailable(format!(
        "pod {name:?} runs on node {node:?}, whose container runtime, {runtime}, does not serve {what}"
    )))
}
