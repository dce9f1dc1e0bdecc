//! The API server's error type, answered as a `metav1.Status` with upstream's reason, code and
//! message shapes, because kubectl and client libraries print and branch on exactly those.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::patch::PatchError;
use crate::store::StoreError;
use crate::validation::FieldError;

/// A resource named the way upstream's messages name it: `deployments.apps`, `pods`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedResource {
    pub group: String,
    pub resource: String,
}

impl QualifiedResource {
    pub fn new(group: &str, resource: &str) -> Self {
        QualifiedResource {
            group: group.to_owned(),
            resource: resource.to_owned(),
        }
    }
}

impl std::fmt::Display for QualifiedResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.group.as_str() {
            "" => f.write_str(&self.resource),
            group => write!(f, "{}.{group}", self.resource),
        }
    }
}

/// Every way a request can fail, each mapped to one Status reason and HTTP code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{resource} {name:?} not found")]
    NotFound {
        resource: QualifiedResource,
        name: String,
    },
    #[error("the server could not find the requested resource")]
    NoSuchPath,
    #[error("{resource} {name:?} already exists")]
    AlreadyExists {
        resource: QualifiedResource,
        name: String,
    },
    #[error("Operation cannot be fulfilled on {resource} {name:?}: {reason}")]
    Conflict {
        resource: QualifiedResource,
        name: String,
        reason: String,
    },
    #[error("{message}")]
    Invalid {
        kind: String,
        group: String,
        name: String,
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("Unauthorized")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error("the body of the request was in an unknown format - accepted media types include: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("only the following media types are accepted: application/json, application/yaml")]
    NotAcceptable,
    #[error("Request entity too large: limit is {0}")]
    TooLarge(usize),
    #[error("{0}")]
    Expired(String),
    #[error(transparent)]
    Patch(#[from] crate::patch::PatchError),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(resource: QualifiedResource, name: &str) -> Self {
        ApiError::NotFound {
            resource,
            name: name.to_owned(),
        }
    }

    /// The conflict a stale resourceVersion earns, worded as upstream.
    pub fn stale(resource: QualifiedResource, name: &str) -> Self {
        ApiError::Conflict {
            resource,
            name: name.to_owned(),
            reason: "the object has been modified; please apply your changes to the latest \
                     version and try again"
                .into(),
        }
    }

    /// A 422 for `kind` in `group` named `name`.
    pub fn invalid(kind: &str, group: &str, name: &str, errors: Vec<FieldError>) -> Self {
        let message = crate::validation::invalid_message(kind, group, name, &errors);
        ApiError::Invalid {
            kind: kind.to_owned(),
            group: group.to_owned(),
            name: name.to_owned(),
            message,
            errors,
        }
    }

    fn code(&self) -> StatusCode {
        match self {
            ApiError::NotFound { .. } | ApiError::NoSuchPath => StatusCode::NOT_FOUND,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Expired(_) => StatusCode::GONE,
            ApiError::Patch(err) => {
                StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::NoSuchPath => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::NotAcceptable => "NotAcceptable",
            ApiError::TooLarge(_) => "RequestEntityTooLarge",
            ApiError::Expired(_) => "Expired",
            ApiError::Patch(err) => match err.status_code() {
                400 => "BadRequest",
                409 => "Conflict",
                413 => "RequestEntityTooLarge",
                422 => "Invalid",
                _ => "InternalError",
            },
            ApiError::Unavailable(_) => "ServiceUnavailable",
            ApiError::Internal(_) => "InternalError",
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name, .. } => Some(json!({
                "name": name, "group": resource.group, "kind": resource.resource,
            })),
            ApiError::Invalid {
                kind,
                group,
                name,
                errors,
                ..
            } => {
                let causes: Vec<Value> = errors
                    .iter()
                    .map(
                        |e| json!({"reason": e.reason(), "message": e.message(), "field": e.field}),
                    )
                    .collect();
                Some(json!({"name": name, "group": group, "kind": kind, "causes": causes}))
            }
            ApiError::Patch(PatchError::Conflict(conflicts)) => {
                let causes: Vec<Value> = conflicts
                    .iter()
                    .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.manager), "field": c.field}))
                    .collect();
                Some(json!({"causes": causes}))
            }
            _ => None,
        }
    }

    /// The Status object this error is answered with.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code().as_u16(),
        });
        if let Some(mut details) = self.details() {
            // Upstream omits empty detail fields (the core group is "").
            if let Some(map) = details.as_object_mut() {
                map.retain(|_, v| v.as_str() != Some(""));
            }
            status["details"] = details;
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        if code.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request refused");
        }
        let body = serde_json::to_vec(&self.status()).unwrap_or_default();
        let mut response = (code, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

impl From<StoreError> for ApiError {
    /// Store failures that reach a handler unmapped are server faults; handlers map the
    /// expected ones (conflicts, absence) to their resource-specific errors first.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Compacted {
                requested,
                compacted,
            } => ApiError::Expired(format!(
                "too old resource version: {requested} ({compacted})"
            )),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
