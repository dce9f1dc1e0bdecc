//! Admission webhooks (admissionregistration.k8s.io/v1): every write a webhook's rules,
//! selectors and match conditions cover is sent to it as an AdmissionReview. Mutating webhooks
//! run one after another, each seeing the last one's patch, and those that ask to are called
//! again when a later one changed the object; validating webhooks run together and any of
//! them can refuse. A webhook that cannot be called refuses the write unless its failure
//! policy is `Ignore`.

mod configurations;
mod review;
pub(super) mod rules;

use futures::future::join_all;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use configurations::Webhook;
pub use configurations::Webhooks;
pub(super) use configurations::derive;
pub(super) use review::request;
use review::{ReviewError, Verdict};
use rules::Target;

use super::{Attributes, Decode};
use crate::apiserver::{ApiError, ApiState};
use crate::registry::Resource;

/// Runs the mutating webhooks that apply, in order, patching `object` with their answers;
/// `decode` reads a patched object back as its kind does (defaults included).
pub async fn mutate(
    state: &ApiState,
    attributes: &Attributes<'_>,
    object: &mut Value,
    decode: &Decode<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let configured = state.admission.get();
    // The object as each webhook last saw it, for the second round.
    let mut seen: Vec<(&Webhook, Value)> = Vec::new();
    for webhook in &configured.webhooks.mutating {
        if mutate_once(state, webhook, attributes, object, decode, warnings).await? {
            seen.push((webhook, object.clone()));
        }
    }
    // Upstream's reinvocation: a webhook that asks for it is called once more when a later
    // webhook changed the object after it saw it.
    for (webhook, saw) in seen {
        if webhook.reinvoke && saw != *object {
            mutate_once(state, webhook, attributes, object, decode, warnings).await?;
        }
    }
    Ok(())
}

/// Calls one mutating webhook if it applies and applies its patch; whether it was called.
async fn mutate_once(
    state: &ApiState,
    webhook: &Webhook,
    attributes: &Attributes<'_>,
    object: &mut Value,
    decode: &Decode<'_>,
    warnings: &mut Vec<String>,
) -> Result<bool, ApiError> {
    let Some(version) = applies(state, webhook, attributes, Some(object)).await? else {
        return Ok(false);
    };
    let (sent, called) = ask(state, webhook, attributes, version, Some(object)).await;
    let Some(verdict) = judged(webhook, called)? else {
        return Ok(true);
    };
    warnings.extend(verdict.warnings.iter().cloned());
    if !verdict.allowed {
        return Err(denied(webhook, &verdict));
    }
    // A delete has no object to patch; its patches are ignored as upstream ignores them.
    if let Some(patch) = verdict.patch.filter(|_| attributes.operation.has_object()) {
        let sent = sent.unwrap_or_default();
        let patched = crate::patch::json(&sent, &patch)
            .map_err(|e| failed(webhook, &format!("the patch cannot be applied: {e}")))?;
        *object = decode(&convert(patched, version, attributes.resource))?;
    }
    Ok(true)
}

/// Runs the validating webhooks that apply, all at once; the first refusal (in their order)
/// is the answer. `object` is the new object, none for a delete.
pub async fn validate(
    state: &ApiState,
    attributes: &Attributes<'_>,
    object: Option<&Value>,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let configured = state.admission.get();
    let calls = configured
        .webhooks
        .validating
        .iter()
        .map(|webhook| async move {
            let Some(version) = applies(state, webhook, attributes, object).await? else {
                return Ok(None);
            };
            let (_, called) = ask(state, webhook, attributes, version, object).await;
            judged(webhook, called).map(|verdict| verdict.map(|v| (webhook, v)))
        });
    for outcome in join_all(calls).await {
        let Some((webhook, verdict)) = outcome? else {
            continue;
        };
        warnings.extend(verdict.warnings.iter().cloned());
        if !verdict.allowed {
            return Err(denied(webhook, &verdict));
        }
    }
    Ok(())
}

/// Sends `webhook` the request through `version`, the objects converted to it; returns the
/// object as sent, which a patch applies to, and the outcome.
async fn ask(
    state: &ApiState,
    webhook: &Webhook,
    attributes: &Attributes<'_>,
    version: &'static Resource,
    object: Option<&Value>,
) -> (Option<Value>, Result<Verdict, ReviewError>) {
    let r = attributes.resource;
    let sent = object.map(|o| convert(o.clone(), r, version));
    let old = attributes.old.map(|old| convert(old.clone(), r, version));
    let target = target(version, attributes);
    let called = review::call(
        &state.objects,
        webhook,
        attributes,
        target,
        sent.as_ref(),
        old.as_ref(),
    )
    .await;
    (sent, called)
}

/// Whether `webhook` is sent this request, and through which version of the resource: the
/// one [`named_version`] finds its rules name.
async fn applies(
    state: &ApiState,
    webhook: &Webhook,
    attributes: &Attributes<'_>,
    object: Option<&Value>,
) -> Result<Option<&'static Resource>, ApiError> {
    if exempt(attributes.resource) {
        return Ok(None);
    }
    let operation = attributes.operation;
    let named = |target: Target<'static>| rules::any_matches(&webhook.rules, operation, target);
    let Some(chosen) = named_version(state, attributes, webhook.equivalent, named) else {
        return Ok(None);
    };
    if !rules::object_selected(&webhook.object_selector, object, attributes.old) {
        return Ok(None);
    }
    if !namespace_selected(state, &webhook.namespace_selector, attributes, object).await? {
        return Ok(None);
    }
    if !conditions_hold(webhook, attributes, target(chosen, attributes), object)? {
        return Ok(None);
    }
    Ok(Some(chosen))
}

/// The version of the request's resource that rules name, `named` telling whether they name
/// a version: the request's own, else (with `equivalent`, `matchPolicy: Equivalent`) another
/// served version of the same resource.
pub(super) fn named_version(
    state: &ApiState,
    attributes: &Attributes<'_>,
    equivalent: bool,
    named: impl Fn(Target<'static>) -> bool,
) -> Option<&'static Resource> {
    let r = attributes.resource;
    if named(target(r, attributes)) {
        return Some(r);
    }
    if !equivalent {
        return None;
    }
    let served = state.served();
    served.served.all().find(|other| {
        other.group == r.group
            && other.plural == r.plural
            && other.version != r.version
            && named(target(other, attributes))
    })
}

/// The configurations of admission itself are never sent to webhooks, nor held to policies, so
/// a broken webhook or policy cannot keep itself from being removed.
pub(super) fn exempt(r: &Resource) -> bool {
    r.group == super::GROUP
}

/// Whether `selector` admits the request: a namespaced object is judged by its namespace's
/// labels, a Namespace by its own, any other cluster-scoped object always passes.
pub(super) async fn namespace_selected(
    state: &ApiState,
    selector: &LabelSelector,
    attributes: &Attributes<'_>,
    object: Option<&Value>,
) -> Result<bool, ApiError> {
    if rules::is_empty(selector) {
        return Ok(true);
    }
    let r = attributes.resource;
    let labels = if r.group.is_empty() && r.plural == "namespaces" {
        object.or(attributes.old).map(rules::labels)
    } else if r.namespaced && attributes.namespace.is_some() {
        namespace(state, attributes)
            .await?
            .as_ref()
            .map(rules::labels)
    } else {
        return Ok(true);
    };
    Ok(crate::controllers::selector::matches(
        selector,
        labels.as_ref(),
    ))
}

/// The Namespace a namespaced request's object is in, if it exists; none for cluster-scoped
/// requests.
pub(super) async fn namespace(
    state: &ApiState,
    attributes: &Attributes<'_>,
) -> Result<Option<Value>, ApiError> {
    let Some(ns) = attributes
        .namespace
        .filter(|_| attributes.resource.namespaced)
    else {
        return Ok(None);
    };
    let namespaces = crate::registry::find("", "v1", "namespaces").ok_or(ApiError::NoSuchPath)?;
    state.objects.find(namespaces, None, ns).await
}

/// Whether every `matchConditions` expression holds; one that cannot be evaluated counts as a
/// failure to call the webhook.
fn conditions_hold(
    webhook: &Webhook,
    attributes: &Attributes<'_>,
    target: Target<'_>,
    object: Option<&Value>,
) -> Result<bool, ApiError> {
    if webhook.match_conditions.is_empty() {
        return Ok(true);
    }
    let null = Value::Null;
    let request = request(attributes, target, object, attributes.old);
    let variables = [
        ("object", object.unwrap_or(&null)),
        ("oldObject", attributes.old.unwrap_or(&null)),
        ("request", &request),
    ];
    for condition in &webhook.match_conditions {
        match crate::crd::cel::holds(&condition.expression, &variables) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(error) if webhook.ignore_failure => {
                tracing::warn!(webhook = %webhook.name, condition = %condition.name, %error, "a match condition failed; the webhook is passed over");
                return Ok(false);
            }
            Err(error) => {
                return Err(failed(
                    webhook,
                    &format!("match condition {:?} failed: {error}", condition.name),
                ));
            }
        }
    }
    Ok(true)
}

/// The request's resource as rules name it, in `version`.
pub(super) fn target(version: &'static Resource, attributes: &Attributes<'_>) -> Target<'static> {
    Target {
        group: version.group,
        version: version.version,
        resource: version.plural,
        subresource: attributes.subresource.map(|s| s.name()).unwrap_or_default(),
        namespaced: version.namespaced,
    }
}

/// `object`, of `from`'s version, in `to`'s: through the stored form, as reads convert.
pub(super) fn convert(object: Value, from: &Resource, to: &Resource) -> Value {
    // A delete's missing object stays missing.
    if std::ptr::eq(from, to) || object.is_null() {
        return object;
    }
    crate::apiserver::storage::view(to, from.strategy.to_storage(object))
}

/// The verdict of a call, or none when a failed call is passed over by `failurePolicy:
/// Ignore`.
fn judged(
    webhook: &Webhook,
    called: Result<Verdict, ReviewError>,
) -> Result<Option<Verdict>, ApiError> {
    match called {
        Ok(verdict) => Ok(Some(verdict)),
        Err(error) if webhook.ignore_failure => {
            tracing::warn!(webhook = %webhook.name, %error, "a webhook failed; its failure policy passes it over");
            Ok(None)
        }
        Err(error) => Err(failed(webhook, &error.to_string())),
    }
}

fn failed(webhook: &Webhook, error: &str) -> ApiError {
    ApiError::Internal(format!(
        "Internal error occurred: failed calling webhook \"{}\": {error}",
        webhook.name
    ))
}

/// A webhook's refusal, as upstream words it and with the code the webhook gave (at least
/// 400).
fn denied(webhook: &Webhook, verdict: &Verdict) -> ApiError {
    let status = &verdict.status;
    let by = format!("admission webhook \"{}\" denied the request", webhook.name);
    let message = match (status["message"].as_str(), status["reason"].as_str()) {
        (Some(m), _) if !m.is_empty() => format!("{by}: {m}"),
        (_, Some(r)) if !r.is_empty() => format!("{by}: {r}"),
        _ => format!("{by} without explanation"),
    };
    let code = status["code"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400)
        .unwrap_or(400);
    ApiError::Refused {
        code,
        reason: status["reason"].as_str().unwrap_or_default().to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_equivalent_version_is_sent_the_object_converted() {
        let find = |version| {
            crate::registry::find("autoscaling", version, "horizontalpodautoscalers").unwrap()
        };
        let (v1, v2) = (find("v1"), find("v2"));
        let object = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                     "targetCPUUtilizationPercentage": 50},
        });
        let sent = convert(object, v1, v2);
        assert_eq!(sent["apiVersion"], "autoscaling/v2");
        assert_eq!(
            sent["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            50
        );
        let back = convert(sent, v2, v1);
        assert_eq!(back["apiVersion"], "autoscaling/v1");
        assert_eq!(back["spec"]["targetCPUUtilizationPercentage"], 50);
        assert_eq!(
            convert(Value::Null, v1, v2),
            Value::Null,
            "a delete sends none"
        );
    }
}
