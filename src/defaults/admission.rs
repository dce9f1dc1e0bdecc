//! Webhook configuration defaults (admissionregistration/v1's `SetDefaults_*Webhook`): a
//! webhook that is not told otherwise fails closed, matches equivalent versions, sees every
//! namespace and object, waits ten seconds, and is called on port 443.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhookConfiguration,
    WebhookClientConfig,
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
