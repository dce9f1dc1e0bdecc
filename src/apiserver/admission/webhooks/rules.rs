//! Which requests a webhook is sent (and a policy applies to), as upstream's rule and selector
//! matchers decide: its rules (operations, groups, versions, resources with subresources,
//! scope) and the label selectors on the request's namespace and object.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::RuleWithOperations;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use crate::apiserver::admission::Operation;
use crate::controllers::selector;

/// The resource a request is about, in the terms rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    /// Empty for the resource itself.
    pub subresource: &'a str,
    pub namespaced: bool,
}

/// Whether any of `rules` covers `operation` on `target`.
pub fn any_matches(rules: &[RuleWithOperations], operation: Operation, target: Target) -> bool {
    rules.iter().any(|rule| matches(rule, operation, target))
}

/// Whether `rule` covers `operation` on `target`.
pub fn matches(rule: &RuleWithOperations, operation: Operation, target: Target) -> bool {
    let listed = |list: &Option<Vec<String>>, value: &str| {
        list.iter()
            .flatten()
            .any(|entry| entry == "*" || entry == value)
    };
    let scope = match rule.scope.as_deref() {
        Some("Cluster") => !target.namespaced,
        Some("Namespaced") => target.namespaced,
        _ => true,
    };
    scope
        && listed(&rule.operations, operation.name())
        && listed(&rule.api_groups, target.group)
        && listed(&rule.api_versions, target.version)
        && rule.resources.iter().flatten().any(|entry| {
            // `pods` is the resource alone, `pods/status` one subresource, `pods/*` the
            // resource and all its subresources, `*` every resource, `*/*` everything.
            let (resource, subresource) = entry.split_once('/').unwrap_or((entry, ""));
            (resource == "*" || resource == target.resource)
                && (subresource == "*" || subresource == target.subresource)
        })
}

/// An object's labels, for selectors.
pub fn labels(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// Whether the object selector admits the request: the new object's labels or the old one's
/// match (a delete has only the old, a create only the new).
pub fn object_selected(
    selector: &LabelSelector,
    object: Option<&Value>,
    old: Option<&Value>,
) -> bool {
    is_empty(selector)
        || [object, old]
            .into_iter()
            .flatten()
            .any(|o| selector::matches(selector, Some(&labels(o))))
}

/// Whether a selector selects everything, so nothing need be read to apply it.
pub fn is_empty(selector: &LabelSelector) -> bool {
    selector
        .match_labels
        .as_ref()
        .is_none_or(BTreeMap::is_empty)
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(Vec::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(value: Value) -> RuleWithOperations {
        serde_json::from_value(value).unwrap()
    }

    const PODS: Target = Target {
        group: "",
        version: "v1",
        resource: "pods",
        subresource: "",
        namespaced: true,
    };

    #[test]
    fn resources_name_subresources_as_upstream_does() {
        let covers = |resources: Value, target: Target| {
            let r = rule(
                json!({"operations": ["*"], "apiGroups": [""], "apiVersions": ["v1"], "resources": resources}),
            );
            matches(&r, Operation::Update, target)
        };
        let status = Target {
            subresource: "status",
            ..PODS
        };
        assert!(covers(json!(["pods"]), PODS));
        assert!(!covers(json!(["pods"]), status));
        assert!(covers(json!(["pods/status"]), status));
        assert!(covers(json!(["pods/*"]), status));
        assert!(covers(json!(["pods/*"]), PODS));
        assert!(covers(json!(["*"]), PODS));
        assert!(!covers(json!(["*"]), status));
        assert!(covers(json!(["*/status"]), status));
        assert!(covers(json!(["*/*"]), status));
        assert!(!covers(json!(["services"]), PODS));
    }

    #[test]
    fn operations_groups_versions_and_scope_must_all_match() {
        let r = rule(
            json!({"operations": ["CREATE"], "apiGroups": ["apps"], "apiVersions": ["v1"],
                            "resources": ["deployments"], "scope": "Namespaced"}),
        );
        let deployments = Target {
            group: "apps",
            resource: "deployments",
            ..PODS
        };
        assert!(matches(&r, Operation::Create, deployments));
        assert!(!matches(&r, Operation::Delete, deployments));
        assert!(!matches(
            &r,
            Operation::Create,
            Target {
                group: "extensions",
                ..deployments
            }
        ));
        assert!(!matches(
            &r,
            Operation::Create,
            Target {
                version: "v1beta1",
                ..deployments
            }
        ));
        assert!(!matches(
            &r,
            Operation::Create,
            Target {
                namespaced: false,
                ..deployments
            }
        ));
        let cluster = rule(
            json!({"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"],
                                  "resources": ["*"], "scope": "Cluster"}),
        );
        assert!(!any_matches(&[cluster.clone()], Operation::Create, PODS));
        let namespaces = Target {
            resource: "namespaces",
            namespaced: false,
            ..PODS
        };
        assert!(any_matches(&[cluster], Operation::Create, namespaces));
    }

    #[test]
    fn object_selectors_look_at_the_new_and_the_old_labels() {
        let selector: LabelSelector =
            serde_json::from_value(json!({"matchLabels": {"app": "web"}})).unwrap();
        let web = json!({"metadata": {"labels": {"app": "web"}}});
        let other = json!({"metadata": {"labels": {"app": "db"}}});
        assert!(object_selected(&selector, Some(&web), None));
        assert!(object_selected(&selector, Some(&other), Some(&web)));
        assert!(object_selected(&selector, None, Some(&web)));
        assert!(!object_selected(&selector, Some(&other), None));
        assert!(object_selected(
            &LabelSelector::default(),
            Some(&other),
            None
        ));
    }
}
