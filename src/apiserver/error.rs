//! The API server's error type, answered as a `metav1.Status` with upstream's reason, code and
//! message shapes, because kubectl and client libraries print and branch on exactly those.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::codec::{self, Accept};
use super::status::{Cause, Details, Status};

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
    /// The authorizer's refusal: `pods "web" is forbidden: User "alice" cannot get ...`.
    #[error("{}", denied_message(resource, name, message))]
    Denied {
        resource: QualifiedResource,
        name: String,
        message: String,
    },
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
    /// A refusal whose code and reason another party chose: an admission webhook's.
    #[error("{message}")]
    Refused {
        code: u16,
        reason: String,
        message: String,
    },
    /// A ValidatingAdmissionPolicy's refusal: worded as upstream's `NewForbidden`
    /// (`configmaps "big" is forbidden: ValidatingAdmissionPolicy ...`) but with the code and
    /// reason of the validation that failed, and the policy's message as the one cause, which
    /// kubectl prints (`The configmaps "big" is invalid: : ValidatingAdmissionPolicy ...`).
    #[error("{}", denied_message(resource, name, message))]
    PolicyDenied {
        code: u16,
        reason: &'static str,
        resource: QualifiedResource,
        name: String,
        message: String,
    },
}

/// Upstream's Status reasons: a reason another party gives is kept when it is one of them.
const STATUS_REASONS: [&str; 18] = [
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Gone",
    "Invalid",
    "ServerTimeout",
    "Timeout",
    "TooManyRequests",
    "BadRequest",
    "MethodNotAllowed",
    "NotAcceptable",
    "RequestEntityTooLarge",
    "UnsupportedMediaType",
    "InternalError",
    "Expired",
    "ServiceUnavailable",
];

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

    pub fn code(&self) -> StatusCode {
        match self {
            ApiError::NotFound { .. } | ApiError::NoSuchPath => StatusCode::NOT_FOUND,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Denied { .. } => StatusCode::FORBIDDEN,
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
            ApiError::Refused { code, .. } | ApiError::PolicyDenied { code, .. } => {
                StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_REQUEST)
            }
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
            ApiError::Forbidden(_) | ApiError::Denied { .. } => "Forbidden",
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
            ApiError::Refused { reason, .. } => STATUS_REASONS
                .into_iter()
                .find(|known| known == reason)
                .unwrap_or(""),
            ApiError::PolicyDenied { reason, .. } => *reason,
        }
    }

    fn details(&self) -> Option<Details> {
        match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name, .. }
            | ApiError::Denied { resource, name, .. } => Some(Details {
                name: name.clone(),
                group: resource.group.clone(),
                kind: resource.resource.clone(),
                ..Details::default()
            }),
            ApiError::Invalid {
                kind,
                group,
                name,
                errors,
                ..
            } => Some(Details {
                name: name.clone(),
                group: group.clone(),
                kind: kind.clone(),
                causes: errors
                    .iter()
                    .map(|e| Cause {
                        reason: e.reason().to_owned(),
                        message: e.message(),
                        field: e.field.clone(),
                    })
                    .collect(),
                ..Details::default()
            }),
            ApiError::PolicyDenied {
                resource,
                name,
                message,
                ..
            } => Some(Details {
                name: name.clone(),
                group: resource.group.clone(),
                kind: resource.resource.clone(),
                causes: vec![Cause {
                    reason: String::new(),
                    message: message.clone(),
                    field: String::new(),
                }],
                ..Details::default()
            }),
            ApiError::Patch(PatchError::Conflict(conflicts)) => Some(Details {
                causes: conflicts
                    .iter()
                    .map(|c| Cause {
                        reason: "FieldManagerConflict".into(),
                        message: format!("conflict with {}", c.manager),
                        field: c.field.clone(),
                    })
                    .collect(),
                ..Details::default()
            }),
            _ => None,
        }
    }

    /// The Status object this error is answered with.
    pub fn status(&self) -> Status {
        let status = Status::failure(self.code().as_u16(), self.reason(), self.to_string());
        match self.details() {
            Some(details) => status.with_details(details),
            None => status,
        }
    }

    /// The response for this error, in the encoding the request asked for.
    pub fn respond(&self, accept: Accept) -> Response {
        let code = self.code();
        if code.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request refused");
        }
        codec::respond(accept, code, &self.status())
    }
}

/// Upstream's `NewForbidden` wording: the resource (and name) refused, or for paths that are
/// no resource just `forbidden`.
fn denied_message(resource: &QualifiedResource, name: &str, message: &str) -> String {
    match (resource.resource.as_str(), name) {
        ("", _) => format!("forbidden: {message}"),
        (_, "") => format!("{resource} is forbidden: {message}"),
        _ => format!("{resource} {name:?} is forbidden: {message}"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.respond(Accept::JSON)
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
