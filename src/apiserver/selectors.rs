//! Label and field selectors from list and watch queries: upstream's string grammar
//! (`a=b,c!=d,e in (x,y),!f,g>3`), parsed once per request and matched against each object.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ApiError;
use crate::registry::Resource;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<LabelSelector, ApiError> {
        split_top_level(text)
            .into_iter()
            .map(|part| parse_requirement(part.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(LabelSelector)
            .map_err(|detail| {
                ApiError::BadRequest(format!("unable to parse requirement: {detail}"))
            })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|req| match req {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
            Requirement::GreaterThan(k, n) => number(labels.get(k)).is_some_and(|l| l > *n),
            Requirement::LessThan(k, n) => number(labels.get(k)).is_some_and(|l| l < *n),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Matches the labels of a JSON object.
    pub fn matches_object(&self, object: &Value) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let labels = object["metadata"]["labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        self.matches(&labels)
    }
}

fn number(value: Option<&String>) -> Option<i64> {
    value.and_then(|v| v.parse().ok())
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.retain(|p| !p.trim().is_empty());
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::NotExists(label_key(key.trim())?));
    }
    for (op, build) in [
        (
            "!=",
            Requirement::NotEquals as fn(String, String) -> Requirement,
        ),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = part.split_once(op) {
            return Ok(build(label_key(key.trim())?, label_value(value.trim())?));
        }
    }
    for (op, build) in [
        (
            ">",
            Requirement::GreaterThan as fn(String, i64) -> Requirement,
        ),
        ("<", Requirement::LessThan),
    ] {
        if let Some((key, value)) = part.split_once(op) {
            let n = value.trim().parse().map_err(|_| {
                format!(
                    "for '{op}', '{}' operators, the value must be an integer",
                    op
                )
            })?;
            return Ok(build(label_key(key.trim())?, n));
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    match words.as_slice() {
        [key] => Ok(Requirement::Exists(label_key(key)?)),
        [key, rest] => {
            let rest = rest.trim();
            let (negate, set) = if let Some(set) = rest.strip_prefix("notin") {
                (true, set)
            } else if let Some(set) = rest.strip_prefix("in") {
                (false, set)
            } else {
                return Err(format!(
                    "found '{rest}', expected: in, notin, =, ==, !=, gt, lt"
                ));
            };
            let values = parse_set(set.trim())?;
            let key = label_key(key)?;
            Ok(if negate {
                Requirement::NotIn(key, values)
            } else {
                Requirement::In(key, values)
            })
        }
        _ => Err(format!("found '{part}', expected: identifier")),
    }
}

fn parse_set(set: &str) -> Result<Vec<String>, String> {
    let inner = set
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("found '{set}', expected: '('"))?;
    inner.split(',').map(|v| label_value(v.trim())).collect()
}

fn label_key(key: &str) -> Result<String, String> {
    if key.is_empty() {
        return Err("found '', expected: identifier".into());
    }
    let errors = crate::validation::is_qualified_name(key);
    match errors.first() {
        Some(detail) => Err(format!("key: Invalid value: {key:?}: {detail}")),
        None => Ok(key.to_owned()),
    }
}

fn label_value(value: &str) -> Result<String, String> {
    let errors = crate::validation::is_valid_label_value(value);
    match errors.first() {
        Some(detail) => Err(format!("values[0]: Invalid value: {value:?}: {detail}")),
        None => Ok(value.to_owned()),
    }
}

/// A parsed `fieldSelector`: equality and inequality on the fields a resource supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(text: &str, resource: &Resource) -> Result<FieldSelector, ApiError> {
        let mut terms = Vec::new();
        for part in split_unescaped(text, ',') {
            if part.is_empty() {
                continue;
            }
            let (field, equal, value) = if let Some((f, v)) = split_once_unescaped(&part, "!=") {
                (f, false, v)
            } else if let Some((f, v)) = split_once_unescaped(&part, "==") {
                (f, true, v)
            } else if let Some((f, v)) = split_once_unescaped(&part, "=") {
                (f, true, v)
            } else {
                return Err(ApiError::BadRequest(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                )));
            };
            let field = field.trim().to_owned();
            if !supports(resource, &field) {
                return Err(ApiError::BadRequest(format!(
                    "field label not supported: {field}"
                )));
            }
            terms.push((field, equal, unescape(value.trim())));
        }
        Ok(FieldSelector(terms))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The name this selector pins, if it pins one with `metadata.name=X`.
    pub fn name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, equal, _)| field == "metadata.name" && *equal)
            .map(|(_, _, value)| value.as_str())
    }

    pub fn matches(&self, resource: &Resource, object: &Value) -> bool {
        self.0
            .iter()
            .all(|(field, equal, value)| (field_value(resource, object, field) == *value) == *equal)
    }
}

fn supports(resource: &Resource, field: &str) -> bool {
    matches!(field, "metadata.name" | "metadata.namespace")
        || resource.field_labels.iter().any(|(f, _)| *f == field)
}

/// The value of a selectable field as upstream's field sets render it.
fn field_value(resource: &Resource, object: &Value, field: &str) -> String {
    let absent = resource
        .field_labels
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, d)| *d)
        .unwrap_or("");
    // Events' `source` field selector reads `source.component`.
    let path = if field == "source" {
        "source.component"
    } else {
        field
    };
    let value = path.split('.').fold(object, |v, part| &v[part]);
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => absent.to_owned(),
    }
}

fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let current = parts.last_mut().expect("parts is never empty");
                current.push('\\');
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            c if c == separator => parts.push(String::new()),
            c => parts.last_mut().expect("parts is never empty").push(c),
        }
    }
    parts
}

fn split_once_unescaped<'a>(text: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let mut from = 0;
    while let Some(at) = text[from..].find(op).map(|i| i + from) {
        if !text[..at].ends_with('\\') {
            return Some((&text[..at], &text[at + op.len()..]));
        }
        from = at + op.len();
    }
    None
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_label_operator_matches_as_upstream() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app=db", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web, db)", true),
            ("app in (db)", false),
            ("app notin (db)", true),
            ("missing notin (db)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("n>4", true),
            ("n<5", false),
            ("app=web,tier in (front,back),!missing", true),
            ("app=web,tier=back", false),
            ("", true),
        ];
        for (text, expected) in cases {
            let selector = LabelSelector::parse(text).unwrap();
            assert_eq!(selector.matches(&l), expected, "{text}");
        }
    }

    #[test]
    fn malformed_label_selectors_are_bad_requests() {
        for text in ["app in web", "app=(", "a b c", "n>x", "-bad=1"] {
            assert!(
                matches!(LabelSelector::parse(text), Err(ApiError::BadRequest(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn field_selectors_read_supported_fields_only() {
        let pods = registry::find("", "v1", "pods").unwrap();
        let pod = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let sel = FieldSelector::parse("spec.nodeName=n1,status.phase!=Pending", pods).unwrap();
        assert!(sel.matches(pods, &pod));
        let sel = FieldSelector::parse("spec.nodeName=", pods).unwrap();
        assert!(!sel.matches(pods, &pod));
        let sel = FieldSelector::parse("metadata.name==p", pods).unwrap();
        assert_eq!(sel.name(), Some("p"));
        let err = FieldSelector::parse("spec.bogus=1", pods).unwrap_err();
        assert_eq!(err.to_string(), "field label not supported: spec.bogus");
    }

    #[test]
    fn absent_fields_take_their_default_value() {
        let nodes = registry::find("", "v1", "nodes").unwrap();
        let sel = FieldSelector::parse("spec.unschedulable=false", nodes).unwrap();
        assert!(sel.matches(nodes, &json!({"metadata": {"name": "n"}, "spec": {}})));
    }

    #[test]
    fn escaped_separators_stay_in_values() {
        let events = registry::find("", "v1", "events").unwrap();
        let sel = FieldSelector::parse(r"reason=a\,b", events).unwrap();
        assert!(sel.matches(events, &json!({"reason": "a,b"})));
    }
}
