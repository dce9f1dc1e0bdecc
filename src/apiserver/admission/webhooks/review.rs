//! The AdmissionReview exchange with one webhook: the review it is sent, the HTTPS call, and
//! the checks upstream makes on its answer before believing it.

use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

use super::configurations::{Destination, Webhook};
use super::rules::Target;
use crate::apiserver::admission::Attributes;
use crate::apiserver::service_client::{self, CallError};
use crate::apiserver::storage::Objects;

/// The largest answer read from a webhook: upstream's request limit, since a mutating webhook
/// may answer with a patch as large as the object.
const MAX_ANSWER: usize = 3 * 1024 * 1024;

/// Why a webhook's answer could not be had or believed; worded as upstream words it, after
/// `failed calling webhook "NAME": `.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("failed to call webhook: Post \"{url}\": {source}")]
    Call { url: String, source: CallError },
    #[error("failed to call webhook: Post \"{url}\": {reason}")]
    Tls { url: String, reason: String },
    #[error("failed to call webhook: Post \"{url}\": context deadline exceeded")]
    Timeout { url: String },
    #[error(
        "failed to call webhook: the server responded with the status code {0} but did not return more information"
    )]
    Status(u16),
    #[error("received invalid webhook response: {0}")]
    Invalid(String),
    #[error("webhook does not accept v1 or v1beta1 AdmissionReview")]
    NoReviewVersion,
}

/// What a webhook answered.
#[derive(Debug, Default)]
pub struct Verdict {
    pub allowed: bool,
    /// The Status the webhook gave a denial, if any.
    pub status: Value,
    /// A JSON patch, for mutating webhooks.
    pub patch: Option<Value>,
    pub warnings: Vec<String>,
}

/// Sends `webhook` the review of `object` and `old` as `target`, the version of the resource
/// its rules named (the objects in that version), and returns its verdict.
pub async fn call(
    objects: &Objects,
    webhook: &Webhook,
    attributes: &Attributes<'_>,
    target: Target<'_>,
    object: Option<&Value>,
    old: Option<&Value>,
) -> Result<Verdict, ReviewError> {
    let version = webhook
        .review_versions
        .iter()
        .find(|v| matches!(v.as_str(), "v1" | "v1beta1"))
        .ok_or(ReviewError::NoReviewVersion)?;
    let api_version = format!("admission.k8s.io/{version}");
    let mut request = request(attributes, target, object, old);
    request["object"] = json!(object);
    request["oldObject"] = json!(old);
    let review = json!({
        "apiVersion": api_version,
        "kind": "AdmissionReview",
        "request": request,
    });
    let answer = exchange(objects, webhook, &review).await?;
    verdict(&answer, &api_version, version == "v1", &attributes.uid)
}

/// The `request` of an AdmissionReview but its objects, which CEL expressions see as `request`
/// too; `object` and `old` (in `target`'s version) tell its name and kind.
pub(in crate::apiserver::admission) fn request(
    attributes: &Attributes<'_>,
    target: Target<'_>,
    object: Option<&Value>,
    old: Option<&Value>,
) -> Value {
    let r = attributes.resource;
    let subresource = attributes.subresource.map(|s| s.name()).unwrap_or_default();
    let name = Some(attributes.name)
        .filter(|n| !n.is_empty())
        .or_else(|| object.and_then(|o| o["metadata"]["name"].as_str()))
        .unwrap_or_default();
    let kind = object
        .and_then(|o| o["kind"].as_str())
        .or_else(|| old.and_then(|o| o["kind"].as_str()))
        .unwrap_or(r.kind);
    let mut request = json!({
        "uid": attributes.uid,
        "kind": {"group": target.group, "version": target.version, "kind": kind},
        "resource": {"group": target.group, "version": target.version, "resource": target.resource},
        "requestKind": {"group": r.group, "version": r.version, "kind": kind},
        "requestResource": {"group": r.group, "version": r.version, "resource": r.plural},
        "name": name,
        "operation": attributes.operation.name(),
        "userInfo": {"username": attributes.user.name, "groups": attributes.user.groups},
        "dryRun": attributes.dry_run,
    });
    if let Some(kind) = attributes.operation.options_kind() {
        request["options"] = json!({"apiVersion": "meta.k8s.io/v1", "kind": kind});
    }
    if !subresource.is_empty() {
        request["subResource"] = json!(subresource);
        request["requestSubResource"] = json!(subresource);
    }
    if let Some(ns) = attributes.namespace {
        request["namespace"] = json!(ns);
    }
    request
}

/// Posts `review` to the webhook within its timeout and reads the answer.
async fn exchange(
    objects: &Objects,
    webhook: &Webhook,
    review: &Value,
) -> Result<Value, ReviewError> {
    let seconds = webhook.timeout.as_secs();
    let (url, destination) = match &webhook.client.destination {
        Destination::Url(url) => {
            let url = with_timeout(url, seconds);
            let resolved = service_client::resolve_url(&url).await;
            (url, resolved)
        }
        Destination::Service { service, path } => {
            let url = with_timeout(
                &format!("https://{}:{}{path}", service.server_name(), service.port),
                seconds,
            );
            let path = with_timeout(path, seconds);
            let resolved = service_client::resolve(objects, service)
                .await
                .map(|d| (d, path));
            (url, resolved)
        }
    };
    let failed = |source| ReviewError::Call {
        url: url.clone(),
        source,
    };
    let (destination, path) = destination.map_err(failed)?;
    let connector = webhook
        .client
        .tls
        .clone()
        .map_err(|reason| ReviewError::Tls {
            url: url.clone(),
            reason,
        })?;
    let host = match destination.addr.port() {
        443 => destination.server_name.clone(),
        port => format!("{}:{port}", destination.server_name),
    };
    let body = serde_json::to_vec(review).unwrap_or_default();
    let post = hyper::Request::post(path)
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::ACCEPT, "application/json")
        .body(Body::from(body))
        .map_err(|e| ReviewError::Invalid(e.to_string()))?;
    let exchanged = async {
        let response = service_client::send(&connector, &destination, post)
            .await
            .map_err(failed)?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| ReviewError::Invalid(format!("reading the answer: {e}")))?
            .to_bytes();
        if !status.is_success() {
            return Err(ReviewError::Status(status.as_u16()));
        }
        serde_json::from_slice(&body).map_err(|e| ReviewError::Invalid(e.to_string()))
    };
    tokio::time::timeout(webhook.timeout, exchanged)
        .await
        .map_err(|_| ReviewError::Timeout { url: url.clone() })?
}

/// Adds upstream's `timeout` query parameter, which tells the webhook how long it has.
fn with_timeout(url: &str, seconds: u64) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}timeout={seconds}s")
}

/// Reads the webhook's answer, refusing one for another review or of the wrong shape.
fn verdict(
    answer: &Value,
    api_version: &str,
    strict: bool,
    uid: &str,
) -> Result<Verdict, ReviewError> {
    let invalid = |message: String| Err(ReviewError::Invalid(message));
    if strict && (answer["apiVersion"] != api_version || answer["kind"] != "AdmissionReview") {
        return invalid(format!(
            "expected webhook response of {api_version}, Kind=AdmissionReview, got {}, Kind={}",
            answer["apiVersion"].as_str().unwrap_or_default(),
            answer["kind"].as_str().unwrap_or_default()
        ));
    }
    let response = &answer["response"];
    if !response.is_object() {
        return invalid("webhook response was absent".into());
    }
    let answered = response["uid"].as_str().unwrap_or_default();
    if answered != uid {
        return invalid(format!(
            "expected response.uid=\"{uid}\", got \"{answered}\""
        ));
    }
    let patch = match (response["patch"].as_str(), response["patchType"].as_str()) {
        (None, _) => None,
        (Some(_), None) if strict => {
            return invalid("webhook returned response.patch but not response.patchType".into());
        }
        (Some(_), Some(other)) if other != "JSONPatch" => {
            return invalid(format!(
                "webhook returned invalid response.patchType of \"{other}\""
            ));
        }
        (Some(encoded), _) => {
            let bytes = STANDARD
                .decode(encoded)
                .map_err(|e| ReviewError::Invalid(format!("the patch is not base64: {e}")))?;
            Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| ReviewError::Invalid(format!("the patch is not JSON: {e}")))?,
            )
        }
    };
    Ok(Verdict {
        allowed: response["allowed"].as_bool().unwrap_or(false),
        status: response["status"].clone(),
        patch,
        warnings: response["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w.as_str().map(str::to_owned))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(response: Value) -> Value {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
    }

    #[test]
    fn a_verdict_must_answer_this_review() {
        let v1 = "admission.k8s.io/v1";
        let ok = verdict(
            &answer(json!({"uid": "u1", "allowed": true})),
            v1,
            true,
            "u1",
        )
        .unwrap();
        assert!(ok.allowed && ok.patch.is_none());
        let other = verdict(
            &answer(json!({"uid": "u2", "allowed": true})),
            v1,
            true,
            "u1",
        );
        assert!(
            other
                .unwrap_err()
                .to_string()
                .contains("expected response.uid=\"u1\", got \"u2\"")
        );
        let bare = json!({"response": {"uid": "u1", "allowed": true}});
        assert!(verdict(&bare, v1, true, "u1").is_err());
        assert!(
            verdict(&bare, "admission.k8s.io/v1beta1", false, "u1")
                .unwrap()
                .allowed
        );
        assert!(verdict(&answer(json!(null)), v1, true, "u1").is_err());
    }

    #[test]
    fn patches_are_base64_json_patches_with_their_type() {
        let v1 = "admission.k8s.io/v1";
        let ops = json!([{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}]);
        let encoded = STANDARD.encode(ops.to_string());
        let typed = answer(
            json!({"uid": "u", "allowed": true, "patch": encoded, "patchType": "JSONPatch", "warnings": ["careful"]}),
        );
        let read = verdict(&typed, v1, true, "u").unwrap();
        assert_eq!(read.patch, Some(ops));
        assert_eq!(read.warnings, ["careful"]);
        let untyped = answer(json!({"uid": "u", "allowed": true, "patch": encoded}));
        assert!(verdict(&untyped, v1, true, "u").is_err());
        let garbled =
            answer(json!({"uid": "u", "allowed": true, "patch": "%%", "patchType": "JSONPatch"}));
        assert!(verdict(&garbled, v1, true, "u").is_err());
    }

    #[test]
    fn the_timeout_joins_the_query() {
        assert_eq!(with_timeout("/validate", 10), "/validate?timeout=10s");
        assert_eq!(
            with_timeout("https://h/v?x=1", 3),
            "https://h/v?x=1&timeout=3s"
        );
    }
}
