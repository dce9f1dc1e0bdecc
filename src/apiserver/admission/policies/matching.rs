//! Which requests a policy, and then each of its bindings, applies to (upstream's
//! `MatchResources`): rules that may name the objects they cover, rules that exclude, the match
//! policy, and selectors of the namespace and the object, matched with the webhooks' rule and
//! selector matchers.

use k8s_openapi::api::admissionregistration::v1::{
    MatchResources, NamedRuleWithOperations, RuleWithOperations,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use super::super::webhooks::rules::{self, Target};
use super::super::webhooks::{named_version, namespace_selected};
use super::super::{Attributes, Operation};
use crate::apiserver::{ApiError, ApiState};
use crate::registry::Resource;

/// The requests a policy or binding applies to, as read once from its stored object.
#[derive(Debug)]
pub struct Constraints {
    /// None: every resource (a binding's narrowing by selectors alone).
    rules: Vec<NamedRule>,
    excluded: Vec<NamedRule>,
    /// `matchPolicy: Equivalent`: a request through another version of a resource the rules
    /// name is covered too.
    equivalent: bool,
    namespace_selector: LabelSelector,
    object_selector: LabelSelector,
}

/// A rule, and the objects it is limited to (none: all of them).
#[derive(Debug)]
struct NamedRule {
    rule: RuleWithOperations,
    names: Vec<String>,
}

impl From<MatchResources> for Constraints {
    fn from(resources: MatchResources) -> Constraints {
        let named = |rules: Option<Vec<NamedRuleWithOperations>>| {
            rules.into_iter().flatten().map(NamedRule::from).collect()
        };
        Constraints {
            rules: named(resources.resource_rules),
            excluded: named(resources.exclude_resource_rules),
            equivalent: resources.match_policy.as_deref() != Some("Exact"),
            namespace_selector: resources.namespace_selector.unwrap_or_default(),
            object_selector: resources.object_selector.unwrap_or_default(),
        }
    }
}

impl From<NamedRuleWithOperations> for NamedRule {
    fn from(named: NamedRuleWithOperations) -> NamedRule {
        let NamedRuleWithOperations {
            api_groups,
            api_versions,
            operations,
            resource_names,
            resources,
            scope,
        } = named;
        NamedRule {
            rule: RuleWithOperations {
                api_groups,
                api_versions,
                operations,
                resources,
                scope,
            },
            names: resource_names.unwrap_or_default(),
        }
    }
}

impl Constraints {
    /// The version of the request's resource through which these constraints cover the
    /// request (its own, or with `Equivalent` another its rules name), or none when they do
    /// not: a rule excludes it, no rule names it, or a selector passes it over.
    pub async fn matched(
        &self,
        state: &ApiState,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
    ) -> Result<Option<&'static Resource>, ApiError> {
        let (operation, name) = (attributes.operation, attributes.name);
        let excluded = |target: Target<'static>| covers(&self.excluded, operation, target, name);
        if !self.excluded.is_empty()
            && named_version(state, attributes, self.equivalent, excluded).is_some()
        {
            return Ok(None);
        }
        let version = if self.rules.is_empty() {
            attributes.resource
        } else {
            let named = |target: Target<'static>| covers(&self.rules, operation, target, name);
            match named_version(state, attributes, self.equivalent, named) {
                Some(version) => version,
                None => return Ok(None),
            }
        };
        if !rules::object_selected(&self.object_selector, object, attributes.old) {
            return Ok(None);
        }
        if !namespace_selected(state, &self.namespace_selector, attributes, object).await? {
            return Ok(None);
        }
        Ok(Some(version))
    }
}

/// Whether one of `named` covers `operation` on `target` and, when it names objects, the
/// object `name` (a create whose name is still to be generated matches no names).
fn covers(named: &[NamedRule], operation: Operation, target: Target<'_>, name: &str) -> bool {
    named.iter().any(|rule| {
        rules::matches(&rule.rule, operation, target)
            && (rule.names.is_empty() || rule.names.iter().any(|n| n == name))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn constraints(resources: Value) -> Constraints {
        Constraints::from(serde_json::from_value::<MatchResources>(resources).expect("rules"))
    }

    const CONFIGMAPS: Target = Target {
        group: "",
        version: "v1",
        resource: "configmaps",
        subresource: "",
        namespaced: true,
    };

    #[test]
    fn rules_may_name_the_objects_they_cover() {
        let limited = constraints(json!({"resourceRules": [
            {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE", "DELETE"],
             "resources": ["configmaps"], "resourceNames": ["settings"]},
            {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]},
        ]}));
        let named = &limited.rules;
        assert!(covers(named, Operation::Update, CONFIGMAPS, "settings"));
        assert!(!covers(named, Operation::Update, CONFIGMAPS, "other"));
        assert!(covers(named, Operation::Create, CONFIGMAPS, ""));
        let secrets = Target {
            resource: "secrets",
            ..CONFIGMAPS
        };
        assert!(!covers(named, Operation::Update, secrets, "settings"));
    }

    #[test]
    fn match_policies_and_selectors_default_as_upstream_defaults_them() {
        let exact = constraints(json!({"matchPolicy": "Exact"}));
        assert!(!exact.equivalent && exact.rules.is_empty() && exact.excluded.is_empty());
        let defaulted = constraints(json!({
            "matchPolicy": "Equivalent",
            "excludeResourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"],
                                      "resources": ["*"]}],
            "objectSelector": {"matchLabels": {"tier": "web"}},
        }));
        assert!(defaulted.equivalent);
        assert!(covers(
            &defaulted.excluded,
            Operation::Delete,
            CONFIGMAPS,
            "any"
        ));
        assert!(rules::is_empty(&defaulted.namespace_selector));
        assert!(!rules::is_empty(&defaulted.object_selector));
    }
}
