//! Admission: what happens to a write between its decoding and its storing, as upstream's
//! chain of admission plug-ins. The order is upstream's, and this is the one place it is
//! written:
//!
//! - mutating: DefaultTolerationSeconds and ServiceAccount (new pods), then the mutating
//!   webhooks;
//! - the kind's own validation (in the handlers, between the two halves);
//! - validating: NamespaceLifecycle (new objects), then PodSecurity (pods, workloads' pod
//!   templates and namespaces), then ValidatingAdmissionPolicy, then the validating webhooks.

mod configured;
mod namespace_lifecycle;
mod pod_security;
mod policies;
mod service_account;
mod tolerations;
mod webhooks;

use serde_json::Value;
use uuid::Uuid;

pub use configured::{Configurations, configurations};

use super::auth::User;
use super::handlers::Request;
use super::{ApiError, ApiState};
use crate::registry::{Resource, Subresource};

/// The group of the webhook configurations and policies, whose writes are in force once
/// answered.
pub const GROUP: &str = "admissionregistration.k8s.io";

/// Reads an object a mutating plug-in changed back as its kind does (decoded and defaulted).
pub type Decode<'a> = dyn Fn(&Value) -> Result<Value, ApiError> + Sync + 'a;

/// What a write does, as admission names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// exec, attach and port-forward: the object is the request's options.
    Connect,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    /// The kind of the options the request came with, which webhooks are sent; a connect's
    /// options are its object.
    pub fn options_kind(self) -> Option<&'static str> {
        match self {
            Operation::Create => Some("CreateOptions"),
            Operation::Update => Some("UpdateOptions"),
            Operation::Delete => Some("DeleteOptions"),
            Operation::Connect => None,
        }
    }

    /// Whether the request has an object admission may change: a delete has none (a
    /// connect's options are its object).
    pub fn has_object(self) -> bool {
        self != Operation::Delete
    }
}

/// What admission knows of one write besides the object.
pub struct Attributes<'a> {
    pub operation: Operation,
    pub resource: &'static Resource,
    pub subresource: Option<Subresource>,
    pub namespace: Option<&'a str>,
    /// Empty for a create whose name is still to be generated.
    pub name: &'a str,
    pub user: &'a User,
    pub dry_run: bool,
    /// The stored object an update or delete replaces.
    pub old: Option<&'a Value>,
    /// One per write: every webhook, and a webhook called again, sees the same.
    pub uid: String,
}

impl<'a> Attributes<'a> {
    /// The attributes of `request` writing `resource` (a delete of a collection admits each
    /// object under its own name).
    pub fn new(
        request: &'a Request,
        operation: Operation,
        namespace: Option<&'a str>,
        name: &'a str,
        old: Option<&'a Value>,
    ) -> Attributes<'a> {
        Attributes {
            operation,
            resource: request.info.resource,
            subresource: request.info.subresource,
            namespace,
            name,
            user: &request.user,
            dry_run: request.params.dry_run,
            old,
            uid: Uuid::new_v4().to_string(),
        }
    }
}

/// The mutating half: plug-ins that may change `object`. `decode` reads an object a webhook
/// patched back as its kind does.
pub async fn mutate(
    state: &ApiState,
    attributes: &Attributes<'_>,
    object: &mut Value,
    decode: &Decode<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    if new_pod(attributes) {
        tolerations::admit(object, state.default_toleration_seconds);
        service_account::admit(state, attributes.resource, object).await?;
    }
    webhooks::mutate(state, attributes, object, decode, warnings).await
}

/// The validating half, after the kind's own validation: plug-ins that may only refuse.
/// `object` is the new object, none for a delete.
pub async fn validate(
    state: &ApiState,
    attributes: &Attributes<'_>,
    object: Option<&Value>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    if attributes.operation == Operation::Create
        && attributes.subresource.is_none()
        && let Some(object) = object
    {
        namespace_lifecycle::admit(state, attributes.resource, object).await?;
    }
    if let Some(object) = object {
        pod_security::admit(state, attributes, object, warnings).await?;
    }
    refuse(state, attributes, object, warnings).await
}

/// Admission of a delete: webhooks of both kinds see the object that goes (mutating ones
/// cannot change it), and any of them or a policy may refuse.
pub async fn admit_delete(
    state: &ApiState,
    attributes: &Attributes<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let mut nothing = Value::Null;
    webhooks::mutate(
        state,
        attributes,
        &mut nothing,
        &|_| Ok(Value::Null),
        warnings,
    )
    .await?;
    refuse(state, attributes, None, warnings).await
}

/// Admission of an object that is not stored: a connect's options (`PodExecOptions`, ...)
/// and the objects posted to a subresource (a Binding, an Eviction, a TokenRequest). The
/// mutating webhooks may change it, policies and validating webhooks see what they made and
/// may refuse; the request goes on with the object returned.
pub async fn admit_posted(
    state: &ApiState,
    attributes: &Attributes<'_>,
    mut object: Value,
    warnings: &mut Vec<String>,
) -> Result<Value, ApiError> {
    webhooks::mutate(state, attributes, &mut object, &|o| Ok(o.clone()), warnings).await?;
    refuse(state, attributes, Some(&object), warnings).await?;
    Ok(object)
}

/// The plug-ins of the validating half that every operation passes: ValidatingAdmissionPolicy,
/// then the validating webhooks.
async fn refuse(
    state: &ApiState,
    attributes: &Attributes<'_>,
    object: Option<&Value>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    policies::validate(state, attributes, object, warnings).await?;
    webhooks::validate(state, attributes, object, warnings).await
}

fn new_pod(attributes: &Attributes<'_>) -> bool {
    let r = attributes.resource;
    attributes.operation == Operation::Create
        && attributes.subresource.is_none()
        && r.group.is_empty()
        && r.plural == "pods"
}
