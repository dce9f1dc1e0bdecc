//! ValidatingAdmissionPolicies and their bindings (upstream's
//! `pkg/apis/admissionregistration/validation`): which requests a policy may match, its CEL
//! (match conditions, variables, validations, audit annotations) and what it does when that
//! fails; which policy a binding binds, with which params, to what effect.
//!
//! Objects are expected defaulted. Expressions are parsed and may name only the variables
//! upstream declares for them (`object`, `oldObject`, `request`, `namespaceObject`; `params` with
//! a `paramKind`, `variables` with variables), but they are not type-checked. `authorizer`, which
//! upstream declares too, is refused as undeclared: admission here cannot evaluate it.

use std::collections::HashSet;

use k8s_openapi::api::admissionregistration::v1::{
    AuditAnnotation, MatchResources, NamedRuleWithOperations, ParamKind, ParamRef,
    RuleWithOperations, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    ValidatingAdmissionPolicyBindingSpec, ValidatingAdmissionPolicySpec, Validation, Variable,
};

use super::admission::{FAILURE_POLICIES, MATCH_POLICIES, match_conditions, rule_with_operations};
use super::field::{ErrorList, FieldError, Path};
use super::go;
use super::meta::{label_selector, object_meta_of_write};
use super::names::{NameRule, is_dns1035_label, is_dns1123_subdomain, is_qualified_name};
use super::{opt_slice, text};
use crate::crd::cel;

// The enumerations below are in the order upstream lists them in its messages.
const REASONS: [&str; 4] = [
    "Forbidden",
    "Invalid",
    "RequestEntityTooLarge",
    "Unauthorized",
];
const VALIDATION_ACTIONS: [&str; 3] = ["Audit", "Deny", "Warn"];
const PARAMETER_NOT_FOUND_ACTIONS: [&str; 2] = ["Deny", "Allow"];
const MAX_AUDIT_ANNOTATIONS: usize = 20;
/// Less than an audit annotation's own limit, as an expression that concatenates strings often
/// yields more than it is long.
const MAX_VALUE_EXPRESSION_BYTES: usize = 5 * 1024;
const EXCLUSIVE: &str = "name and selector are mutually exclusive";

/// Validates a ValidatingAdmissionPolicy on create (`old` is `None`) or update.
pub fn validating_admission_policy(
    new: &ValidatingAdmissionPolicy,
    old: Option<&ValidatingAdmissionPolicy>,
) -> ErrorList {
    let mut errs = object_meta_of_write(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    let unset = ValidatingAdmissionPolicySpec::default();
    let spec = new.spec.as_ref().unwrap_or(&unset);
    // As upstream, an update keeps the match conditions it stored without checking them again.
    let stored_conditions = old.map(|o| o.spec.as_ref().and_then(|s| s.match_conditions.as_ref()));
    let check_conditions = stored_conditions != Some(spec.match_conditions.as_ref());
    let name = text(&new.metadata.name);
    errs.extend(policy_spec(
        spec,
        name,
        check_conditions,
        &Path::new("spec"),
    ));
    errs
}

/// Validates a ValidatingAdmissionPolicyBinding on create (`old` is `None`) or update.
pub fn validating_admission_policy_binding(
    new: &ValidatingAdmissionPolicyBinding,
    old: Option<&ValidatingAdmissionPolicyBinding>,
) -> ErrorList {
    let mut errs = object_meta_of_write(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    let unset = ValidatingAdmissionPolicyBindingSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&unset);
    let path = Path::new("spec");
    let policy_path = path.child("policyName");
    match text(&spec.policy_name) {
        "" => errs.push(FieldError::required(&policy_path, "")),
        policy => errs.extend(
            NameRule::DnsSubdomain
                .check(policy, false)
                .into_iter()
                .map(|m| FieldError::invalid(&policy_path, policy, m)),
        ),
    }
    if let Some(reference) = &spec.param_ref {
        errs.extend(param_ref(reference, &path.child("paramRef")));
    }
    if let Some(resources) = &spec.match_resources {
        errs.extend(match_resources(resources, &path.child("matchResources")));
    }
    errs.extend(validation_actions(
        opt_slice(&spec.validation_actions),
        &path.child("validationActions"),
    ));
    errs
}

fn policy_spec(
    spec: &ValidatingAdmissionPolicySpec,
    name: &str,
    check_conditions: bool,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let failure_path = path.child("failurePolicy");
    match spec.failure_policy.as_deref() {
        None => errs.push(FieldError::required(&failure_path, "")),
        Some(policy) if !FAILURE_POLICIES.contains(&policy) => errs.push(
            FieldError::not_supported(&failure_path, policy, &FAILURE_POLICIES),
        ),
        Some(_) => {}
    }
    if let Some(kind) = &spec.param_kind {
        errs.extend(param_kind(kind, &path.child("paramKind")));
    }
    let constraints_path = path.child("matchConstraints");
    match &spec.match_constraints {
        None => errs.push(FieldError::required(&constraints_path, "")),
        Some(constraints) => {
            errs.extend(match_resources(constraints, &constraints_path));
            // The rules tell which kinds the expressions see.
            if opt_slice(&constraints.resource_rules).is_empty() {
                errs.push(FieldError::required(
                    &constraints_path.child("resourceRules"),
                    "",
                ));
            }
        }
    }
    let declared = declared(spec);
    if check_conditions {
        // Match conditions are evaluated before the variables, which they cannot read.
        let before_variables: Vec<&str> = declared
            .iter()
            .copied()
            .filter(|name| *name != "variables")
            .collect();
        let conditions = opt_slice(&spec.match_conditions);
        let conditions_path = path.child("matchConditions");
        errs.extend(match_conditions(conditions, &conditions_path));
        for (i, condition) in conditions.iter().enumerate() {
            let expression_path = conditions_path.index(i).child("expression");
            errs.extend(compiled(
                &condition.expression,
                &before_variables,
                &expression_path,
            ));
        }
    }
    let variables_path = path.child("variables");
    let mut names = HashSet::new();
    for (i, variable) in opt_slice(&spec.variables).iter().enumerate() {
        let variable_path = variables_path.index(i);
        errs.extend(self::variable(variable, &declared, &variable_path));
        if !variable.name.trim().is_empty() && !names.insert(variable.name.as_str()) {
            errs.push(FieldError::duplicate(
                &variable_path.child("name"),
                &variable.name,
            ));
        }
    }
    let validations = opt_slice(&spec.validations);
    let annotations = opt_slice(&spec.audit_annotations);
    if validations.is_empty() && annotations.is_empty() {
        let detail = "validations or auditAnnotations must contain at least one item";
        errs.push(FieldError::required(&path.child("validations"), detail));
        errs.push(FieldError::required(
            &path.child("auditAnnotations"),
            detail,
        ));
        return errs;
    }
    let validations_path = path.child("validations");
    for (i, validation) in validations.iter().enumerate() {
        errs.extend(self::validation(
            validation,
            &declared,
            &validations_path.index(i),
        ));
    }
    errs.extend(audit_annotations(
        annotations,
        name,
        &declared,
        &path.child("auditAnnotations"),
    ));
    errs
}

/// The variables upstream declares for a policy's expressions.
fn declared(spec: &ValidatingAdmissionPolicySpec) -> Vec<&'static str> {
    let mut names = vec!["object", "oldObject", "request", "namespaceObject"];
    if spec.param_kind.is_some() {
        names.push("params");
    }
    if !opt_slice(&spec.variables).is_empty() {
        names.push("variables");
    }
    names
}

/// The error of an expression that does not compile, with the expression as the invalid value;
/// an empty one is reported by its owner's checks.
fn compiled(expression: &str, declared: &[&str], path: &Path) -> Option<FieldError> {
    if expression.trim().is_empty() {
        return None;
    }
    let issues = cel::check(expression, declared).err()?;
    Some(FieldError::invalid(
        path,
        expression,
        format!("compilation failed: {issues}"),
    ))
}

/// The params a policy takes are of one kind, named as `group/version` and `Kind`.
fn param_kind(kind: &ParamKind, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let version_path = path.child("apiVersion");
    let api_version = text(&kind.api_version);
    if api_version.is_empty() {
        errs.push(FieldError::required(&version_path, ""));
    } else if let Some((group, version)) = group_version(api_version) {
        let msgs = is_dns1123_subdomain(group);
        if !group.is_empty() && !msgs.is_empty() {
            errs.push(FieldError::invalid(&version_path, group, msgs.join(",")));
        }
        if version.is_empty() {
            errs.push(FieldError::invalid(
                &version_path,
                api_version,
                "version must be specified",
            ));
        } else {
            let msgs = is_dns1035_label(version);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(&version_path, version, msgs.join(",")));
            }
        }
    } else {
        errs.push(FieldError::invalid(
            &version_path,
            api_version,
            format!("unexpected GroupVersion string: {api_version}"),
        ));
    }
    let kind_path = path.child("kind");
    let name = text(&kind.kind);
    if name.is_empty() {
        errs.push(FieldError::required(&kind_path, ""));
    } else {
        let msgs = is_dns1035_label(&name.to_lowercase());
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &kind_path,
                name,
                format!(
                    "may have mixed case, but should otherwise match: {}",
                    msgs.join(",")
                ),
            ));
        }
    }
    errs
}

/// `group/version`, or a bare version of the core group, as upstream's `parseGroupVersion`
/// reads it; none with more than one slash.
fn group_version(api_version: &str) -> Option<(&str, &str)> {
    match api_version.matches('/').count() {
        0 => Some(("", api_version)),
        1 => api_version.split_once('/'),
        _ => None,
    }
}

/// Which requests a policy or binding covers: a match policy, both selectors (defaulted), and
/// rules that may name objects.
fn match_resources(resources: &MatchResources, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let policy_path = path.child("matchPolicy");
    match resources.match_policy.as_deref() {
        None => errs.push(FieldError::required(&policy_path, "")),
        Some(policy) if !MATCH_POLICIES.contains(&policy) => errs.push(FieldError::not_supported(
            &policy_path,
            policy,
            &MATCH_POLICIES,
        )),
        Some(_) => {}
    }
    let selectors = [
        ("namespaceSelector", &resources.namespace_selector),
        ("objectSelector", &resources.object_selector),
    ];
    for (field, selector) in selectors {
        let selector_path = path.child(field);
        match selector {
            None => errs.push(FieldError::required(&selector_path, "")),
            Some(selector) => errs.extend(label_selector(Some(selector), &selector_path)),
        }
    }
    let rules = [
        ("resourceRules", &resources.resource_rules),
        ("excludeResourceRules", &resources.exclude_resource_rules),
    ];
    for (field, rules) in rules {
        let rules_path = path.child(field);
        for (i, rule) in opt_slice(rules).iter().enumerate() {
            errs.extend(named_rule(rule, &rules_path.index(i)));
        }
    }
    errs
}

/// A webhook's rule, with the names of the objects it is limited to (each once, each usable in
/// a URL path).
fn named_rule(rule: &NamedRuleWithOperations, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let names_path = path.child("resourceNames");
    let mut names = HashSet::new();
    for (i, name) in opt_slice(&rule.resource_names).iter().enumerate() {
        let name_path = names_path.index(i);
        errs.extend(
            NameRule::PathSegment
                .check(name, false)
                .into_iter()
                .map(|m| FieldError::invalid(&name_path, name, m)),
        );
        if !names.insert(name.as_str()) {
            errs.push(FieldError::duplicate(&name_path, name));
        }
    }
    let unnamed = RuleWithOperations {
        api_groups: rule.api_groups.clone(),
        api_versions: rule.api_versions.clone(),
        operations: rule.operations.clone(),
        resources: rule.resources.clone(),
        scope: rule.scope.clone(),
    };
    errs.extend(rule_with_operations(&unnamed, path));
    errs
}

/// A variable is read as `variables.<name>`, so its name must be a CEL identifier.
fn variable(variable: &Variable, declared: &[&str], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name_path = path.child("name");
    if variable.name.trim().is_empty() {
        errs.push(FieldError::required(&name_path, "name is not specified"));
    } else if !cel::is_identifier(&variable.name) {
        errs.push(FieldError::invalid(
            &name_path,
            &variable.name,
            "name is not a valid CEL identifier",
        ));
    }
    let expression_path = path.child("expression");
    if variable.expression.trim().is_empty() {
        errs.push(FieldError::required(
            &expression_path,
            "expression is not specified",
        ));
    }
    errs.extend(compiled(&variable.expression, declared, &expression_path));
    errs
}

/// A validation: an expression, the message it fails with (static or evaluated, on one line)
/// and the reason, which picks the code of the refusal.
fn validation(validation: &Validation, declared: &[&str], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let expression_path = path.child("expression");
    if validation.expression.trim().is_empty() {
        errs.push(FieldError::required(
            &expression_path,
            "expression is not specified",
        ));
    }
    errs.extend(compiled(&validation.expression, declared, &expression_path));
    let message_expression = text(&validation.message_expression);
    let message_expression_path = path.child("messageExpression");
    if !message_expression.is_empty() && message_expression.trim().is_empty() {
        errs.push(FieldError::invalid(
            &message_expression_path,
            message_expression,
            "must be non-empty if specified",
        ));
    }
    errs.extend(compiled(
        message_expression,
        declared,
        &message_expression_path,
    ));
    let message = text(&validation.message);
    let message_path = path.child("message");
    if !message.is_empty() && message.trim().is_empty() {
        errs.push(FieldError::invalid(
            &message_path,
            message,
            "message must be non-empty if specified",
        ));
    } else if message.trim().contains(['\n', '\r']) {
        errs.push(FieldError::invalid(
            &message_path,
            message,
            "message must not contain line breaks",
        ));
    }
    if let Some(reason) = validation
        .reason
        .as_deref()
        .filter(|r| !REASONS.contains(r))
    {
        errs.push(FieldError::not_supported(
            &path.child("reason"),
            reason,
            &REASONS,
        ));
    }
    errs
}

/// Audit annotations are keyed `<policy>/<key>` in the audit log, so the key must make a
/// qualified name with the policy's; each is unique, and its value an expression.
fn audit_annotations(
    annotations: &[AuditAnnotation],
    policy: &str,
    declared: &[&str],
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if annotations.len() > MAX_AUDIT_ANNOTATIONS {
        let listed = annotations.iter().map(|a| {
            format!(
                "admissionregistration.AuditAnnotation{{Key:{}, ValueExpression:{}}}",
                go::quote(&a.key),
                go::quote(&a.value_expression)
            )
        });
        errs.push(FieldError::invalid(
            path,
            go::slice("admissionregistration.AuditAnnotation", Some(listed)),
            format!("must not have more than {MAX_AUDIT_ANNOTATIONS} auditAnnotations"),
        ));
    }
    let mut keys = HashSet::new();
    for (i, annotation) in annotations.iter().enumerate() {
        let annotation_path = path.index(i);
        let key_path = annotation_path.child("key");
        if policy.is_empty() {
            errs.push(FieldError::invalid(
                &key_path,
                &annotation.key,
                "requires metadata.name be non-empty",
            ));
        } else {
            let qualified = format!("{policy}/{}", annotation.key);
            errs.extend(
                is_qualified_name(&qualified)
                    .into_iter()
                    .map(|m| FieldError::invalid(&key_path, &qualified, m)),
            );
        }
        let value_path = annotation_path.child("valueExpression");
        let value = annotation.value_expression.trim();
        if value.is_empty() {
            errs.push(FieldError::required(
                &value_path,
                "valueExpression is not specified",
            ));
        } else if value.len() > MAX_VALUE_EXPRESSION_BYTES {
            errs.push(FieldError::required(
                &value_path,
                format!("must not exceed {MAX_VALUE_EXPRESSION_BYTES} bytes in length"),
            ));
        } else {
            errs.extend(compiled(
                &annotation.value_expression,
                declared,
                &value_path,
            ));
        }
        if !keys.insert(annotation.key.as_str()) {
            errs.push(FieldError::duplicate(&key_path, &annotation.key));
        }
    }
    errs
}

/// A binding's params: one object by name or those a selector picks, and what to do when
/// there are none.
fn param_ref(reference: &ParamRef, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = text(&reference.name);
    let name_path = path.child("name");
    let selector_path = path.child("selector");
    if !name.is_empty() {
        errs.extend(
            NameRule::PathSegment
                .check(name, false)
                .into_iter()
                .map(|m| FieldError::invalid(&name_path, name, m)),
        );
        if reference.selector.is_some() {
            errs.push(FieldError::forbidden(&name_path, EXCLUSIVE));
        }
    }
    if let Some(selector) = &reference.selector {
        errs.extend(label_selector(Some(selector), &selector_path));
        if !name.is_empty() {
            errs.push(FieldError::forbidden(&selector_path, EXCLUSIVE));
        }
    }
    if name.is_empty() && reference.selector.is_none() {
        errs.push(FieldError::required(
            path,
            "one of name or selector must be specified",
        ));
    }
    let action_path = path.child("parameterNotFoundAction");
    match text(&reference.parameter_not_found_action) {
        "" => errs.push(FieldError::required(&action_path, "")),
        action if !PARAMETER_NOT_FOUND_ACTIONS.contains(&action) => errs.push(
            FieldError::not_supported(&action_path, action, &PARAMETER_NOT_FOUND_ACTIONS),
        ),
        _ => {}
    }
    errs
}

/// What a binding does with a failed validation: refuse the request (`Deny`), warn the client
/// (`Warn`), record it in the audit log (`Audit`); at least one, each once, and never both
/// refusing and warning, which would say the same thing twice.
fn validation_actions(actions: &[String], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen = HashSet::new();
    for (i, action) in actions.iter().enumerate() {
        if !VALIDATION_ACTIONS.contains(&action.as_str()) {
            errs.push(FieldError::not_supported(
                &path.index(i),
                action,
                &VALIDATION_ACTIONS,
            ));
        }
        if !seen.insert(action.as_str()) {
            errs.push(FieldError::duplicate(&path.index(i), action));
        }
    }
    if seen.contains("Deny") && seen.contains("Warn") {
        let value = go::slice(
            "admissionregistration.ValidationAction",
            Some(actions.iter().map(|a| go::quote(a))),
        );
        errs.push(FieldError::invalid(
            path,
            value,
            "must not contain both Deny and Warn (repeating the same validation failure \
             information in the API response and headers serves no purpose)",
        ));
    }
    if seen.is_empty() {
        errs.push(FieldError::required(
            path,
            "at least one validation action is required",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::messages;
    use super::*;
    use serde_json::{Value, json};

    /// A policy limiting ConfigMaps to two keys, after defaulting.
    fn policy() -> Value {
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "max-keys"},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
                    "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"], "scope": "*"}],
                },
                "validations": [{"expression": "object.data.size() <= 2", "message": "too many keys"}],
            },
        })
    }

    fn binding() -> Value {
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "max-keys"},
            "spec": {"policyName": "max-keys", "validationActions": ["Deny"]},
        })
    }

    fn check_policy(value: Value) -> Vec<String> {
        let policy = serde_json::from_value(value).expect("a ValidatingAdmissionPolicy");
        messages(&validating_admission_policy(&policy, None))
    }

    fn check_binding(value: Value) -> Vec<String> {
        let binding = serde_json::from_value(value).expect("a ValidatingAdmissionPolicyBinding");
        messages(&validating_admission_policy_binding(&binding, None))
    }

    #[test]
    fn published_shapes_pass() {
        assert_eq!(check_policy(policy()), Vec::<String>::new());
        assert_eq!(check_binding(binding()), Vec::<String>::new());
        let mut with_params = policy();
        with_params["spec"]["paramKind"] = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        with_params["spec"]["variables"] =
            json!([{"name": "max", "expression": "int(params.data.max)"}]);
        with_params["spec"]["validations"][0]["expression"] =
            json!("object.data.size() <= variables.max");
        with_params["spec"]["validations"][0]["messageExpression"] =
            json!("'at most ' + params.data.max + ' keys'");
        assert_eq!(check_policy(with_params), Vec::<String>::new());
    }

    #[test]
    fn a_policy_needs_validations_rules_and_a_failure_policy() {
        let mut empty = policy();
        let spec = empty["spec"].as_object_mut().expect("a spec");
        spec.remove("validations");
        spec.remove("failurePolicy");
        spec["matchConstraints"]["resourceRules"] = json!([]);
        assert_eq!(
            check_policy(empty),
            [
                "spec.failurePolicy: Required value",
                "spec.matchConstraints.resourceRules: Required value",
                "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
                "spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item",
            ]
        );
    }

    #[test]
    fn expressions_must_compile_with_the_declared_variables() {
        let mut bad = policy();
        bad["spec"]["validations"] = json!([
            {"expression": "object.data.size() <="},
            {"expression": "object.data.size() <= params.max"},
            {"expression": " ", "reason": "Teapot"},
        ]);
        let errs = check_policy(bad);
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs[0].starts_with(
                "spec.validations[0].expression: Invalid value: \"object.data.size() <=\": compilation failed: ERROR: <input>:1:"
            ),
            "{}",
            errs[0]
        );
        assert!(
            errs[1].contains("undeclared reference to 'params' (in container '')"),
            "{}",
            errs[1]
        );
        assert_eq!(
            errs[2..],
            [
                "spec.validations[2].expression: Required value: expression is not specified",
                "spec.validations[2].reason: Unsupported value: \"Teapot\": supported values: \"Forbidden\", \"Invalid\", \"RequestEntityTooLarge\", \"Unauthorized\"",
            ]
        );
    }

    #[test]
    fn variables_are_unique_identifiers_and_param_kinds_name_a_kind() {
        let mut bad = policy();
        bad["spec"]["variables"] = json!([
            {"name": "max-keys", "expression": "2"},
            {"name": "limit", "expression": "2"},
            {"name": "limit", "expression": ""},
        ]);
        bad["spec"]["paramKind"] = json!({"apiVersion": "a/b/c"});
        assert_eq!(
            check_policy(bad),
            [
                "spec.paramKind.apiVersion: Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c",
                "spec.paramKind.kind: Required value",
                "spec.variables[0].name: Invalid value: \"max-keys\": name is not a valid CEL identifier",
                "spec.variables[2].expression: Required value: expression is not specified",
                "spec.variables[2].name: Duplicate value: \"limit\"",
            ]
        );
    }

    #[test]
    fn match_conditions_are_named_once_and_compile() {
        let mut bad = policy();
        bad["spec"]["matchConditions"] = json!([
            {"name": "not-system", "expression": "!request.userInfo.username.startsWith('system:')"},
            {"name": "not-system", "expression": "variables.x"},
        ]);
        let errs = check_policy(bad);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            errs[0],
            "spec.matchConditions[1].name: Duplicate value: \"not-system\""
        );
        assert!(
            errs[1].starts_with("spec.matchConditions[1].expression: Invalid value: \"variables.x\": compilation failed: ERROR: <input>:1:1: undeclared reference to 'variables'"),
            "{}",
            errs[1]
        );
    }

    #[test]
    fn bindings_name_a_policy_and_what_to_do() {
        let mut bad = binding();
        bad["spec"] = json!({
            "validationActions": ["Deny", "Warn", "Deny", "Shout"],
            "paramRef": {"name": "limits", "selector": {}, "parameterNotFoundAction": "Maybe"},
        });
        assert_eq!(
            check_binding(bad),
            [
                "spec.policyName: Required value",
                "spec.paramRef.name: Forbidden: name and selector are mutually exclusive",
                "spec.paramRef.selector: Forbidden: name and selector are mutually exclusive",
                "spec.paramRef.parameterNotFoundAction: Unsupported value: \"Maybe\": supported values: \"Deny\", \"Allow\"",
                "spec.validationActions[2]: Duplicate value: \"Deny\"",
                "spec.validationActions[3]: Unsupported value: \"Shout\": supported values: \"Audit\", \"Deny\", \"Warn\"",
                "spec.validationActions: Invalid value: []admissionregistration.ValidationAction{\"Deny\", \"Warn\", \"Deny\", \"Shout\"}: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
            ]
        );
        let mut unset = binding();
        unset["spec"] = json!({"policyName": "max-keys", "paramRef": {}});
        assert_eq!(
            check_binding(unset),
            [
                "spec.paramRef: Required value: one of name or selector must be specified",
                "spec.paramRef.parameterNotFoundAction: Required value",
                "spec.validationActions: Required value: at least one validation action is required",
            ]
        );
    }
}
