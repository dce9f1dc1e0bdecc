//! Schema-aware walks over objects for server-side apply, after
//! `sigs.k8s.io/structured-merge-diff`: the fields a configuration sets, what changed between
//! two versions of an object, merging a configuration into an object, and pruning the fields
//! a manager gave up.
//!
//! Scalars, atomic structs and atomic lists are leaves. Granular maps are walked field by
//! field, and set and map lists item by item, each item named by its value or its key
//! fields. A map or list that is empty or `null` on every side is a leaf too, which keeps the
//! difference between `{}` and an absent field visible.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, Path, PathElement, display};
use super::schema::{self, ApplyList, Fields, List, Shape};

/// What a position holds, from its declared shape and the values found there.
#[derive(Clone, Copy)]
enum Node {
    Map(Fields),
    List(List),
    Leaf,
}

/// Resolves a position's node; values that disagree with each other or with the declared
/// shape make it a leaf, as do collections empty on every side.
fn resolve(shape: Option<Shape>, sides: [Option<&Value>; 2]) -> Node {
    let present = || sides.into_iter().flatten().filter(|value| !value.is_null());
    if present().all(is_empty_collection) {
        return Node::Leaf;
    }
    let objects = present().all(Value::is_object);
    let arrays = present().all(Value::is_array);
    match shape {
        Some(Shape::Fields(fields)) if objects => Node::Map(fields),
        None if objects => Node::Map(&[]),
        Some(Shape::List(list)) if arrays && !matches!(list.apply, ApplyList::Atomic) => {
            Node::List(list)
        }
        _ => Node::Leaf,
    }
}

fn is_empty_collection(value: &Value) -> bool {
    match value {
        Value::Object(entries) => entries.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// The path element naming a list item: its value in a set, its key fields in a map list.
fn item_element(list: &List, item: &Value) -> Result<PathElement, String> {
    match (list.apply, item) {
        (ApplyList::Map(keys), Value::Object(fields)) => {
            let key: Map<String, Value> = keys
                .iter()
                .filter_map(|key| {
                    let value = fields
                        .get(key.name)
                        .cloned()
                        .or_else(|| key.default.map(Value::from))?;
                    Some((key.name.to_owned(), value))
                })
                .collect();
            if key.is_empty() {
                let names: Vec<&str> = keys.iter().map(|key| key.name).collect();
                return Err(format!(
                    "associative list with keys has an element that omits all key fields {names:?} \
                     (and doesn't have default values for any key fields)"
                ));
            }
            Ok(PathElement::key(key))
        }
        (ApplyList::Map(_), Value::Null) => {
            Err("associative list with keys may not have a null element".into())
        }
        (ApplyList::Map(_), _) => {
            Err("associative list with keys may not have non-map elements".into())
        }
        (ApplyList::Set, Value::Object(_)) => {
            Err("associative list without keys has an element that's a map type".into())
        }
        (ApplyList::Set, Value::Array(_)) => {
            Err("not supported: associative list with lists as elements".into())
        }
        (ApplyList::Set, Value::Null) => {
            Err("associative list without keys has an element that's an explicit null".into())
        }
        (ApplyList::Set, scalar) => Ok(PathElement::value(scalar)),
        (ApplyList::Atomic, _) => Err("invalid indexing of non-associative list".into()),
    }
}

/// Prefixes an error with the path it was found at.
fn at(path: &[PathElement], message: String) -> String {
    format!("{}: {message}", display(path))
}

/// Names every item of a list.
fn name_items(
    items: &[Value],
    list: &List,
    path: &[PathElement],
) -> Result<Vec<PathElement>, String> {
    items
        .iter()
        .map(|item| item_element(list, item).map_err(|message| at(path, message)))
        .collect()
}

/// Refuses a configuration whose list names an item twice.
fn reject_duplicates(names: &[PathElement], path: &[PathElement]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    match names.iter().find(|name| !seen.insert(*name)) {
        Some(name) => Err(at(path, format!("duplicate entries for key {name}"))),
        None => Ok(()),
    }
}

fn entries(value: Option<&Value>) -> impl Iterator<Item = &String> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(Map::keys)
}

fn items(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The paths a configuration sets: upstream's `ToFieldSet`. Leaves, empty maps, `null`s and
/// list items are members; a granular map is a member only through what it holds. Duplicate
/// or unnamed list items make the configuration invalid.
pub(super) fn field_set(value: &Value, root: Fields) -> Result<FieldSet, String> {
    let mut set = FieldSet::default();
    collect(value, Some(Shape::Fields(root)), &mut Vec::new(), &mut set)?;
    Ok(set)
}

/// Adds the paths `value`, found at `path`, sets.
fn collect(
    value: &Value,
    shape: Option<Shape>,
    path: &mut Path,
    set: &mut FieldSet,
) -> Result<(), String> {
    match (value, shape) {
        (Value::Object(fields), None | Some(Shape::Fields(_))) if !fields.is_empty() => {
            let declared = shape.map(Shape::fields).unwrap_or_default();
            for (name, child) in fields {
                path.push(PathElement::field(name));
                collect(child, schema::lookup(declared, name), path, set)?;
                path.pop();
            }
        }
        (Value::Array(elements), Some(Shape::List(list)))
            if !matches!(list.apply, ApplyList::Atomic) =>
        {
            let names = name_items(elements, &list, path)?;
            reject_duplicates(&names, path)?;
            for (name, item) in names.into_iter().zip(elements) {
                path.push(name);
                collect(item, Some(list.items.shape()), path, set)?;
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
    Ok(())
}

/// The paths that differ between two versions of an object: upstream's `Compare`.
#[derive(Debug, Default)]
pub(super) struct Comparison {
    pub(super) added: FieldSet,
    pub(super) modified: FieldSet,
    pub(super) removed: FieldSet,
}

/// Compares two versions of an object.
pub(super) fn compare(lhs: &Value, rhs: &Value, root: Fields) -> Comparison {
    let mut comparison = Comparison::default();
    comparison.walk(
        Some(lhs),
        Some(rhs),
        Some(Shape::Fields(root)),
        &mut Vec::new(),
    );
    comparison
}

impl Comparison {
    /// Fields added or modified: what a write sets.
    pub(super) fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }

    /// Removes a top-level field and everything below it from the comparison.
    pub(super) fn ignore(&mut self, element: &PathElement) {
        for set in [&mut self.added, &mut self.modified, &mut self.removed] {
            set.remove_subtree(element);
        }
    }

    fn walk(
        &mut self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        shape: Option<Shape>,
        path: &mut Path,
    ) {
        match resolve(shape, [lhs, rhs]) {
            Node::Leaf => {
                if let (Some(old), Some(new)) = (lhs, rhs)
                    && old != new
                {
                    self.modified.insert(path);
                }
            }
            Node::Map(fields) => {
                let names: BTreeSet<&String> = entries(lhs).chain(entries(rhs)).collect();
                for name in names {
                    path.push(PathElement::field(name));
                    let (old, new) = (lhs.and_then(|v| v.get(name)), rhs.and_then(|v| v.get(name)));
                    self.walk(old, new, schema::lookup(fields, name), path);
                    path.pop();
                }
            }
            Node::List(list) => self.walk_items(items(lhs), items(rhs), list, path),
        }
        match (lhs, rhs) {
            (None, Some(_)) => self.added.insert(path),
            (Some(_), None) => self.removed.insert(path),
            _ => {}
        }
    }

    /// Compares list items by name. Items named more than once are compared as a whole, as
    /// upstream does for objects that predate the validation of their keys.
    fn walk_items(&mut self, lhs: &[Value], rhs: &[Value], list: List, path: &mut Path) {
        let (before, after) = (group(lhs, &list), group(rhs, &list));
        let shape = Some(list.items.shape());
        let names: BTreeSet<&PathElement> = before.keys().chain(after.keys()).collect();
        for name in names {
            let old = before.get(name).map_or(&[][..], Vec::as_slice);
            let new = after.get(name).map_or(&[][..], Vec::as_slice);
            path.push(name.clone());
            match (old, new) {
                ([_, _, ..], [_, _, ..]) => {
                    if old != new {
                        self.modified.insert(path);
                    }
                }
                ([_, _, ..], _) => {
                    if let Some(first) = new.first() {
                        self.walk(None, Some(first), shape, path);
                    }
                    self.removed.insert(path);
                }
                (_, [_, _, ..]) => {
                    if let Some(first) = old.first() {
                        self.walk(Some(first), None, shape, path);
                    }
                    self.added.insert(path);
                }
                _ => self.walk(old.first().copied(), new.first().copied(), shape, path),
            }
            path.pop();
        }
    }
}

/// List items by name; items that cannot be named are left out.
fn group<'a>(elements: &'a [Value], list: &List) -> BTreeMap<PathElement, Vec<&'a Value>> {
    let mut groups: BTreeMap<PathElement, Vec<&Value>> = BTreeMap::new();
    for item in elements {
        if let Ok(name) = item_element(list, item) {
            groups.entry(name).or_default().push(item);
        }
    }
    groups
}

/// Merges a configuration into an object, the configuration winning at every leaf:
/// upstream's `Merge`.
pub(super) fn merge(object: &Value, config: &Value, root: Fields) -> Result<Value, String> {
    merge_node(
        Some(object),
        Some(config),
        Some(Shape::Fields(root)),
        &mut Vec::new(),
    )
}

/// Merges one position; at least one side is present.
fn merge_node(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    shape: Option<Shape>,
    path: &mut Path,
) -> Result<Value, String> {
    match resolve(shape, [lhs, rhs]) {
        Node::Leaf => Ok(rhs.or(lhs).cloned().unwrap_or_default()),
        Node::Map(fields) => {
            let names: BTreeSet<&String> = entries(lhs).chain(entries(rhs)).collect();
            let mut merged = Map::new();
            for name in names {
                path.push(PathElement::field(name));
                let (old, new) = (lhs.and_then(|v| v.get(name)), rhs.and_then(|v| v.get(name)));
                merged.insert(
                    name.clone(),
                    merge_node(old, new, schema::lookup(fields, name), path)?,
                );
                path.pop();
            }
            Ok(Value::Object(merged))
        }
        Node::List(list) => merge_items(items(lhs), items(rhs), list, path).map(Value::Array),
    }
}

/// Merges list items by name, in [`merged_order`]. Live items named twice match nothing.
fn merge_items(
    lhs: &[Value],
    rhs: &[Value],
    list: List,
    path: &mut Path,
) -> Result<Vec<Value>, String> {
    let (left, right) = (name_items(lhs, &list, path)?, name_items(rhs, &list, path)?);
    reject_duplicates(&right, path)?;
    let mut live: BTreeMap<&PathElement, Option<&Value>> = BTreeMap::new();
    for (name, item) in left.iter().zip(lhs) {
        live.entry(name)
            .and_modify(|seen| *seen = None)
            .or_insert(Some(item));
    }
    let shape = Some(list.items.shape());
    merged_order(&left, &right)
        .into_iter()
        .map(|take| match take {
            Take::Live(index) => Ok(lhs[index].clone()),
            Take::Config(index) => {
                let name = &right[index];
                path.push(name.clone());
                let merged = merge_node(
                    live.get(name).copied().flatten(),
                    Some(&rhs[index]),
                    shape,
                    path,
                );
                path.pop();
                merged
            }
        })
        .collect()
}

/// Where the next item of a merged list comes from: the live list alone, or the
/// configuration (merged with the live item of the same name, if any).
enum Take {
    Live(usize),
    Config(usize),
}

/// The order of a merged list, after upstream: items of both lists come in the
/// configuration's order, items only the live list has keep their place relative to the items
/// around them, and new items go where the configuration puts them.
fn merged_order(left: &[PathElement], right: &[PathElement]) -> Vec<Take> {
    let in_left: BTreeSet<&PathElement> = left.iter().collect();
    let in_right: BTreeSet<&PathElement> = right.iter().collect();
    let mut shared = right.iter().filter(|name| in_left.contains(name));
    let mut next_shared = shared.next();
    let mut taken = BTreeSet::new();
    let mut order = Vec::with_capacity(left.len().max(right.len()));
    let (mut l, mut r) = (0, 0);
    while l < left.len() || r < right.len() {
        if l < left.len() && r < right.len() {
            let name = &left[l];
            if *name == right[r] {
                taken.insert(name);
                order.push(Take::Config(r));
                l += 1;
                r += 1;
                next_shared = shared.next();
                continue;
            }
            if in_right.contains(name) && next_shared.is_some_and(|next| next != name) {
                // A shared item the configuration places later: it is taken when reached there.
                l += 1;
                continue;
            }
        }
        if l < left.len() {
            let name = &left[l];
            if !in_right.contains(name) {
                order.push(Take::Live(l));
                l += 1;
                continue;
            }
            if taken.contains(name) {
                l += 1;
            }
        }
        if r < right.len() {
            let name = &right[r];
            taken.insert(name);
            order.push(Take::Config(r));
            r += 1;
            if next_shared == Some(name) {
                next_shared = shared.next();
            }
        }
    }
    order
}

/// Removes from `object` what `last` claimed and nobody in `owned` claims any more:
/// upstream's pruning of the fields an applier dropped from its configuration. A map or list
/// left empty by the removals goes too.
pub(super) fn prune(object: &mut Value, root: Fields, last: &FieldSet, owned: &FieldSet) {
    prune_node(object, Some(Shape::Fields(root)), last, owned);
}

/// Prunes below one node; true when that left the node empty.
fn prune_node(value: &mut Value, shape: Option<Shape>, last: &FieldSet, owned: &FieldSet) -> bool {
    match (resolve(shape, [Some(&*value), None]), value) {
        (Node::Map(fields), Value::Object(entries)) => {
            let before = entries.len();
            entries.retain(|name, child| {
                keep(
                    child,
                    &PathElement::field(name),
                    schema::lookup(fields, name),
                    true,
                    last,
                    owned,
                )
            });
            entries.len() < before && entries.is_empty()
        }
        (Node::List(list), Value::Array(elements)) => {
            let before = elements.len();
            elements.retain_mut(|item| match item_element(&list, item) {
                Ok(name) => keep(item, &name, Some(list.items.shape()), false, last, owned),
                Err(_) => true,
            });
            elements.len() < before && elements.is_empty()
        }
        _ => false,
    }
}

/// Whether a child survives pruning, pruning below it on the way.
fn keep(
    child: &mut Value,
    name: &PathElement,
    shape: Option<Shape>,
    is_field: bool,
    last: &FieldSet,
    owned: &FieldSet,
) -> bool {
    if claims(last, name, is_field) && !claims(owned, name, is_field) {
        return false;
    }
    let below = last.child(name);
    below.is_empty() || !prune_node(child, shape, below, owned.child(name))
}

/// Whether a set claims an element: as a member or, for a field, through any path below it
/// (upstream's `EnsureNamedFieldsAreMembers`).
fn claims(set: &FieldSet, name: &PathElement, is_field: bool) -> bool {
    set.has(name) || (is_field && !set.child(name).is_empty())
}
