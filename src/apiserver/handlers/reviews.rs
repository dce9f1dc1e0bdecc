//! Answers to the reviews: each is decoded and validated as its kind, answered in its status
//! from the same authorizer every request meets, and handed back, never stored.

use k8s_openapi::api::authentication::v1::{SelfSubjectReview, SelfSubjectReviewStatus, UserInfo};
use k8s_openapi::api::authorization::v1::{
    LocalSubjectAccessReview, NonResourceAttributes, NonResourceRule, ResourceAttributes,
    ResourceRule, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview,
    SubjectAccessReviewStatus, SubjectRulesReviewStatus,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::prepare::{decode, place, validate};
use super::{Answer, Request};
use crate::apiserver::authorize::decide;
use crate::apiserver::{ApiError, ApiState, User};
use crate::rbac::Attributes;

/// POST of a review: its answer, 201.
pub async fn create(state: &ApiState, request: &Request) -> Result<Answer, ApiError> {
    let r = request.info.resource;
    let mut object = request.object()?;
    place(request, &mut object)?;
    let mut warnings = Vec::new();
    let object = decode(
        r,
        &object,
        true,
        request.params.field_validation,
        &mut warnings,
    )?;
    validate(r, &object, None)?;
    let answered = match r.plural {
        "selfsubjectaccessreviews" => {
            let mut review: SelfSubjectAccessReview = typed(object)?;
            let spec = &review.spec;
            let attributes = asked(
                spec.resource_attributes.as_ref(),
                spec.non_resource_attributes.as_ref(),
            );
            review.status = Some(access(state, &request.user, &attributes).await);
            json(&review)?
        }
        "subjectaccessreviews" => {
            let mut review: SubjectAccessReview = typed(object)?;
            let spec = &review.spec;
            let user = subject(spec.user.as_deref(), spec.groups.as_deref());
            let attributes = asked(
                spec.resource_attributes.as_ref(),
                spec.non_resource_attributes.as_ref(),
            );
            review.status = Some(access(state, &user, &attributes).await);
            json(&review)?
        }
        "localsubjectaccessreviews" => {
            let mut review: LocalSubjectAccessReview = typed(object)?;
            let spec = &review.spec;
            let user = subject(spec.user.as_deref(), spec.groups.as_deref());
            let attributes = asked(spec.resource_attributes.as_ref(), None);
            review.status = Some(access(state, &user, &attributes).await);
            json(&review)?
        }
        "selfsubjectrulesreviews" => {
            let mut review: SelfSubjectRulesReview = typed(object)?;
            let namespace = review.spec.namespace.clone().unwrap_or_default();
            review.status = Some(rules(state, &request.user, &namespace).await);
            json(&review)?
        }
        "selfsubjectreviews" => {
            let mut review: SelfSubjectReview = typed(object)?;
            review.status = Some(SelfSubjectReviewStatus {
                user_info: Some(UserInfo {
                    username: Some(request.user.name.clone()),
                    groups: Some(request.user.groups.clone()),
                    ..Default::default()
                }),
            });
            json(&review)?
        }
        _ => return Err(ApiError::MethodNotAllowed),
    };
    Ok(Answer {
        warnings,
        ..Answer::created(answered)
    })
}

fn typed<T: DeserializeOwned>(object: Value) -> Result<T, ApiError> {
    serde_json::from_value(object).map_err(|e| ApiError::BadRequest(e.to_string()))
}

fn json<T: Serialize>(review: &T) -> Result<Value, ApiError> {
    serde_json::to_value(review).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The user a subject access review asks about, as given (upstream adds no groups).
fn subject(user: Option<&str>, groups: Option<&[String]>) -> User {
    User {
        name: user.unwrap_or_default().to_owned(),
        groups: groups.unwrap_or_default().to_vec(),
    }
}

/// The request a review describes; validation made sure one of the two is there.
fn asked(
    resource: Option<&ResourceAttributes>,
    path: Option<&NonResourceAttributes>,
) -> Attributes {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    match (resource, path) {
        (Some(a), _) => Attributes::resource(
            &text(&a.verb),
            &text(&a.group),
            &text(&a.resource),
            &text(&a.subresource),
            &text(&a.namespace),
            &text(&a.name),
        ),
        (None, Some(p)) => Attributes::non_resource(&text(&p.verb), &text(&p.path)),
        (None, None) => Attributes::non_resource("", ""),
    }
}

async fn access(
    state: &ApiState,
    user: &User,
    attributes: &Attributes,
) -> SubjectAccessReviewStatus {
    let (allowed, reason) = match decide(state, user, attributes).await {
        Ok(reason) => (true, reason),
        Err(reason) => (false, reason),
    };
    SubjectAccessReviewStatus {
        allowed,
        reason: (!reason.is_empty()).then_some(reason),
        ..Default::default()
    }
}

/// What `user` may do in `namespace` by RBAC. Members of `system:masters` and nodes are
/// decided by more than RBAC, so their answer is marked incomplete, as upstream marks it.
async fn rules(state: &ApiState, user: &User, namespace: &str) -> SubjectRulesReviewStatus {
    state.policy.loaded().await;
    let held = state.policy.get().rules_for(user, namespace);
    let mut status = SubjectRulesReviewStatus {
        incomplete: crate::rbac::node_name(&user.name, &user.groups).is_some(),
        ..Default::default()
    };
    for rule in held {
        if let Some(urls) = rule.non_resource_urls.filter(|u| !u.is_empty()) {
            status.non_resource_rules.push(NonResourceRule {
                verbs: rule.verbs,
                non_resource_urls: Some(urls),
            });
        } else {
            status.resource_rules.push(ResourceRule {
                verbs: rule.verbs,
                api_groups: rule.api_groups,
                resources: rule.resources,
                resource_names: rule.resource_names,
            });
        }
    }
    status
}
