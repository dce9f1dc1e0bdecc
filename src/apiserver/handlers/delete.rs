//! Deletes: propagation policies (Orphan and Foreground hold the object with a finalizer until
//! the garbage collector is done), finalizers and `deletionTimestamp`, graceful deletion of pods
//! bound to a node, preconditions, and deletecollection.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::read::{Filter, select};
use super::write::holds_finalizers;
use super::{Answer, Request};
use crate::apiserver::admission::{self, Attributes, Operation};
use crate::apiserver::status::{Details, Status};
use crate::apiserver::storage::resource_version;
use crate::apiserver::{ApiError, ApiState, codec, meta};
use crate::registry::Resource;

/// The finalizers that carry a propagation policy to the garbage collector.
pub const ORPHAN_FINALIZER: &str = "orphan";
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// What a delete asks, from its DeleteOptions body and query parameters.
#[derive(Debug, Default)]
struct Options {
    grace_period: Option<i64>,
    propagation: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    dry_run: bool,
    /// `orphanDependents: false`, the one case upstream answers 202 for an object that stays.
    accepted_if_held: bool,
}

impl Options {
    fn from_request(request: &Request) -> Result<Options, ApiError> {
        let body = if request.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            codec::decode_body(&request.content_type(), &request.body)?
        };
        let params = &request.params;
        let orphan = body["orphanDependents"]
            .as_bool()
            .or(params.orphan_dependents);
        let propagation = body["propagationPolicy"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| params.propagation_policy.clone())
            .or_else(|| orphan.map(|o| if o { "Orphan" } else { "Background" }.to_owned()));
        if let Some(policy) = &propagation
            && !matches!(policy.as_str(), "Orphan" | "Foreground" | "Background")
        {
            return Err(ApiError::BadRequest(format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: {policy:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            )));
        }
        let dry_run = params.dry_run
            || body["dryRun"]
                .as_array()
                .is_some_and(|d| d.iter().any(|v| v == "All"));
        Ok(Options {
            grace_period: body["gracePeriodSeconds"]
                .as_i64()
                .or(params.grace_period_seconds),
            propagation,
            uid: body["preconditions"]["uid"].as_str().map(str::to_owned),
            resource_version: body["preconditions"]["resourceVersion"]
                .as_str()
                .map(str::to_owned),
            dry_run,
            accepted_if_held: orphan == Some(false),
        })
    }
}

/// DELETE of one object.
pub async fn delete(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let options = Options::from_request(request)?;
    delete_object(
        state,
        request,
        request.info.namespace(),
        request.info.name(),
        &options,
    )
    .await
}

/// DELETE of a collection: every object matching the selectors goes as a single delete would,
/// and the answer lists them as they were selected, as upstream's answer does.
pub async fn delete_collection(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let options = Options::from_request(request)?;
    let r = request.info.resource;
    let filter = Filter::from_request(request)?;
    let listing = select(state, request, &filter).await?;
    for object in &listing.items {
        match delete_object(
            state,
            request,
            meta::namespace(object),
            meta::name(object),
            &options,
        )
        .await
        {
            Ok(_) | Err(ApiError::NotFound { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(Answer::ok(json!({
        "kind": format!("{}List", r.kind),
        "apiVersion": r.api_version(),
        "metadata": {"resourceVersion": listing.revision.to_string()},
        "items": listing.items,
    })))
}

/// Deletes one object, or marks it deleted when something must happen first. An object that
/// stays is answered (202 only for `orphanDependents: false`, as upstream); one that went is
/// answered, or a Status naming it, as its resource decides.
async fn delete_object(
    state: &ApiState,
    request: &Request,
    ns: Option<&str>,
    name: &str,
    options: &Options,
) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let mut warnings = Vec::new();
    let held_answer = |object: Value, warnings: &[String]| Answer {
        code: if options.accepted_if_held {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        },
        warnings: warnings.to_vec(),
        ..Answer::ok(object)
    };
    for _ in 0..8 {
        let current = state.objects.get(r, ns, name).await?;
        check_preconditions(r, &current, options)?;
        warnings.clear();
        let attributes = Attributes::new(request, Operation::Delete, ns, name, Some(&current));
        admission::admit_delete(state, &attributes, &mut warnings).await?;
        let mut next = current.clone();
        let held = begin_deletion(r, &mut next, options);
        if options.dry_run {
            return Ok(if held {
                held_answer(next, &warnings)
            } else {
                gone(r, next, &warnings)
            });
        }
        let expected = Some(resource_version(&current)?);
        let outcome = if held {
            if next == current {
                return Ok(held_answer(current, &warnings));
            }
            state
                .objects
                .update(r, next, expected)
                .await
                .map(|kept| held_answer(kept, &warnings))
        } else {
            state
                .objects
                .delete(r, ns, name, expected)
                .await
                .map(|last| gone(r, last, &warnings))
        };
        match outcome {
            Err(ApiError::Conflict { .. }) => continue,
            other => return other,
        }
    }
    Err(ApiError::stale(r.qualified(), name))
}

/// The answer to a delete that removed `last`.
fn gone(r: &Resource, last: Value, warnings: &[String]) -> Answer {
    let answer = gone_body(r, last);
    Answer {
        warnings: warnings.to_vec(),
        ..answer
    }
}

fn gone_body(r: &Resource, last: Value) -> Answer {
    if r.returns_deleted_object {
        return Answer::ok(last);
    }
    let details = Details {
        name: meta::name(&last).to_owned(),
        group: r.group.to_owned(),
        kind: r.plural.to_owned(),
        uid: meta::uid(&last).to_owned(),
        ..Details::default()
    };
    Answer::status(StatusCode::OK, Status::success(None).with_details(details))
}

fn check_preconditions(r: &Resource, current: &Value, options: &Options) -> Result<(), ApiError> {
    let conflict = |reason: String| ApiError::Conflict {
        resource: r.qualified(),
        name: meta::name(current).to_owned(),
        reason,
    };
    if let Some(uid) = options
        .uid
        .as_deref()
        .filter(|uid| *uid != meta::uid(current))
    {
        return Err(conflict(format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            meta::uid(current)
        )));
    }
    let actual = current["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    if let Some(rv) = options
        .resource_version
        .as_deref()
        .filter(|rv| *rv != actual)
    {
        return Err(conflict(format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"
        )));
    }
    Ok(())
}

/// Marks `object` as being deleted when something must happen first, and says whether it
/// stays: a finalizer (including one a propagation policy or the kind adds) or the kind's
/// grace period.
fn begin_deletion(r: &Resource, object: &mut Value, options: &Options) -> bool {
    match options.propagation.as_deref() {
        Some("Orphan") => {
            meta::add_finalizer(object, ORPHAN_FINALIZER);
        }
        Some("Foreground") => {
            meta::add_finalizer(object, FOREGROUND_FINALIZER);
        }
        _ => {}
    }
    let graceful = r.strategy.begin_deletion(object, options.grace_period);
    let held = graceful || holds_finalizers(object);
    if held && !meta::is_deleting(object) {
        let meta = meta::metadata(object);
        meta.insert("deletionTimestamp".into(), json!(meta::now()));
        meta.insert("deletionGracePeriodSeconds".into(), json!(0));
    }
    if r.kind == "Namespace" && held {
        object["status"]["phase"] = json!("Terminating");
    }
    held
}
