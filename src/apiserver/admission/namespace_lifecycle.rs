//! Upstream's NamespaceLifecycle admission.

use serde_json::Value;

use crate::apiserver::{ApiError, ApiState, meta};
use crate::registry::{self, Resource};

/// New content may only go into a namespace that exists and is not being deleted.
pub async fn admit(state: &ApiState, r: &Resource, object: &Value) -> Result<(), ApiError> {
    let Some(ns) = meta::namespace(object).filter(|_| r.namespaced) else {
        return Ok(());
    };
    let namespaces = registry::find("", "v1", "namespaces").ok_or(ApiError::NoSuchPath)?;
    let namespace = state.objects.get(namespaces, None, ns).await?;
    if meta::is_deleting(&namespace) {
        return Err(ApiError::Denied {
            resource: r.qualified(),
            name: meta::name(object).to_owned(),
            message: format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ),
        });
    }
    Ok(())
}
