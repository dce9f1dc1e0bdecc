//! Labels and label selectors in the text form kubectl shows: `app=web,tier=db`,
//! `app in (a,b),!canary`, or `<none>`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// `k=v` pairs in key order, or `<none>` when there are none.
pub(super) fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    if pairs.is_empty() {
        "<none>".to_owned()
    } else {
        pairs.join(",")
    }
}

/// The selector's text, `<none>` when it selects by nothing, `<error>` when an expression
/// cannot be read (upstream's `FormatLabelSelector`).
pub(super) fn format_selector(selector: Option<&LabelSelector>) -> String {
    match selector_text(selector) {
        None => "<error>".to_owned(),
        Some(text) if text.is_empty() => "<none>".to_owned(),
        Some(text) => text,
    }
}

/// The selector's requirements sorted by key and joined with commas; empty for a missing or
/// empty selector, `None` when an expression has an unknown operator or values its operator
/// does not allow. Label syntax itself is checked when objects are admitted, not here.
pub fn selector_text(selector: Option<&LabelSelector>) -> Option<String> {
    let Some(selector) = selector else {
        return Some(String::new());
    };
    let equalities = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| Some((key.as_str(), format!("{key}={value}"))));
    let expressions = selector
        .match_expressions
        .iter()
        .flatten()
        .map(|expression| Some((expression.key.as_str(), requirement_text(expression)?)));
    let mut requirements = equalities.chain(expressions).collect::<Option<Vec<_>>>()?;
    requirements.sort_by_key(|&(key, _)| key);
    let texts: Vec<String> = requirements.into_iter().map(|(_, text)| text).collect();
    Some(texts.join(","))
}

fn requirement_text(expression: &LabelSelectorRequirement) -> Option<String> {
    let key = &expression.key;
    let values = expression.values.as_deref().unwrap_or_default();
    match (expression.operator.as_str(), values.is_empty()) {
        ("In", false) => Some(format!("{key} in ({})", sorted_values(values))),
        ("NotIn", false) => Some(format!("{key} notin ({})", sorted_values(values))),
        ("Exists", true) => Some(key.clone()),
        ("DoesNotExist", true) => Some(format!("!{key}")),
        _ => None,
    }
}

fn sorted_values(values: &[String]) -> String {
    let mut values = values.to_vec();
    values.sort();
    values.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(json: serde_json::Value) -> LabelSelector {
        serde_json::from_value(json).expect("valid label selector")
    }

    #[test]
    fn labels_are_sorted_pairs_or_none() {
        let labels = BTreeMap::from([
            ("tier".to_owned(), "db".to_owned()),
            ("app".to_owned(), "web".to_owned()),
        ]);
        assert_eq!(format_labels(Some(&labels)), "app=web,tier=db");
        assert_eq!(format_labels(Some(&BTreeMap::new())), "<none>");
        assert_eq!(format_labels(None), "<none>");
    }

    #[test]
    fn selector_requirements_are_sorted_by_key_with_sorted_values() {
        let selector = selector(serde_json::json!({
            "matchLabels": {"tier": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "app", "operator": "Exists"},
            ],
        }));
        assert_eq!(
            format_selector(Some(&selector)),
            "app,!canary,env in (dev,prod),tier=web,zone notin (b)"
        );
    }

    #[test]
    fn empty_or_missing_selectors_print_none() {
        assert_eq!(format_selector(Some(&LabelSelector::default())), "<none>");
        assert_eq!(format_selector(None), "<none>");
        assert_eq!(
            selector_text(Some(&LabelSelector::default())).as_deref(),
            Some("")
        );
    }

    #[test]
    fn unreadable_expressions_are_errors() {
        let unknown = selector(serde_json::json!({
            "matchExpressions": [{"key": "app", "operator": "Near", "values": ["a"]}],
        }));
        let in_without_values = selector(serde_json::json!({
            "matchExpressions": [{"key": "app", "operator": "In"}],
        }));
        let exists_with_values = selector(serde_json::json!({
            "matchExpressions": [{"key": "app", "operator": "Exists", "values": ["a"]}],
        }));
        assert_eq!(format_selector(Some(&unknown)), "<error>");
        assert_eq!(format_selector(Some(&in_without_values)), "<error>");
        assert_eq!(selector_text(Some(&exists_with_values)), None);
    }
}
