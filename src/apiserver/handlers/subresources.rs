//! Subresources: `status` (only the status changes), `scale` (an autoscaling/v1 Scale view of
//! spec.replicas), `binding` (the scheduler's assignment of a pod to a node), `eviction`,
//! and a namespace's `finalize`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::prepare::place;
use super::write::{Ownership, Part, patch_part, store_update};
use super::{Answer, Request};
use crate::apiserver::admission::{self, Attributes, Operation};
use crate::apiserver::request::Verb;
use crate::apiserver::status::Status;
use crate::apiserver::{ApiError, ApiState, meta};
use crate::registry::{Resource, Subresource, scale};
use crate::validation::{FieldError, Path};

pub async fn serve(
    state: &ApiState,
    request: &Request,
    sub: Subresource,
) -> Result<Answer, ApiError> {
    match (sub, request.info.verb) {
        (Subresource::Status, Verb::Update) => replace(state, request, Part::Status).await,
        (Subresource::Status, Verb::Patch) => {
            patch_part(state, request, Part::Status, Ok, |patched, _| Ok(patched)).await
        }
        (Subresource::Finalize, Verb::Update) => replace(state, request, Part::Finalizers).await,
        (Subresource::Scale, Verb::Get) => {
            let r = request.info.resource;
            let object = state
                .objects
                .get(r, request.info.namespace(), request.info.name())
                .await?;
            Ok(Answer::ok(scale_of(r, &object)))
        }
        (Subresource::Scale, Verb::Update) => update_scale(state, request).await,
        (Subresource::Scale, Verb::Patch) => {
            let r = request.info.resource;
            let view = |object: Value| Ok(scale_of(r, &object));
            let unview = |scale, current: &Value| apply_scale(r, scale, current);
            let answer = patch_part(state, request, Part::Scale, view, unview).await?;
            Ok(answer.map_object(|object| scale_of(r, object)))
        }
        (Subresource::Binding | Subresource::Eviction | Subresource::Token, Verb::Create) => {
            // What is posted is the subresource's own kind, which webhooks see and may change.
            let attributes = Attributes::new(
                request,
                Operation::Create,
                request.info.namespace(),
                request.info.name(),
                None,
            );
            let mut warnings = Vec::new();
            let posted =
                admission::admit_posted(state, &attributes, request.object()?, &mut warnings)
                    .await?;
            let answer = match sub {
                Subresource::Binding => bind(state, request, posted).await,
                Subresource::Eviction => evict(state, request, posted).await,
                _ => super::token::request(state, request, posted).await,
            }?;
            Ok(answer.with_warnings(warnings))
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// PUT of `status` or `finalize`: the body's part replaces the stored one.
async fn replace(state: &ApiState, request: &Request, part: Part) -> Result<Answer, ApiError> {
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
    store_update(state, request, object, &current, part, Ownership::Update).await
}

/// The autoscaling/v1 Scale of an object of `r`.
pub(super) fn scale_of(r: &Resource, object: &Value) -> Value {
    scale::view(object, r.strategy.scale_paths())
}

/// Sets the replicas of an object of `r` from a (patched) Scale.
pub(super) fn apply_scale(r: &Resource, scale: Value, current: &Value) -> Result<Value, ApiError> {
    let replicas = scale["spec"]["replicas"].as_i64().ok_or_else(|| {
        ApiError::BadRequest("spec.replicas of the Scale must be an integer".into())
    })?;
    // Upstream's ValidateScale, which guards custom resources whose schema does not.
    if !(0..=i64::from(i32::MAX)).contains(&replicas) {
        let detail = if replicas < 0 {
            "must be greater than or equal to 0"
        } else {
            "must be less than or equal to 2147483647"
        };
        let error = FieldError::invalid(&Path::new("spec").child("replicas"), replicas, detail);
        return Err(ApiError::invalid(
            "Scale",
            "autoscaling",
            meta::name(current),
            vec![error],
        ));
    }
    let mut next = current.clone();
    scale::set_replicas(&mut next, replicas, r.strategy.scale_paths());
    if let Some(rv) = scale["metadata"]["resourceVersion"].as_str() {
        meta::metadata(&mut next).insert("resourceVersion".into(), json!(rv));
    }
    Ok(next)
}

async fn update_scale(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let scale = request.object()?;
    let current = state
        .objects
        .get(r, request.info.namespace(), request.info.name())
        .await?;
    if let Some(given) = scale["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
        && Some(given) != current["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::stale(r.qualified(), request.info.name()));
    }
    let next = apply_scale(r, scale, &current)?;
    let answer = store_update(
        state,
        request,
        next,
        &current,
        Part::Scale,
        Ownership::Update,
    )
    .await?;
    Ok(answer.map_object(|object| scale_of(r, object)))
}

/// `pods/<name>/binding`: assigns the pod to a node, once.
async fn bind(state: &ApiState, request: &Request, binding: Value) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let node = binding["target"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "Binding",
                "",
                request.info.name(),
                vec![crate::validation::FieldError {
                    kind: crate::validation::ErrorKind::Required,
                    field: "target.name".into(),
                    value: None,
                    detail: String::new(),
                }],
            )
        })?;
    let name = request.info.name();
    state
        .objects
        .update_with(r, request.info.namespace(), name, |mut pod| {
            if meta::is_deleting(&pod) {
                return Err(ApiError::Conflict {
                    resource: crate::apiserver::QualifiedResource::new("", "pods/binding"),
                    name: name.to_owned(),
                    reason: format!("pod {name} is being deleted, cannot be assigned to a host"),
                });
            }
            if let Some(assigned) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
                return Err(ApiError::Conflict {
                    resource: crate::apiserver::QualifiedResource::new("", "pods/binding"),
                    name: name.to_owned(),
                    reason: format!("pod {name} is already assigned to node {assigned:?}"),
                });
            }
            pod["spec"]["nodeName"] = json!(node);
            set_scheduled_condition(&mut pod);
            Ok(Some(pod))
        })
        .await?;
    Ok(done())
}

/// Marks a pod PodScheduled=True, as binding does upstream.
fn set_scheduled_condition(pod: &mut Value) {
    let condition = json!({
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": null,
        "lastTransitionTime": meta::now(),
    });
    let conditions = &mut pod["status"]["conditions"];
    match conditions.as_array_mut() {
        Some(list) => {
            list.retain(|c| c["type"] != "PodScheduled");
            list.push(condition);
        }
        None => *conditions = json!([condition]),
    }
}

/// `pods/<name>/eviction`: with no disruption budgets to honour, an eviction is a delete.
async fn evict(state: &ApiState, request: &Request, eviction: Value) -> Result<Answer, ApiError> {
    let grace = eviction["deleteOptions"]["gracePeriodSeconds"].as_i64();
    let mut delete = Request {
        info: request.info.clone(),
        user: request.user.clone(),
        params: request.params.clone(),
        accept: request.accept,
        headers: request.headers.clone(),
        body: bytes::Bytes::new(),
    };
    delete.info.verb = Verb::Delete;
    delete.info.subresource = None;
    delete.params.grace_period_seconds = grace.or(delete.params.grace_period_seconds);
    super::delete::delete(state, &delete).await?;
    Ok(done())
}

/// What a binding or an eviction answers: a Status, 201, as upstream.
fn done() -> Answer {
    let code = StatusCode::CREATED;
    Answer::status(code, Status::success(Some(code.as_u16())))
}
