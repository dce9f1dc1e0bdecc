//! Strategic merge patch (`application/strategic-merge-patch+json`) for the built-in kinds,
//! after upstream's `k8s.io/apimachinery/pkg/util/strategicpatch`.
//!
//! Maps merge recursively and `null` deletes a key. Lists follow their field's strategy from
//! [`schema`]: merged element-wise on a merge key, merged as a set of primitives, or replaced.
//! The directives kubectl's two- and three-way patches carry steer the merge: `$patch`
//! (`replace`, `delete` or `merge`) in a map or list element, `$retainKeys`,
//! `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
//!
//! Where upstream leaves the merged map to its typed decoding to clean up, this engine does
//! it itself: values taken from the patch lose their `null`s and directive keys.

use std::mem;

use serde_json::{Map, Value};

use super::PatchError;
use super::schema::{self, Fields, Shape, Smp};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Applies `patch` to `target`, both objects, with the root fields of the target's kind.
pub(super) fn apply(target: &Value, patch: &Value, root: Fields) -> Result<Value, PatchError> {
    let (Value::Object(original), Value::Object(patch)) = (target, patch) else {
        return Err(PatchError::Malformed("invalid JSON document".into()));
    };
    merge_map(original.clone(), patch.clone(), root).map(Value::Object)
}

/// How a list field merges, and the fields of its elements.
#[derive(Clone, Copy)]
struct ListRule {
    smp: Smp,
    items: Fields,
}

impl ListRule {
    fn of(fields: Fields, name: &str) -> Self {
        match schema::lookup(fields, name) {
            Some(Shape::List(list)) => Self {
                smp: list.smp,
                items: list.items.fields(),
            },
            _ => Self {
                smp: Smp::Replace,
                items: &[],
            },
        }
    }

    /// How elements are told apart: by merge key for map lists, by value otherwise.
    fn identity(self) -> Identity {
        match self.smp {
            Smp::MergeOn(key) => Identity::Key(key),
            Smp::Replace | Smp::MergeValues => Identity::Value,
        }
    }
}

/// What makes two list elements the same element.
#[derive(Clone, Copy)]
enum Identity {
    Value,
    Key(&'static str),
}

impl Identity {
    fn of(self, element: &Value) -> Result<&Value, PatchError> {
        match self {
            Identity::Value => Ok(element),
            Identity::Key(key) => element.get(key).ok_or_else(|| no_merge_key(element, key)),
        }
    }

    fn same(self, left: &Value, right: &Value) -> Result<bool, PatchError> {
        Ok(self.of(left)? == self.of(right)?)
    }

    fn position(self, list: &[Value], element: &Value) -> Option<usize> {
        let wanted = self.of(element).ok()?;
        list.iter()
            .position(|candidate| self.of(candidate).is_ok_and(|id| id == wanted))
    }
}

/// Merges a patch map into an object map whose fields follow `fields`.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    fields: Fields,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.remove(PATCH) {
        match directive.as_str() {
            Some("replace") => return Ok(literal_map(patch)),
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {}
            _ => return Err(unknown_directive(&directive, Value::Object(patch))),
        }
    }
    retain_keys(&mut original, &mut patch)?;
    set_element_orders(&mut original, &mut patch, fields)?;
    for (key, value) in patch {
        merge_entry(&mut original, key, value, fields)?;
    }
    Ok(original)
}

/// Merges one key of a patch map: a directive, a deletion, or a value to merge or set.
fn merge_entry(
    original: &mut Map<String, Value>,
    key: String,
    value: Value,
    fields: Fields,
) -> Result<(), PatchError> {
    if let Some(rest) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
        let name = directive_target(rest).ok_or_else(|| {
            PatchError::Malformed("invalid patch format of primitive list".into())
        })?;
        delete_from_list(original, name, value);
        return Ok(());
    }
    if value.is_null() {
        original.remove(&key);
        return Ok(());
    }
    let merged = match (original.remove(&key), value) {
        (Some(Value::Object(current)), Value::Object(patch)) => {
            let inner = schema::lookup(fields, &key)
                .map(Shape::fields)
                .unwrap_or_default();
            Some(Value::Object(merge_map(current, patch, inner)?))
        }
        (Some(Value::Array(current)), Value::Array(patch)) => Some(Value::Array(merge_list(
            current,
            patch,
            ListRule::of(fields, &key),
        )?)),
        (_, value) => literal(value),
    };
    if let Some(merged) = merged {
        original.insert(key, merged);
    }
    Ok(())
}

/// `$retainKeys`: keys of the object missing from the list are cleared, and the patch may only
/// set listed keys.
fn retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retained) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let invalid = || PatchError::Malformed("invalid patch format of retainKeys".into());
    let Value::Array(retained) = retained else {
        return Err(invalid());
    };
    let is_retained = |key: &str| retained.iter().any(|name| name.as_str() == Some(key));
    let sets_unlisted = patch
        .iter()
        .any(|(key, value)| !value.is_null() && !is_directive(key) && !is_retained(key));
    if sets_unlisted {
        return Err(invalid());
    }
    original.retain(|key, _| is_retained(key));
    Ok(())
}

/// `$setElementOrder/<list>`: merges the list, then orders it as the directive says, server-only
/// elements keeping their place relative to their neighbours.
fn set_element_orders(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    fields: Fields,
) -> Result<(), PatchError> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let order = patch.remove(&directive).unwrap_or_default();
        let name = directive_target(&directive[SET_ELEMENT_ORDER.len()..]).ok_or_else(|| {
            PatchError::Malformed("invalid patch format of setElementOrder list".into())
        })?;
        let Value::Array(order) = order else {
            return Err(bad_type("[]interface {}", &order));
        };
        let rule = ListRule::of(fields, name);
        let current = take_list(original, name)?;
        let requested = take_list(patch, name)?;
        if let Some(requested) = &requested {
            check_order(requested, &order, rule.identity())?;
        }
        let server_order = current.clone().unwrap_or_default();
        let merged = match (current, requested) {
            (None, None) => continue,
            (Some(current), None) => current,
            (None, Some(requested)) => literal_list(requested),
            (Some(current), Some(requested)) => merge_list(current, requested, rule)?,
        };
        let ordered = arrange(merged, &order, &server_order, rule.identity())?;
        original.insert(name.to_owned(), Value::Array(ordered));
    }
    Ok(())
}

/// Checks that the patch list follows the order its `$setElementOrder` gives.
fn check_order(patch: &[Value], order: &[Value], identity: Identity) -> Result<(), PatchError> {
    if order.is_empty() {
        return Ok(());
    }
    let elements: Vec<&Value> = patch
        .iter()
        .filter(|element| element.get(PATCH).is_none())
        .collect();
    let mut matched = 0;
    for wanted in order {
        if matched == elements.len() {
            break;
        }
        if identity.same(elements[matched], wanted)? {
            matched += 1;
        }
    }
    if matched < elements.len() {
        return Err(PatchError::Internal(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            Value::from(patch.to_vec()),
            Value::from(order.to_vec())
        )));
    }
    Ok(())
}

/// `$deleteFromPrimitiveList/<list>`: removes the given values from a list of primitives.
fn delete_from_list(original: &mut Map<String, Value>, name: &str, values: Value) {
    match (original.get_mut(name), values) {
        (_, Value::Null) => {
            original.remove(name);
        }
        (Some(Value::Array(list)), Value::Array(values)) => {
            list.retain(|element| !values.contains(element))
        }
        _ => {}
    }
}

/// Merges a patch list into an object list with the list's strategy.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    rule: ListRule,
) -> Result<Vec<Value>, PatchError> {
    match rule.smp {
        Smp::Replace => Ok(literal_list(patch)),
        Smp::MergeValues | Smp::MergeOn(_) => merge_elements(original, patch, rule),
    }
}

/// Merges two lists with the `merge` strategy.
fn merge_elements(
    original: Vec<Value>,
    patch: Vec<Value>,
    rule: ListRule,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    if !holds_maps(&original, &patch)? {
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for element in original.iter().chain(&patch) {
            if !merged.contains(element) {
                merged.push(element.clone());
            }
        }
        return arrange(merged, &patch, &original, Identity::Value);
    }
    let Smp::MergeOn(key) = rule.smp else {
        return Err(PatchError::Internal(
            "cannot merge lists without merge key".into(),
        ));
    };
    let (original, patch) = apply_element_directives(original, patch, key)?;
    let merged = merge_by_key(original.clone(), &patch, key, rule.items)?;
    arrange(merged, &patch, &original, Identity::Key(key))
}

/// Whether two lists hold maps (rather than primitives), refusing mixed lists.
fn holds_maps(original: &[Value], patch: &[Value]) -> Result<bool, PatchError> {
    let mut elements = original.iter().chain(patch);
    let Some(first) = elements.next() else {
        return Ok(false);
    };
    if first.is_array() {
        return Err(PatchError::Unprocessable(
            "lists of lists are not supported".into(),
        ));
    }
    if elements.any(|element| mem::discriminant(element) != mem::discriminant(first)) {
        return Err(PatchError::Internal(format!(
            "list element types are not identical: {}",
            Value::from([original, patch].concat())
        )));
    }
    Ok(first.is_object())
}

/// Handles list elements carrying `$patch`: `delete` removes the matching elements from the
/// object, `replace` makes the patch's other elements the whole list, `merge` is the default.
fn apply_element_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for element in patch {
        let Value::Object(mut fields) = element else {
            plain.push(element);
            continue;
        };
        let directive = fields.remove(PATCH);
        let element = Value::Object(fields);
        let Some(directive) = directive else {
            plain.push(element);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let doomed = element
                    .get(key)
                    .ok_or_else(|| no_merge_key(&element, key))?;
                original.retain(|candidate| candidate.get(key) != Some(doomed));
            }
            Some("replace") => replace = true,
            Some("merge") => plain.push(element),
            _ => return Err(unknown_directive(&directive, element)),
        }
    }
    Ok(if replace {
        (literal_list(plain), Vec::new())
    } else {
        (original, plain)
    })
}

/// Merges each patch element into the object's element with the same key, appending the new.
fn merge_by_key(
    mut merged: Vec<Value>,
    patch: &[Value],
    key: &str,
    items: Fields,
) -> Result<Vec<Value>, PatchError> {
    for element in patch {
        let Value::Object(fields) = element else {
            return Err(bad_type("map[string]interface {}", element));
        };
        let wanted = fields.get(key).ok_or_else(|| no_merge_key(element, key))?;
        match merged
            .iter()
            .position(|candidate| candidate.get(key) == Some(wanted))
        {
            Some(index) => {
                let current = match mem::take(&mut merged[index]) {
                    Value::Object(current) => current,
                    other => return Err(bad_type("map[string]interface {}", &other)),
                };
                merged[index] = Value::Object(merge_map(current, fields.clone(), items)?);
            }
            None => merged.extend(literal(element.clone())),
        }
    }
    Ok(merged)
}

/// Orders a merged list as upstream does: elements the patch names in the patch's order,
/// elements only the object has in the object's order, the two interleaved so that an
/// object-only element stays ahead of the patch elements it preceded in the object.
fn arrange(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    identity: Identity,
) -> Result<Vec<Value>, PatchError> {
    for element in merged.iter().chain(patch_order).chain(server_order) {
        identity.of(element)?;
    }
    let (mut patched, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|element| identity.position(patch_order, element).is_some());
    patched.sort_by_key(|element| {
        identity
            .position(patch_order, element)
            .unwrap_or(usize::MAX)
    });
    server_only.sort_by_key(|element| {
        identity
            .position(server_order, element)
            .unwrap_or(usize::MAX)
    });

    let mut out = Vec::with_capacity(patched.len() + server_only.len());
    let mut patched = patched.into_iter().peekable();
    let mut server_only = server_only.into_iter().peekable();
    while let (Some(from_server), Some(from_patch)) = (server_only.peek(), patched.peek()) {
        let server_first = match (
            identity.position(server_order, from_server),
            identity.position(server_order, from_patch),
        ) {
            (Some(server), Some(patch)) => server < patch,
            _ => false,
        };
        out.extend(if server_first {
            server_only.next()
        } else {
            patched.next()
        });
    }
    out.extend(server_only);
    out.extend(patched);
    Ok(out)
}

/// The value a patch fragment stands for where there is nothing to merge it into: directives
/// dropped and `null`s discarded. `None` for a fragment that is itself a directive.
fn literal(value: Value) -> Option<Value> {
    match value {
        Value::Object(fields) if fields.contains_key(PATCH) => None,
        Value::Object(fields) => Some(Value::Object(literal_map(fields))),
        Value::Array(elements) => Some(Value::Array(literal_list(elements))),
        scalar => Some(scalar),
    }
}

fn literal_map(fields: Map<String, Value>) -> Map<String, Value> {
    fields
        .into_iter()
        .filter(|(key, value)| !value.is_null() && !is_directive(key))
        .filter_map(|(key, value)| Some((key, literal(value)?)))
        .collect()
}

fn literal_list(elements: Vec<Value>) -> Vec<Value> {
    elements.into_iter().filter_map(literal).collect()
}

/// Keys that steer the merge of a map rather than name one of its fields.
fn is_directive(key: &str) -> bool {
    key == PATCH
        || key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// The list a `$directive/<list>` key names, from the part after the directive.
fn directive_target(rest: &str) -> Option<&str> {
    rest.strip_prefix('/')
}

fn take_list(map: &mut Map<String, Value>, name: &str) -> Result<Option<Vec<Value>>, PatchError> {
    match map.remove(name) {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list)),
        Some(other) => Err(bad_type("[]interface {}", &other)),
    }
}

fn no_merge_key(element: &Value, key: &str) -> PatchError {
    PatchError::Internal(format!(
        "map: {element} does not contain declared merge key: {key}"
    ))
}

fn unknown_directive(directive: &Value, map: Value) -> PatchError {
    let directive = directive
        .as_str()
        .map_or_else(|| directive.to_string(), str::to_owned);
    PatchError::Internal(format!("unknown patch type: {directive} in map: {map}"))
}

/// Upstream's wording for a value of the wrong type, with Go's type names.
fn bad_type(expected: &str, actual: &Value) -> PatchError {
    let actual = match actual {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    };
    PatchError::Internal(format!("expected a {expected}, but received a {actual}"))
}
