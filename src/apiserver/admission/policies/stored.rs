//! The validating admission policies in force, read from the stored policies and bindings by
//! the mirror of their group (see [`super::super::configured`]) into what admission evaluates:
//! each policy with the bindings that name it, both in name order. As upstream, a binding whose
//! policy does not exist and a policy that no binding names do nothing.

use k8s_openapi::api::admissionregistration::v1::{
    MatchCondition, ParamKind, ParamRef, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding, Validation, Variable,
};

use super::super::configured;
use super::matching::Constraints;
use crate::store::mirror::Objects;

/// The policies that some binding names, in name order.
pub type Policies = Vec<Policy>;

/// One policy, as admission applies it.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    /// The requests it may apply to (`matchConstraints`).
    pub constraints: Constraints,
    pub param_kind: Option<ParamKind>,
    /// `failurePolicy: Ignore`: what cannot be evaluated passes.
    pub ignore_failure: bool,
    pub match_conditions: Vec<MatchCondition>,
    pub variables: Vec<Variable>,
    pub validations: Vec<Validation>,
    pub bindings: Vec<Binding>,
}

/// One binding of a policy.
#[derive(Debug)]
pub struct Binding {
    pub name: String,
    /// `matchResources`, which narrows the policy's constraints; none leaves them as they are.
    pub constraints: Option<Constraints>,
    pub param_ref: Option<ParamRef>,
    /// `Deny` is among its validation actions: a failure refuses the request.
    pub deny: bool,
    /// `Warn` is: a failure is a warning to the client. (`Audit` has no log to go to.)
    pub warn: bool,
}

/// The policies of the stored objects, each with its bindings; the objects were validated on
/// write, and one that no longer reads does nothing.
pub(in crate::apiserver::admission) fn derive(objects: &Objects) -> Policies {
    let mut policies: Policies = configured::stored(objects, "validatingadmissionpolicies")
        .filter_map(|value| serde_json::from_slice::<ValidatingAdmissionPolicy>(value).ok())
        .filter_map(Policy::read)
        .collect();
    let bindings = configured::stored(objects, "validatingadmissionpolicybindings")
        .filter_map(|value| serde_json::from_slice::<ValidatingAdmissionPolicyBinding>(value).ok())
        .filter_map(Binding::read);
    for (policy_name, binding) in bindings {
        if let Some(policy) = policies.iter_mut().find(|p| p.name == policy_name) {
            policy.bindings.push(binding);
        }
    }
    policies.retain(|policy| !policy.bindings.is_empty());
    policies
}

impl Policy {
    /// The policy as admission applies it; the defaults were applied on write.
    fn read(policy: ValidatingAdmissionPolicy) -> Option<Policy> {
        let spec = policy.spec?;
        Some(Policy {
            name: policy.metadata.name.unwrap_or_default(),
            constraints: Constraints::from(spec.match_constraints?),
            param_kind: spec.param_kind,
            ignore_failure: spec.failure_policy.as_deref() == Some("Ignore"),
            match_conditions: spec.match_conditions.unwrap_or_default(),
            variables: spec.variables.unwrap_or_default(),
            validations: spec.validations.unwrap_or_default(),
            bindings: Vec::new(),
        })
    }
}

impl Binding {
    /// The binding, and the name of the policy it binds.
    fn read(binding: ValidatingAdmissionPolicyBinding) -> Option<(String, Binding)> {
        let spec = binding.spec?;
        let actions = spec.validation_actions.unwrap_or_default();
        let has = |action: &str| actions.iter().any(|a| a == action);
        let read = Binding {
            name: binding.metadata.name.unwrap_or_default(),
            constraints: spec.match_resources.map(Constraints::from),
            param_ref: spec.param_ref,
            deny: has("Deny"),
            warn: has("Warn"),
        };
        Some((spec.policy_name?, read))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use bytes::Bytes;
    use serde_json::{Value, json};

    use super::*;
    use crate::apiserver::admission::configured::PREFIX;

    /// A policy named `name` on ConfigMaps, after defaulting, with `spec` merged in.
    pub fn policy(name: &str, spec: Value) -> Value {
        let mut policy = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
                    "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"], "scope": "*"}],
                },
            },
        });
        for (field, value) in spec.as_object().into_iter().flatten() {
            policy["spec"][field] = value.clone();
        }
        policy
    }

    /// `policy` as admission applies it.
    pub fn read(policy: Value) -> Policy {
        Policy::read(serde_json::from_value(policy).expect("a policy")).expect("a spec")
    }

    fn binding(name: &str, policy: &str, actions: Value) -> Value {
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {"policyName": policy, "validationActions": actions},
        })
    }

    fn stored(resource: &str, object: Value) -> (String, Bytes) {
        let name = object["metadata"]["name"].as_str().expect("a name");
        (
            format!("{PREFIX}{resource}/{name}"),
            Bytes::from(serde_json::to_vec(&object).expect("JSON")),
        )
    }

    #[test]
    fn policies_are_paired_with_the_bindings_that_name_them() {
        let validations = json!({"validations": [{"expression": "true"}]});
        let objects: Objects = [
            stored(
                "validatingadmissionpolicies",
                policy("limits", validations.clone()),
            ),
            stored(
                "validatingadmissionpolicies",
                policy("unbound", validations.clone()),
            ),
            stored(
                "validatingadmissionpolicybindings",
                binding("limits-warn", "limits", json!(["Warn", "Audit"])),
            ),
            stored(
                "validatingadmissionpolicybindings",
                binding("limits-deny", "limits", json!(["Deny"])),
            ),
            stored(
                "validatingadmissionpolicybindings",
                binding("orphan", "missing", json!(["Deny"])),
            ),
            stored(
                "validatingwebhookconfigurations",
                json!({"metadata": {"name": "limits"}, "webhooks": []}),
            ),
        ]
        .into_iter()
        .collect();
        let policies = derive(&objects);
        assert_eq!(policies.len(), 1, "{policies:?}");
        let limits = &policies[0];
        assert_eq!(limits.name, "limits");
        assert!(!limits.ignore_failure);
        let bindings: Vec<_> = limits
            .bindings
            .iter()
            .map(|b| (b.name.as_str(), b.deny, b.warn))
            .collect();
        assert_eq!(
            bindings,
            [("limits-deny", true, false), ("limits-warn", false, true)]
        );
    }
}
