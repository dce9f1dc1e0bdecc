//! An object's `metadata.managedFields`: who owns which fields, decoded into field sets keyed
//! by manager identity, and encoded back in upstream's order.
//!
//! Upstream identifies an entry by manager name, operation and subresource, plus the
//! apiVersion for updaters: an applier keeps one entry whatever version it applies with,
//! while an updater gets one entry per version it wrote with.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::fieldset::FieldSet;

/// The operation a managedFields entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// Who made a set of changes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ManagerId {
    name: String,
    operation: Operation,
    /// Part of the identity of updaters only.
    api_version: Option<String>,
    subresource: Option<String>,
}

impl ManagerId {
    pub(super) fn apply(name: &str) -> Self {
        Self::new(name, Operation::Apply, None)
    }

    pub(super) fn update(name: &str, api_version: &str) -> Self {
        Self::new(name, Operation::Update, Some(api_version.to_owned()))
    }

    fn new(name: &str, operation: Operation, api_version: Option<String>) -> Self {
        // Upstream names anonymous writers "unknown".
        let name = if name.is_empty() { "unknown" } else { name };
        Self {
            name: name.to_owned(),
            operation,
            api_version,
            subresource: None,
        }
    }

    /// The manager as upstream names it in conflicts: `"kubectl"`, or
    /// `"kube-controller-manager" using apps/v1` for an updater.
    pub(super) fn describe(&self) -> String {
        let mut text = format!("{:?}", self.name);
        if let Some(subresource) = &self.subresource {
            text.push_str(&format!(" with subresource {subresource:?}"));
        }
        if let Some(api_version) = &self.api_version {
            text.push_str(&format!(" using {api_version}"));
        }
        text
    }
}

/// What one manager owns.
#[derive(Clone, Debug)]
pub(super) struct Ownership {
    pub(super) fields: FieldSet,
    pub(super) api_version: String,
    /// When the manager last changed the object; absent when it never did.
    pub(super) time: Option<String>,
}

/// All the managers of an object.
#[derive(Clone, Debug, Default)]
pub(super) struct Managed(BTreeMap<ManagerId, Ownership>);

impl Managed {
    /// Reads `metadata.managedFields`; absent or `null` means nobody is tracked yet.
    pub(super) fn decode(entries: Option<&Value>) -> Result<Self, String> {
        let entries = match entries {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Array(entries)) => entries,
            Some(other) => return Err(format!("expected a list of entries, got {other}")),
        };
        entries
            .iter()
            .enumerate()
            .map(|(index, entry)| decode_entry(index, entry))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The `metadata.managedFields` value, or `None` when nobody owns anything. Entries come
    /// in upstream's order: appliers first, then by time, manager and apiVersion.
    pub(super) fn encode(&self) -> Option<Value> {
        if self.0.is_empty() {
            return None;
        }
        let mut entries: Vec<(&ManagerId, &Ownership)> = self.0.iter().collect();
        entries.sort_by(|(a_id, a), (b_id, b)| {
            (
                a_id.operation,
                seconds(&a.time),
                &a_id.name,
                &a.api_version,
                &a_id.subresource,
            )
                .cmp(&(
                    b_id.operation,
                    seconds(&b.time),
                    &b_id.name,
                    &b.api_version,
                    &b_id.subresource,
                ))
        });
        Some(Value::Array(
            entries
                .into_iter()
                .map(|(id, ownership)| encode_entry(id, ownership))
                .collect(),
        ))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn get(&self, id: &ManagerId) -> Option<&Ownership> {
        self.0.get(id)
    }

    /// Records what a manager owns; a manager that owns nothing has no entry.
    pub(super) fn put(&mut self, id: ManagerId, ownership: Ownership) {
        if ownership.fields.is_empty() {
            self.0.remove(&id);
        } else {
            self.0.insert(id, ownership);
        }
    }

    /// Every field some manager other than `id` owns.
    pub(super) fn owned_by_others(&self, id: &ManagerId) -> FieldSet {
        self.others(id)
            .fold(FieldSet::default(), |all, (_, ownership)| {
                all.union(&ownership.fields)
            })
    }

    /// The fields among `fields` that managers other than `id` own, by manager.
    pub(super) fn overlaps(
        &self,
        id: &ManagerId,
        fields: &FieldSet,
    ) -> BTreeMap<ManagerId, FieldSet> {
        self.others(id)
            .map(|(other, ownership)| (other.clone(), ownership.fields.intersection(fields)))
            .filter(|(_, overlap)| !overlap.is_empty())
            .collect()
    }

    /// Takes `fields` away from every manager but `keeper`, dropping managers left with nothing.
    pub(super) fn release(&mut self, keeper: Option<&ManagerId>, fields: &FieldSet) {
        for (id, ownership) in self.0.iter_mut() {
            if Some(id) != keeper {
                ownership.fields = ownership.fields.difference(fields);
            }
        }
        self.0.retain(|_, ownership| !ownership.fields.is_empty());
    }

    fn others<'a>(
        &'a self,
        id: &'a ManagerId,
    ) -> impl Iterator<Item = (&'a ManagerId, &'a Ownership)> {
        self.0.iter().filter(move |(other, _)| *other != id)
    }
}

fn decode_entry(index: usize, entry: &Value) -> Result<(ManagerId, Ownership), String> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str);
    let operation = match text("operation") {
        Some("Apply") => Operation::Apply,
        Some("Update") => Operation::Update,
        _ => return Err("operation must be `Apply` or `Update`".to_owned()),
    };
    let api_version = text("apiVersion")
        .filter(|version| !version.is_empty())
        .ok_or("apiVersion must not be empty")?;
    match text("fieldsType") {
        Some("FieldsV1") => {}
        None | Some("") => {
            return Err(format!(
                "missing fieldsType in managed fields entry {index}"
            ));
        }
        Some(other) => {
            return Err(format!(
                "invalid fieldsType {other:?} in managed fields entry {index}"
            ));
        }
    }
    let fields = match entry.get("fieldsV1") {
        None | Some(Value::Null) => FieldSet::default(),
        Some(encoded) => FieldSet::from_fields_v1(encoded)
            .map_err(|error| format!("error decoding set: {error}"))?,
    };
    let id = ManagerId {
        name: text("manager").unwrap_or_default().to_owned(),
        operation,
        api_version: (operation == Operation::Update).then(|| api_version.to_owned()),
        subresource: text("subresource")
            .filter(|subresource| !subresource.is_empty())
            .map(str::to_owned),
    };
    let ownership = Ownership {
        fields,
        api_version: api_version.to_owned(),
        time: text("time").map(str::to_owned),
    };
    Ok((id, ownership))
}

fn encode_entry(id: &ManagerId, ownership: &Ownership) -> Value {
    let mut entry = Map::new();
    entry.insert("manager".into(), Value::from(id.name.as_str()));
    entry.insert("operation".into(), Value::from(id.operation.as_str()));
    entry.insert(
        "apiVersion".into(),
        Value::from(ownership.api_version.as_str()),
    );
    if let Some(time) = &ownership.time {
        entry.insert("time".into(), Value::from(time.as_str()));
    }
    entry.insert("fieldsType".into(), Value::from("FieldsV1"));
    entry.insert("fieldsV1".into(), ownership.fields.to_fields_v1());
    if let Some(subresource) = &id.subresource {
        entry.insert("subresource".into(), Value::from(subresource.as_str()));
    }
    Value::Object(entry)
}

/// An entry's time in whole seconds for ordering; entries without one sort first.
fn seconds(time: &Option<String>) -> i64 {
    time.as_deref()
        .and_then(|time| jiff::Timestamp::from_str(time).ok())
        .map_or(0, |time| time.as_second())
}
