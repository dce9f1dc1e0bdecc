//! The front proxy: a request for an aggregated group-version goes to a ready endpoint of its
//! APIService's Service, over TLS with the front proxy's client certificate, carrying the user
//! it was authenticated (and authorized) as in `X-Remote-User` and `X-Remote-Group`, which
//! the extension server believes because of that certificate alone. The client's own
//! credentials and impersonation headers stop here. Bodies stream both ways, so watches flow.
//! Upgraded connections (exec-like subresources) are not forwarded.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;

use super::{Backend, BackendError};
use crate::apiserver::handlers::refuse;
use crate::apiserver::service_client::{self, CallError, Destination, Trust};
use crate::apiserver::{ApiError, ApiState, User};

/// How long a call the server makes for itself (an availability check, a discovery fetch)
/// may take, as upstream's availability check allows.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The 503's message for a group-version whose server is not available, as clients word it.
const UNAVAILABLE: &str = "the server is currently unable to handle the request";

/// The headers the front proxy asserts identity in: [`super::USER_HEADER`] and
/// [`super::GROUP_HEADER`] as HTTP/2 spells them. Whatever a client sends under this prefix
/// is dropped, so no client can assert an identity of its own.
const REMOTE_USER: HeaderName = HeaderName::from_static("x-remote-user");
const REMOTE_GROUP: HeaderName = HeaderName::from_static("x-remote-group");
const IDENTITY_PREFIX: &str = "x-remote-";
const IMPERSONATION_PREFIX: &str = "impersonate-";

/// Headers that belong to one connection, never forwarded either way.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Proxies the requests of aggregated group-versions, answering 503 while their APIService is
/// not available; every other request goes on to the routes.
pub async fn route(State(state): State<Arc<ApiState>>, request: Request, next: Next) -> Response {
    let target = group_version(request.uri().path()).and_then(|(group, version)| {
        let services = state.apiservices.get();
        let (registered, backend) = services.aggregated(group, version)?;
        Some((registered.available(), backend.clone()))
    });
    match target {
        None => next.run(request).await,
        Some((true, backend)) => forward(&state, &backend, request).await,
        Some((false, _)) => refuse(request.into_body(), unavailable()).await,
    }
}

/// The group and version of a path under `/apis/GROUP/VERSION`.
fn group_version(path: &str) -> Option<(&str, &str)> {
    let mut segments = path.strip_prefix("/apis/")?.splitn(3, '/');
    let group = segments.next().filter(|g| !g.is_empty())?;
    let version = segments.next().filter(|v| !v.is_empty())?;
    Some((group, version))
}

fn unavailable() -> ApiError {
    ApiError::Unavailable(UNAVAILABLE.into())
}

/// Sends the request to one of the backend's endpoints as it came, but for its headers, and
/// streams the answer back.
async fn forward(state: &ApiState, backend: &Backend, request: Request) -> Response {
    let destination = match service_client::resolve(&state.objects, &backend.service).await {
        Ok(destination) => destination,
        Err(error) => {
            tracing::warn!(%error, "an aggregated API's service has nowhere to send to");
            return refuse(request.into_body(), unavailable()).await;
        }
    };
    let (parts, body) = request.into_parts();
    let user = parts
        .extensions
        .get::<User>()
        .cloned()
        .unwrap_or_else(User::anonymous);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forwarded = hyper::Request::new(body);
    *forwarded.method_mut() = parts.method.clone();
    match path.parse::<hyper::Uri>() {
        Ok(uri) => *forwarded.uri_mut() = uri,
        Err(_) => return ApiError::NoSuchPath.into_response(),
    }
    *forwarded.headers_mut() =
        forwarded_headers(&parts.headers, &user, &destination.addr.to_string());
    match send(state, &destination, backend.trust(), forwarded).await {
        Ok(answer) => {
            let (mut parts, body) = answer.into_parts();
            for name in HOP_BY_HOP {
                parts.headers.remove(name);
            }
            Response::from_parts(parts, Body::new(body))
        }
        Err(error) => ApiError::Unavailable(format!("Error trying to reach service: '{error}'"))
            .into_response(),
    }
}

/// Sends `request` to `destination` with the front proxy's certificate.
async fn send(
    state: &ApiState,
    destination: &Destination,
    trust: Trust<'_>,
    request: hyper::Request<Body>,
) -> Result<hyper::Response<hyper::body::Incoming>, CallError> {
    let connector = service_client::connector(trust, state.backends.front_proxy.as_ref())?;
    service_client::send(&connector, destination, request).await
}

/// GETs `path` from `destination` for `user` through the front proxy, within
/// [`CALL_TIMEOUT`]: the body of a 2xx answer.
pub(super) async fn get(
    state: &ApiState,
    destination: &Destination,
    trust: Trust<'_>,
    path: &str,
    user: &User,
) -> Result<Bytes, BackendError> {
    let url = format!("https://{}{path}", destination.addr);
    let call = call(state, destination, trust, path, user, &url);
    let answer = tokio::time::timeout(CALL_TIMEOUT, call).await;
    answer.unwrap_or(Err(BackendError::Timeout { url }))
}

async fn call(
    state: &ApiState,
    destination: &Destination,
    trust: Trust<'_>,
    path: &str,
    user: &User,
    url: &str,
) -> Result<Bytes, BackendError> {
    let mut request = hyper::Request::new(Body::empty());
    *request.uri_mut() = path.parse::<hyper::Uri>().map_err(|_| CallError::Url {
        url: url.to_owned(),
        reason: "not a path".into(),
    })?;
    *request.headers_mut() =
        forwarded_headers(&HeaderMap::new(), user, &destination.addr.to_string());
    let answer = send(state, destination, trust, request).await?;
    let status = answer.status();
    if !status.is_success() {
        return Err(BackendError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    let body = answer.into_body().collect().await;
    body.map(|b| b.to_bytes())
        .map_err(|source| BackendError::Body {
            url: url.to_owned(),
            source,
        })
}

/// The headers of a request forwarded for `user` to `host`: the client's own, but for its
/// credentials, its impersonation (already applied: `user` is who it acts as), any identity
/// headers it wrote itself and those of its connection; then the user as the front proxy
/// asserts it. mkc's users carry no extra fields, so no `X-Remote-Extra-` header is sent.
fn forwarded_headers(client: &HeaderMap, user: &User, host: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in client {
        let text = name.as_str();
        let kept = *name != header::AUTHORIZATION
            && *name != header::HOST
            && !HOP_BY_HOP.contains(&text)
            && !text.starts_with(IMPERSONATION_PREFIX)
            && !text.starts_with(IDENTITY_PREFIX);
        if kept {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Ok(host) = HeaderValue::from_str(host) {
        headers.insert(header::HOST, host);
    }
    let groups = user.groups.iter().map(|group| (REMOTE_GROUP, group));
    for (name, text) in std::iter::once((REMOTE_USER, &user.name)).chain(groups) {
        match HeaderValue::from_bytes(text.as_bytes()) {
            Ok(value) => {
                headers.append(name, value);
            }
            Err(_) => tracing::warn!(%text, "a user's name or group cannot be sent in a header"),
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn the_identity_headers_are_the_ones_published() {
        let lower = |name: &str| name.to_ascii_lowercase();
        assert_eq!(REMOTE_USER.as_str(), lower(super::super::USER_HEADER));
        assert_eq!(REMOTE_GROUP.as_str(), lower(super::super::GROUP_HEADER));
        assert!(
            super::super::EXTRA_HEADER_PREFIX
                .to_ascii_lowercase()
                .starts_with(IDENTITY_PREFIX)
        );
    }

    #[test]
    fn the_user_is_asserted_and_the_client_s_credentials_stay_behind() {
        let mut client = HeaderMap::new();
        client.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());
        client.insert("impersonate-user", "alice".parse().unwrap());
        client.insert("impersonate-group", "admins".parse().unwrap());
        client.insert("x-remote-user", "forged".parse().unwrap());
        client.insert("x-remote-extra-scopes", "forged".parse().unwrap());
        client.insert(header::CONNECTION, "keep-alive".parse().unwrap());
        client.insert(header::HOST, "127.0.0.1:6443".parse().unwrap());
        client.insert(header::ACCEPT, "application/json".parse().unwrap());
        client.insert(header::USER_AGENT, "kubectl/v1.33.0".parse().unwrap());
        let user = User {
            name: "alice".into(),
            groups: vec!["admins".into(), "system:authenticated".into()],
        };
        let headers = forwarded_headers(&client, &user, "10.0.0.7:8443");
        assert!(headers.get(header::AUTHORIZATION).is_none());
        assert!(headers.get("impersonate-user").is_none());
        assert!(headers.get("impersonate-group").is_none());
        assert!(headers.get("x-remote-extra-scopes").is_none());
        assert!(headers.get(header::CONNECTION).is_none());
        assert_eq!(values(&headers, "x-remote-user"), ["alice"]);
        assert_eq!(
            values(&headers, "x-remote-group"),
            ["admins", "system:authenticated"]
        );
        assert_eq!(values(&headers, "host"), ["10.0.0.7:8443"]);
        assert_eq!(values(&headers, "accept"), ["application/json"]);
        assert_eq!(values(&headers, "user-agent"), ["kubectl/v1.33.0"]);
    }

    #[test]
    fn only_paths_under_a_group_version_are_aggregated() {
        assert_eq!(
            group_version("/apis/metrics.k8s.io/v1beta1/nodes"),
            Some(("metrics.k8s.io", "v1beta1"))
        );
        assert_eq!(
            group_version("/apis/metrics.k8s.io/v1beta1"),
            Some(("metrics.k8s.io", "v1beta1"))
        );
        assert_eq!(group_version("/apis/metrics.k8s.io"), None);
        assert_eq!(group_version("/apis/metrics.k8s.io/"), None);
        assert_eq!(group_version("/api/v1/pods"), None);
        assert_eq!(group_version("/apis"), None);
    }
}
