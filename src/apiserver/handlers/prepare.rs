//! The steps every write shares around admission: checking the body belongs at its URL,
//! running it through its kind (decode and defaults with the `fieldValidation` mode before
//! admission, validation after mutating admission), and Service address allocation.

use serde_json::{Value, json};
use tokio::sync::MutexGuard;

use super::Request;
use crate::apiserver::meta;
use crate::apiserver::params::FieldValidation;
use crate::apiserver::{ApiError, ApiState};
use crate::registry::{Allocation, Resource};

/// Fills or checks the body's apiVersion, kind, namespace and (for named URLs) name against the
/// request, as upstream does before decoding.
pub fn place(request: &Request, object: &mut Value) -> Result<(), ApiError> {
    let r = request.info.resource;
    if !object.is_object() {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    let api_version = r.api_version();
    match object["apiVersion"].as_str() {
        None | Some("") => object["apiVersion"] = json!(api_version),
        Some(given) if given != api_version => {
            return Err(ApiError::BadRequest(format!(
                "the API version in the data ({given}) does not match the expected API version ({api_version})"
            )));
        }
        Some(_) => {}
    }
    match object["kind"].as_str() {
        None | Some("") => object["kind"] = json!(r.kind),
        Some(given) if given != r.kind => {
            return Err(ApiError::BadRequest(format!(
                "the kind in the data ({given}) does not match the expected kind ({})",
                r.kind
            )));
        }
        Some(_) => {}
    }
    let meta = meta::metadata(object);
    match (
        request.info.namespace(),
        meta.get("namespace").and_then(Value::as_str),
    ) {
        (Some(path), Some(body)) if !body.is_empty() && body != path => {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
        (Some(path), _) => {
            meta.insert("namespace".into(), json!(path));
        }
        (None, _) => {
            meta.remove("namespace");
        }
    }
    if let Some(url_name) = request.info.name.as_deref() {
        match meta.get("name").and_then(Value::as_str) {
            Some(body) if body != url_name => {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({body}) does not match the name on the URL ({url_name})"
                )));
            }
            Some(_) => {}
            None => {
                meta.insert("name".into(), json!(url_name));
            }
        }
    }
    Ok(())
}

/// Runs `object` through its kind: decoded, defaulted (and on create prepared) and checked for
/// unknown fields as `fieldValidation` asks. Unknown fields under the default mode come back
/// as warnings.
pub fn decode(
    r: &Resource,
    object: &Value,
    create: bool,
    validation: FieldValidation,
    warnings: &mut Vec<String>,
) -> Result<Value, ApiError> {
    let cannot_handle = |detail: String| {
        ApiError::BadRequest(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {detail}",
            kind = r.kind,
            version = r.version
        ))
    };
    let admitted = r.strategy.admit(object, create).map_err(cannot_handle)?;
    let unknown: Vec<String> = admitted
        .unknown_fields
        .iter()
        .map(|path| format!("unknown field \"{path}\""))
        .collect();
    match validation {
        FieldValidation::Strict if !unknown.is_empty() => {
            return Err(cannot_handle(format!(
                "strict decoding error: {}",
                unknown.join(", ")
            )));
        }
        FieldValidation::Warn => warnings.extend(unknown),
        _ => {}
    }
    Ok(admitted.object)
}

/// Validates `object` as its kind does, against `old` on updates; it runs after mutating
/// admission, so what webhooks changed is validated too.
pub fn validate(r: &Resource, object: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let errors = r.strategy.validate(object, old);
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        r.kind,
        r.group,
        meta::name(object),
        errors,
    ))
}

/// For kinds that reserve addresses (Services: ClusterIPs and NodePorts), assigns them against
/// every other object of the kind and returns the lock that keeps them reserved until the
/// write is done; other kinds pass through.
pub async fn allocate<'s>(
    state: &'s ApiState,
    r: &Resource,
    object: &mut Value,
    old: Option<&Value>,
) -> Result<Option<MutexGuard<'s, ()>>, ApiError> {
    if !r.strategy.reserves_addresses() {
        return Ok(None);
    }
    let guard = state.allocation_lock.lock().await;
    let page = state.objects.list(r, None, None, None).await?;
    let this = (meta::namespace(object), meta::name(object));
    let others = page
        .items
        .iter()
        .filter(|s| (meta::namespace(s), meta::name(s)) != this);
    let held = Allocation::of(others);
    let errors = state.services.allocate(object, old, &held);
    if !errors.is_empty() {
        return Err(ApiError::invalid(
            r.kind,
            r.group,
            meta::name(object),
            errors,
        ));
    }
    Ok(Some(guard))
}
