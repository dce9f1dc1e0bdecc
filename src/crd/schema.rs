//! A CRD version's structural schema applied to its custom resources: undeclared fields pruned,
//! defaults set and the object validated, as apiextensions-apiserver does it (its
//! `schema/pruning` and `schema/defaulting` packages, the kube-openapi validator behind
//! `ValidateCustomResource`, and the embedded-resource checks of `schema/objectmeta`), so custom
//! resources are stored, and rejected, with kube-apiserver's field paths and wording.
//!
//! Behaviour follows Kubernetes 1.33, the API version this crate serves. Go's quirks are kept
//! where they show in results: an integer is compared with a bound truncated to an integer, a
//! format named on a non-string type reports the format, composition errors carry no field.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::{LazyLock, Mutex, PoisonError};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use regex::Regex;
use serde_json::{Map, Number, Value};

use crate::validation::{
    ErrorKind, ErrorList, FieldError, GoValue, NameRule, Path, Rendered, is_dns1035_label,
    object_meta,
};

/// Type and object metadata: kept, and not walked, at the resource root and in embedded
/// resources, where the schema does not describe them.
const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// How Go prints a nil field path, which upstream gives errors that belong to no field.
const NIL_PATH: &str = "<nil>";

/// Upstream's `ValidateCustomResource` is built on kube-openapi's validator, which calls every
/// value "in body".
const IN: &str = "body";

// ---------------------------------------------------------------------------------------------
// Reading the schema as its structural form
// ---------------------------------------------------------------------------------------------

fn is_meta_field(key: &str) -> bool {
    META_FIELDS.contains(&key)
}

fn property<'a>(schema: &'a JSONSchemaProps, key: &str) -> Option<&'a JSONSchemaProps> {
    schema.properties.as_ref()?.get(key)
}

/// `additionalProperties` as the structural schema reads it: `None` when absent, `Some(None)`
/// when a boolean (the values are declared, with no schema for them).
fn additional(schema: &JSONSchemaProps) -> Option<Option<&JSONSchemaProps>> {
    match schema.additional_properties.as_ref()? {
        JSONSchemaPropsOrBool::Schema(values) => Some(Some(&**values)),
        JSONSchemaPropsOrBool::Bool(_) => Some(None),
    }
}

/// How a key of an object is declared: by a property or by `additionalProperties` (`Some`,
/// holding the schema when there is one), or not at all (`None`).
fn declared<'a>(schema: &'a JSONSchemaProps, key: &str) -> Option<Option<&'a JSONSchemaProps>> {
    match property(schema, key) {
        Some(found) => Some(Some(found)),
        None => additional(schema),
    }
}

/// The schema of every item. The list form of `items` is forbidden in CRDs and declares nothing.
fn items(schema: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match schema.items.as_ref()? {
        JSONSchemaPropsOrArray::Schema(item) => Some(&**item),
        JSONSchemaPropsOrArray::Schemas(_) => None,
    }
}

fn preserves_unknown_fields(schema: &JSONSchemaProps) -> bool {
    schema.x_kubernetes_preserve_unknown_fields == Some(true)
}

fn is_embedded_resource(schema: &JSONSchemaProps) -> bool {
    schema.x_kubernetes_embedded_resource == Some(true)
}

fn is_nullable(schema: &JSONSchemaProps) -> bool {
    schema.nullable == Some(true)
}

/// The default, if any; a `null` default is none, as upstream's nil.
fn default_of(schema: &JSONSchemaProps) -> Option<&Value> {
    schema
        .default
        .as_ref()
        .map(|d| &d.0)
        .filter(|v| !v.is_null())
}

// ---------------------------------------------------------------------------------------------
// Pruning
// ---------------------------------------------------------------------------------------------

/// Drops the fields the schema does not declare, as upstream's structural pruning does, so
/// custom resources hold only what their CRD describes. At the root, and inside
/// `x-kubernetes-embedded-resource` objects, `apiVersion`, `kind` and `metadata` are kept (and
/// not walked); `x-kubernetes-preserve-unknown-fields: true` keeps undeclared fields at that
/// level while declared ones are still pruned by their own schemas; `additionalProperties`
/// applies to every map value and `items` to every element.
///
/// Then, as upstream does right after pruning, drops every `null` whose schema is neither
/// `nullable` nor has a default (a `null` with a default is left for [`apply_defaults`]).
///
/// Returns the paths of the pruned fields, sorted, written as upstream's strict field
/// validation names them in its `unknown field "..."` warnings and errors: `spec.foo`,
/// `spec.list[0].bar` (no leading dot).
pub fn prune(object: &mut Value, schema: &JSONSchemaProps) -> Vec<String> {
    let mut pruner = Pruner::default();
    pruner.prune(object, Some(schema), true);
    drop_non_nullable_nulls(object, Some(schema));
    let mut dropped = pruner.dropped;
    dropped.sort();
    dropped
}

/// Upstream's pruning walk, recording the path of every field it drops.
#[derive(Default)]
struct Pruner {
    /// The path of the value being walked, built as upstream's `UnknownFieldPathOptions` does.
    path: String,
    dropped: Vec<String>,
}

impl Pruner {
    /// `root` marks the resource root, which keeps its type and object metadata as an embedded
    /// resource does.
    fn prune(&mut self, value: &mut Value, schema: Option<&JSONSchemaProps>, root: bool) {
        if let Some(schema) = schema.filter(|s| preserves_unknown_fields(s)) {
            self.prune_declared(value, schema, root);
            return;
        }
        match value {
            Value::Object(map) => {
                let Some(schema) = schema else {
                    for key in map.keys() {
                        self.record(key);
                    }
                    map.clear();
                    return;
                };
                let keeps_meta = root || is_embedded_resource(schema);
                let mut unknown = Vec::new();
                for (key, child) in map.iter_mut() {
                    if keeps_meta && is_meta_field(key) {
                        continue;
                    }
                    match declared(schema, key) {
                        Some(child_schema) => {
                            let mark = self.enter(key);
                            self.prune(child, child_schema, false);
                            self.path.truncate(mark);
                        }
                        None => {
                            self.record(key);
                            unknown.push(key.clone());
                        }
                    }
                }
                for key in unknown {
                    map.remove(&key);
                }
            }
            Value::Array(list) => {
                let item_schema = schema.and_then(items);
                for (index, item) in list.iter_mut().enumerate() {
                    let mark = self.enter_index(index);
                    self.prune(item, item_schema, false);
                    self.path.truncate(mark);
                }
            }
            _ => {}
        }
    }

    /// Below `x-kubernetes-preserve-unknown-fields` (upstream's `skipPrune`): undeclared fields
    /// stay, declared ones are pruned by their own schemas, and list items keep preserving.
    fn prune_declared(&mut self, value: &mut Value, schema: &JSONSchemaProps, root: bool) {
        match value {
            Value::Object(map) => {
                let keeps_meta = root || is_embedded_resource(schema);
                for (key, child) in map.iter_mut() {
                    if keeps_meta && is_meta_field(key) {
                        continue;
                    }
                    if let Some(child_schema) = declared(schema, key) {
                        let mark = self.enter(key);
                        self.prune(child, child_schema, false);
                        self.path.truncate(mark);
                    }
                }
            }
            Value::Array(list) => {
                let Some(item_schema) = items(schema) else {
                    return;
                };
                for (index, item) in list.iter_mut().enumerate() {
                    let mark = self.enter_index(index);
                    self.prune_declared(item, item_schema, false);
                    self.path.truncate(mark);
                }
            }
            _ => {}
        }
    }

    /// Appends a key to the path, returning the length to cut it back to.
    fn enter(&mut self, key: &str) -> usize {
        let mark = self.path.len();
        if mark > 0 {
            self.path.push('.');
        }
        self.path.push_str(key);
        mark
    }

    fn enter_index(&mut self, index: usize) -> usize {
        let mark = self.path.len();
        self.path.push_str(&format!("[{index}]"));
        mark
    }

    fn record(&mut self, key: &str) {
        let mark = self.enter(key);
        self.dropped.push(self.path.clone());
        self.path.truncate(mark);
    }
}

/// Upstream's `PruneNonNullableNullsWithoutDefaults`: a `null` that the schema of its field
/// neither allows nor defaults is dropped. Nulls in lists stay.
fn drop_non_nullable_nulls(value: &mut Value, schema: Option<&JSONSchemaProps>) {
    match value {
        Value::Object(map) => map.retain(|key, child| {
            let child_schema = schema.and_then(|s| declared(s, key)).flatten();
            let droppable = child.is_null()
                && child_schema.is_some_and(|s| !is_nullable(s) && default_of(s).is_none());
            if !droppable {
                drop_non_nullable_nulls(child, child_schema);
            }
            !droppable
        }),
        Value::Array(list) => {
            let item_schema = schema.and_then(items);
            for item in list {
                drop_non_nullable_nulls(item, item_schema);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Defaulting
// ---------------------------------------------------------------------------------------------

/// Sets the schema's defaults, as upstream's structural defaulting does after pruning, so
/// objects are stored complete: a property absent from an object that exists takes its
/// `default` (and the defaults nested in it), a `null` where the schema is not `nullable`
/// takes its default, and the same holds for list items and `additionalProperties` values.
/// Defaults are copied as they are; upstream prunes them when the CRD is stored.
pub fn apply_defaults(object: &mut Value, schema: &JSONSchemaProps) {
    set_defaults(object, schema);
}

fn set_defaults(value: &mut Value, schema: &JSONSchemaProps) {
    match value {
        Value::Object(map) => {
            for (key, prop) in schema.properties.iter().flatten() {
                let Some(default) = default_of(prop) else {
                    continue;
                };
                if map
                    .get(key)
                    .is_none_or(|v| v.is_null() && !is_nullable(prop))
                {
                    map.insert(key.clone(), default.clone());
                }
            }
            for (key, child) in map.iter_mut() {
                match property(schema, key) {
                    Some(prop) => set_defaults(child, prop),
                    None => {
                        if let Some(Some(values)) = additional(schema) {
                            fill_null(child, values);
                            set_defaults(child, values);
                        }
                    }
                }
            }
        }
        Value::Array(list) => {
            if let Some(item_schema) = items(schema) {
                for item in list {
                    fill_null(item, item_schema);
                    set_defaults(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

/// A `null` the schema does not allow takes the schema's default, when it has one.
fn fill_null(value: &mut Value, schema: &JSONSchemaProps) {
    if value.is_null()
        && !is_nullable(schema)
        && let Some(default) = default_of(schema)
    {
        *value = default.clone();
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// Validates an object against the schema as kube-apiserver validates a custom resource, so
/// invalid objects are rejected with its field paths, error types and wording: kube-openapi's
/// checks (type, including `integer` against `number`, `x-kubernetes-int-or-string` and
/// `nullable`; the string formats upstream enforces; enum; pattern; bounds; `multipleOf`;
/// lengths in characters; item and property counts; `uniqueItems`; `required`; `allOf`,
/// `anyOf`, `oneOf` and `not`) converted to field errors as `ValidateCustomResource` converts
/// them, followed by the checks of `x-kubernetes-embedded-resource` objects (`apiVersion` and
/// `kind` required and well-formed, `metadata` valid object metadata) and of the uniqueness of
/// `x-kubernetes-list-type: set` and `map` lists.
///
/// The root's `apiVersion`, `kind` and `metadata` are not checked against the schema: the
/// caller validates the type and object metadata of the resource itself.
pub fn validate(object: &Value, schema: &JSONSchemaProps) -> ErrorList {
    let mut errors: ErrorList = check(object, schema, "")
        .issues
        .into_iter()
        .map(Issue::into_field_error)
        .collect();
    check_structure(object, schema, &Path::new(""), &mut errors);
    errors
}

/// One failure as kube-openapi reports it, before it becomes a field error.
struct Issue {
    kind: IssueKind,
    /// kube-openapi's path of the value (`spec.items[0].name`); the map values of the root's
    /// `additionalProperties` start with a dot.
    name: String,
    /// The offending value; `Null` stands for Go's nil.
    value: Value,
    message: String,
}

enum IssueKind {
    Required,
    Enum(Vec<Value>),
    TooLong {
        max: i64,
    },
    TooMany {
        actual: i64,
        max: i64,
    },
    InvalidType,
    /// Any other failed check, reported as an invalid value.
    Other,
    /// A failed `anyOf`, `oneOf`, `allOf` or `not`, which upstream reports without a field.
    Composite,
}

impl Issue {
    fn new(kind: IssueKind, name: &str, value: Value, message: String) -> Self {
        Self {
            kind,
            name: name.to_string(),
            value,
            message,
        }
    }

    fn other(name: &str, value: Value, message: String) -> Self {
        Self::new(IssueKind::Other, name, value, message)
    }

    fn invalid_type(name: &str, expected: &str, actual: &str) -> Self {
        let message = format!(
            "{name} in {IN} must be of type {expected}: {}",
            quote(actual)
        );
        Self::new(IssueKind::InvalidType, name, Value::from(actual), message)
    }

    fn composite(message: String) -> Self {
        Self::new(IssueKind::Composite, "", Value::Null, message)
    }

    /// The field error `ValidateCustomResource` makes of the failure.
    fn into_field_error(self) -> FieldError {
        let field = match self.name.as_str() {
            "" | "." => NIL_PATH,
            name => name.strip_prefix('.').unwrap_or(name),
        }
        .to_string();
        let path = Path::new(&field);
        // A missing value shows as an empty string, except in unsupported-value errors.
        let shown = if self.value.is_null() {
            quote("")
        } else {
            go_body(&self.value)
        };
        match self.kind {
            IssueKind::Required => FieldError::required(&path, ""),
            IssueKind::Enum(allowed) => {
                let supported: Vec<String> = allowed
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => go_json(other),
                    })
                    .collect();
                FieldError::not_supported(&path, Rendered(go_body(&self.value)), &supported)
            }
            IssueKind::TooLong { max } => FieldError {
                kind: ErrorKind::TooLong,
                field,
                value: None,
                detail: if max >= 0 {
                    format!("may not be more than {max} bytes")
                } else {
                    "value is too long".to_string()
                },
            },
            IssueKind::TooMany { actual, max } => FieldError {
                kind: ErrorKind::TooMany,
                field,
                value: Some(actual.to_string()),
                detail: format!("must have at most {max} items"),
            },
            IssueKind::InvalidType => FieldError {
                kind: ErrorKind::TypeInvalid,
                field,
                value: Some(shown),
                detail: self.message,
            },
            IssueKind::Other => FieldError::invalid(&path, Rendered(shown), self.message),
            IssueKind::Composite => FieldError::invalid(&Path::new(NIL_PATH), "", self.message),
        }
    }
}

/// The result of validating one value: its failures, each message once, and how many checks
/// passed, by which upstream picks the `anyOf` and `oneOf` alternative whose errors it reports.
#[derive(Default)]
struct Outcome {
    issues: Vec<Issue>,
    matches: usize,
}

impl Outcome {
    fn matched() -> Self {
        Self {
            issues: Vec::new(),
            matches: 1,
        }
    }

    fn failed(issue: Issue) -> Self {
        Self {
            issues: vec![issue],
            matches: 0,
        }
    }

    fn is_valid(&self) -> bool {
        self.issues.is_empty()
    }

    /// Upstream keeps one error per message.
    fn add(&mut self, issue: Issue) {
        if !self.issues.iter().any(|i| i.message == issue.message) {
            self.issues.push(issue);
        }
    }

    fn merge(&mut self, other: Outcome) {
        for issue in other.issues {
            self.add(issue);
        }
        self.matches += other.matches;
    }

    /// Merges the outcome of one of the validators that applied, counting it as upstream does.
    fn ran(&mut self, other: Outcome) {
        self.merge(other);
        self.matches += 1;
    }
}

/// kube-openapi's schema validator on one value: its validators in upstream's order, each where
/// it applies to the kind of value. `path` is empty at the root.
fn check(data: &Value, schema: &JSONSchemaProps, path: &str) -> Outcome {
    let types = types(schema);
    let format = kept_format(schema).unwrap_or_default();
    let mut out = Outcome::default();
    if data.is_null() {
        out.merge(check_type(data, schema, &types, format, path));
        out.merge(check_enum(data, schema, path));
        return out;
    }
    if !types.is_empty() || !format.is_empty() {
        out.ran(check_type(data, schema, &types, format, path));
    }
    out.ran(check_composition(data, schema, path));
    if let Value::String(text) = data {
        out.ran(check_string(text, schema, path));
        if !format.is_empty() {
            out.ran(check_format(text, format, path));
        }
    }
    if let Value::Number(number) = data {
        out.ran(check_number(GoNumber::of(number), schema, path));
    }
    if let Value::Array(list) = data {
        out.ran(check_array(list, schema, path));
    }
    out.ran(check_enum(data, schema, path));
    if let Value::Object(map) = data {
        out.ran(check_object(map, schema, path));
    }
    out.matches += 1;
    out
}

/// The types a value may have: `x-kubernetes-int-or-string` stands for integer or string.
fn types(schema: &JSONSchemaProps) -> Vec<&str> {
    if schema.x_kubernetes_int_or_string == Some(true) {
        return vec!["integer", "string"];
    }
    schema
        .type_
        .as_deref()
        .filter(|t| !t.is_empty())
        .into_iter()
        .collect()
}

/// The schema's format when kube-apiserver enforces it; it strips every other format from CRD
/// schemas, numeric ones (`int32`, `double`, ...) included.
fn kept_format(schema: &JSONSchemaProps) -> Option<&str> {
    schema
        .format
        .as_deref()
        .filter(|f| FORMATS.contains(&f.replace('-', "").as_str()))
}

/// kube-openapi's type validator, with its rules for formats and for integers held as floats.
fn check_type(
    data: &Value,
    schema: &JSONSchemaProps,
    types: &[&str],
    format: &str,
    path: &str,
) -> Outcome {
    let fail =
        |expected: &str, actual: &str| Outcome::failed(Issue::invalid_type(path, expected, actual));
    let mut float = None;
    let (actual, actual_format) = match data {
        Value::Null => {
            let allowed = types.is_empty() || types.contains(&"null") || is_nullable(schema);
            return if allowed {
                Outcome::matched()
            } else {
                fail(types.join(",").as_str(), "null")
            };
        }
        Value::Bool(_) => ("boolean", ""),
        Value::String(_) => ("string", ""),
        Value::Number(number) => match GoNumber::of(number) {
            GoNumber::Int(_) => ("integer", "int64"),
            GoNumber::Float(f) => {
                float = Some(f);
                ("number", "float64")
            }
        },
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
    };
    let float_int = types.contains(&"integer") && float.is_some_and(is_json_integer);
    let int_float = actual == "integer" && types.contains(&"number");
    let accepted = types.contains(&actual) || float_int || int_float;
    let string_or_array = matches!(data, Value::String(_) | Value::Array(_));
    if !string_or_array && !format.is_empty() && !accepted && actual_format != format {
        return fail(format, actual_format);
    }
    let numeric = types.contains(&"integer") || types.contains(&"number");
    if !numeric && !format.is_empty() && string_or_array {
        return Outcome::matched();
    }
    if !accepted {
        return fail(types.join(",").as_str(), actual);
    }
    Outcome::matched()
}

/// `anyOf`, `oneOf`, `allOf` and `not`, whose failures upstream reports without a field, along
/// with the errors of the alternative that came closest.
fn check_composition(data: &Value, schema: &JSONSchemaProps, path: &str) -> Outcome {
    let mut out = Outcome::default();
    if let Some(any_of) = schema.any_of.as_deref().filter(|s| !s.is_empty()) {
        let mut best: Option<Outcome> = None;
        let mut success = None;
        for alternative in any_of {
            let result = check(data, alternative, path);
            if result.is_valid() {
                best = None;
                success = Some(result);
                break;
            }
            if best.as_ref().is_none_or(|b| result.matches > b.matches) {
                best = Some(result);
            }
        }
        if success.is_none() {
            out.add(Issue::composite(format!(
                "{} must validate at least one schema (anyOf)",
                quote(path)
            )));
        }
        if let Some(chosen) = best.or(success) {
            out.merge(chosen);
        }
    }
    if let Some(one_of) = schema.one_of.as_deref().filter(|s| !s.is_empty()) {
        let mut best: Option<Outcome> = None;
        let mut success = None;
        let mut valid = 0;
        for alternative in one_of {
            let result = check(data, alternative, path);
            if result.is_valid() {
                valid += 1;
                best = None;
                if success.is_none() {
                    success = Some(result);
                }
                continue;
            }
            if valid == 0 && best.as_ref().is_none_or(|b| result.matches > b.matches) {
                best = Some(result);
            }
        }
        if valid == 1 {
            if let Some(success) = success {
                out.merge(success);
            }
        } else {
            let found = if valid == 0 {
                "Found none valid".to_string()
            } else {
                format!("Found {valid} valid alternatives")
            };
            out.add(Issue::composite(format!(
                "{} must validate one and only one schema (oneOf). {found}",
                quote(path)
            )));
            if let Some(best) = best {
                out.merge(best);
            }
        }
    }
    if let Some(all_of) = schema.all_of.as_deref().filter(|s| !s.is_empty()) {
        let mut valid = 0;
        for part in all_of {
            let result = check(data, part, path);
            if result.is_valid() {
                valid += 1;
            }
            out.merge(result);
        }
        if valid != all_of.len() {
            let none = if valid == 0 { ". None validated" } else { "" };
            out.add(Issue::composite(format!(
                "{} must validate all the schemas (allOf){none}",
                quote(path)
            )));
        }
    }
    if let Some(not) = schema.not.as_deref()
        && check(data, not, path).is_valid()
    {
        out.add(Issue::composite(format!(
            "{} must not validate the schema (not)",
            quote(path)
        )));
    }
    out.matches += 1;
    out
}

/// Lengths count characters; the first failing check is the only one reported.
fn check_string(text: &str, schema: &JSONSchemaProps, path: &str) -> Outcome {
    let length = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
    if let Some(max) = schema.max_length
        && length > max
    {
        let message = format!("{path} in {IN} should be at most {max} chars long");
        let issue = Issue::new(IssueKind::TooLong { max }, path, Value::from(text), message);
        return Outcome::failed(issue);
    }
    if let Some(min) = schema.min_length
        && length < min
    {
        let message = format!("{path} in {IN} should be at least {min} chars long");
        return Outcome::failed(Issue::other(path, Value::from(text), message));
    }
    if let Some(pattern) = schema.pattern.as_deref().filter(|p| !p.is_empty()) {
        let failed = match go_regex(pattern) {
            Ok(re) if re.is_match(text) => None,
            Ok(_) => Some(pattern.to_string()),
            Err(e) => Some(format!("{pattern}, but pattern is invalid: {e}")),
        };
        if let Some(shown) = failed {
            let message = format!("{path} in {IN} should match '{shown}'");
            return Outcome::failed(Issue::other(path, Value::from(text), message));
        }
    }
    Outcome::default()
}

fn check_format(text: &str, format: &str, path: &str) -> Outcome {
    if format_holds(&format.replace('-', ""), text) {
        return Outcome::default();
    }
    let message = format!("{path} in {IN} must be of type {format}: {}", quote(text));
    Outcome::failed(Issue::new(
        IssueKind::InvalidType,
        path,
        Value::from(text),
        message,
    ))
}

/// `multipleOf`, `minimum` and `maximum`, in upstream's order. An integer is checked against
/// the bound or factor truncated to an integer, as upstream compares Go's native types.
fn check_number(number: GoNumber, schema: &JSONSchemaProps, path: &str) -> Outcome {
    let mut out = Outcome::matched();
    if let Some(factor) = schema.multiple_of
        && let Some(issue) = multiple_of(number, factor, path)
    {
        out.add(issue);
    }
    let bounds = [
        (schema.minimum, schema.exclusive_minimum, true),
        (schema.maximum, schema.exclusive_maximum, false),
    ];
    for (bound, exclusive, lower) in bounds {
        if let Some(bound) = bound
            && let Some(issue) = out_of_bounds(number, bound, exclusive == Some(true), lower, path)
        {
            out.add(issue);
        }
    }
    out
}

fn multiple_of(number: GoNumber, factor: f64, path: &str) -> Option<Issue> {
    let not_positive = |factor: GoNumber| {
        let message = format!(
            "factor MultipleOf declared for {path} must be positive: {}",
            factor.show()
        );
        Issue::other(path, factor.value(), message)
    };
    let (fits, shown_factor) = match number {
        GoNumber::Int(data) => {
            let factor = factor as i64;
            if factor <= 0 {
                return Some(not_positive(GoNumber::Int(factor)));
            }
            (data % factor == 0, factor.to_string())
        }
        GoNumber::Float(data) => {
            if factor <= 0.0 {
                return Some(not_positive(GoNumber::Float(factor)));
            }
            let quotient = if factor < 1.0 {
                1.0 / factor * data
            } else {
                data / factor
            };
            (is_json_integer(quotient), go_float(factor))
        }
    };
    let message = format!("{path} in {IN} should be a multiple of {shown_factor}");
    (!fits).then(|| Issue::other(path, number.value(), message))
}

/// A `minimum` (`lower`) or `maximum` the number passes.
fn out_of_bounds(
    number: GoNumber,
    bound: f64,
    exclusive: bool,
    lower: bool,
    path: &str,
) -> Option<Issue> {
    let (outside, shown_bound) = match number {
        GoNumber::Int(data) => {
            let bound = bound as i64;
            (beyond(data, bound, exclusive, lower), bound.to_string())
        }
        GoNumber::Float(data) => (beyond(data, bound, exclusive, lower), go_float(bound)),
    };
    let relation = match (lower, exclusive) {
        (true, false) => "greater than or equal to",
        (true, true) => "greater than",
        (false, false) => "less than or equal to",
        (false, true) => "less than",
    };
    let message = format!("{path} in {IN} should be {relation} {shown_bound}");
    outside.then(|| Issue::other(path, number.value(), message))
}

/// Whether a value lies beyond a lower or upper bound, with Go's comparisons.
fn beyond<T: PartialOrd>(value: T, bound: T, exclusive: bool, lower: bool) -> bool {
    match (lower, exclusive) {
        (true, false) => value < bound,
        (true, true) => value <= bound,
        (false, false) => value > bound,
        (false, true) => value >= bound,
    }
}

fn check_array(list: &[Value], schema: &JSONSchemaProps, path: &str) -> Outcome {
    let mut out = Outcome::default();
    if let Some(item_schema) = items(schema) {
        for (index, item) in list.iter().enumerate() {
            out.merge(check(item, item_schema, &format!("{path}[{index}]")));
        }
    }
    let size = i64::try_from(list.len()).unwrap_or(i64::MAX);
    if let Some(min) = schema.min_items
        && size < min
    {
        let message = format!("{path} in {IN} should have at least {min} items");
        out.add(Issue::other(path, Value::from(size), message));
    }
    if let Some(max) = schema.max_items
        && size > max
    {
        let message = format!("{path} in {IN} should have at most {max} items");
        let kind = IssueKind::TooMany { actual: size, max };
        out.add(Issue::new(kind, path, Value::from(size), message));
    }
    if schema.unique_items == Some(true)
        && list
            .iter()
            .enumerate()
            .any(|(i, item)| list[..i].contains(item))
    {
        let message = format!("{path} in {IN} shouldn't contain duplicates");
        out.add(Issue::other(path, Value::Null, message));
    }
    out.matches += 1;
    out
}

fn check_enum(data: &Value, schema: &JSONSchemaProps, path: &str) -> Outcome {
    let Some(allowed) = schema.enum_.as_deref().filter(|e| !e.is_empty()) else {
        return Outcome::default();
    };
    if allowed.iter().any(|a| enum_matches(data, &a.0)) {
        return Outcome::default();
    }
    let values: Vec<Value> = allowed.iter().map(|a| a.0.clone()).collect();
    let shown: Vec<String> = values.iter().map(go_v).collect();
    let message = format!("{path} in {IN} should be one of [{}]", shown.join(" "));
    Outcome::failed(Issue::new(
        IssueKind::Enum(values),
        path,
        data.clone(),
        message,
    ))
}

/// Whether a value equals an enum value after Go's conversion of the value to the enum value's
/// type: an integer matches an equal float and a float an integer it truncates to, an integer
/// matches the one-character string of its code point, and null matches nothing.
fn enum_matches(data: &Value, allowed: &Value) -> bool {
    match (data, allowed) {
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Number(data), Value::Number(allowed)) => {
            match (GoNumber::of(data), GoNumber::of(allowed)) {
                (GoNumber::Int(d), GoNumber::Int(a)) => d == a,
                (GoNumber::Int(d), GoNumber::Float(a)) => d as f64 == a,
                (GoNumber::Float(d), GoNumber::Int(a)) => d as i64 == a,
                (GoNumber::Float(d), GoNumber::Float(a)) => d == a,
            }
        }
        (Value::Number(data), Value::String(allowed)) => match GoNumber::of(data) {
            GoNumber::Int(code) => {
                let c = u32::try_from(code)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                allowed.chars().eq([c])
            }
            GoNumber::Float(_) => false,
        },
        _ => data == allowed,
    }
}

fn check_object(map: &Map<String, Value>, schema: &JSONSchemaProps, path: &str) -> Outcome {
    let mut out = Outcome::default();
    let root = path.is_empty();
    let size = i64::try_from(map.len()).unwrap_or(i64::MAX);
    if let Some(min) = schema.min_properties
        && size < min
    {
        let message = format!("{path} in {IN} should have at least {min} properties");
        out.add(Issue::other(path, Value::from(size), message));
    }
    if let Some(max) = schema.max_properties
        && size > max
    {
        let message = format!("{path} in {IN} should have at most {max} properties");
        let kind = IssueKind::TooMany { actual: size, max };
        out.add(Issue::new(kind, path, Value::from(size), message));
    }
    let undeclared = map
        .iter()
        .filter(|(key, _)| property(schema, key).is_none() && !(root && is_meta_field(key)));
    match schema.additional_properties.as_ref() {
        Some(JSONSchemaPropsOrBool::Bool(false)) => {
            for (key, _) in undeclared {
                let message = format!("{path}.{key} in {IN} is a forbidden property");
                out.add(Issue::other(path, Value::from(key.as_str()), message));
            }
        }
        Some(JSONSchemaPropsOrBool::Schema(values)) => {
            for (key, value) in undeclared {
                out.merge(check(value, values, &format!("{path}.{key}")));
            }
        }
        _ => {}
    }
    for (name, prop) in schema.properties.iter().flatten() {
        if root && is_meta_field(name) {
            continue;
        }
        if let Some(value) = map.get(name) {
            let child = if root {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            out.merge(check(value, prop, &child));
        }
    }
    for key in schema.required.iter().flatten() {
        if !map.contains_key(key) {
            let name = format!("{path}.{key}");
            let message = format!("{name} in {IN} is required");
            out.add(Issue::new(IssueKind::Required, &name, Value::Null, message));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Embedded resources and list types
// ---------------------------------------------------------------------------------------------

/// The checks upstream makes beside kube-openapi's, walking the structural schema: embedded
/// resources (`schema/objectmeta.Validate`) and the uniqueness of `set` and `map` lists
/// (`schema/listtype.ValidateListSetsAndMaps`); map values are named by key
/// (`spec.templates[name]`).
fn check_structure(value: &Value, schema: &JSONSchemaProps, path: &Path, errors: &mut ErrorList) {
    match value {
        Value::Object(map) => {
            if is_embedded_resource(schema) {
                check_embedded_resource(map, path, errors);
            }
            for (key, child) in map {
                if let Some(prop) = property(schema, key) {
                    check_structure(child, prop, &path.child(key), errors);
                } else if let Some(Some(values)) = additional(schema) {
                    check_structure(child, values, &path.key(key), errors);
                }
            }
        }
        Value::Array(list) => {
            check_list_type(list, schema, path, errors);
            if let Some(item_schema) = items(schema) {
                for (index, item) in list.iter().enumerate() {
                    check_structure(item, item_schema, &path.index(index), errors);
                }
            }
        }
        _ => {}
    }
}

/// Upstream's uniqueness rules of `x-kubernetes-list-type: set` (no value twice) and `map` (no
/// two items with the same key fields, a missing key standing for its default), each repeat
/// reported once, at its second occurrence.
fn check_list_type(list: &[Value], schema: &JSONSchemaProps, path: &Path, errors: &mut ErrorList) {
    let map = match schema.x_kubernetes_list_type.as_deref() {
        Some("set") => false,
        Some("map") => true,
        _ => return,
    };
    let key_schemas = items(schema).and_then(|i| i.properties.as_ref());
    let mut seen: Vec<Value> = Vec::new();
    let mut reported: Vec<Value> = Vec::new();
    for (index, item) in list.iter().enumerate() {
        let key = if map {
            let Some(fields) = item.as_object().filter(|f| !f.is_empty()) else {
                let detail = if item.is_object() {
                    "must contain at least one key"
                } else {
                    "must be an object for an array of list-type map"
                };
                errors.push(FieldError::invalid(
                    &path.index(index),
                    Rendered(go_body(item)),
                    detail,
                ));
                continue;
            };
            let named = schema.x_kubernetes_list_map_keys.iter().flatten();
            let key: Map<String, Value> = named
                .filter_map(|name| {
                    let default = || {
                        key_schemas?
                            .get(name)?
                            .default
                            .as_ref()
                            .map(|d| d.0.clone())
                    };
                    Some((name.clone(), fields.get(name).cloned().or_else(default)?))
                })
                .collect();
            Value::Object(key)
        } else {
            item.clone()
        };
        if !seen.contains(&key) {
            seen.push(key);
        } else if !reported.contains(&key) {
            errors.push(FieldError::duplicate(
                &path.index(index),
                Rendered(go_body(&key)),
            ));
            reported.push(key);
        }
    }
}

fn check_embedded_resource(map: &Map<String, Value>, path: &Path, errors: &mut ErrorList) {
    for field in ["apiVersion", "kind"] {
        if !map.contains_key(field) {
            errors.push(FieldError::required(&path.child(field), ""));
        }
    }
    if let Some(api_version) = map.get("apiVersion") {
        errors.extend(api_version_error(api_version, &path.child("apiVersion")));
    }
    if let Some(kind) = map.get("kind") {
        errors.extend(kind_error(kind, &path.child("kind")));
    }
    if let Some(metadata) = map.get("metadata") {
        errors.extend(embedded_metadata_errors(metadata, &path.child("metadata")));
    }
}

fn api_version_error(value: &Value, path: &Path) -> Option<FieldError> {
    let Value::String(api_version) = value else {
        return Some(FieldError::invalid(
            path,
            Rendered(go_body(value)),
            "must be a string",
        ));
    };
    if api_version.is_empty() {
        return Some(FieldError::invalid(path, "", "must not be empty"));
    }
    // apimachinery's ParseGroupVersion: at most one slash.
    (api_version.matches('/').count() > 1).then(|| {
        let detail = format!("unexpected GroupVersion string: {api_version}");
        FieldError::invalid(path, api_version.as_str(), detail)
    })
}

fn kind_error(value: &Value, path: &Path) -> Option<FieldError> {
    let Value::String(kind) = value else {
        return Some(FieldError::invalid(
            path,
            Rendered(go_body(value)),
            "must be a string",
        ));
    };
    if kind.is_empty() {
        return Some(FieldError::invalid(path, "", "must not be empty"));
    }
    let problems = is_dns1035_label(&kind.to_lowercase());
    (!problems.is_empty()).then(|| {
        let detail = format!(
            "may have mixed case, but should otherwise match: {}",
            problems.join(",")
        );
        FieldError::invalid(path, kind.as_str(), detail)
    })
}

/// The rule the core group adds to object metadata, which embedded metadata is spared.
const KUBE_FINALIZER_DETAIL: &str =
    "name is neither a standard finalizer name nor is it fully qualified";

/// Embedded metadata is validated as object metadata on create, with a name filled in when it
/// has none, names as path segments, and a namespace allowed when given.
fn embedded_metadata_errors(value: &Value, path: &Path) -> ErrorList {
    let parsed = match value {
        Value::Null => Ok(ObjectMeta::default()),
        other => serde_json::from_value::<ObjectMeta>(other.clone()),
    };
    let mut meta = match parsed {
        Ok(meta) => meta,
        Err(e) => {
            return vec![FieldError::invalid(
                path,
                Rendered(go_body(value)),
                e.to_string(),
            )];
        }
    };
    if meta.name.as_deref().unwrap_or_default().is_empty() {
        meta.name = Some("fakename".to_string());
    }
    let namespaced = meta.namespace.as_deref().is_some_and(|ns| !ns.is_empty());
    let prefix = path.to_string();
    object_meta(&meta, namespaced, NameRule::PathSegment, None)
        .into_iter()
        .filter(|e| e.detail != KUBE_FINALIZER_DETAIL)
        .map(|mut e| {
            if let Some(rest) = e.field.strip_prefix("metadata") {
                e.field = format!("{prefix}{rest}");
            }
            e
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Go's rendering of values
// ---------------------------------------------------------------------------------------------

/// A JSON number as Go decodes it: an int64 when it is an integer that fits, else a float64.
#[derive(Clone, Copy)]
enum GoNumber {
    Int(i64),
    Float(f64),
}

impl GoNumber {
    fn of(number: &Number) -> Self {
        match number.as_i64() {
            Some(i) => Self::Int(i),
            None => Self::Float(number.as_f64().unwrap_or(f64::NAN)),
        }
    }

    /// Go's `%v`.
    fn show(self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Float(f) => go_float(f),
        }
    }

    fn value(self) -> Value {
        match self {
            Self::Int(i) => Value::from(i),
            Self::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        }
    }
}

/// go-openapi's `IsFloat64AJSONInteger`: within ±(2^53 - 1) and integral, or within a relative
/// 1e-9 of the integer below it.
fn is_json_integer(f: f64) -> bool {
    const MAX: f64 = 9_007_199_254_740_991.0;
    if !f.is_finite() || !(-MAX..=MAX).contains(&f) {
        return false;
    }
    let whole = f.trunc();
    if f == whole {
        return true;
    }
    f > 0.0 && whole != 0.0 && (f - whole) / (f + whole) < 1e-9
}

fn quote(s: &str) -> String {
    s.go_value()
}

/// Go's `%v` of a decoded JSON value, as upstream's messages print enum values.
fn go_v(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => GoNumber::of(n).show(),
        Value::String(s) => s.clone(),
        Value::Array(list) => {
            let items: Vec<String> = list.iter().map(go_v).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_v(v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
    }
}

/// Go's `%#v` of a decoded JSON value.
fn go_sharp_v(value: &Value) -> String {
    match value {
        Value::Null => "interface {}(nil)".to_string(),
        Value::String(s) => quote(s),
        Value::Array(list) => {
            let items: Vec<String> = list.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), go_sharp_v(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", entries.join(", "))
        }
        scalar => go_v(scalar),
    }
}

/// A bad value as a field error prints it: strings quoted, nil as `"null"`, numbers and
/// booleans plain, lists and objects as Go's `%#v`.
fn go_body(value: &Value) -> String {
    match value {
        Value::Null => quote("null"),
        Value::String(s) => quote(s),
        Value::Array(_) | Value::Object(_) => go_sharp_v(value),
        scalar => go_v(scalar),
    }
}

/// Go's `encoding/json` of a decoded value, as upstream lists non-string enum values.
fn go_json(value: &Value) -> String {
    match value {
        Value::Number(n) => match GoNumber::of(n) {
            GoNumber::Int(i) => i.to_string(),
            GoNumber::Float(f) => go_json_float(f),
        },
        Value::String(s) => go_json_string(s),
        Value::Array(list) => {
            let items: Vec<String> = list.iter().map(go_json).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", go_json_string(k), go_json(v)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}

/// Go escapes HTML characters and the JavaScript line separators in JSON strings.
fn go_json_string(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_else(|_| quote(s))
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Go's `%v` of a float64: the shortest digits, in exponent form when the decimal exponent is
/// below -4 or at least 6 (`1e+06`, `1.5e-05`).
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let (_, exponent) = shortest_exponent(f);
    if !(-4..6).contains(&exponent) {
        go_exponent_form(f)
    } else {
        f.to_string()
    }
}

/// Go's `encoding/json` of a float64: exponent form below 1e-6 and from 1e21, written `1e-7`.
fn go_json_float(f: f64) -> String {
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        let text = go_exponent_form(f);
        return match text.split_once("e-0") {
            Some((mantissa, digit)) if digit.len() == 1 => format!("{mantissa}e-{digit}"),
            _ => text,
        };
    }
    f.to_string()
}

/// The shortest digits of a finite float as a mantissa and a decimal exponent.
fn shortest_exponent(f: f64) -> (String, i32) {
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => (mantissa.to_string(), exponent.parse().unwrap_or(0)),
        None => (text, 0),
    }
}

/// Go's `%e` with the shortest digits: `1.5e-07`, `1e+21`.
fn go_exponent_form(f: f64) -> String {
    let (mantissa, exponent) = shortest_exponent(f);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

/// `pattern`s compiled once each, as kube-openapi caches them; the cache is emptied should CRD
/// churn fill it.
static PATTERNS: LazyLock<Mutex<HashMap<String, Result<Regex, String>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
const PATTERN_CACHE_LIMIT: usize = 4096;

/// `pattern` compiled as Go's RE2 reads it, from the cache when it can be, or the error in Go's
/// words (`error parsing regexp: ...`); CEL's `find` and `findAll` compile theirs here too.
pub(super) fn go_regex(pattern: &str) -> Result<Regex, String> {
    let mut cache = PATTERNS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(compiled) = cache.get(pattern) {
        return compiled.clone();
    }
    if cache.len() >= PATTERN_CACHE_LIMIT {
        cache.clear();
    }
    let compiled = Regex::new(&ascii_perl_classes(pattern)).map_err(|e| {
        let text = e.to_string();
        let reason = text.lines().last().unwrap_or_default();
        format!(
            "error parsing regexp: {}",
            reason.trim_start_matches("error: ")
        )
    });
    cache.insert(pattern.to_string(), compiled.clone());
    compiled
}

/// Go's RE2 `\d`, `\s` and `\w` (and their negations) match ASCII only, the regex crate's
/// Unicode; they are spelled out as ASCII classes, which may also nest inside a class.
fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('s') => out.push_str(r"[\t\n\f\r ]"),
            Some('S') => out.push_str(r"[^\t\n\f\r ]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------------

/// The formats kube-apiserver 1.33 enforces in CRD schemas, named without dashes as go-openapi
/// compares them (`date-time` is `datetime`).
const FORMATS: [&str; 24] = [
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
];

/// Whether a string has a format, given by its dashless name, as go-openapi's strfmt checks it.
fn format_holds(format: &str, s: &str) -> bool {
    match format {
        "bsonobjectid" => s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()),
        "uri" => is_request_uri(s),
        "email" => is_email(s),
        "hostname" => is_hostname(s),
        "ipv4" => is_ip_sloppy(s) && s.contains('.'),
        "ipv6" => s.contains(':') && s.parse::<Ipv6Addr>().is_ok(),
        "cidr" => is_cidr_sloppy(s),
        "mac" => is_mac(s),
        "uuid" => matches(&UUID, s),
        "uuid3" => matches(&UUID3, s),
        "uuid4" => matches(&UUID4, s),
        "uuid5" => matches(&UUID5, s),
        "isbn" => is_isbn10(s) || is_isbn13(s),
        "isbn10" => is_isbn10(s),
        "isbn13" => is_isbn13(s),
        "creditcard" => is_credit_card(s),
        "ssn" => s.len() == 11 && matches(&SSN, s),
        "hexcolor" => matches(&HEX_COLOR, s),
        "rgbcolor" => matches(&RGB_COLOR, s),
        "byte" => matches(&BASE64, s),
        "date" => is_date(s),
        "duration" => is_go_duration(s) || is_loose_duration(s),
        "datetime" => is_date_time(s),
        _ => true,
    }
}

type Pattern = LazyLock<Option<Regex>>;

/// The formats' fixed patterns (Go's `\d` and `\s` written as ASCII classes). Should one fail
/// to compile, its format accepts nothing rather than panicking.
fn pattern(re: &str) -> Option<Regex> {
    Regex::new(re).ok()
}

static UUID: Pattern = LazyLock::new(|| {
    pattern(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID3: Pattern = LazyLock::new(|| {
    pattern(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID4: Pattern = LazyLock::new(|| {
    pattern(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static UUID5: Pattern = LazyLock::new(|| {
    pattern(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static CREDIT_CARD: Pattern = LazyLock::new(|| {
    pattern(concat!(
        r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}",
        r"|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35[0-9]{3})[0-9]{11})$"
    ))
});
static ISBN10: Pattern = LazyLock::new(|| pattern(r"^(?:[0-9]{9}X|[0-9]{10})$"));
static ISBN13: Pattern = LazyLock::new(|| pattern(r"^[0-9]{13}$"));
static SSN: Pattern = LazyLock::new(|| pattern(r"^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}$"));
static HEX_COLOR: Pattern = LazyLock::new(|| pattern(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"));
static RGB_COLOR: Pattern = LazyLock::new(|| {
    let octet = r"(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])";
    let space = r"[\t\n\f\r ]*";
    pattern(&format!(
        r"^rgb\({space}{octet}{space},{space}{octet}{space},{space}{octet}{space}\)$"
    ))
});
static BASE64: Pattern = LazyLock::new(|| {
    pattern(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
});
static DATE_TIME: Pattern = LazyLock::new(|| {
    pattern(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
});
/// go-openapi's hostname pattern is one label with at most one dash, right after its first
/// character, or dot-separated labels ending in a top-level domain of letters. Letters and
/// symbols of any script count; the lengths are checked apart.
static HOST_SINGLE: Pattern =
    LazyLock::new(|| pattern(r"^[a-zA-Z0-9\p{S}\p{L}]-?[a-zA-Z0-9\p{S}\p{L}]*$"));
static HOST_LABEL: Pattern = LazyLock::new(|| {
    pattern(r"^[a-zA-Z0-9\p{S}\p{L}](?:[a-zA-Z0-9\-\p{S}\p{L}]*[a-zA-Z0-9\p{S}\p{L}])?$")
});
static HOST_TLD: Pattern = LazyLock::new(|| pattern(r"^[a-zA-Z\p{L}]+$"));
static LOOSE_DURATION: Pattern = LazyLock::new(|| pattern(r"([0-9]+)[\t\n\f\r ]*([A-Za-zµ]+)"));

fn compiled(re: &Option<Regex>) -> Option<&Regex> {
    re.as_ref()
}

fn matches(re: &Option<Regex>, s: &str) -> bool {
    compiled(re).is_some_and(|re| re.is_match(s))
}

/// go-openapi's `IsHostname`.
fn is_hostname(s: &str) -> bool {
    if s.len() > 255 || s.split('.').any(|part| part.len() > 63) {
        return false;
    }
    match s.rsplit_once('.') {
        None => matches(&HOST_SINGLE, s),
        Some((labels, tld)) => {
            tld.chars().count() >= 2
                && matches(&HOST_TLD, tld)
                && labels.split('.').all(|label| matches(&HOST_LABEL, label))
        }
    }
}

/// An IPv4 address as Go parsed it before 1.17, octets with leading zeros allowed.
fn sloppy_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = part.trim_start_matches('0');
        *octet = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// k8s.io/utils' `ParseIPSloppy`: the first `.` or `:` decides the family.
fn is_ip_sloppy(s: &str) -> bool {
    match s.find(['.', ':']).map(|i| s.as_bytes()[i]) {
        Some(b'.') => sloppy_ipv4(s).is_some(),
        Some(_) => s.parse::<Ipv6Addr>().is_ok(),
        None => false,
    }
}

/// k8s.io/utils' `ParseCIDRSloppy`.
fn is_cidr_sloppy(s: &str) -> bool {
    let Some((address, prefix)) = s.split_once('/') else {
        return false;
    };
    let bits = if sloppy_ipv4(address).is_some() {
        32
    } else if address.parse::<Ipv6Addr>().is_ok() {
        128
    } else {
        return false;
    };
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits = prefix.trim_start_matches('0');
    digits.is_empty() || digits.parse::<u32>().is_ok_and(|n| n <= bits)
}

/// Go's `net.ParseMAC`: 6, 8 or 20 octets written `xx:xx:..`, `xx-xx-..` or `xxxx.xxxx.xxxx`.
fn is_mac(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 14 {
        return false;
    }
    let hex_pair = |i: usize| {
        b.get(i..i + 2)
            .is_some_and(|p| p.iter().all(u8::is_ascii_hexdigit))
    };
    let octets_ok = |n: usize| matches!(n, 6 | 8 | 20);
    let groups = b.len() + 1;
    if b[2] == b':' || b[2] == b'-' {
        let separator = b[2];
        groups.is_multiple_of(3)
            && octets_ok(groups / 3)
            && (0..groups / 3)
                .all(|i| hex_pair(3 * i) && b.get(3 * i + 2).is_none_or(|&c| c == separator))
    } else if b[4] == b'.' {
        groups.is_multiple_of(5)
            && octets_ok(2 * groups / 5)
            && (0..groups / 5).all(|i| {
                hex_pair(5 * i)
                    && hex_pair(5 * i + 2)
                    && b.get(5 * i + 4).is_none_or(|&c| c == b'.')
            })
    } else {
        false
    }
}

fn isbn_characters(s: &str) -> String {
    s.chars()
        .filter(|&c| !matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ' | '-'))
        .collect()
}

fn digit(b: u8) -> u32 {
    u32::from(b.wrapping_sub(b'0'))
}

fn is_isbn10(s: &str) -> bool {
    let isbn = isbn_characters(s);
    if !matches(&ISBN10, &isbn) {
        return false;
    }
    let b = isbn.as_bytes();
    let body: u32 = b
        .iter()
        .take(9)
        .zip(1u32..)
        .map(|(&c, w)| w * digit(c))
        .sum();
    let check = match b.get(9) {
        Some(b'X') => 10,
        Some(&c) => digit(c),
        None => return false,
    };
    (body + 10 * check).is_multiple_of(11)
}

fn is_isbn13(s: &str) -> bool {
    let isbn = isbn_characters(s);
    if !matches(&ISBN13, &isbn) {
        return false;
    }
    let b = isbn.as_bytes();
    let sum: u32 = b
        .iter()
        .take(12)
        .zip([1u32, 3].into_iter().cycle())
        .map(|(&c, w)| w * digit(c))
        .sum();
    b.get(12).is_some_and(|&c| digit(c) == (10 - sum % 10) % 10)
}

/// go-openapi's `IsCreditCard`: the digits (all else ignored) match a known issuer and pass
/// Luhn's check.
fn is_credit_card(s: &str) -> bool {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if !matches(&CREDIT_CARD, &digits) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = digit(c);
            match (i % 2 == 1, d * 2) {
                (true, doubled) if doubled >= 10 => doubled % 10 + 1,
                (true, doubled) => doubled,
                (false, _) => d,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Go's `time.Parse("2006-01-02", s)`.
fn is_date(s: &str) -> bool {
    let number = |range: Range<usize>| {
        s.get(range)
            .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|part| part.parse::<u32>().ok())
    };
    if s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// go-openapi's `IsDateTime`: the lower-cased string split at `t`, a date before the first and
/// a time with a zone after it.
fn is_date_time(s: &str) -> bool {
    if s.len() < 4 {
        return false;
    }
    let lower = s.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let Some(groups) = compiled(&DATE_TIME).and_then(|re| re.captures(time)) else {
        return false;
    };
    let group = |i| groups.get(i).map_or("", |m| m.as_str());
    group(1) <= "23" && group(2) <= "59" && group(3) <= "59"
}

/// Go's `time.ParseDuration`: `1h30m`, `-1.5s`, `0`.
fn is_go_duration(s: &str) -> bool {
    let negative = s.starts_with('-');
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let (whole, after) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => {
                let (fraction, after) =
                    after.split_at(after.bytes().take_while(u8::is_ascii_digit).count());
                (fraction, after)
            }
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return false;
        }
        let unit_end = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let Some(scale) = duration_unit(unit) else {
            return false;
        };
        let whole: u128 = if whole.is_empty() {
            0
        } else if let Ok(whole) = whole.parse() {
            whole
        } else {
            return false;
        };
        let fraction = if fraction.is_empty() {
            0
        } else {
            let part: f64 = format!("0.{fraction}").parse().unwrap_or(0.0);
            (part * scale as f64) as u128
        };
        total = total
            .saturating_add(whole.saturating_mul(scale))
            .saturating_add(fraction);
        if total > 1 << 63 {
            return false;
        }
        rest = next;
    }
    negative || total < 1 << 63
}

fn duration_unit(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// The spellings go-openapi's fallback duration parser knows; the last of each may be
/// abbreviated from the right (`5 minutes`, `3 days`).
const DURATION_UNITS: [&[&str]; 8] = [
    &["ns", "nano"],
    &["us", "µs", "micro"],
    &["ms", "milli"],
    &["s", "sec"],
    &["m", "min"],
    &["h", "hr", "hour"],
    &["d", "day"],
    &["w", "wk", "week"],
];

/// go-openapi's fallback for what Go does not parse: some `<digits> <unit>` anywhere in the
/// string with a known unit, and no number too large.
fn is_loose_duration(s: &str) -> bool {
    let Some(re) = compiled(&LOOSE_DURATION) else {
        return false;
    };
    let mut known = false;
    for groups in re.captures_iter(s) {
        let (Some(count), Some(unit)) = (groups.get(1), groups.get(2)) else {
            continue;
        };
        if count.as_str().parse::<i64>().is_err() {
            return false;
        }
        let unit = unit.as_str().to_lowercase();
        known |= DURATION_UNITS.iter().any(|variants| {
            variants.iter().enumerate().any(|(i, variant)| {
                unit == *variant || (i + 1 == variants.len() && unit.starts_with(*variant))
            })
        });
    }
    known
}

/// Go's `url.ParseRequestURI` accepts the string: `*`, an absolute path, or a URI with a
/// scheme (nothing is taken for a fragment).
fn is_request_uri(raw: &str) -> bool {
    if raw.is_empty() || raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    if raw == "*" {
        return true;
    }
    let Some((scheme, rest)) = split_scheme(raw) else {
        return false;
    };
    let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
    if !rest.starts_with('/') {
        // A rootless path after a scheme is opaque; without one it is no request URI.
        return !scheme.is_empty();
    }
    let path = if !scheme.is_empty()
        && let Some(authority_and_path) = rest.strip_prefix("//")
    {
        let end = authority_and_path
            .find('/')
            .unwrap_or(authority_and_path.len());
        let (authority, path) = authority_and_path.split_at(end);
        if !is_authority(authority) {
            return false;
        }
        path
    } else {
        rest
    };
    unescapes(path, false)
}

/// Go's `getScheme`: `None` when the string starts with a colon.
fn split_scheme(raw: &str) -> Option<(&str, &str)> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i > 0 => return Some((&raw[..i], &raw[i + 1..])),
            b':' => return None,
            _ => return Some(("", raw)),
        }
    }
    Some(("", raw))
}

fn is_authority(authority: &str) -> bool {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let port = if host.starts_with('[') {
        match host.rfind(']') {
            Some(i) => &host[i + 1..],
            None => return false,
        }
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    let userinfo_ok = userinfo.is_none_or(|u| {
        u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c))
            && unescapes(u, false)
    });
    port_ok && unescapes(host, true) && userinfo_ok
}

/// Go's `url.unescape` succeeds: every `%` starts two hex digits; in a host, escapes may stand
/// only for non-ASCII bytes (or `%25`), and only some ASCII may stand unescaped.
fn unescapes(s: &str, host: bool) -> bool {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| char::from(c).to_digit(16));
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let (Some(high), Some(_)) = (hex(i + 1), hex(i + 2)) else {
                return false;
            };
            if host && high < 8 && s.get(i..i + 3) != Some("%25") {
                return false;
            }
            i += 3;
            continue;
        }
        let host_may_hold = c.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&c);
        if host && c < 0x80 && !host_may_hold {
            return false;
        }
        i += 1;
    }
    true
}

/// Go's `net/mail.ParseAddress` accepts the string: an addr-spec, or a display name and an
/// addr-spec in angle brackets, with comments around. Groups and RFC 2047 encoded words are not
/// understood here.
fn is_email(s: &str) -> bool {
    let mut parser = MailParser { rest: s };
    parser.address() && parser.skip_comments() && parser.rest.is_empty()
}

/// RFC 5322's atext, which Go extends to every non-ASCII character; dots included.
fn is_atext(c: char) -> bool {
    !"()<>[]:;@\\,\"".contains(c) && is_vchar(c)
}

fn is_vchar(c: char) -> bool {
    ('!'..='~').contains(&c) || !c.is_ascii()
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

struct MailParser<'a> {
    rest: &'a str,
}

impl MailParser<'_> {
    fn skip_space(&mut self) {
        let input = self.rest;
        self.rest = input.trim_start_matches([' ', '\t']);
    }

    fn consume(&mut self, c: char) -> bool {
        let input = self.rest;
        match input.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn address(&mut self) -> bool {
        self.skip_space();
        if self.rest.is_empty() {
            return false;
        }
        if self.addr_spec() {
            self.skip_space();
            // A comment right after the address is its display name.
            return !self.consume('(') || self.comment();
        }
        if !self.rest.starts_with('<') && !self.phrase() {
            return false;
        }
        self.skip_space();
        self.consume('<') && self.addr_spec() && self.consume('>')
    }

    /// `local@domain`; nothing is consumed when it fails.
    fn addr_spec(&mut self) -> bool {
        let start = self.rest;
        let ok = self.local_part() && self.consume('@') && self.domain();
        if !ok {
            self.rest = start;
        }
        ok
    }

    fn local_part(&mut self) -> bool {
        self.skip_space();
        if self.rest.starts_with('"') {
            self.quoted_string().is_some_and(|text| !text.is_empty())
        } else {
            self.atom(false)
        }
    }

    fn domain(&mut self) -> bool {
        self.skip_space();
        if self.rest.starts_with('[') {
            self.domain_literal()
        } else {
            self.atom(false)
        }
    }

    /// A dot-atom; a `permissive` one (a word of a display name) may place its dots anywhere.
    fn atom(&mut self, permissive: bool) -> bool {
        let input = self.rest;
        let end = input.find(|c: char| !is_atext(c)).unwrap_or(input.len());
        let (atom, rest) = input.split_at(end);
        if atom.is_empty() {
            return false;
        }
        self.rest = rest;
        permissive || !(atom.starts_with('.') || atom.ends_with('.') || atom.contains(".."))
    }

    /// A quoted string, escapes resolved; nothing is consumed when it fails.
    fn quoted_string(&mut self) -> Option<String> {
        let input = self.rest;
        let mut text = String::new();
        let mut escaped = false;
        for (i, c) in input.char_indices().skip(1) {
            if escaped {
                if !is_vchar(c) && !is_wsp(c) {
                    return None;
                }
                text.push(c);
                escaped = false;
            } else if c == '"' {
                self.rest = &input[i + 1..];
                return Some(text);
            } else if c == '\\' {
                escaped = true;
            } else if is_vchar(c) || is_wsp(c) {
                text.push(c);
            } else {
                return None;
            }
        }
        None
    }

    /// `[address]`, which must hold an IP address.
    fn domain_literal(&mut self) -> bool {
        let input = self.rest;
        let Some(inner) = input.strip_prefix('[') else {
            return false;
        };
        let Some(end) = inner.find(']') else {
            return false;
        };
        let text = &inner[..end];
        let dtext = text.chars().all(|c| c != '[' && c != '\\' && is_vchar(c));
        if !dtext || text.parse::<IpAddr>().is_err() {
            return false;
        }
        self.rest = &inner[end + 1..];
        true
    }

    /// One or more words of a display name.
    fn phrase(&mut self) -> bool {
        let mut words = 0;
        loop {
            if words > 0 && !self.skip_comments() {
                return false;
            }
            self.skip_space();
            let word = if self.rest.starts_with('"') {
                self.quoted_string().is_some()
            } else {
                self.atom(true)
            };
            if !word {
                return words > 0;
            }
            words += 1;
        }
    }

    /// Skips spaces and comments; false on a comment left open.
    fn skip_comments(&mut self) -> bool {
        self.skip_space();
        while self.consume('(') {
            if !self.comment() {
                return false;
            }
            self.skip_space();
        }
        true
    }

    /// The rest of a comment whose `(` is consumed, nested comments and escapes included.
    fn comment(&mut self) -> bool {
        let input = self.rest;
        let mut depth = 1;
        let mut chars = input.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        self.rest = &input[i + 1..];
                        return true;
                    }
                }
                _ => {}
            }
        }
        self.rest = "";
        false
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema(value: Value) -> JSONSchemaProps {
        serde_json::from_value(value).expect("a valid schema")
    }

    fn messages(object: Value, schema: &JSONSchemaProps) -> Vec<String> {
        validate(&object, schema)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// A root object schema with one property.
    fn with_field(field: Value) -> JSONSchemaProps {
        schema(json!({"type": "object", "properties": {"field": field}}))
    }

    #[test]
    fn pruning_drops_undeclared_fields_and_names_them_as_upstream() {
        let s = schema(json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "list": {"type": "array", "items": {
                    "type": "object", "properties": {"name": {"type": "string"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "properties": {"spec": {"type": "object"}}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {"known": {
                        "type": "object", "properties": {"a": {"type": "string"}}}}}
            }}}
        }));
        let mut object = json!({
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "anything": 1},
            "spec": {
                "replicas": 1,
                "foo": true,
                "list": [{"name": "a", "bar": 1}, {"name": "b"}],
                "labels": {"app": "web"},
                "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t"},
                    "spec": {"containers": []}, "junk": 1},
                "extra": {"anything": {"deep": 1}, "known": {"a": "x", "b": 1}}
            },
            "status": {"ready": true}
        });
        assert_eq!(
            prune(&mut object, &s),
            vec![
                "spec.extra.known.b",
                "spec.foo",
                "spec.list[0].bar",
                "spec.template.junk",
                "spec.template.spec.containers",
                "status",
            ]
        );
        assert_eq!(
            object,
            json!({
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w", "anything": 1},
                "spec": {
                    "replicas": 1,
                    "list": [{"name": "a"}, {"name": "b"}],
                    "labels": {"app": "web"},
                    "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t"},
                        "spec": {}},
                    "extra": {"anything": {"deep": 1}, "known": {"a": "x"}}
                }
            })
        );
    }

    #[test]
    fn preserved_roots_keep_unknown_fields_and_nulls_go_unless_allowed_or_defaulted() {
        let s = schema(json!({
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true,
            "properties": {"spec": {"type": "object", "properties": {
                "a": {"type": "string"},
                "b": {"type": "string", "nullable": true},
                "c": {"type": "string", "default": "x"},
                "list": {"type": "array", "items": {"type": "string"}}
            }}}
        }));
        let mut object = json!({
            "apiVersion": "v1", "kind": "K", "other": {"x": 1},
            "spec": {"a": null, "b": null, "c": null, "d": 1, "list": [null]}
        });
        assert_eq!(prune(&mut object, &s), vec!["spec.d"]);
        assert_eq!(
            object,
            json!({
                "apiVersion": "v1", "kind": "K", "other": {"x": 1},
                "spec": {"b": null, "c": null, "list": [null]}
            })
        );
        apply_defaults(&mut object, &s);
        assert_eq!(object["spec"]["c"], json!("x"));
        assert_eq!(object["spec"]["b"], Value::Null);
    }

    #[test]
    fn defaults_fill_nested_objects_items_and_map_values() {
        let s = schema(json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "default": {}, "properties": {
                "replicas": {"type": "integer", "default": 1},
                "strategy": {"type": "object", "default": {"type": "Rolling"}, "properties": {
                    "type": {"type": "string"},
                    "maxSurge": {"type": "integer", "default": 25}}},
                "ports": {"type": "array", "items": {"type": "object", "properties": {
                    "port": {"type": "integer", "default": 80},
                    "name": {"type": "string", "nullable": true, "default": "http"}}}},
                "weights": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": {"weight": {"type": "integer", "default": 1}}}}
            }}}
        }));
        let mut empty = json!({});
        apply_defaults(&mut empty, &s);
        assert_eq!(
            empty,
            json!({"spec": {"replicas": 1, "strategy": {"type": "Rolling", "maxSurge": 25}}})
        );

        let mut object = json!({"spec": {
            "replicas": null,
            "ports": [{}, {"port": 8080, "name": null}],
            "weights": {"a": {}, "b": {"weight": 5}}
        }});
        apply_defaults(&mut object, &s);
        assert_eq!(
            object,
            json!({"spec": {
                "replicas": 1,
                "strategy": {"type": "Rolling", "maxSurge": 25},
                "ports": [{"port": 80, "name": "http"}, {"port": 8080, "name": null}],
                "weights": {"a": {"weight": 1}, "b": {"weight": 5}}
            }})
        );
    }

    #[test]
    fn types_are_checked_as_upstream_words_them() {
        let s = schema(json!({"type": "object", "properties": {"spec": {
            "type": "object",
            "properties": {"replicas": {"type": "integer"}, "ratio": {"type": "number"}}
        }}}));
        assert_eq!(
            messages(json!({"spec": {"replicas": "three", "ratio": 1}}), &s),
            vec![
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"replicas": 1.5}}), &s),
            vec![
                r#"spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number""#
            ]
        );
        assert!(validate(&json!({"spec": {"replicas": 3.0, "ratio": 0.5}}), &s).is_empty());

        let object = with_field(json!({"type": "object"}));
        for (value, name) in [
            (json!("foo"), "string"),
            (json!(42), "integer"),
            (json!(true), "boolean"),
            (json!(1.2), "number"),
            (json!([]), "array"),
            (Value::Null, "null"),
        ] {
            assert_eq!(
                messages(json!({ "field": value }), &object),
                vec![format!(
                    r#"field: Invalid value: "{name}": field in body must be of type object: "{name}""#
                )]
            );
        }
        let nullable = with_field(json!({"type": "object", "nullable": true}));
        assert!(validate(&json!({"field": null}), &nullable).is_empty());
        let untyped = with_field(json!({"nullable": true}));
        assert!(validate(&json!({"field": 1.2}), &untyped).is_empty());
    }

    #[test]
    fn int_or_string_takes_integers_and_strings() {
        let s = with_field(json!({"x-kubernetes-int-or-string": true}));
        assert!(validate(&json!({"field": 42}), &s).is_empty());
        assert!(validate(&json!({"field": "25%"}), &s).is_empty());
        assert_eq!(
            messages(json!({"field": null}), &s),
            vec![
                r#"field: Invalid value: "null": field in body must be of type integer,string: "null""#
            ]
        );
        assert_eq!(
            messages(json!({"field": 1.2}), &s),
            vec![
                r#"field: Invalid value: "number": field in body must be of type integer,string: "number""#
            ]
        );
        let nullable = with_field(json!({"x-kubernetes-int-or-string": true, "nullable": true}));
        assert!(validate(&json!({"field": null}), &nullable).is_empty());
    }

    #[test]
    fn composition_errors_have_no_field_and_bring_the_closest_alternative() {
        let any_of = with_field(json!({
            "nullable": true, "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]
        }));
        assert!(validate(&json!({"field": null}), &any_of).is_empty());
        assert!(validate(&json!({"field": "foo"}), &any_of).is_empty());
        assert_eq!(
            messages(json!({"field": true}), &any_of),
            vec![
                r#"field: Invalid value: "boolean": field in body must be of type integer,string: "boolean""#,
                r#"<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)"#,
                r#"field: Invalid value: "boolean": field in body must be of type integer: "boolean""#,
            ]
        );

        let all_of = with_field(json!({
            "nullable": true, "x-kubernetes-int-or-string": true,
            "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}]
        }));
        assert_eq!(
            messages(json!({"field": []}), &all_of),
            vec![
                r#"field: Invalid value: "array": field in body must be of type integer,string: "array""#,
                r#"<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)"#,
                r#"field: Invalid value: "array": field in body must be of type integer: "array""#,
                r#"<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated"#,
            ]
        );

        let one_of = with_field(json!({
            "type": "integer",
            "oneOf": [{"minimum": 0}, {"maximum": 10}],
            "not": {"enum": [5]}
        }));
        assert_eq!(
            messages(json!({"field": 5}), &one_of),
            vec![
                r#"<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found 2 valid alternatives"#,
                r#"<nil>: Invalid value: "": "field" must not validate the schema (not)"#,
            ]
        );
        assert!(validate(&json!({"field": 20}), &one_of).is_empty());
    }

    #[test]
    fn enums_and_required_fields() {
        let s = with_field(json!({
            "type": "object",
            "required": ["nestedint", "nestedstring"],
            "properties": {
                "nestedint": {"type": "integer", "enum": [1, 2]},
                "nestedstring": {"type": "string", "enum": ["a", "b"]}
            }
        }));
        assert_eq!(
            messages(json!({"field": {}}), &s),
            vec![
                "field.nestedint: Required value",
                "field.nestedstring: Required value"
            ]
        );
        assert_eq!(
            messages(
                json!({"field": {"nestedint": "x", "nestedstring": true}}),
                &s
            ),
            vec![
                r#"field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string""#,
                r#"field.nestedint: Unsupported value: "x": supported values: "1", "2""#,
                r#"field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean""#,
                r#"field.nestedstring: Unsupported value: true: supported values: "a", "b""#,
            ]
        );
        let required = schema(json!({"type": "object", "required": ["field"]}));
        assert_eq!(
            messages(json!({"test": "a"}), &required),
            vec!["field: Required value"]
        );

        let values = with_field(json!({"enum": [{"a": 2}, 1.5, null]}));
        assert_eq!(
            messages(json!({"field": {"a": 1}}), &values),
            vec![
                r#"field: Unsupported value: map[string]interface {}{"a":1}: supported values: "{\"a\":2}", "1.5", "null""#
            ]
        );
        // Go converts the value to the enum value's type before comparing.
        let floats = with_field(json!({"enum": [1.0]}));
        assert!(validate(&json!({"field": 1}), &floats).is_empty());
    }

    #[test]
    fn counts_and_lengths() {
        let s = schema(json!({"type": "object", "properties": {
            "fieldX": {"type": "object", "maxProperties": 2, "minProperties": 1},
            "list": {"type": "array", "maxItems": 2, "minItems": 1, "uniqueItems": true},
            "text": {"type": "string", "maxLength": 2, "minLength": 2}
        }}));
        assert_eq!(
            messages(json!({"fieldX": {"a": true, "b": true, "c": true}}), &s),
            vec!["fieldX: Too many: 3: must have at most 2 items"]
        );
        assert_eq!(
            messages(json!({"fieldX": {}}), &s),
            vec!["fieldX: Invalid value: 0: fieldX in body should have at least 1 properties"]
        );
        assert_eq!(
            messages(json!({"list": ["a", "b", "c"]}), &s),
            vec!["list: Too many: 3: must have at most 2 items"]
        );
        assert_eq!(
            messages(json!({"list": []}), &s),
            vec!["list: Invalid value: 0: list in body should have at least 1 items"]
        );
        assert_eq!(
            messages(json!({"list": ["a", "a"]}), &s),
            vec![r#"list: Invalid value: "": list in body shouldn't contain duplicates"#]
        );
        assert_eq!(
            messages(json!({"text": "abc"}), &s),
            vec!["text: Too long: may not be more than 2 bytes"]
        );
        assert_eq!(
            messages(json!({"text": "a"}), &s),
            vec![r#"text: Invalid value: "a": text in body should be at least 2 chars long"#]
        );
        assert!(validate(&json!({"text": "äö"}), &s).is_empty());
    }

    #[test]
    fn numbers_bounds_and_multiples() {
        let status = schema(json!({"type": "object", "properties": {
            "num": {"type": "integer", "maximum": 10}
        }}));
        assert_eq!(
            messages(json!({"num": 15}), &status),
            vec!["num: Invalid value: 15: num in body should be less than or equal to 10"]
        );
        let s = schema(json!({"type": "object", "properties": {"spec": {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 0, "exclusiveMinimum": true,
                    "multipleOf": 5},
                "ratio": {"type": "number", "maximum": 1, "multipleOf": 0.1},
                "big": {"type": "integer", "format": "int32"}
            }
        }}}));
        assert_eq!(
            messages(json!({"spec": {"count": 0}}), &s),
            vec!["spec.count: Invalid value: 0: spec.count in body should be greater than 0"]
        );
        assert_eq!(
            messages(json!({"spec": {"count": 7}}), &s),
            vec!["spec.count: Invalid value: 7: spec.count in body should be a multiple of 5"]
        );
        assert_eq!(
            messages(json!({"spec": {"ratio": 1.5}}), &s),
            vec![
                "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than or equal to 1"
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"ratio": 0.25}}), &s),
            vec!["spec.ratio: Invalid value: 0.25: spec.ratio in body should be a multiple of 0.1"]
        );
        // Multiples of a fractional factor are judged with upstream's tolerance.
        assert!(validate(&json!({"spec": {"ratio": 0.3}}), &s).is_empty());
        // Numeric formats are stripped from CRD schemas, so int32 is not enforced.
        assert!(validate(&json!({"spec": {"big": 1_i64 << 40}}), &s).is_empty());
    }

    #[test]
    fn patterns_and_formats() {
        let s = schema(json!({"type": "object", "properties": {"spec": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z]+$"},
                "digits": {"type": "string", "pattern": "^\\d+$"},
                "at": {"type": "string", "format": "date-time"},
                "day": {"type": "string", "format": "date"},
                "id": {"type": "string", "format": "uuid"},
                "free": {"type": "string", "format": "no-such-format"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        }}}));
        assert_eq!(
            messages(json!({"spec": {"name": "ABC"}}), &s),
            vec![r#"spec.name: Invalid value: "ABC": spec.name in body should match '^[a-z]+$'"#]
        );
        assert!(validate(&json!({"spec": {"digits": "123"}}), &s).is_empty());
        // Go's \d is ASCII only.
        assert_eq!(validate(&json!({"spec": {"digits": "١٢٣"}}), &s).len(), 1);
        assert_eq!(
            messages(json!({"spec": {"at": "yesterday"}}), &s),
            vec![
                r#"spec.at: Invalid value: "yesterday": spec.at in body must be of type date-time: "yesterday""#
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"day": 5}}), &s),
            vec![
                r#"spec.day: Invalid value: "int64": spec.day in body must be of type date: "int64""#
            ]
        );
        let valid = json!({"spec": {
            "at": "2024-01-02T03:04:05.5+01:00",
            "day": "2024-02-29",
            "id": "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "free": "anything",
            "labels": {"app": "web"}
        }});
        assert!(validate(&valid, &s).is_empty());
        assert_eq!(
            messages(json!({"spec": {"labels": {"a": 1}}}), &s),
            vec![
                r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#
            ]
        );
        let invalid = with_field(json!({"type": "string", "pattern": "+"}));
        assert_eq!(validate(&json!({"field": "foo"}), &invalid).len(), 1);
    }

    #[test]
    fn embedded_resources_need_type_meta_and_valid_metadata() {
        let s = schema(json!({"type": "object", "properties": {"spec": {
            "type": "object",
            "properties": {"template": {"type": "object",
                "x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true}}
        }}}));
        assert_eq!(
            messages(
                json!({"spec": {"template": {"metadata": {"name": "a/b"}}}}),
                &s
            ),
            vec![
                "spec.template.apiVersion: Required value",
                "spec.template.kind: Required value",
                r#"spec.template.metadata.name: Invalid value: "a/b": may not contain '/'"#,
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"template": {"apiVersion": "a/b/c", "kind": "my_kind"}}}), &s),
            vec![
                r#"spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c"#.to_string(),
                format!(
                    r#"spec.template.kind: Invalid value: "my_kind": may have mixed case, but should otherwise match: {}"#,
                    is_dns1035_label("my_kind").join(",")
                ),
            ]
        );
        let pod = json!({"spec": {"template": {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}}});
        assert!(validate(&pod, &s).is_empty());
    }

    #[test]
    fn the_roots_type_and_object_metadata_are_left_to_the_caller() {
        let s = schema(json!({"type": "object", "properties": {
            "apiVersion": {"type": "integer"},
            "metadata": {"type": "object", "properties": {
                "name": {"type": "string", "maxLength": 1}}}
        }}));
        let object = json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "long"}});
        assert!(validate(&object, &s).is_empty());
    }

    #[test]
    fn floats_print_as_go_prints_them() {
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1_234_567.0), "1.234567e+06");
        assert_eq!(go_float(123_456.0), "123456");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(3.0), "3");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1e-7), "1e-7");
        assert_eq!(go_json_float(1e20), "100000000000000000000");
    }

    #[test]
    fn hostnames_as_go_openapi_tells_them() {
        for valid in [
            "somewhere.com",
            "888.com",
            "a.b.c.d.e.com",
            "1.2.3.4.com",
            "xn--bcher-kva.example.com",
            "xn--ls8h.la",
            "☁→❄→☃→☀→☺→☂→☹→✝.ws",
            "www.example.ôlà",
            "ex$ample",
            "localhost",
            "x",
            "x-y",
            "ex=ample.com",
            "<foo>",
            "www.example-hyphenated.org",
            "www.詹姆斯.org",
            "www.詹姆斯.london",
        ] {
            assert!(is_hostname(valid), "{valid}");
        }
        let very_long = "a".repeat(256);
        let long_segment = format!("x.y.{}", "a".repeat(64));
        for invalid in [
            "somewhere.com!",
            "user@email.domain",
            "1.1.1.1",
            very_long.as_str(),
            long_segment.as_str(),
            "www.example-.org",
            "www.--example.org",
            "-www.example.org",
            "www-.example.org",
            "www-",
            "-www",
            "www.ex ample.org",
            "_www.example.org",
            "www.example_underscored.org",
            "www.詹姆斯.x",
            "a.b.c.d",
            "x.",
            "a.b.c.dot-",
            "a.b.c.é;ö",
        ] {
            assert!(!is_hostname(invalid), "{invalid}");
        }
    }

    #[test]
    fn emails_as_go_parses_them() {
        for valid in [
            "blah@gmail.com",
            "test@d.verylongtoplevel",
            "email+tag@gmail.com",
            r#"" "@example.com"#,
            r#""Abc\@def"@example.com"#,
            r#""Fred Bloggs"@example.com"#,
            r#""Joe\\Blow"@example.com"#,
            "customer/department=shipping@example.com",
            "!#$%&'*+-/=?^_`{}|~@example.com",
            "Miles.O'Brian@example.com",
            "postmaster@☁→❄→☃→☀→☺→☂→☹→✝.ws",
            "john@com",
            "John Doe <john@example.com>",
            "john@example.com (John)",
            "root@[127.0.0.1]",
        ] {
            assert!(is_email(valid), "{valid}");
        }
        for invalid in [
            "somebody@somewhere@com",
            "plain",
            "a..b@example.com",
            "@example.com",
            "John <john@example.com",
            "root@[not-an-ip]",
            "",
        ] {
            assert!(!is_email(invalid), "{invalid}");
        }
    }

    #[test]
    fn other_formats() {
        let holds = |format: &str, s: &str| format_holds(format, s);
        assert!(holds("ipv4", "1.2.3.4") && holds("ipv4", "01.02.03.004"));
        assert!(holds("ipv4", "::ffff:1.2.3.4") && !holds("ipv4", "1.2.3"));
        assert!(holds("ipv6", "2001:db8::1") && !holds("ipv6", "1.2.3.4"));
        assert!(holds("cidr", "10.0.0.0/8") && holds("cidr", "::/0"));
        assert!(!holds("cidr", "10.0.0.0/33") && !holds("cidr", "10.0.0.0"));
        assert!(holds("mac", "01:02:03:04:05:06") && holds("mac", "0102.0304.0506"));
        assert!(!holds("mac", "01:02:03:04:05") && !holds("mac", "01:02-03:04:05:06"));
        assert!(holds("date", "2024-02-29") && !holds("date", "2023-02-29"));
        assert!(
            !holds("datetime", "2024-01-02 03:04:05Z") && holds("datetime", "2024-01-02t03:04:05z")
        );
        assert!(holds("duration", "1h30m") && holds("duration", "0") && holds("duration", "-1.5s"));
        assert!(holds("duration", "3 days") && holds("duration", "5μs"));
        assert!(!holds("duration", "x") && !holds("duration", "") && !holds("duration", "5x"));
        assert!(holds("byte", "aGVsbG8=") && !holds("byte", "hello!") && !holds("byte", ""));
        assert!(holds("uri", "https://example.com/a?b") && holds("uri", "/path"));
        assert!(holds("uri", "http://[::1]:80/") && holds("uri", "mailto:a@b"));
        assert!(!holds("uri", "example.com") && !holds("uri", "http://host:port/"));
        assert!(!holds("uri", "http://a b/") && !holds("uri", "/%zz"));
        assert!(holds("isbn10", "0321751043") && holds("isbn13", "978-0321751041"));
        assert!(holds("isbn", "0-321-75104-3") && !holds("isbn10", "0321751044"));
        assert!(
            holds("creditcard", "4111 1111 1111 1111")
                && !holds("creditcard", "4111 1111 1111 1112")
        );
        assert!(holds("ssn", "123-45-6789") && !holds("ssn", "123456789"));
        assert!(holds("hexcolor", "#fff") && !holds("hexcolor", "#ffff"));
        assert!(holds("rgbcolor", "rgb(255, 0, 10)") && !holds("rgbcolor", "rgb(256,0,0)"));
        assert!(
            holds("bsonobjectid", "507f1f77bcf86cd799439011") && !holds("bsonobjectid", "507f")
        );
        assert!(holds("uuid4", "0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!holds("uuid3", "0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(holds("password", ""));
    }

    #[test]
    fn set_and_map_lists_hold_each_value_or_key_once() {
        let s = with_field(json!({"type": "object", "properties": {
            "hosts": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["port", "protocol"],
                      "items": {"type": "object", "properties": {
                          "port": {"type": "integer"},
                          "protocol": {"type": "string", "default": "TCP"}}}},
        }}));
        let fine = json!({"field": {"hosts": ["a", "b"],
            "ports": [{"port": 80}, {"port": 80, "protocol": "UDP"}]}});
        assert_eq!(messages(fine, &s), Vec::<String>::new());
        let repeated = json!({"field": {"hosts": ["a", "b", "a", "a"],
            "ports": [{"port": 80}, {"port": 80, "protocol": "TCP"}, {}]}});
        assert_eq!(
            messages(repeated, &s),
            [
                r#"field.hosts[2]: Duplicate value: "a""#,
                r#"field.ports[1]: Duplicate value: map[string]interface {}{"port":80, "protocol":"TCP"}"#,
                r#"field.ports[2]: Invalid value: map[string]interface {}{}: must contain at least one key"#,
            ]
        );
    }
}
