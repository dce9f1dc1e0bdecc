//! The Table columns of custom resources, as apiextensions-apiserver's table convertor builds
//! them: the Name column, then the served version's `additionalPrinterColumns` (or, when it
//! declares none, upstream's lone Age column), each cell found by the column's JSONPath and typed
//! by the column's type, so `kubectl get widgets` prints here what it prints against
//! kube-apiserver.

use jiff::Timestamp;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceColumnDefinition;
use serde_json::{Number, Value, json};

use super::jsonpath::{Found, JsonPath};
use crate::printers::common::{CREATION_TIMESTAMP_DESCRIPTION, NAME_DESCRIPTION};
use crate::printers::duration;
use crate::validation::go::quote;

/// Go's zero time, 0001-01-01T00:00:00Z, which upstream prints as an unknown age.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// The Table columns of one served version of a CRD, parsed once when the version is served
/// rather than for every row.
#[derive(Debug, Clone)]
pub struct PrinterColumns {
    columns: Vec<Column>,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    /// "integer", "number", "boolean", "string" or "date"; anything else gives null cells.
    kind: String,
    format: String,
    description: String,
    priority: i32,
    path: JsonPath,
}

impl PrinterColumns {
    /// Parses every column's `jsonPath` (client-go's kubectl-style JSONPath, as upstream parses
    /// it inside `{}`). An empty list gives upstream's default Age column, which is what a CRD
    /// without printer columns shows. A path that does not parse gives upstream's error,
    /// `unrecognized column definition ".spec.x["`.
    pub fn new(columns: &[CustomResourceColumnDefinition]) -> Result<Self, String> {
        let age = [age_column()];
        let columns = if columns.is_empty() {
            &age[..]
        } else {
            columns
        };
        let columns = columns.iter().map(Column::new).collect::<Result<_, _>>()?;
        Ok(Self { columns })
    }

    /// The Table's `columnDefinitions`: the Name column first (its description ObjectMeta's,
    /// its format "name", which is how kubectl finds the name), then the CRD's columns.
    pub fn definitions(&self) -> Vec<Value> {
        let name = json!({
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": NAME_DESCRIPTION,
            "priority": 0,
        });
        std::iter::once(name)
            .chain(self.columns.iter().map(Column::definition))
            .collect()
    }

    /// One object's cells, aligned with `definitions()`: its name, then each column's value.
    /// As upstream, a column shows the first value its path finds (the others are ignored, not
    /// joined) and null when the path finds nothing or fails (an index out of range, a filter
    /// over something not a list); `date` columns show an age like "5m" relative to `now`.
    pub fn cells(&self, object: &Value, now: Timestamp) -> Vec<Value> {
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        std::iter::once(Value::from(name))
            .chain(self.columns.iter().map(|column| column.cell(object, now)))
            .collect()
    }
}

/// Checks one printer column's `jsonPath` for the CRD's validation: upstream's own rule (not
/// empty, starting with `.`, in its words), then that the path parses, in client-go's words
/// ("unterminated array", ...). Upstream stops at the first check and serves a CRD whose path
/// does not parse with only the columns before that one; rejecting it at once is stricter but
/// tells the author why their column is missing.
pub fn check_json_path(path: &str) -> Result<(), String> {
    match path.chars().next() {
        None => Err("must not be empty".to_owned()),
        Some('.') => JsonPath::parse(&format!("{{{path}}}")).map(drop),
        Some(_) => Err("must be a simple json path starting with .".to_owned()),
    }
}

/// Upstream's column for a version without printer columns (`serveDefaultColumnsIfEmpty`).
fn age_column() -> CustomResourceColumnDefinition {
    CustomResourceColumnDefinition {
        name: "Age".to_owned(),
        type_: "date".to_owned(),
        description: Some(CREATION_TIMESTAMP_DESCRIPTION.to_owned()),
        json_path: ".metadata.creationTimestamp".to_owned(),
        ..CustomResourceColumnDefinition::default()
    }
}

impl Column {
    fn new(definition: &CustomResourceColumnDefinition) -> Result<Self, String> {
        let json_path = &definition.json_path;
        let path = JsonPath::parse(&format!("{{{json_path}}}"))
            .map_err(|_| format!("unrecognized column definition {}", quote(json_path)))?;
        let description = match definition.description.as_deref() {
            Some(description) if !description.is_empty() => description.to_owned(),
            _ => format!("Custom resource definition column (in JSONPath format): {json_path}"),
        };
        Ok(Self {
            name: definition.name.clone(),
            kind: definition.type_.clone(),
            format: definition.format.clone().unwrap_or_default(),
            description,
            priority: definition.priority.unwrap_or_default(),
            path,
        })
    }

    fn definition(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }

    fn cell(&self, object: &Value, now: Timestamp) -> Value {
        let first = self
            .path
            .find(object)
            .ok()
            .and_then(|segments| segments.into_iter().next())
            .and_then(|results| results.into_iter().next());
        match (first, self.kind.as_str()) {
            (None, _) => Value::Null,
            (Some(value), "string") => Value::from(value.to_text()),
            (Some(value), kind) => typed_cell(kind, value, now),
        }
    }
}

/// A non-string cell: the value when it has the column's type (integers truncated from floats,
/// numbers widened from integers, dates as ages), null otherwise.
fn typed_cell(kind: &str, value: Found<'_>, now: Timestamp) -> Value {
    match (kind, value) {
        ("integer", Found::Json(Value::Number(n))) => n.as_i64().map_or_else(
            || n.as_f64().map_or(Value::Null, |f| Value::from(f as i64)),
            Value::from,
        ),
        ("integer", Found::Float(f)) => Value::from(f as i64),
        ("number", Found::Json(Value::Number(n))) => n.as_f64().map_or(Value::Null, number_cell),
        ("number", Found::Float(f)) => number_cell(f),
        ("boolean", Found::Json(Value::Bool(b))) => Value::from(*b),
        ("boolean", Found::Bool(b)) => Value::from(b),
        ("date", Found::Json(Value::String(text))) => Value::from(age(text, now)),
        ("date", Found::Text(text)) => Value::from(age(text, now)),
        _ => Value::Null,
    }
}

/// A float as Go's encoding/json writes it, whole values without a fraction ("3", not "3.0").
fn number_cell(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e18 {
        Value::from(value as i64)
    } else {
        Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

/// A date cell: how long ago the time was, `<unknown>` for an empty or zero time and
/// `<invalid>` for text that is not an RFC 3339 time, as upstream's
/// `ConvertToHumanReadableDateType`.
fn age(text: &str, now: Timestamp) -> String {
    if text.is_empty() || text == "null" {
        return "<unknown>".to_owned();
    }
    match text.parse::<Timestamp>() {
        Err(_) => "<invalid>".to_owned(),
        Ok(time) if time.as_second() == GO_ZERO_TIME_SECONDS && time.subsec_nanosecond() == 0 => {
            "<unknown>".to_owned()
        }
        Ok(time) => duration::human(now.duration_since(time)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, kind: &str, json_path: &str) -> CustomResourceColumnDefinition {
        CustomResourceColumnDefinition {
            name: name.to_owned(),
            type_: kind.to_owned(),
            json_path: json_path.to_owned(),
            ..CustomResourceColumnDefinition::default()
        }
    }

    fn now() -> Timestamp {
        "2025-01-03T03:00:00Z".parse().expect("valid timestamp")
    }

    fn widget() -> Value {
        json!({
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w1", "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {
                "replicas": 3,
                "image": "nginx:1.27",
                "paused": true,
                "ratio": 0.5,
                "size": 2.9,
                "selector": {"app": "w<1>"},
                "ports": [80, 443],
                "empty": "",
            },
            "status": {
                "observed": null,
                "conditions": [
                    {"type": "Available", "status": "False"},
                    {
                        "type": "Ready",
                        "status": "True",
                        "lastTransitionTime": "2025-01-03T02:55:00Z",
                    },
                ],
            },
        })
    }

    fn cells(columns: &[CustomResourceColumnDefinition]) -> Vec<Value> {
        PrinterColumns::new(columns)
            .expect("columns parse")
            .cells(&widget(), now())
    }

    #[test]
    fn definitions_start_with_the_name_column() {
        let columns = PrinterColumns::new(&[
            column("Replicas", "integer", ".spec.replicas"),
            CustomResourceColumnDefinition {
                description: Some("The image run.".to_owned()),
                priority: Some(1),
                ..column("Image", "string", ".spec.image")
            },
            CustomResourceColumnDefinition {
                format: Some("byte".to_owned()),
                ..column("Paused", "boolean", ".spec.paused")
            },
        ])
        .expect("columns parse");
        assert_eq!(
            columns.definitions(),
            [
                json!({"name": "Name", "type": "string", "format": "name",
                       "description": NAME_DESCRIPTION, "priority": 0}),
                json!({"name": "Replicas", "type": "integer", "format": "",
                       "description": "Custom resource definition column (in JSONPath format): .spec.replicas",
                       "priority": 0}),
                json!({"name": "Image", "type": "string", "format": "",
                       "description": "The image run.", "priority": 1}),
                json!({"name": "Paused", "type": "boolean", "format": "byte",
                       "description": "Custom resource definition column (in JSONPath format): .spec.paused",
                       "priority": 0}),
            ]
        );
    }

    #[test]
    fn cells_are_typed_by_their_column() {
        assert_eq!(
            cells(&[
                column("Replicas", "integer", ".spec.replicas"),
                column("Image", "string", ".spec.image"),
                column("Paused", "boolean", ".spec.paused"),
                column("Created", "date", ".metadata.creationTimestamp"),
                column("Ratio", "number", ".spec.ratio"),
            ]),
            [
                json!("w1"),
                json!(3),
                json!("nginx:1.27"),
                json!(true),
                json!("2d3h"),
                json!(0.5)
            ]
        );
    }

    #[test]
    fn a_filter_picks_a_condition() {
        assert_eq!(
            cells(&[
                column(
                    "Ready",
                    "string",
                    r#".status.conditions[?(@.type=="Ready")].status"#
                ),
                column(
                    "Since",
                    "date",
                    r#".status.conditions[?(@.type=="Ready")].lastTransitionTime"#
                ),
                column(
                    "Degraded",
                    "string",
                    r#".status.conditions[?(@.type=="Degraded")].status"#
                ),
            ]),
            [json!("w1"), json!("True"), json!("5m"), Value::Null]
        );
    }

    #[test]
    fn missing_fields_give_null_cells() {
        assert_eq!(
            cells(&[
                column("A", "integer", ".spec.missing"),
                column("B", "string", ".status.nothing.deeper"),
                column("C", "boolean", ".spec.missing"),
                column("D", "date", ".status.missing"),
                column("E", "number", ".spec.image.deeper"),
            ]),
            [
                json!("w1"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ]
        );
    }

    #[test]
    fn a_null_field_prints_as_no_value_only_in_string_columns() {
        assert_eq!(
            cells(&[
                column("A", "string", ".status.observed"),
                column("B", "integer", ".status.observed"),
            ]),
            [json!("w1"), json!("<no value>"), Value::Null]
        );
    }

    #[test]
    fn values_of_another_type_give_null_or_are_converted() {
        assert_eq!(
            cells(&[
                column("A", "integer", ".spec.image"),
                column("B", "integer", ".spec.size"),
                column("C", "number", ".spec.replicas"),
                column("D", "boolean", ".spec.replicas"),
                column("E", "string", ".spec.replicas"),
                column("F", "string", ".spec.paused"),
                column("G", "string", ".spec.ratio"),
                column("H", "date", ".spec.image"),
                column("I", "date", ".spec.empty"),
                column("J", "date", ".spec.replicas"),
            ]),
            [
                json!("w1"),
                Value::Null,
                json!(2),
                json!(3),
                Value::Null,
                json!("3"),
                json!("true"),
                json!("0.5"),
                json!("<invalid>"),
                json!("<unknown>"),
                Value::Null,
            ]
        );
    }

    #[test]
    fn string_columns_print_maps_and_lists_as_json() {
        assert_eq!(
            cells(&[
                column("Selector", "string", ".spec.selector"),
                column("Ports", "string", ".spec.ports"),
            ]),
            [
                json!("w1"),
                json!(r#"{"app":"w\u003c1\u003e"}"#),
                json!("[80,443]")
            ]
        );
    }

    #[test]
    fn only_the_first_value_found_is_shown() {
        assert_eq!(
            cells(&[
                column("First", "string", ".spec.ports[*]"),
                column("Last", "integer", ".spec.ports[-1]"),
                column("Types", "string", ".status.conditions[*].type"),
                column("Beyond", "integer", ".spec.ports[5]"),
            ]),
            [
                json!("w1"),
                json!("80"),
                json!(443),
                json!("Available"),
                Value::Null
            ]
        );
    }

    #[test]
    fn no_columns_give_the_age_column() {
        let columns = PrinterColumns::new(&[]).expect("columns parse");
        assert_eq!(
            columns.definitions(),
            [
                json!({"name": "Name", "type": "string", "format": "name",
                       "description": NAME_DESCRIPTION, "priority": 0}),
                json!({"name": "Age", "type": "date", "format": "",
                       "description": CREATION_TIMESTAMP_DESCRIPTION, "priority": 0}),
            ]
        );
        assert_eq!(
            columns.cells(&widget(), now()),
            [json!("w1"), json!("2d3h")]
        );
        let unnamed = json!({"metadata": {"creationTimestamp": "2025-01-03T02:55:00Z"}});
        assert_eq!(columns.cells(&unnamed, now()), [json!(""), json!("5m")]);
    }

    #[test]
    fn a_path_that_does_not_parse_is_an_error() {
        let error = PrinterColumns::new(&[
            column("Replicas", "integer", ".spec.replicas"),
            column("Port", "integer", ".spec.ports["),
        ])
        .expect_err("does not parse");
        assert_eq!(error, r#"unrecognized column definition ".spec.ports[""#);
    }

    #[test]
    fn checking_one_path() {
        assert_eq!(check_json_path(".spec.replicas"), Ok(()));
        assert_eq!(
            check_json_path(r#".status.conditions[?(@.type=="Ready")].status"#),
            Ok(())
        );
        assert_eq!(
            check_json_path("spec.replicas"),
            Err("must be a simple json path starting with .".to_owned())
        );
        assert_eq!(check_json_path(""), Err("must not be empty".to_owned()));
        assert_eq!(
            check_json_path(".spec.ports["),
            Err("unterminated array".to_owned())
        );
        assert_eq!(
            check_json_path(r#".status.conditions[?(@.type=="Ready""#),
            Err("unterminated filter".to_owned())
        );
        assert_eq!(
            check_json_path(".spec ?"),
            Err("unrecognized character in action: U+003F '?'".to_owned())
        );
    }

    #[test]
    fn zero_times_are_unknown_ages() {
        assert_eq!(age("0001-01-01T00:00:00Z", now()), "<unknown>");
        assert_eq!(age("null", now()), "<unknown>");
        assert_eq!(age("2025-01-03T02:59:15Z", now()), "45s");
    }
}
