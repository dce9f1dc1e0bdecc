//! Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): a user allowed the `impersonate`
//! verb on `users`, `groups`, `serviceaccounts` or `uids` acts as the named identity, which is
//! then authorized for the request as if it had sent it. Each part asked for is authorized on
//! its own, as upstream's impersonation filter does.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use super::authorize::{decide, denied};
use super::{ApiError, ApiState, User};
use crate::rbac::Attributes;

const USER: &str = "impersonate-user";
const GROUP: &str = "impersonate-group";
const UID: &str = "impersonate-uid";
const EXTRA_PREFIX: &str = "impersonate-extra-";

/// Replaces the request's user with the one it impersonates, once each part is allowed.
pub async fn impersonate(
    State(state): State<Arc<ApiState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let asked = headers.contains_key(USER)
        || headers.contains_key(GROUP)
        || headers.contains_key(UID)
        || headers.keys().any(|k| k.as_str().starts_with(EXTRA_PREFIX));
    if !asked {
        return next.run(request).await;
    }
    let Some(requester) = request.extensions().get::<User>().cloned() else {
        return super::handlers::refuse(request.into_body(), ApiError::Unauthorized).await;
    };
    match impersonated(&state, &requester, request.headers()).await {
        Ok(user) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Err(error) => super::handlers::refuse(request.into_body(), error).await,
    }
}

fn values<'h>(headers: &'h HeaderMap, name: &str) -> Vec<&'h str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The identity the headers ask for, if `requester` may take every part of it.
async fn impersonated(
    state: &ApiState,
    requester: &User,
    headers: &HeaderMap,
) -> Result<User, ApiError> {
    let Some(name) = values(headers, USER).first().map(|s| s.to_string()) else {
        return Err(ApiError::BadRequest(
            "requested impersonation of groups, uids or extra fields without impersonating a user"
                .into(),
        ));
    };
    let mut checks = Vec::new();
    let mut groups: Vec<String> = values(headers, GROUP)
        .iter()
        .map(|g| g.to_string())
        .collect();
    match name
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((namespace, account)) => {
            checks.push(Attributes::resource(
                "impersonate",
                "",
                "serviceaccounts",
                "",
                namespace,
                account,
            ));
            for group in [
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
            ] {
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
        }
        None => checks.push(Attributes::resource(
            "impersonate",
            "",
            "users",
            "",
            "",
            &name,
        )),
    }
    for group in values(headers, GROUP) {
        checks.push(Attributes::resource(
            "impersonate",
            "",
            "groups",
            "",
            "",
            group,
        ));
    }
    for uid in values(headers, UID) {
        checks.push(Attributes::resource(
            "impersonate",
            "authentication.k8s.io",
            "uids",
            "",
            "",
            uid,
        ));
    }
    for (key, value) in headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with(EXTRA_PREFIX))
    {
        let extra = &key.as_str()[EXTRA_PREFIX.len()..];
        let value = value.to_str().unwrap_or_default();
        checks.push(Attributes::resource(
            "impersonate",
            "authentication.k8s.io",
            "userextras",
            extra,
            "",
            value,
        ));
    }
    for check in &checks {
        if let Err(reason) = decide(state, requester, check).await {
            return Err(denied(requester, check, &reason));
        }
    }
    if name != "system:anonymous" && !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    Ok(User { name, groups })
}
