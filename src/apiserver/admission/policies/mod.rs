//! ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1), upstream's validating plug-in
//! that runs just before the validating webhooks: each policy a binding names holds the
//! requests both select ([`matching`]) to its CEL validations ([`evaluate`]), once per param
//! the binding hands it ([`params`]). A failed validation refuses the request through a
//! binding with `Deny`, as upstream words and codes it (`configmaps "big" is forbidden:
//! ValidatingAdmissionPolicy 'P' with binding 'B' denied request: MESSAGE`, 422 unless the
//! validation's `reason` picks another code), and is a warning through a binding with `Warn`.
//! An expression that cannot be evaluated, or params that cannot be had, refuse the request
//! unless the policy's `failurePolicy` is `Ignore`.
//!
//! Not done: the `authorizer` variable (a policy naming it is refused when written); type
//! checking, and so the policy's `status.typeChecking`; `auditAnnotations` and the `Audit`
//! action, as there is no audit log to write to. What webhooks never see (the objects of
//! admissionregistration.k8s.io) policies never judge either, where upstream exempts only the
//! policies and their bindings.

mod evaluate;
mod matching;
mod params;
mod stored;

use serde_json::Value;

use evaluate::{Failure, Inputs};
use params::ParamsError;
pub use stored::Policies;
pub(super) use stored::derive;
use stored::{Binding, Policy};

use super::{Attributes, webhooks};
use crate::apiserver::{ApiError, ApiState};

/// Holds the request to the policies that apply to it, through each of their bindings that
/// selects it; the first refusal is the answer. `object` is the new object, none for a delete.
pub async fn validate(
    state: &ApiState,
    attributes: &Attributes<'_>,
    object: Option<&Value>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    if webhooks::exempt(attributes.resource) {
        return Ok(());
    }
    let configured = state.admission.get();
    for policy in &configured.policies {
        apply(state, policy, attributes, object, warnings).await?;
    }
    Ok(())
}

/// Applies one policy, if its constraints cover the request, through each of its bindings.
async fn apply(
    state: &ApiState,
    policy: &Policy,
    attributes: &Attributes<'_>,
    object: Option<&Value>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let Some(version) = policy
        .constraints
        .matched(state, attributes, object)
        .await?
    else {
        return Ok(());
    };
    let kind = match params::kind(state, policy) {
        Ok(kind) => kind,
        Err(error) => return misconfigured(policy, None, &error, attributes),
    };
    // The objects and the request as the policy's rules name the resource.
    let r = attributes.resource;
    let converted = |o: &Value| webhooks::convert(o.clone(), r, version);
    let new = object.map(converted);
    let old = attributes.old.map(converted);
    let target = webhooks::target(version, attributes);
    let request = webhooks::request(attributes, target, new.as_ref(), old.as_ref());
    let namespace = webhooks::namespace(state, attributes).await?;
    let namespace = namespace.map(namespace_object).unwrap_or_default();
    let (new, old) = (new.unwrap_or_default(), old.unwrap_or_default());
    for binding in &policy.bindings {
        if let Some(constraints) = &binding.constraints
            && constraints
                .matched(state, attributes, object)
                .await?
                .is_none()
        {
            continue;
        }
        let reference = binding.param_ref.as_ref();
        let params = match params::collect(state, kind, reference, attributes).await {
            Ok(params) => params,
            Err(error) => {
                misconfigured(policy, Some(binding), &error, attributes)?;
                continue;
            }
        };
        for param in &params {
            let inputs = Inputs {
                object: &new,
                old_object: &old,
                request: &request,
                params: param,
                namespace_object: &namespace,
            };
            for failure in evaluate::failures(policy, &inputs) {
                if binding.warn {
                    warnings.push(format!(
                        "Validation failed for ValidatingAdmissionPolicy '{}' with binding '{}': {}",
                        policy.name, binding.name, failure.message
                    ));
                }
                if binding.deny {
                    return Err(refusal(policy, Some(binding), failure, attributes));
                }
            }
        }
    }
    Ok(())
}

/// A policy (without a binding) or binding that cannot be applied refuses the request, unless
/// the policy's failure policy is `Ignore`.
fn misconfigured(
    policy: &Policy,
    binding: Option<&Binding>,
    error: &ParamsError,
    attributes: &Attributes<'_>,
) -> Result<(), ApiError> {
    let what = if binding.is_some() {
        "binding"
    } else {
        "policy"
    };
    match evaluate::failed(policy, format!("failed to configure {what}: {error}")) {
        Some(failure) => Err(refusal(policy, binding, failure, attributes)),
        None => Ok(()),
    }
}

/// The refusal of the request by `policy` (through `binding`), as upstream words it.
fn refusal(
    policy: &Policy,
    binding: Option<&Binding>,
    failure: Failure,
    attributes: &Attributes<'_>,
) -> ApiError {
    let by = match binding {
        Some(binding) => format!(
            "ValidatingAdmissionPolicy '{}' with binding '{}'",
            policy.name, binding.name
        ),
        None => format!("ValidatingAdmissionPolicy '{}'", policy.name),
    };
    ApiError::PolicyDenied {
        code: failure.reason.code(),
        reason: failure.reason.name(),
        resource: attributes.resource.qualified(),
        name: attributes.name.to_owned(),
        message: format!("{by} denied request: {}", failure.message),
    }
}

/// The Namespace as upstream shows it to policies: without its managed fields and owners.
fn namespace_object(mut namespace: Value) -> Value {
    if let Some(metadata) = namespace["metadata"].as_object_mut() {
        metadata.remove("managedFields");
        metadata.remove("ownerReferences");
    }
    namespace
}
