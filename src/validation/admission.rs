//! Validating and mutating webhook configurations (upstream's
//! `pkg/apis/admissionregistration/validation`, with the URL and service checks of
//! `k8s.io/apiserver/pkg/util/webhook`): webhook names, the requests a webhook receives, how
//! the API server reaches it and what it does when the webhook fails.
//!
//! Objects are expected defaulted (failure and match policies, timeouts, selectors, rule
//! scopes, the reinvocation policy); unset optional fields are skipped as upstream skips nil
//! ones. The CEL expressions of match conditions are not compiled: only their presence and
//! names are checked.

use std::collections::HashSet;

use k8s_openapi::api::admissionregistration::v1::{
    MatchCondition, MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations,
    ValidatingWebhook, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::field::{ErrorList, FieldError, Path};
use super::go;
use super::meta::label_selector;
use super::meta::object_meta_of_write;
use super::names::{NameRule, is_dns1123_subdomain, is_qualified_name};
use super::opt_slice;
use super::webhook;

/// The AdmissionReview versions the API server can send; a webhook must accept one of them.
// The enumerations below are sorted, as upstream lists them in its messages.
pub(super) const FAILURE_POLICIES: [&str; 2] = ["Fail", "Ignore"];
pub(super) const MATCH_POLICIES: [&str; 2] = ["Equivalent", "Exact"];
const SIDE_EFFECT_CLASSES: [&str; 4] = ["None", "NoneOnDryRun", "Some", "Unknown"];
/// Webhooks are also called for dry-run requests, so new ones must be free of side effects.
const NO_SIDE_EFFECT_CLASSES: [&str; 2] = ["None", "NoneOnDryRun"];
const OPERATIONS: [&str; 5] = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const REINVOCATION_POLICIES: [&str; 2] = ["IfNeeded", "Never"];
const SCOPES: [&str; 3] = ["*", "Cluster", "Namespaced"];
const MAX_MATCH_CONDITIONS: usize = 64;

/// Validates a ValidatingWebhookConfiguration on create (`old` is `None`) or update.
pub fn validating_webhook_configuration(
    new: &ValidatingWebhookConfiguration,
    old: Option<&ValidatingWebhookConfiguration>,
) -> ErrorList {
    let hooks: Vec<Webhook<'_>> = opt_slice(&new.webhooks).iter().map(Webhook::from).collect();
    let old_hooks: Option<Vec<Webhook<'_>>> =
        old.map(|o| opt_slice(&o.webhooks).iter().map(Webhook::from).collect());
    configuration(
        &new.metadata,
        &hooks,
        old.map(|o| &o.metadata),
        old_hooks.as_deref(),
    )
}

/// Validates a MutatingWebhookConfiguration on create (`old` is `None`) or update.
pub fn mutating_webhook_configuration(
    new: &MutatingWebhookConfiguration,
    old: Option<&MutatingWebhookConfiguration>,
) -> ErrorList {
    let hooks: Vec<Webhook<'_>> = opt_slice(&new.webhooks).iter().map(Webhook::from).collect();
    let old_hooks: Option<Vec<Webhook<'_>>> =
        old.map(|o| opt_slice(&o.webhooks).iter().map(Webhook::from).collect());
    configuration(
        &new.metadata,
        &hooks,
        old.map(|o| &o.metadata),
        old_hooks.as_deref(),
    )
}

/// The fields validating and mutating webhooks share, so one set of checks serves both kinds.
struct Webhook<'a> {
    name: &'a str,
    admission_review_versions: &'a [String],
    client_config: &'a WebhookClientConfig,
    failure_policy: Option<&'a str>,
    match_conditions: &'a Option<Vec<MatchCondition>>,
    match_policy: Option<&'a str>,
    namespace_selector: Option<&'a LabelSelector>,
    object_selector: Option<&'a LabelSelector>,
    /// Only mutating webhooks have one.
    reinvocation_policy: Option<&'a str>,
    rules: &'a [RuleWithOperations],
    /// Empty when unset: the field is required, and an empty value is no valid class either.
    side_effects: &'a str,
    timeout_seconds: Option<i32>,
}

impl<'a> From<&'a ValidatingWebhook> for Webhook<'a> {
    fn from(hook: &'a ValidatingWebhook) -> Self {
        Self {
            name: &hook.name,
            admission_review_versions: &hook.admission_review_versions,
            client_config: &hook.client_config,
            failure_policy: hook.failure_policy.as_deref(),
            match_conditions: &hook.match_conditions,
            match_policy: hook.match_policy.as_deref(),
            namespace_selector: hook.namespace_selector.as_ref(),
            object_selector: hook.object_selector.as_ref(),
            reinvocation_policy: None,
            rules: opt_slice(&hook.rules),
            side_effects: &hook.side_effects,
            timeout_seconds: hook.timeout_seconds,
        }
    }
}

impl<'a> From<&'a MutatingWebhook> for Webhook<'a> {
    fn from(hook: &'a MutatingWebhook) -> Self {
        Self {
            name: &hook.name,
            admission_review_versions: &hook.admission_review_versions,
            client_config: &hook.client_config,
            failure_policy: hook.failure_policy.as_deref(),
            match_conditions: &hook.match_conditions,
            match_policy: hook.match_policy.as_deref(),
            namespace_selector: hook.namespace_selector.as_ref(),
            object_selector: hook.object_selector.as_ref(),
            reinvocation_policy: hook.reinvocation_policy.as_deref(),
            rules: opt_slice(&hook.rules),
            side_effects: &hook.side_effects,
            timeout_seconds: hook.timeout_seconds,
        }
    }
}

/// Rules that newer API servers added: an update keeps a configuration that was stored before
/// them working, by applying each only if the stored webhooks already followed it.
struct Options {
    /// Skip the match conditions when they are exactly those stored.
    ignore_match_conditions: bool,
    require_no_side_effects: bool,
    require_recognized_review_version: bool,
    require_unique_names: bool,
}

impl Options {
    const CREATE: Self = Self {
        ignore_match_conditions: false,
        require_no_side_effects: true,
        require_recognized_review_version: true,
        require_unique_names: true,
    };

    fn update(new: &[Webhook<'_>], old: &[Webhook<'_>]) -> Self {
        let mut names = HashSet::new();
        Self {
            ignore_match_conditions: new.len() == old.len()
                && new
                    .iter()
                    .zip(old)
                    .all(|(n, o)| n.match_conditions == o.match_conditions),
            require_no_side_effects: old
                .iter()
                .all(|h| NO_SIDE_EFFECT_CLASSES.contains(&h.side_effects)),
            require_recognized_review_version: old.iter().all(|h| {
                h.admission_review_versions.is_empty()
                    || h.admission_review_versions
                        .iter()
                        .any(|v| webhook::ACCEPTED_REVIEW_VERSIONS.contains(&v.as_str()))
            }),
            require_unique_names: old.iter().all(|h| names.insert(h.name)),
        }
    }
}

fn configuration(
    meta: &ObjectMeta,
    hooks: &[Webhook<'_>],
    old_meta: Option<&ObjectMeta>,
    old_hooks: Option<&[Webhook<'_>]>,
) -> ErrorList {
    let options = old_hooks.map_or(Options::CREATE, |old| Options::update(hooks, old));
    let mut errs = object_meta_of_write(meta, false, NameRule::DnsSubdomain, old_meta);
    let path = Path::new("webhooks");
    let mut names = HashSet::new();
    for (i, hook) in hooks.iter().enumerate() {
        let hook_path = path.index(i);
        errs.extend(webhook(hook, &options, &hook_path));
        errs.extend(admission_review_versions(
            hook.admission_review_versions,
            options.require_recognized_review_version,
            &hook_path.child("admissionReviewVersions"),
        ));
        if options.require_unique_names && !hook.name.is_empty() && !names.insert(hook.name) {
            errs.push(FieldError::duplicate(&hook_path.child("name"), hook.name));
        }
    }
    errs
}

fn webhook(hook: &Webhook<'_>, options: &Options, path: &Path) -> ErrorList {
    let mut errs: ErrorList = fully_qualified_name(hook.name, &path.child("name"))
        .into_iter()
        .collect();
    let rules_path = path.child("rules");
    for (i, rule) in hook.rules.iter().enumerate() {
        errs.extend(rule_with_operations(rule, &rules_path.index(i)));
    }
    if let Some(policy) = hook
        .failure_policy
        .filter(|p| !FAILURE_POLICIES.contains(p))
    {
        errs.push(FieldError::not_supported(
            &path.child("failurePolicy"),
            policy,
            &FAILURE_POLICIES,
        ));
    }
    if let Some(policy) = hook.match_policy.filter(|p| !MATCH_POLICIES.contains(p)) {
        errs.push(FieldError::not_supported(
            &path.child("matchPolicy"),
            policy,
            &MATCH_POLICIES,
        ));
    }
    let allowed: &[&str] = if options.require_no_side_effects {
        &NO_SIDE_EFFECT_CLASSES
    } else {
        &SIDE_EFFECT_CLASSES
    };
    let side_effects_path = path.child("sideEffects");
    if hook.side_effects.is_empty() {
        errs.push(FieldError::required(
            &side_effects_path,
            format!("must specify one of {}", allowed.join(", ")),
        ));
    } else if !allowed.contains(&hook.side_effects) {
        errs.push(FieldError::not_supported(
            &side_effects_path,
            hook.side_effects,
            allowed,
        ));
    }
    if let Some(timeout) = hook.timeout_seconds.filter(|t| !(1..=30).contains(t)) {
        errs.push(FieldError::invalid(
            &path.child("timeoutSeconds"),
            timeout,
            "the timeout value must be between 1 and 30 seconds",
        ));
    }
    if let Some(selector) = hook.namespace_selector {
        errs.extend(label_selector(
            Some(selector),
            &path.child("namespaceSelector"),
        ));
    }
    if let Some(selector) = hook.object_selector {
        errs.extend(label_selector(
            Some(selector),
            &path.child("objectSelector"),
        ));
    }
    if let Some(policy) = hook
        .reinvocation_policy
        .filter(|p| !REINVOCATION_POLICIES.contains(p))
    {
        errs.push(FieldError::not_supported(
            &path.child("reinvocationPolicy"),
            policy,
            &REINVOCATION_POLICIES,
        ));
    }
    errs.extend(client_config(
        hook.client_config,
        &path.child("clientConfig"),
    ));
    if !options.ignore_match_conditions {
        errs.extend(match_conditions(
            opt_slice(hook.match_conditions),
            &path.child("matchConditions"),
        ));
    }
    errs
}

/// Webhook names are qualified by their owner's domain (at least three DNS segments, such as
/// `validate.nginx.ingress.kubernetes.io`), so two vendors' webhooks never share one.
fn fully_qualified_name(name: &str, path: &Path) -> Option<FieldError> {
    if name.is_empty() {
        return Some(FieldError::required(path, ""));
    }
    let msgs = is_dns1123_subdomain(name);
    if !msgs.is_empty() {
        return Some(FieldError::invalid(path, name, msgs.join(",")));
    }
    (name.split('.').count() < 3).then(|| {
        FieldError::invalid(
            path,
            name,
            "should be a domain with at least three segments separated by dots",
        )
    })
}

fn has_wildcard(items: &[String]) -> bool {
    items.iter().any(|item| item == "*")
}

/// Which requests a webhook receives: operations on resources of API groups and versions, with
/// `*` standing for all and then standing alone.
pub(super) fn rule_with_operations(rule: &RuleWithOperations, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let operations = opt_slice(&rule.operations);
    let operations_path = path.child("operations");
    if operations.is_empty() {
        errs.push(FieldError::required(&operations_path, ""));
    }
    if operations.len() > 1 && has_wildcard(operations) {
        let value = go::slice(
            "admissionregistration.OperationType",
            Some(operations.iter().map(|o| go::quote(o))),
        );
        errs.push(FieldError::invalid(
            &operations_path,
            value,
            "if '*' is present, must not specify other operations",
        ));
    }
    for (i, operation) in operations.iter().enumerate() {
        if !OPERATIONS.contains(&operation.as_str()) {
            errs.push(FieldError::not_supported(
                &operations_path.index(i),
                operation,
                &OPERATIONS,
            ));
        }
    }
    let groups = opt_slice(&rule.api_groups);
    let groups_path = path.child("apiGroups");
    if groups.is_empty() {
        errs.push(FieldError::required(&groups_path, ""));
    }
    if groups.len() > 1 && has_wildcard(groups) {
        errs.push(FieldError::invalid(
            &groups_path,
            go::strings(Some(groups)),
            "if '*' is present, must not specify other API groups",
        ));
    }
    // An empty group is the core group; an empty version names nothing.
    let versions = opt_slice(&rule.api_versions);
    let versions_path = path.child("apiVersions");
    if versions.is_empty() {
        errs.push(FieldError::required(&versions_path, ""));
    }
    if versions.len() > 1 && has_wildcard(versions) {
        errs.push(FieldError::invalid(
            &versions_path,
            go::strings(Some(versions)),
            "if '*' is present, must not specify other API versions",
        ));
    }
    for (i, version) in versions.iter().enumerate() {
        if version.is_empty() {
            errs.push(FieldError::required(&versions_path.index(i), ""));
        }
    }
    errs.extend(resources(
        opt_slice(&rule.resources),
        &path.child("resources"),
    ));
    if let Some(scope) = rule.scope.as_deref().filter(|s| !SCOPES.contains(s)) {
        errs.push(FieldError::not_supported(
            &path.child("scope"),
            scope,
            &SCOPES,
        ));
    }
    errs
}

/// Resources, possibly with a subresource (`pods/status`), where a wildcard may not be combined
/// with entries it already covers.
fn resources(resources: &[String], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if resources.is_empty() {
        errs.push(FieldError::required(path, ""));
    }
    // Resources given as `x/*`, and subresources given as `*/x`.
    let mut all_subresources_of: HashSet<&str> = HashSet::new();
    let mut of_all_resources: HashSet<&str> = HashSet::new();
    let mut has_double_wildcard = false;
    let mut has_single_wildcard = false;
    // Upstream keeps whether the last entry without a subresource was not `*`.
    let mut has_resource_without_subresource = false;
    for (i, entry) in resources.iter().enumerate() {
        if entry.is_empty() {
            errs.push(FieldError::required(&path.index(i), ""));
            continue;
        }
        has_double_wildcard |= entry == "*/*";
        has_single_wildcard |= entry == "*";
        let Some((resource, subresource)) = entry.split_once('/') else {
            has_resource_without_subresource = entry != "*";
            continue;
        };
        if all_subresources_of.contains(resource) {
            errs.push(FieldError::invalid(
                &path.index(i),
                entry,
                format!("if '{resource}/*' is present, must not specify {entry}"),
            ));
        }
        if of_all_resources.contains(subresource) {
            errs.push(FieldError::invalid(
                &path.index(i),
                entry,
                format!("if '*/{subresource}' is present, must not specify {entry}"),
            ));
        }
        if subresource == "*" {
            all_subresources_of.insert(resource);
        }
        if resource == "*" {
            of_all_resources.insert(subresource);
        }
    }
    if resources.len() > 1 && has_double_wildcard {
        errs.push(FieldError::invalid(
            path,
            go::strings(Some(resources)),
            "if '*/*' is present, must not specify other resources",
        ));
    }
    if has_single_wildcard && has_resource_without_subresource {
        errs.push(FieldError::invalid(
            path,
            go::strings(Some(resources)),
            "if '*' is present, must not specify other resources without subresources",
        ));
    }
    errs
}

/// The webhook must accept an AdmissionReview version this server sends (unless a stored
/// configuration already did not); each version is listed once and is a DNS-1035 label.
fn admission_review_versions(
    versions: &[String],
    require_recognized: bool,
    path: &Path,
) -> ErrorList {
    let none = format!(
        "must specify one of {}",
        webhook::ACCEPTED_REVIEW_VERSIONS.join(", ")
    );
    webhook::review_versions(versions, require_recognized, &none, path)
}

/// The API server calls a webhook either at a URL or through a service of the cluster.
fn client_config(config: &WebhookClientConfig, path: &Path) -> ErrorList {
    let service = config.service.as_ref().map(|s| webhook::Service {
        namespace: &s.namespace,
        name: &s.name,
        path: s.path.as_deref(),
        port: s.port,
    });
    webhook::client_config(config.url.as_deref(), service, path)
}

/// Match conditions further filter the requests a webhook receives; each needs an expression
/// and a unique qualified name, and there may be at most 64.
pub(super) fn match_conditions(conditions: &[MatchCondition], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if conditions.len() > MAX_MATCH_CONDITIONS {
        errs.push(FieldError::too_many(
            path,
            conditions.len(),
            MAX_MATCH_CONDITIONS,
        ));
    }
    let mut names = HashSet::new();
    for (i, condition) in conditions.iter().enumerate() {
        let condition_path = path.index(i);
        if condition.expression.trim().is_empty() {
            errs.push(FieldError::required(
                &condition_path.child("expression"),
                "",
            ));
        }
        let name_path = condition_path.child("name");
        if condition.name.is_empty() {
            errs.push(FieldError::required(&name_path, ""));
            continue;
        }
        errs.extend(
            is_qualified_name(&condition.name)
                .into_iter()
                .map(|m| FieldError::invalid(&name_path, &condition.name, m)),
        );
        if !names.insert(condition.name.as_str()) {
            errs.push(FieldError::duplicate(&name_path, &condition.name));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, stored};
    use super::*;
    use serde_json::{Value, json};

    /// ingress-nginx's ValidatingWebhookConfiguration after defaulting.
    fn ingress_nginx() -> Value {
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {
                "name": "ingress-nginx-admission",
                "labels": {
                    "app.kubernetes.io/component": "admission-webhook",
                    "app.kubernetes.io/instance": "ingress-nginx",
                    "app.kubernetes.io/name": "ingress-nginx",
                    "app.kubernetes.io/part-of": "ingress-nginx",
                    "app.kubernetes.io/version": "1.15.1"
                }
            },
            "webhooks": [{
                "admissionReviewVersions": ["v1"],
                "clientConfig": {
                    "service": {
                        "name": "ingress-nginx-controller-admission",
                        "namespace": "ingress-nginx",
                        "path": "/networking/v1/ingresses",
                        "port": 443
                    }
                },
                "failurePolicy": "Fail",
                "matchPolicy": "Equivalent",
                "name": "validate.nginx.ingress.kubernetes.io",
                "namespaceSelector": {},
                "objectSelector": {},
                "rules": [{
                    "apiGroups": ["networking.k8s.io"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["ingresses"],
                    "scope": "*"
                }],
                "sideEffects": "None",
                "timeoutSeconds": 10
            }]
        })
    }

    /// cert-manager's webhook configurations after defaulting; `kind` picks which.
    fn cert_manager(kind: &str) -> Value {
        let mut hook = json!({
            "name": "webhook.cert-manager.io",
            "rules": [{
                "apiGroups": ["cert-manager.io"],
                "apiVersions": ["v1"],
                "operations": ["CREATE"],
                "resources": ["certificaterequests"],
                "scope": "*"
            }],
            "admissionReviewVersions": ["v1"],
            "matchPolicy": "Equivalent",
            "timeoutSeconds": 30,
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "namespaceSelector": {},
            "objectSelector": {},
            "clientConfig": {
                "service": {
                    "name": "cert-manager-webhook",
                    "namespace": "cert-manager",
                    "path": "/mutate",
                    "port": 443
                }
            }
        });
        if kind == "MutatingWebhookConfiguration" {
            hook["reinvocationPolicy"] = json!("Never");
        } else {
            hook["namespaceSelector"] = json!({
                "matchExpressions": [{
                    "key": "cert-manager.io/disable-validation",
                    "operator": "NotIn",
                    "values": ["true"]
                }]
            });
            hook["rules"] = json!([{
                "apiGroups": ["cert-manager.io", "acme.cert-manager.io"],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["*/*"],
                "scope": "*"
            }]);
            hook["clientConfig"]["service"]["path"] = json!("/validate");
        }
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": {
                "name": "cert-manager-webhook",
                "annotations": {
                    "cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca"
                }
            },
            "webhooks": [hook]
        })
    }

    fn validating(value: Value) -> ValidatingWebhookConfiguration {
        serde_json::from_value(value).expect("a ValidatingWebhookConfiguration")
    }

    fn mutating(value: Value) -> MutatingWebhookConfiguration {
        serde_json::from_value(value).expect("a MutatingWebhookConfiguration")
    }

    fn check(value: Value) -> Vec<String> {
        messages(&validating_webhook_configuration(&validating(value), None))
    }

    #[test]
    fn published_configurations_pass() {
        assert_eq!(check(ingress_nginx()), Vec::<String>::new());
        assert_eq!(
            check(cert_manager("ValidatingWebhookConfiguration")),
            Vec::<String>::new()
        );
        let mutating_config = mutating(cert_manager("MutatingWebhookConfiguration"));
        assert!(mutating_webhook_configuration(&mutating_config, None).is_empty());
    }

    #[test]
    fn unset_optional_fields_are_skipped() {
        let mut config = ingress_nginx();
        let hook = config["webhooks"][0].as_object_mut().expect("a webhook");
        for field in [
            "failurePolicy",
            "matchPolicy",
            "namespaceSelector",
            "objectSelector",
            "timeoutSeconds",
        ] {
            hook.remove(field);
        }
        hook["clientConfig"]["service"]
            .as_object_mut()
            .expect("a service")
            .remove("port");
        assert_eq!(check(config), Vec::<String>::new());
    }

    #[test]
    fn names_policies_and_timeouts() {
        let mut config = ingress_nginx();
        let hook = &mut config["webhooks"][0];
        hook["name"] = json!("validate");
        hook["failurePolicy"] = json!("Maybe");
        hook["matchPolicy"] = json!("Fuzzy");
        hook["sideEffects"] = json!("Some");
        hook["timeoutSeconds"] = json!(31);
        hook["admissionReviewVersions"] = json!(["v2", "v2"]);
        assert_eq!(
            check(config),
            vec![
                "webhooks[0].name: Invalid value: \"validate\": should be a domain with at least three segments separated by dots",
                "webhooks[0].failurePolicy: Unsupported value: \"Maybe\": supported values: \"Fail\", \"Ignore\"",
                "webhooks[0].matchPolicy: Unsupported value: \"Fuzzy\": supported values: \"Equivalent\", \"Exact\"",
                "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"",
                "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
                "webhooks[0].admissionReviewVersions[1]: Invalid value: \"v2\": duplicate version",
                "webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\", \"v2\"}: must include at least one of v1, v1beta1",
            ]
        );
    }

    #[test]
    fn required_fields() {
        let mut config = ingress_nginx();
        let hook = config["webhooks"][0].as_object_mut().expect("a webhook");
        hook.remove("sideEffects");
        hook.remove("admissionReviewVersions");
        hook["name"] = json!("");
        assert_eq!(
            check(config),
            vec![
                "webhooks[0].name: Required value",
                "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
                "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
            ]
        );
    }

    #[test]
    fn webhook_names_are_unique() {
        let mut config = ingress_nginx();
        let hook = config["webhooks"][0].clone();
        config["webhooks"] = json!([hook.clone(), hook]);
        assert_eq!(
            check(config),
            vec!["webhooks[1].name: Duplicate value: \"validate.nginx.ingress.kubernetes.io\""]
        );
    }

    #[test]
    fn rules() {
        let mut config = ingress_nginx();
        config["webhooks"][0]["rules"] = json!([
            {
                "apiGroups": ["*", "apps"],
                "apiVersions": [],
                "operations": ["*", "CREATE", "PATCH"],
                "resources": ["pods/*", "pods/status"],
                "scope": "Global"
            },
            {
                "apiGroups": [""],
                "apiVersions": ["v1", ""],
                "resources": ["*", "pods", "*/*"]
            }
        ]);
        assert_eq!(
            check(config),
            vec![
                "webhooks[0].rules[0].operations: Invalid value: []admissionregistration.OperationType{\"*\", \"CREATE\", \"PATCH\"}: if '*' is present, must not specify other operations",
                "webhooks[0].rules[0].operations[2]: Unsupported value: \"PATCH\": supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\"",
                "webhooks[0].rules[0].apiGroups: Invalid value: []string{\"*\", \"apps\"}: if '*' is present, must not specify other API groups",
                "webhooks[0].rules[0].apiVersions: Required value",
                "webhooks[0].rules[0].resources[1]: Invalid value: \"pods/status\": if 'pods/*' is present, must not specify pods/status",
                "webhooks[0].rules[0].scope: Unsupported value: \"Global\": supported values: \"*\", \"Cluster\", \"Namespaced\"",
                "webhooks[0].rules[1].operations: Required value",
                "webhooks[0].rules[1].apiVersions[1]: Required value",
                "webhooks[0].rules[1].resources: Invalid value: []string{\"*\", \"pods\", \"*/*\"}: if '*/*' is present, must not specify other resources",
                "webhooks[0].rules[1].resources: Invalid value: []string{\"*\", \"pods\", \"*/*\"}: if '*' is present, must not specify other resources without subresources",
            ]
        );
    }

    #[test]
    fn client_configs() {
        let mut config = ingress_nginx();
        config["webhooks"][0]["clientConfig"]["url"] = json!("https://example.com/hook");
        assert_eq!(
            check(config.clone()),
            vec![
                "webhooks[0].clientConfig: Required value: exactly one of url or service is required"
            ]
        );
        config["webhooks"][0]["clientConfig"] =
            json!({"url": "http://jane@example.com/hook?x=1#top"});
        assert_eq!(
            check(config.clone()),
            vec![
                "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
                "webhooks[0].clientConfig.url: Invalid value: \"jane\": user information is not permitted in the URL",
                "webhooks[0].clientConfig.url: Invalid value: \"top\": fragments are not permitted in the URL",
                "webhooks[0].clientConfig.url: Invalid value: \"x=1\": query parameters are not permitted in the URL",
            ]
        );
        config["webhooks"][0]["clientConfig"] = json!({"url": ":443/hook"});
        assert_eq!(
            check(config.clone()),
            vec![
                "webhooks[0].clientConfig.url: Required value: url must be a valid URL: parse \":443/hook\": missing protocol scheme; desired format: https://host[/path]"
            ]
        );
        config["webhooks"][0]["clientConfig"] = json!({"url": "https:///hook"});
        assert_eq!(
            check(config.clone()),
            vec![
                "webhooks[0].clientConfig.url: Invalid value: \"\": host must be specified; desired format: https://host[/path]"
            ]
        );
        config["webhooks"][0]["clientConfig"] = json!({
            "service": {"name": "", "namespace": "ingress-nginx", "port": 0, "path": "hook//x/"}
        });
        assert_eq!(
            check(config),
            vec![
                "webhooks[0].clientConfig.service.namespace: Required value: service namespace is required",
                "webhooks[0].clientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive",
                "webhooks[0].clientConfig.service.path: Invalid value: \"hook//x/\": must start with a '/'",
                "webhooks[0].clientConfig.service.path: Invalid value: \"hook//x/\": segment[1] may not be empty",
            ]
        );
    }

    #[test]
    fn reinvocation_policies() {
        let mut config = cert_manager("MutatingWebhookConfiguration");
        config["webhooks"][0]["reinvocationPolicy"] = json!("Always");
        assert_eq!(
            messages(&mutating_webhook_configuration(&mutating(config), None)),
            vec![
                "webhooks[0].reinvocationPolicy: Unsupported value: \"Always\": supported values: \"IfNeeded\", \"Never\""
            ]
        );
    }

    #[test]
    fn match_condition_names_and_expressions() {
        let mut config = ingress_nginx();
        config["webhooks"][0]["matchConditions"] = json!([
            {"name": "exclude-leases", "expression": "!(request.resource.group == 'coordination.k8s.io')"},
            {"name": "exclude-leases", "expression": " "},
            {"name": "", "expression": "true"},
            {"name": "-bad", "expression": "true"}
        ]);
        let errs = check(config);
        assert_eq!(errs.len(), 4);
        assert_eq!(
            errs[..3],
            [
                "webhooks[0].matchConditions[1].expression: Required value",
                "webhooks[0].matchConditions[1].name: Duplicate value: \"exclude-leases\"",
                "webhooks[0].matchConditions[2].name: Required value",
            ]
        );
        assert!(errs[3].starts_with(
            "webhooks[0].matchConditions[3].name: Invalid value: \"-bad\": name part must consist of"
        ));
    }

    #[test]
    fn updates_keep_what_was_stored_working() {
        let mut old_value = ingress_nginx();
        old_value["metadata"]["resourceVersion"] = json!("1");
        old_value["webhooks"][0]["sideEffects"] = json!("Unknown");
        let old = validating(old_value.clone());
        let mut new_value = old_value;
        new_value["webhooks"][0]["sideEffects"] = json!("Some");
        let new = validating(new_value.clone());
        assert!(validating_webhook_configuration(&new, Some(&old)).is_empty());
        assert_eq!(
            messages(&validating_webhook_configuration(&new, None)),
            vec![
                "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\""
            ]
        );
        new_value["webhooks"][0]["sideEffects"] = json!("Sometimes");
        assert_eq!(
            messages(&validating_webhook_configuration(
                &validating(new_value),
                Some(&old)
            )),
            vec![
                "webhooks[0].sideEffects: Unsupported value: \"Sometimes\": supported values: \"None\", \"NoneOnDryRun\", \"Some\", \"Unknown\""
            ]
        );
        let stored_old = ValidatingWebhookConfiguration {
            metadata: stored(old.metadata.clone()),
            ..old
        };
        let mut renamed = stored_old.clone();
        renamed.metadata.name = Some("other".into());
        assert_eq!(
            messages(&validating_webhook_configuration(
                &renamed,
                Some(&stored_old)
            )),
            vec!["metadata.name: Invalid value: \"other\": field is immutable"]
        );
    }
}
