//! `serviceaccounts/<name>/token` (TokenRequest, `kubectl create token`): a signed token for the
//! service account, for the audiences asked for (the API server's own by default), for an
//! hour unless told otherwise, and bound to a pod when one is named, as upstream issues them.

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec, TokenRequestStatus};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde_json::Value;

use super::{Answer, Request};
use crate::apiserver::tokens::{Claims, ISSUER, KubernetesClaims, Reference};
use crate::apiserver::{ApiError, ApiState};
use crate::registry;
use crate::validation::{FieldError, Path};

/// A token lives an hour unless the request says otherwise.
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest and longest lives upstream allows.
const MIN_EXPIRATION_SECONDS: i64 = 600;
const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;

/// Answers a TokenRequest `body` posted for a service account.
pub async fn request(
    state: &ApiState,
    request: &Request,
    mut body: Value,
) -> Result<Answer, ApiError> {
    let namespace = request.info.namespace().unwrap_or_default();
    let name = request.info.name();
    // What a client sends as status (kubectl sends an empty one) is the server's to fill.
    if let Some(object) = body.as_object_mut() {
        object.remove("status");
    }
    let asked: TokenRequest = serde_json::from_value(body).map_err(|e| {
        ApiError::BadRequest(format!(
            "TokenRequest in version \"v1\" cannot be handled as a TokenRequest: {e}"
        ))
    })?;
    let mut spec = asked.spec;
    if spec.audiences.is_empty() {
        spec.audiences = vec![ISSUER.to_owned()];
    }
    let seconds = *spec
        .expiration_seconds
        .get_or_insert(DEFAULT_EXPIRATION_SECONDS);
    let errors = validate(&spec, seconds);
    if !errors.is_empty() {
        return Err(ApiError::invalid(
            "TokenRequest",
            "authentication.k8s.io",
            name,
            errors,
        ));
    }
    let accounts = resource("serviceaccounts")?;
    let account: ServiceAccount = typed(state.objects.get(accounts, Some(namespace), name).await?)?;
    let pod = match spec.bound_object_ref.as_ref() {
        None => None,
        Some(bound) => Some(bound_pod(state, namespace, name, bound).await?),
    };
    let now = jiff::Timestamp::now();
    let expires = now
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let claims = Claims {
        aud: spec.audiences.clone(),
        exp: expires.as_second(),
        iat: now.as_second(),
        iss: ISSUER.to_owned(),
        nbf: now.as_second(),
        sub: format!("system:serviceaccount:{namespace}:{name}"),
        kubernetes: KubernetesClaims {
            namespace: namespace.to_owned(),
            serviceaccount: Reference {
                name: name.to_owned(),
                uid: account.metadata.uid.unwrap_or_default(),
            },
            pod,
        },
    };
    let token = state
        .signer
        .issue(&claims)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let answered = TokenRequest {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            creation_timestamp: Some(Time(now)),
            ..Default::default()
        },
        spec,
        status: Some(TokenRequestStatus {
            expiration_timestamp: Time(expires),
            token,
        }),
    };
    let body = serde_json::to_value(answered).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Answer::created(body))
}

fn validate(spec: &TokenRequestSpec, seconds: i64) -> Vec<FieldError> {
    let path = Path::new("spec").child("expirationSeconds");
    let mut errors = Vec::new();
    if seconds < MIN_EXPIRATION_SECONDS {
        errors.push(FieldError::invalid(
            &path,
            seconds,
            "may not specify a duration less than 10 minutes",
        ));
    }
    if seconds > MAX_EXPIRATION_SECONDS {
        errors.push(FieldError::invalid(
            &path,
            seconds,
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    if let Some(kind) = spec
        .bound_object_ref
        .as_ref()
        .and_then(|b| b.kind.as_deref())
        .filter(|k| *k != "Pod")
    {
        errors.push(FieldError::not_supported(
            &Path::new("spec").child("boundObjectRef").child("kind"),
            kind,
            &["Pod"],
        ));
    }
    errors
}

/// The pod a token is bound to: it must exist, be the one named (by UID, when given), and run
/// as the service account the token is for.
async fn bound_pod(
    state: &ApiState,
    namespace: &str,
    account: &str,
    bound: &k8s_openapi::api::authentication::v1::BoundObjectReference,
) -> Result<Reference, ApiError> {
    let name = bound.name.as_deref().unwrap_or_default();
    let pod: Pod = typed(
        state
            .objects
            .get(resource("pods")?, Some(namespace), name)
            .await?,
    )?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    if let Some(given) = bound.uid.as_deref().filter(|u| !u.is_empty() && *u != uid) {
        return Err(ApiError::Conflict {
            resource: crate::apiserver::QualifiedResource::new("", "pods"),
            name: name.to_owned(),
            reason: format!(
                "the UID in the bound object reference ({given}) does not match the UID in record ({uid}). The object might have been deleted and then recreated"
            ),
        });
    }
    let runs_as = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.as_deref())
        .unwrap_or("default");
    if runs_as != account {
        return Err(ApiError::BadRequest(format!(
            "cannot bind token for serviceaccount {account:?} to pod running with different serviceaccount name."
        )));
    }
    Ok(Reference {
        name: name.to_owned(),
        uid,
    })
}

fn resource(plural: &str) -> Result<&'static registry::Resource, ApiError> {
    registry::find("", "v1", plural).ok_or(ApiError::NoSuchPath)
}

fn typed<T: serde::de::DeserializeOwned>(object: Value) -> Result<T, ApiError> {
    serde_json::from_value(object).map_err(|e| ApiError::Internal(e.to_string()))
}
