//! Creates, updates and patches, including server-side apply. Every update path funnels into
//! [`store_update`], which owns the rules all updates share.

use std::borrow::Cow;

use serde_json::Value;

use super::prepare::{allocate, decode, place, validate};
use super::subresources::{apply_scale, scale_of};
use super::{Answer, Request};
use crate::apiserver::admission::{self, Attributes, Operation};
use crate::apiserver::params::FieldValidation;
use crate::apiserver::storage::resource_version;
use crate::apiserver::{ApiError, ApiState, meta};
use crate::patch;
use crate::registry::{Resource, Subresource};

/// POST to a collection.
pub async fn create(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let mut object = request.object()?;
    place(request, &mut object)?;
    create_object(state, request, object, Ownership::Update).await
}

/// How a write records who owns which fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// An ordinary write: the changed fields go to the request's field manager.
    Update,
    /// A server-side apply, whose managedFields the apply already computed.
    Applied,
}

/// Stores a new object built from a client's body (or an apply configuration).
pub async fn create_object(
    state: &ApiState,
    request: &Request,
    mut object: Value,
    ownership: Ownership,
) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let applied = object["metadata"]["managedFields"].clone();
    meta::initialise(&mut object, r.generation);
    let mut warnings = Vec::new();
    let mut object = decode(
        r,
        &object,
        true,
        request.params.field_validation,
        &mut warnings,
    )?;
    // Ownership is recorded on the defaulted object, before admission and allocation change
    // it, as upstream's handlers record it: an allocated address is nobody's field.
    record_ownership(request, &mut object, None, ownership, applied);
    let name = meta::name(&object).to_owned();
    let attributes = Attributes::new(
        request,
        Operation::Create,
        request.info.namespace(),
        &name,
        None,
    );
    let redecode =
        |patched: &Value| decode(r, patched, true, FieldValidation::Ignore, &mut Vec::new());
    admission::mutate(state, &attributes, &mut object, &redecode, &mut warnings).await?;
    validate(r, &object, None)?;
    admission::validate(state, &attributes, Some(&object), &mut warnings).await?;
    super::escalation::check(state, request, &object, None).await?;
    let _reserved = allocate(state, r, &mut object, None).await?;
    let stored = if request.params.dry_run {
        object
    } else {
        state.objects.create(r, object).await?
    };
    Ok(Answer {
        warnings,
        ..Answer::created(stored)
    })
}

/// Sets `object`'s managedFields: those a server-side apply computed, or, for an ordinary
/// write, the request's own (or the stored ones) with the fields this write changed credited
/// to its manager.
fn record_ownership(
    request: &Request,
    object: &mut Value,
    old: Option<&Value>,
    ownership: Ownership,
    requested: Value,
) {
    match ownership {
        Ownership::Update => {
            // A creator may hand over managedFields of its own, as an updater may.
            if old.is_none() && !requested.is_null() {
                meta::metadata(object).insert("managedFields".into(), requested);
            }
            let custom = request.info.resource.strategy.custom_semantics();
            patch::track_update(old, object, &request.field_manager(), &meta::now(), custom);
        }
        Ownership::Applied if requested.is_null() => {
            meta::metadata(object).remove("managedFields");
        }
        Ownership::Applied => {
            meta::metadata(object).insert("managedFields".into(), requested);
        }
    }
}

/// PUT of a whole object.
pub async fn update(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let mut object = request.object()?;
    place(request, &mut object)?;
    let current = state
        .objects
        .get(r, request.info.namespace(), request.info.name())
        .await?;
    if let Some(given) = object["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
        && Some(given) != current["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::stale(r.qualified(), request.info.name()));
    }
    store_update(
        state,
        request,
        object,
        &current,
        Part::Main,
        Ownership::Update,
    )
    .await
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything but the status, for resources with a status subresource.
    Main,
    /// The status only.
    Status,
    /// A namespace's `spec.finalizers` only.
    Finalizers,
    /// What the `scale` subresource changes (the replicas, in the main part), which admission
    /// sees as the Scale written.
    Scale,
}

/// Writes `new` as the next state of `current`: the part the request may change is taken from
/// `new`, system fields are kept, the kind's rules run, and the write is skipped when nothing
/// changed. An object being deleted whose last finalizer goes is deleted here.
pub async fn store_update(
    state: &ApiState,
    request: &Request,
    new: Value,
    current: &Value,
    part: Part,
    ownership: Ownership,
) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let applied = new["metadata"]["managedFields"].clone();
    let mut next = merge_part(r, new, current, part);
    meta::carry_system_fields(&mut next, current);
    let mut warnings = Vec::new();
    let mut next = decode(
        r,
        &next,
        false,
        request.params.field_validation,
        &mut warnings,
    )?;
    record_ownership(request, &mut next, Some(current), ownership, applied);
    // A scale write is admitted as the Scale it is, as upstream admits it.
    let scale = part == Part::Scale;
    let old_seen = if scale {
        Cow::Owned(scale_of(r, current))
    } else {
        Cow::Borrowed(current)
    };
    let attributes = Attributes::new(
        request,
        Operation::Update,
        meta::namespace(current),
        meta::name(current),
        Some(&old_seen),
    );
    if scale {
        let mut seen = scale_of(r, &next);
        let same = |scale: &Value| Ok(scale.clone());
        admission::mutate(state, &attributes, &mut seen, &same, &mut warnings).await?;
        next = apply_scale(r, seen, &next)?;
    } else {
        let redecode = |patched: &Value| {
            let mut patched = patched.clone();
            // What webhooks may not change, as for any update.
            meta::carry_system_fields(&mut patched, current);
            decode(r, &patched, false, FieldValidation::Ignore, &mut Vec::new())
        };
        admission::mutate(state, &attributes, &mut next, &redecode, &mut warnings).await?;
    }
    if r.generation {
        let changed = r.strategy.generation_changed(&next, current);
        meta::bump_generation(&mut next, current, changed);
    }
    validate(r, &next, Some(current))?;
    let seen = if scale {
        Cow::Owned(scale_of(r, &next))
    } else {
        Cow::Borrowed(&next)
    };
    admission::validate(state, &attributes, Some(&seen), &mut warnings).await?;
    super::escalation::check(state, request, &next, Some(current)).await?;
    let _reserved = allocate(state, r, &mut next, Some(current)).await?;
    let answer = |body| Answer {
        warnings: warnings.clone(),
        ..Answer::ok(body)
    };
    if unchanged(&next, current) || request.params.dry_run {
        return Ok(answer(if request.params.dry_run {
            next
        } else {
            current.clone()
        }));
    }
    let expected = Some(resource_version(current)?);
    if meta::is_deleting(&next) && !holds_finalizers(&next) {
        state
            .objects
            .delete(r, meta::namespace(current), meta::name(current), expected)
            .await?;
        return Ok(answer(next));
    }
    Ok(answer(state.objects.update(r, next, expected).await?))
}

/// Takes from `new` the part a write may change, the rest from `current`.
fn merge_part(r: &Resource, new: Value, current: &Value, part: Part) -> Value {
    match part {
        Part::Main | Part::Scale if r.has(Subresource::Status) => {
            let mut next = new;
            next["status"] = current["status"].clone();
            strip_null(&mut next, "status");
            next
        }
        Part::Main | Part::Scale => new,
        Part::Status => {
            let mut next = current.clone();
            next["status"] = new["status"].clone();
            strip_null(&mut next, "status");
            next
        }
        Part::Finalizers => {
            let mut next = current.clone();
            next["spec"]["finalizers"] = new["spec"]["finalizers"].clone();
            next
        }
    }
}

fn strip_null(object: &mut Value, field: &str) {
    if object[field].is_null()
        && let Some(map) = object.as_object_mut()
    {
        map.remove(field);
    }
}

/// Whether an update would store the same object, its resourceVersion and the times stamped
/// on managedFields entries aside: an apply whose result only defaulting tells from the
/// stored object (an atomic struct applied without its defaulted fields) changes nothing.
fn unchanged(next: &Value, current: &Value) -> bool {
    let strip = |object: &Value| {
        let mut object = object.clone();
        let metadata = meta::metadata(&mut object);
        metadata.remove("resourceVersion");
        for entry in metadata
            .get_mut("managedFields")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(entry) = entry.as_object_mut() {
                entry.remove("time");
            }
        }
        object
    };
    strip(next) == strip(current)
}

/// Whether anything still holds a deleted object: its finalizers or, for a namespace, the
/// finalizers in its spec.
pub fn holds_finalizers(object: &Value) -> bool {
    let spec_finalizers = object["spec"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
        && object["kind"] == "Namespace";
    !meta::finalizers(object).is_empty() || spec_finalizers
}

/// PATCH in any of the four patch types.
pub async fn patch(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    patch_part(state, request, Part::Main, Ok, |patched, _| Ok(patched)).await
}

/// Applies the request's patch to a view of the object (`view`), turns the patched view back
/// into an object (`unview`), and stores it as `part`, retrying when another writer raced in
/// unless the patch itself pinned a resourceVersion.
pub async fn patch_part(
    state: &ApiState,
    request: &Request,
    part: Part,
    view: impl Fn(Value) -> Result<Value, ApiError>,
    unview: impl Fn(Value, &Value) -> Result<Value, ApiError>,
) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let (ns, name) = (request.info.namespace(), request.info.name());
    let patch_type = request.content_type();
    if patch_type == STRATEGIC_PATCH && r.strategy.custom_semantics().is_some() {
        return Err(ApiError::UnsupportedMediaType(
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        ));
    }
    let body = parse_patch(&patch_type, &request.body)?;
    let pinned = body["metadata"]["resourceVersion"].as_str().is_some();
    for _ in 0..8 {
        let current = match state.objects.find(r, ns, name).await? {
            Some(current) => current,
            None if patch_type == APPLY && part == Part::Main => {
                return apply_create(state, request, &body).await;
            }
            None => return Err(ApiError::not_found(r.qualified(), name)),
        };
        let patched = apply_patch(request, &patch_type, view(current.clone())?, &body)?;
        let mut next = unview(patched, &current)?;
        if let Some(given) = next["metadata"]["resourceVersion"]
            .as_str()
            .filter(|_| pinned)
            && Some(given) != current["metadata"]["resourceVersion"].as_str()
        {
            return Err(ApiError::stale(r.qualified(), name));
        }
        // The name and namespace come from the URL whatever the patch says.
        let meta = meta::metadata(&mut next);
        meta.insert("name".into(), current["metadata"]["name"].clone());
        if let Some(ns) = ns {
            meta.insert("namespace".into(), ns.into());
        }
        let ownership = if patch_type == APPLY {
            Ownership::Applied
        } else {
            Ownership::Update
        };
        match store_update(state, request, next, &current, part, ownership).await {
            Err(ApiError::Conflict { .. }) if !pinned => continue,
            outcome => return outcome,
        }
    }
    Err(ApiError::stale(r.qualified(), name))
}

const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const STRATEGIC_PATCH: &str = "application/strategic-merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";

fn parse_patch(patch_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let parsed = match patch_type {
        JSON_PATCH | MERGE_PATCH | STRATEGIC_PATCH => serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("error decoding patch: {e}")))?,
        APPLY => crate::apiserver::codec::decode_yaml(body)?,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
            ));
        }
    };
    Ok(parsed)
}

fn apply_patch(
    request: &Request,
    patch_type: &str,
    target: Value,
    body: &Value,
) -> Result<Value, ApiError> {
    let r = request.info.resource;
    let result = match patch_type {
        JSON_PATCH => patch::json(&target, body),
        MERGE_PATCH => patch::merge(&target, body),
        STRATEGIC_PATCH => patch::strategic(&target, body, &r.api_version(), r.kind),
        _ => {
            let manager = required_manager(request)?;
            patch::apply(
                Some(&target),
                body,
                &manager,
                request.params.force,
                &meta::now(),
                r.strategy.custom_semantics(),
            )
        }
    };
    Ok(result?)
}

fn required_manager(request: &Request) -> Result<String, ApiError> {
    request
        .params
        .field_manager
        .clone()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::BadRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into()))
}

/// Server-side apply of an absent object creates it from the configuration.
async fn apply_create(
    state: &ApiState,
    request: &Request,
    config: &Value,
) -> Result<Answer, ApiError> {
    let manager = required_manager(request)?;
    let custom = request.info.resource.strategy.custom_semantics();
    let mut object = patch::apply(
        None,
        config,
        &manager,
        request.params.force,
        &meta::now(),
        custom,
    )?;
    place(request, &mut object)?;
    create_object(state, request, object, Ownership::Applied).await
}
