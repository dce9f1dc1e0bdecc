//! Matching labels against a `metav1.LabelSelector` (matchLabels and matchExpressions), as
//! workload controllers select their pods and Services their endpoints.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether `labels` satisfy `selector`. An empty selector matches everything; upstream's
/// workload controllers never use one (validation requires a non-empty selector).
pub fn matches(selector: &LabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    let empty = BTreeMap::new();
    let labels = labels.unwrap_or(&empty);
    let equal = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    equal
        && selector.match_expressions.iter().flatten().all(|expr| {
            let values = expr.values.as_deref().unwrap_or_default();
            let value = labels.get(&expr.key);
            match expr.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

/// Whether labels match a plain map selector (a Service's `spec.selector`), which must not be
/// empty to select anything.
pub fn matches_map(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    !selector.is_empty()
        && labels.is_some_and(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions_combine() {
        let selector = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["front".into(), "edge".into()]),
            }]),
        };
        assert!(matches(
            &selector,
            Some(&labels(&[("app", "web"), ("tier", "edge")]))
        ));
        assert!(!matches(
            &selector,
            Some(&labels(&[("app", "web"), ("tier", "back")]))
        ));
        assert!(!matches(&selector, Some(&labels(&[("tier", "front")]))));
        assert!(!matches(&selector, None));
    }

    #[test]
    fn service_selectors_must_be_non_empty() {
        assert!(!matches_map(&BTreeMap::new(), Some(&labels(&[("a", "b")]))));
        assert!(matches_map(
            &labels(&[("a", "b")]),
            Some(&labels(&[("a", "b"), ("c", "d")]))
        ));
    }
}
