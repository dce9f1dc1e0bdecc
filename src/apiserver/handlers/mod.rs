//! Resource requests: the request is resolved (verb, resource, namespace, name, subresource),
//! its parameters and body read, and it is handed to the read, write, delete, subresource or
//! watch handler.

mod delete;
mod escalation;
mod prepare;
pub(crate) mod read;
mod reviews;
mod subresources;
mod token;
mod write;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;

use super::codec::{self, Accept};
use super::params::Params;
use super::request::{RequestInfo, Verb};
use super::status::Status;
use super::{ApiError, ApiState, User};
use crate::registry::Subresource;

/// The largest request body accepted, as upstream's limit.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Everything a handler needs to know about the request.
pub struct Request {
    pub info: RequestInfo,
    /// Who is asking (after impersonation).
    pub user: User,
    pub params: Params,
    pub accept: Accept,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn content_type(&self) -> String {
        codec::content_type(&self.headers)
    }

    /// The object in the body, in whichever media type it came.
    pub fn object(&self) -> Result<serde_json::Value, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::BadRequest("the request body is empty".into()));
        }
        codec::decode_body(&self.content_type(), &self.body)
    }

    /// The manager recorded in managedFields for this write.
    pub fn field_manager(&self) -> String {
        let agent = self
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        super::meta::field_manager(self.params.field_manager.as_deref(), agent)
    }
}

/// A successful answer: the body and its code, plus upstream-style warnings.
pub struct Answer {
    pub code: StatusCode,
    pub body: Reply,
    pub warnings: Vec<String>,
}

/// What a successful request answers with: an object (or list), or a Status for requests
/// whose answer is no object, such as a completed delete of most kinds.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Reply {
    Object(serde_json::Value),
    Status(Status),
}

impl Answer {
    pub fn ok(body: serde_json::Value) -> Answer {
        Answer {
            code: StatusCode::OK,
            body: Reply::Object(body),
            warnings: Vec::new(),
        }
    }

    pub fn created(body: serde_json::Value) -> Answer {
        Answer {
            code: StatusCode::CREATED,
            ..Answer::ok(body)
        }
    }

    pub fn status(code: StatusCode, status: Status) -> Answer {
        Answer {
            code,
            body: Reply::Status(status),
            warnings: Vec::new(),
        }
    }

    /// Puts `earlier` (admission's, say) before the warnings the answer has.
    pub fn with_warnings(mut self, mut earlier: Vec<String>) -> Answer {
        earlier.append(&mut self.warnings);
        Answer {
            warnings: earlier,
            ..self
        }
    }

    /// The answer with its object replaced by `view` of it (a Status is kept as it is).
    pub fn map_object(self, view: impl FnOnce(&serde_json::Value) -> serde_json::Value) -> Answer {
        let body = match self.body {
            Reply::Object(object) => Reply::Object(view(&object)),
            status @ Reply::Status(_) => status,
        };
        Answer { body, ..self }
    }

    fn into_response(self, accept: Accept) -> Response {
        let mut response = codec::respond(accept, self.code, &self.body);
        for warning in self.warnings {
            let text = format!("299 - {}", serde_json::Value::String(warning));
            if let Ok(value) = HeaderValue::from_str(&text) {
                response
                    .headers_mut()
                    .append(HeaderName::from_static("warning"), value);
            }
        }
        response
    }
}

/// Serves `/api/v1/...` and `/apis/<group>/<version>/...`.
pub async fn resource(
    State(state): State<Arc<ApiState>>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let axum::http::request::Parts {
        method,
        uri,
        headers,
        mut extensions,
        ..
    } = parts;
    // Present when the client asked to upgrade the connection (exec, attach, port-forward).
    let upgrade = extensions.remove::<hyper::upgrade::OnUpgrade>();
    let user = extensions.remove::<User>().unwrap_or_else(User::anonymous);
    let params = Params::parse(uri.query());
    let accept = Accept::from_headers(&headers).map(|accept| Accept {
        pretty: codec::pretty(params.as_ref().ok().and_then(|p| p.pretty), &headers),
        ..accept
    });
    // Errors are answered in the encoding asked for, as far as the request could be read.
    let answer_in = accept.as_ref().copied().unwrap_or(Accept::JSON);
    let handled = async {
        handle(
            state, method, &uri, headers, body, upgrade, user, params?, accept?,
        )
        .await
    };
    handled
        .await
        .unwrap_or_else(|err: ApiError| err.respond(answer_in))
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    state: Arc<ApiState>,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Body,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
    user: User,
    params: Params,
    accept: Accept,
) -> Result<Response, ApiError> {
    // Read before anything can refuse the request, as [`refuse`] explains.
    let body = read_body(body).await?;
    let (group, version, parts) = split_path(uri.path())?;
    let served = state.served();
    let info = RequestInfo::resolve(
        &served.served,
        &method,
        group,
        version,
        &parts,
        params.watch,
    )?;
    let request = Request {
        info,
        user,
        params,
        accept,
        headers,
        body,
    };
    if request.info.verb == Verb::Watch {
        return super::watch::serve(&state, &request).await;
    }
    match request.info.subresource {
        Some(Subresource::Log) => return super::node_proxy::logs(&state, &request).await,
        Some(Subresource::Exec | Subresource::Attach | Subresource::PortForward) => {
            return super::node_proxy::stream(&state, &request, uri.query(), upgrade).await;
        }
        _ => {}
    }
    if request.info.resource.create_only {
        if request.info.verb != Verb::Create {
            return Err(ApiError::MethodNotAllowed);
        }
        return Ok(reviews::create(&state, &request)
            .await?
            .into_response(request.accept));
    }
    let answer = match (request.info.verb, request.info.subresource) {
        (Verb::Get, None | Some(Subresource::Status)) => read::get(&state, &request).await?,
        (Verb::List, _) => read::list(&state, &request).await?,
        (Verb::Create, None) => write::create(&state, &request).await?,
        (Verb::Update, None) => write::update(&state, &request).await?,
        (Verb::Patch, None) => write::patch(&state, &request).await?,
        (Verb::Delete, None) => delete::delete(&state, &request).await?,
        (Verb::DeleteCollection, None) => delete::delete_collection(&state, &request).await?,
        (_, Some(sub)) => subresources::serve(&state, &request, sub).await?,
        (Verb::Watch, None) => return Err(ApiError::MethodNotAllowed),
    };
    if !matches!(request.info.verb, Verb::Get | Verb::List) {
        state.refresh_mirrors(request.info.resource.group).await;
    }
    Ok(answer.into_response(request.accept))
}

/// Splits `/api/v1/rest...` or `/apis/group/version/rest...` into its parts.
fn split_path(path: &str) -> Result<(&str, &str, Vec<&str>), ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => Ok(("", version, rest.to_vec())),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            Ok((group, version, rest.to_vec()))
        }
        _ => Err(ApiError::NoSuchPath),
    }
}

/// Answers `error` once the request's body (up to [`MAX_BODY`] bytes) has arrived, for
/// refusals made before a handler reads it: over HTTP/2 a stream answered while its body is
/// still arriving is reset, and the client may never see the answer.
pub async fn refuse(body: Body, error: impl IntoResponse) -> Response {
    // A body too large or broken changes nothing about the refusal.
    let _ = read_body(body).await;
    error.into_response()
}

/// Reads the body, refusing more than [`MAX_BODY`] bytes with 413.
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err)
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::TooLarge(MAX_BODY))
        }
        Err(err) => Err(ApiError::BadRequest(format!(
            "reading the request body: {err}"
        ))),
    }
}
