//! Defaults of admissionregistration/v1 (`SetDefaults_*Webhook`, `SetDefaults_MatchResources`,
//! `SetDefaults_ValidatingAdmissionPolicySpec`): a webhook or policy that is not told otherwise
//! fails closed, matches equivalent versions and sees every namespace and object; a webhook
//! besides waits ten seconds and is called on port 443. A binding's `paramRef` has no default
//! `parameterNotFoundAction` in v1: it is required.

use k8s_openapi::api::admissionregistration::v1::{
    MatchResources, MutatingWebhookConfiguration, RuleWithOperations, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{set_if_none, set_if_unset};

/// The fields every webhook shares, borrowed from either kind.
struct Common<'a> {
    failure_policy: &'a mut Option<String>,
    match_policy: &'a mut Option<String>,
    namespace_selector: &'a mut Option<LabelSelector>,
    object_selector: &'a mut Option<LabelSelector>,
    timeout_seconds: &'a mut Option<i32>,
    rules: &'a mut Option<Vec<RuleWithOperations>>,
    client_config: &'a mut WebhookClientConfig,
}

fn common(webhook: Common<'_>) {
    set_if_unset(webhook.failure_policy, "Fail");
    set_if_unset(webhook.match_policy, "Equivalent");
    set_if_none(webhook.namespace_selector, LabelSelector::default());
    set_if_none(webhook.object_selector, LabelSelector::default());
    set_if_none(webhook.timeout_seconds, 10);
    for rule in webhook.rules.iter_mut().flatten() {
        set_if_unset(&mut rule.scope, "*");
    }
    if let Some(service) = webhook.client_config.service.as_mut() {
        set_if_none(&mut service.port, 443);
    }
}

pub fn validating_webhook_configuration(configuration: &mut ValidatingWebhookConfiguration) {
    for webhook in configuration.webhooks.iter_mut().flatten() {
        common(Common {
            failure_policy: &mut webhook.failure_policy,
            match_policy: &mut webhook.match_policy,
            namespace_selector: &mut webhook.namespace_selector,
            object_selector: &mut webhook.object_selector,
            timeout_seconds: &mut webhook.timeout_seconds,
            rules: &mut webhook.rules,
            client_config: &mut webhook.client_config,
        });
    }
}

/// Mutating webhooks are, besides, called once per request unless asked to be called again.
pub fn mutating_webhook_configuration(configuration: &mut MutatingWebhookConfiguration) {
    for webhook in configuration.webhooks.iter_mut().flatten() {
        common(Common {
            failure_policy: &mut webhook.failure_policy,
            match_policy: &mut webhook.match_policy,
            namespace_selector: &mut webhook.namespace_selector,
            object_selector: &mut webhook.object_selector,
            timeout_seconds: &mut webhook.timeout_seconds,
            rules: &mut webhook.rules,
            client_config: &mut webhook.client_config,
        });
        set_if_unset(&mut webhook.reinvocation_policy, "Never");
    }
}

/// A policy's spec is defaulted even when absent, as upstream's is a struct, never nil.
pub fn validating_admission_policy(policy: &mut ValidatingAdmissionPolicy) {
    let spec = policy.spec.get_or_insert_with(Default::default);
    set_if_unset(&mut spec.failure_policy, "Fail");
    if let Some(constraints) = spec.match_constraints.as_mut() {
        match_resources(constraints);
    }
}

/// A binding's own constraints, when it has them, default as its policy's do.
pub fn validating_admission_policy_binding(binding: &mut ValidatingAdmissionPolicyBinding) {
    if let Some(resources) = binding
        .spec
        .as_mut()
        .and_then(|spec| spec.match_resources.as_mut())
    {
        match_resources(resources);
    }
}

fn match_resources(resources: &mut MatchResources) {
    set_if_unset(&mut resources.match_policy, "Equivalent");
    set_if_none(&mut resources.namespace_selector, LabelSelector::default());
    set_if_none(&mut resources.object_selector, LabelSelector::default());
    let rules = resources.resource_rules.iter_mut();
    for rule in rules
        .chain(resources.exclude_resource_rules.iter_mut())
        .flatten()
    {
        set_if_unset(&mut rule.scope, "*");
    }
}
