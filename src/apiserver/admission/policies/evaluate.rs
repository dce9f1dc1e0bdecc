//! A policy's CEL on one request, as upstream's validator evaluates it: the match conditions
//! (one false and the policy does not apply), the variables, then each validation with the
//! message it fails with. The expressions see `object`, `oldObject`, `request`, `params`,
//! `namespaceObject` and `variables`, all as untyped JSON.
//!
//! Variables are evaluated eagerly, in order, each seeing those before it; one that fails is
//! left out of `variables`, so that only the expressions that read it fail. `authorizer` is not
//! provided (policies naming it are refused when written).

use k8s_openapi::api::admissionregistration::v1::Validation;
use serde_json::{Map, Value};

use super::stored::Policy;
use crate::crd::cel;

/// What a policy's expressions see of a request, besides its variables. Absent objects (a
/// create's old object, a delete's new one, a cluster-scoped request's namespace, a policy's
/// params when it takes none) are null.
pub struct Inputs<'a> {
    pub object: &'a Value,
    pub old_object: &'a Value,
    pub request: &'a Value,
    pub params: &'a Value,
    pub namespace_object: &'a Value,
}

impl Inputs<'_> {
    /// The expressions' variables, with `variables` as given.
    fn with<'v>(&'v self, variables: &'v Value) -> [(&'static str, &'v Value); 6] {
        [
            ("object", self.object),
            ("oldObject", self.old_object),
            ("request", self.request),
            ("params", self.params),
            ("namespaceObject", self.namespace_object),
            ("variables", variables),
        ]
    }
}

/// One validation the request did not pass, or (unless the policy ignores failures) one
/// expression that could not be evaluated.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub reason: Reason,
}

/// The Status reason of a refusal, which a validation may choose, and its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Unauthorized,
    Forbidden,
    Invalid,
    RequestEntityTooLarge,
}

impl Reason {
    /// A validation's `reason`; `Invalid` when it gives none.
    fn of(validation: &Validation) -> Reason {
        match validation.reason.as_deref() {
            Some("Unauthorized") => Reason::Unauthorized,
            Some("Forbidden") => Reason::Forbidden,
            Some("RequestEntityTooLarge") => Reason::RequestEntityTooLarge,
            _ => Reason::Invalid,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::Invalid => "Invalid",
            Reason::RequestEntityTooLarge => "RequestEntityTooLarge",
        }
    }

    pub fn code(self) -> u16 {
        match self {
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::Invalid => 422,
            Reason::RequestEntityTooLarge => 413,
        }
    }
}

/// What `policy` finds wrong with a request: nothing when a match condition is false, else
/// each validation that failed, in order.
pub fn failures(policy: &Policy, inputs: &Inputs<'_>) -> Vec<Failure> {
    match conditions_hold(policy, inputs) {
        Ok(true) => {}
        Ok(false) => return Vec::new(),
        Err(error) => return failed(policy, error).into_iter().collect(),
    }
    let variables = variables(policy, inputs);
    let bound = inputs.with(&variables);
    policy
        .validations
        .iter()
        .filter_map(|validation| validate(policy, validation, &bound))
        .collect()
}

/// What cannot be evaluated (or configured) follows the policy's failure policy: a failure
/// that refuses with `Invalid`, or nothing with `Ignore`.
pub fn failed(policy: &Policy, message: String) -> Option<Failure> {
    if policy.ignore_failure {
        tracing::debug!(policy = %policy.name, %message, "a policy failed; its failure policy passes it over");
        return None;
    }
    Some(Failure {
        message,
        reason: Reason::Invalid,
    })
}

/// Whether the match conditions hold: any false and the policy does not apply; otherwise those
/// that could not be evaluated are the error, listed as upstream lists several errors.
fn conditions_hold(policy: &Policy, inputs: &Inputs<'_>) -> Result<bool, String> {
    let none = Value::Object(Map::new());
    let bound = inputs.with(&none);
    let mut errors = Vec::new();
    for condition in &policy.match_conditions {
        match cel::holds(&condition.expression, &bound) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(error) => errors.push(resulted_in_error(&condition.expression, &error)),
        }
    }
    match errors.as_slice() {
        [] => Ok(true),
        [one] => Err(one.clone()),
        several => Err(format!("[{}]", several.join(", "))),
    }
}

/// The policy's variables by name.
fn variables(policy: &Policy, inputs: &Inputs<'_>) -> Value {
    let mut variables = Map::new();
    for variable in &policy.variables {
        let so_far = Value::Object(variables.clone());
        match cel::evaluate(&variable.expression, &inputs.with(&so_far)) {
            Ok(value) => {
                variables.insert(variable.name.clone(), value);
            }
            Err(error) => {
                tracing::debug!(policy = %policy.name, variable = %variable.name, %error, "a variable could not be evaluated");
            }
        }
    }
    Value::Object(variables)
}

/// The failure of one validation, if it fails: with the `messageExpression`'s message, else
/// the `message`, else upstream's `failed expression: <expression>`.
fn validate(policy: &Policy, validation: &Validation, bound: &[(&str, &Value)]) -> Option<Failure> {
    match cel::holds(&validation.expression, bound) {
        Ok(true) => None,
        Ok(false) => Some(Failure {
            message: message(validation, bound),
            reason: Reason::of(validation),
        }),
        Err(error) => failed(policy, resulted_in_error(&validation.expression, &error)),
    }
}

fn message(validation: &Validation, bound: &[(&str, &Value)]) -> String {
    let evaluated = validation
        .message_expression
        .as_deref()
        .filter(|expression| !expression.trim().is_empty())
        .and_then(|expression| match cel::evaluate(expression, bound) {
            Ok(Value::String(message)) => cel::usable_message(&message),
            _ => None,
        });
    let given = validation
        .message
        .as_deref()
        .map(str::trim)
        .filter(|message| !message.is_empty())
        .map(str::to_owned);
    evaluated
        .or(given)
        .unwrap_or_else(|| format!("failed expression: {}", validation.expression.trim()))
}

fn resulted_in_error(expression: &str, error: &str) -> String {
    format!("expression '{expression}' resulted in error: {error}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::stored::tests::{policy, read};
    use super::*;

    /// The failures of the policy with `spec` on a create of `object`, with `params`.
    fn judge(spec: Value, object: Value, params: Value) -> Vec<Failure> {
        let request = json!({"operation": "CREATE", "namespace": "default",
                             "userInfo": {"username": "alice"}});
        let namespace = json!({"metadata": {"name": "default", "labels": {"env": "prod"}}});
        let inputs = Inputs {
            object: &object,
            old_object: &Value::Null,
            request: &request,
            params: &params,
            namespace_object: &namespace,
        };
        failures(&read(policy("p", spec)), &inputs)
    }

    fn configmap(keys: usize) -> Value {
        let data: Map<String, Value> = (0..keys).map(|i| (format!("k{i}"), json!("v"))).collect();
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data})
    }

    fn invalid(message: &str) -> Failure {
        Failure {
            message: message.to_owned(),
            reason: Reason::Invalid,
        }
    }

    #[test]
    fn a_failed_validation_gives_its_message() {
        let spec = json!({"validations": [
            {"expression": "object.data.size() <= 2", "message": "at most two keys"},
            {"expression": "object.metadata.name != 'cm'"},
            {"expression": "request.userInfo.username != 'alice'", "reason": "Forbidden",
             "messageExpression": "'not you, ' + request.userInfo.username"},
        ]});
        assert_eq!(
            judge(spec, configmap(3), Value::Null),
            [
                invalid("at most two keys"),
                invalid("failed expression: object.metadata.name != 'cm'"),
                Failure {
                    message: "not you, alice".into(),
                    reason: Reason::Forbidden
                },
            ]
        );
        let fine = json!({"validations": [{"expression": "object.data.size() <= 2"}]});
        assert!(judge(fine, configmap(2), Value::Null).is_empty());
    }

    #[test]
    fn an_unusable_message_expression_falls_back_to_the_message() {
        let spec = json!({"validations": [
            {"expression": "false", "message": "static", "messageExpression": "object.missing"},
            {"expression": "false", "message": "static", "messageExpression": "'  '"},
            {"expression": "false", "messageExpression": "1 + 1"},
        ]});
        assert_eq!(
            judge(spec, configmap(1), Value::Null),
            [
                invalid("static"),
                invalid("static"),
                invalid("failed expression: false")
            ]
        );
    }

    #[test]
    fn errors_follow_the_failure_policy() {
        let validations = json!([{"expression": "object.spec.replicas > 1"}]);
        let failing = judge(
            json!({"validations": validations}),
            configmap(1),
            Value::Null,
        );
        assert_eq!(failing.len(), 1);
        assert!(
            failing[0]
                .message
                .starts_with("expression 'object.spec.replicas > 1' resulted in error: "),
            "{failing:?}"
        );
        let ignoring = json!({"failurePolicy": "Ignore", "validations": validations});
        assert!(judge(ignoring, configmap(1), Value::Null).is_empty());
    }

    #[test]
    fn match_conditions_decide_whether_the_policy_applies() {
        let validations = json!([{"expression": "false", "message": "refused"}]);
        let applies = |conditions: Value| {
            judge(
                json!({"matchConditions": conditions, "validations": validations}),
                configmap(1),
                Value::Null,
            )
        };
        let production = json!([
            {"name": "prod", "expression": "namespaceObject.metadata.labels.env == 'prod'"},
            {"name": "create", "expression": "request.operation == 'CREATE'"},
        ]);
        assert_eq!(applies(production), [invalid("refused")]);
        let elsewhere = json!([
            {"name": "broken", "expression": "object.missing.x"},
            {"name": "staging", "expression": "namespaceObject.metadata.labels.env == 'staging'"},
        ]);
        assert!(applies(elsewhere).is_empty());
        let broken = applies(json!([{"name": "broken", "expression": "object.missing.x"}]));
        assert_eq!(broken.len(), 1);
        assert!(
            broken[0]
                .message
                .starts_with("expression 'object.missing.x' resulted in error: "),
            "{broken:?}"
        );
    }

    #[test]
    fn variables_and_params_are_seen_in_order() {
        let spec = json!({
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "variables": [
                {"name": "limit", "expression": "int(params.data.max)"},
                {"name": "over", "expression": "object.data.size() > variables.limit"},
                {"name": "broken", "expression": "object.missing.x"},
            ],
            "validations": [
                {"expression": "!variables.over",
                 "messageExpression": "'at most ' + string(variables.limit) + ' keys'"},
                {"expression": "variables.broken"},
            ],
        });
        let params = json!({"data": {"max": "2"}});
        let failures = judge(spec, configmap(3), params);
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert_eq!(failures[0], invalid("at most 2 keys"));
        assert!(
            failures[1]
                .message
                .starts_with("expression 'variables.broken' resulted in error: "),
            "{failures:?}"
        );
    }

    #[test]
    fn reasons_pick_upstreams_codes() {
        let codes: Vec<_> = [
            Reason::Unauthorized,
            Reason::Forbidden,
            Reason::Invalid,
            Reason::RequestEntityTooLarge,
        ]
        .into_iter()
        .map(|r| (r.name(), r.code()))
        .collect();
        assert_eq!(
            codes,
            [
                ("Unauthorized", 401),
                ("Forbidden", 403),
                ("Invalid", 422),
                ("RequestEntityTooLarge", 413)
            ]
        );
    }
}
