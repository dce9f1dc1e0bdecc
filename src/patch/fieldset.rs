//! Sets of field paths, the currency of server-side apply ownership, with upstream's
//! `FieldsV1` encoding (`{"f:spec":{"f:replicas":{}}}`).
//!
//! A path is a list of [`PathElement`]s: a struct or map field, a list item named by its key
//! fields or its value, or (in sets written by other implementations) a list index. A set is a
//! tree: each node has the elements that end a member path and the subtrees below elements.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One step of a field path, kept in its `FieldsV1` spelling: `f:name`, `k:{"name":"x"}`,
/// `v:"x"` or `i:0`. The spelling is canonical (key fields sorted, compact JSON), so equal
/// elements compare equal, and fields order by name as upstream orders them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct PathElement(String);

/// A field path from the root of an object.
pub(super) type Path = Vec<PathElement>;

impl PathElement {
    pub(super) fn field(name: &str) -> Self {
        Self(format!("f:{name}"))
    }

    /// The item of a map list whose key fields have these values.
    pub(super) fn key(fields: Map<String, Value>) -> Self {
        Self(format!("k:{}", Value::Object(fields)))
    }

    /// The item of a set list with this value.
    pub(super) fn value(value: &Value) -> Self {
        Self(format!("v:{value}"))
    }

    /// Reads one `FieldsV1` key, normalising the JSON it carries.
    fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("invalid path element {text:?}");
        let (kind, body) = text.split_at_checked(2).ok_or_else(invalid)?;
        match kind {
            "f:" => Ok(Self(text.to_owned())),
            "k:" => match serde_json::from_str(body) {
                Ok(Value::Object(fields)) => Ok(Self::key(fields)),
                _ => Err(invalid()),
            },
            "v:" => serde_json::from_str(body)
                .map(|value| Self::value(&value))
                .map_err(|_| invalid()),
            "i:" => body
                .parse::<usize>()
                .map(|index| Self(format!("i:{index}")))
                .map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

/// Upstream's human-readable form, used in conflict messages: `.name`, `[name="x"]`,
/// `[="x"]`, `[0]`. Values print as JSON, which quotes strings as upstream does.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, body) = self.0.split_at(2);
        match kind {
            "f:" => write!(f, ".{body}"),
            "k:" => {
                let fields: Map<String, Value> = serde_json::from_str(body).unwrap_or_default();
                let shown: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                write!(f, "[{}]", shown.join(","))
            }
            "v:" => {
                let value: Value = serde_json::from_str(body).unwrap_or_default();
                write!(f, "[={value}]")
            }
            _ => write!(f, "[{body}]"),
        }
    }
}

/// Upstream's human-readable form of a whole path: `.spec.containers[name="x"].image`.
pub(super) fn display(path: &[PathElement]) -> String {
    path.iter().map(PathElement::to_string).collect()
}

/// A set of field paths.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct FieldSet {
    /// Elements that end a member path at this node.
    members: BTreeSet<PathElement>,
    /// Non-empty subtrees below elements.
    children: BTreeMap<PathElement, FieldSet>,
}

/// The empty set, to answer lookups below absent nodes.
static EMPTY: FieldSet = FieldSet {
    members: BTreeSet::new(),
    children: BTreeMap::new(),
};

/// The `FieldsV1` key marking a node that is itself a member and has members below it.
const SELF: &str = ".";

impl FieldSet {
    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path; the empty path (the object itself) is never a member.
    pub(super) fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Removes one member path, leaving paths below it alone.
    pub(super) fn remove(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.remove(last);
            }
            [first, rest @ ..] => {
                if let Some(child) = self.children.get_mut(first) {
                    child.remove(rest);
                    if child.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// Removes an element and every path below it.
    pub(super) fn remove_subtree(&mut self, element: &PathElement) {
        self.members.remove(element);
        self.children.remove(element);
    }

    /// Whether `element` ends a member path at this node.
    pub(super) fn has(&self, element: &PathElement) -> bool {
        self.members.contains(element)
    }

    /// The paths below `element`, relative to it.
    pub(super) fn child(&self, element: &PathElement) -> &FieldSet {
        self.children.get(element).unwrap_or(&EMPTY)
    }

    pub(super) fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (element, set) in &other.children {
            let merged = out.child(element).union(set);
            out.children.insert(element.clone(), merged);
        }
        out
    }

    pub(super) fn difference(&self, other: &FieldSet) -> FieldSet {
        let children = self
            .children
            .iter()
            .map(|(element, set)| (element, set.difference(other.child(element))));
        Self::from_parts(self.members.difference(&other.members), children)
    }

    pub(super) fn intersection(&self, other: &FieldSet) -> FieldSet {
        let children = self.children.iter().filter_map(|(element, set)| {
            other
                .children
                .get(element)
                .map(|theirs| (element, set.intersection(theirs)))
        });
        Self::from_parts(self.members.intersection(&other.members), children)
    }

    fn from_parts<'a>(
        members: impl Iterator<Item = &'a PathElement>,
        children: impl Iterator<Item = (&'a PathElement, FieldSet)>,
    ) -> FieldSet {
        FieldSet {
            members: members.cloned().collect(),
            children: children
                .filter(|(_, set)| !set.is_empty())
                .map(|(element, set)| (element.clone(), set))
                .collect(),
        }
    }

    /// Every member path, in upstream's order: a node's members, then its subtrees.
    pub(super) fn paths(&self) -> Vec<Path> {
        let own = self.members.iter().map(|element| vec![element.clone()]);
        let below = self.children.iter().flat_map(|(element, set)| {
            set.paths().into_iter().map(move |mut path| {
                path.insert(0, element.clone());
                path
            })
        });
        own.chain(below).collect()
    }

    /// The `FieldsV1` encoding.
    pub(super) fn to_fields_v1(&self) -> Value {
        Value::Object(self.encode())
    }

    fn encode(&self) -> Map<String, Value> {
        let mut out: Map<String, Value> = self
            .members
            .iter()
            .map(|element| (element.0.clone(), Value::Object(Map::new())))
            .collect();
        for (element, set) in &self.children {
            let mut inner = set.encode();
            if self.members.contains(element) {
                inner.insert(SELF.to_owned(), Value::Object(Map::new()));
            }
            out.insert(element.0.clone(), Value::Object(inner));
        }
        out
    }

    /// Reads the `FieldsV1` encoding.
    pub(super) fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Value::Object(entries) = value else {
            return Err(format!("expected an object of path elements, got {value}"));
        };
        let mut set = FieldSet::default();
        for (key, inner) in entries.iter().filter(|(key, _)| *key != SELF) {
            let element = PathElement::parse(key)?;
            let Value::Object(inner_entries) = inner else {
                return Err(format!("expected an object below {key:?}, got {inner}"));
            };
            if inner_entries.is_empty() || inner_entries.contains_key(SELF) {
                set.members.insert(element.clone());
            }
            let child = Self::from_fields_v1(inner)?;
            if !child.is_empty() {
                set.children.insert(element, child);
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn container(name: &str) -> PathElement {
        let mut key = Map::new();
        key.insert("name".into(), json!(name));
        PathElement::key(key)
    }

    #[test]
    fn encodes_members_below_members_with_the_self_marker() {
        let mut set = FieldSet::default();
        let item = [
            PathElement::field("spec"),
            PathElement::field("containers"),
            container("nginx"),
        ];
        set.insert(&item);
        set.insert(&[&item[..], &[PathElement::field("image")]].concat());
        set.insert(&[PathElement::field("spec"), PathElement::field("replicas")]);
        assert_eq!(
            set.to_fields_v1(),
            json!({"f:spec": {"f:replicas": {}, "f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}}}}})
        );
    }

    #[test]
    fn decoding_inverts_encoding_and_normalises_keys() {
        let encoded = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:ports": {"k:{ \"protocol\": \"TCP\", \"port\": 80 }": {".": {}, "f:port": {}}}},
            "f:finalizers": {"v:\"a\"": {}}
        });
        let set = FieldSet::from_fields_v1(&encoded).expect("valid FieldsV1");
        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}},
                "f:finalizers": {"v:\"a\"": {}}
            })
        );
    }

    #[test]
    fn rejects_unknown_path_elements() {
        let error =
            FieldSet::from_fields_v1(&json!({"x:y": {}})).expect_err("unknown element kind");
        assert_eq!(error, "invalid path element \"x:y\"");
    }

    #[test]
    fn set_algebra_prunes_empty_subtrees() {
        let replicas = [PathElement::field("spec"), PathElement::field("replicas")];
        let paused = [PathElement::field("spec"), PathElement::field("paused")];
        let mut left = FieldSet::default();
        left.insert(&replicas);
        left.insert(&paused);
        let mut right = FieldSet::default();
        right.insert(&replicas);

        assert_eq!(left.difference(&right).paths(), vec![paused.to_vec()]);
        assert_eq!(left.intersection(&right).paths(), vec![replicas.to_vec()]);
        assert!(right.difference(&left).is_empty());
        assert_eq!(right.union(&left), left);
    }

    #[test]
    fn displays_paths_like_upstream() {
        let mut key = Map::new();
        key.insert("containerPort".into(), json!(80));
        key.insert("protocol".into(), json!("TCP"));
        let path = [
            PathElement::field("ports"),
            PathElement::key(key),
            PathElement::value(&json!("x")),
        ];
        assert_eq!(
            display(&path),
            ".ports[containerPort=80,protocol=\"TCP\"][=\"x\"]"
        );
    }
}
