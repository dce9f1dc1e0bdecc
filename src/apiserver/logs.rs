//! The pod subresources served by the node a pod runs on: `log`, `exec`, `attach` and
//! `portforward`. The API server finds the pod's node and forwards to its node agent.

use std::sync::Arc;

use axum::response::Response;

use super::handlers::{Answer, Request};
use super::{ApiError, ApiState};

/// `pods/<name>/log`.
pub async fn serve(state: &Arc<ApiState>, request: &Request) -> Result<Response, ApiError> {
    Err(unreachable_node(state, request)
        .await
        .err()
        .unwrap_or(ApiError::MethodNotAllowed))
}

/// The error for a pod whose node agent cannot serve the request.
pub async fn unreachable_node(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let name = request.info.name();
    let pod = state.objects.get(r, request.info.namespace(), name).await?;
    match pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
        None => Err(ApiError::BadRequest(format!(
            "pod {name} does not have a host assigned"
        ))),
        Some(node) => Err(ApiError::Unavailable(format!(
            "the node agent of node {node:?} cannot be reached to serve pod {name:?}"
        ))),
    }
}
