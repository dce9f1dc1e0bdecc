//! Server-side apply and the ownership bookkeeping of ordinary writes, after upstream's field
//! manager (`k8s.io/apimachinery/pkg/util/managedfields`) and the updater of
//! `sigs.k8s.io/structured-merge-diff`.
//!
//! Both operations compare the object before and after the write: the fields that changed
//! are taken from every other manager (an apply refuses to, unless forced, when they belong
//! to someone else), and the writer records them in its `metadata.managedFields` entry. An
//! apply also merges the configuration into the object and removes the fields its manager
//! applied last time, dropped since, and nobody else owns.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, PathElement, display};
use super::managed::{Managed, ManagerId, Ownership};
use super::schema::{self, Fields};
use super::typed::{self, Comparison};
use super::{Conflict, PatchError};

/// Client-side apply's record of the last configuration it applied.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The updater upstream credits with the fields an object had before its first apply.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";
/// The applier whose applies upstream reconciles with client-side apply's annotation.
const KUBECTL: &str = "kubectl";

/// Object fields nobody owns: identity and bookkeeping the server sets.
const UNTRACKED: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "creationTimestamp"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "clusterName"],
    &["metadata", "generation"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
];

/// The field the main resource leaves to its status subresource, which nobody owns there.
const STATUS: &str = "status";

/// Server-side apply; see [`super::apply()`].
pub(super) fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
    custom: Option<Fields>,
) -> Result<Value, PatchError> {
    let api_version = applied_version(live, config)?;
    let root = custom.unwrap_or_else(|| schema::of_kind(api_version, text(config, "kind")));
    let (current, mut managed) = tracked_live(live, root, api_version, now)?;
    let id = ManagerId::apply(manager);
    let (object, mut applied) = merge_config(&current, config, root, &managed, &id)?;
    // A configuration's explicit nulls (`data: null`) remove nothing that is not there: the
    // object is compared without them, so such an apply changes nothing.
    let object = without_nulls(object);

    let comparison = tracked_comparison(&current, &object, root);
    let changed = comparison.changed();
    if !force {
        let conflicts = managed.overlaps(&id, &changed);
        refuse_conflicts(&current, root, api_version, manager, conflicts)?;
    }
    managed.release(Some(&id), &changed.union(&comparison.removed));

    let unchanged = object == current;
    let time = if unchanged {
        managed
            .get(&id)
            .and_then(|ownership| ownership.time.clone())
    } else {
        Some(now.to_owned())
    };
    strip_untracked(&mut applied);
    let api_version = api_version.to_owned();
    managed.put(
        id,
        Ownership {
            fields: applied,
            api_version,
            time,
        },
    );

    let mut result = if unchanged { current } else { object };
    if manager == KUBECTL {
        sync_last_applied(&mut result, config);
    }
    store_managed_fields(&mut result, &managed);
    Ok(result)
}

/// The live object without its managedFields, and those decoded. The fields of an object
/// nobody tracks yet are first credited to upstream's `before-first-apply` updater.
fn tracked_live(
    live: Option<&Value>,
    root: Fields,
    api_version: &str,
    now: &str,
) -> Result<(Value, Managed), PatchError> {
    let Some(live) = live else {
        return Ok((Value::Object(Map::new()), Managed::default()));
    };
    let mut current = live.clone();
    let mut managed =
        Managed::decode(take_managed_fields(&mut current).as_ref()).map_err(|error| {
            PatchError::Internal(format!("failed to decode managed fields: {error}"))
        })?;
    if managed.is_empty() {
        let id = ManagerId::update(BEFORE_FIRST_APPLY, api_version);
        let zero = schema::zero_value(root);
        record_update(&zero, &current, root, &mut managed, id, api_version, now);
    }
    Ok((current, managed))
}

/// Merges a configuration into the object and prunes what its applier dropped since its
/// last apply. Returns the new object and the fields the configuration sets.
fn merge_config(
    current: &Value,
    config: &Value,
    root: Fields,
    managed: &Managed,
    id: &ManagerId,
) -> Result<(Value, FieldSet), PatchError> {
    let invalid = |error: String| {
        PatchError::Internal(format!("failed to create typed patch object: {error}"))
    };
    let mut applied = typed::field_set(config, root).map_err(invalid)?;
    applied.remove_subtree(&PathElement::field(STATUS));
    let mut object = typed::merge(current, config, root).map_err(invalid)?;
    let never_applied = FieldSet::default();
    let last = managed
        .get(id)
        .map_or(&never_applied, |ownership| &ownership.fields);
    typed::prune(
        &mut object,
        root,
        last,
        &managed.owned_by_others(id).union(&applied),
    );
    Ok((object, applied))
}

/// Ownership bookkeeping of an ordinary write; see [`super::track_update()`].
pub(super) fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    now: &str,
    custom: Option<Fields>,
) {
    let api_version = text(new, "apiVersion").to_owned();
    let root = custom.unwrap_or_else(|| schema::of_kind(&api_version, text(new, "kind")));
    let requested = take_managed_fields(new);
    let mut managed = starting_point(requested.as_ref(), old);
    if old.is_some() && managed.is_empty() {
        // Upstream starts tracking an object at its creation or at its first apply only.
        return;
    }
    let baseline = match old {
        Some(old) => {
            let mut old = old.clone();
            take_managed_fields(&mut old);
            old
        }
        None => schema::zero_value(root),
    };
    let id = ManagerId::update(manager, &api_version);
    record_update(&baseline, new, root, &mut managed, id, &api_version, now);
    store_managed_fields(new, &managed);
}

/// The ownership an update starts from: what the request carries, so clients can edit
/// managedFields (kubectl's move from client-side to server-side apply does) or reset them
/// with `[{}]`, else, when the request carries none or `[]`, what the stored object had.
fn starting_point(requested: Option<&Value>, old: Option<&Value>) -> Managed {
    if requested.is_some_and(is_reset) {
        return Managed::default();
    }
    match Managed::decode(requested) {
        Ok(managed) if !managed.is_empty() => managed,
        _ => old
            .and_then(|old| Managed::decode(old.pointer("/metadata/managedFields")).ok())
            .unwrap_or_default(),
    }
}

/// Whether a request's managedFields ask for a reset, as upstream reads them.
fn is_reset(requested: &Value) -> bool {
    match requested.as_array().map(Vec::as_slice) {
        Some([only]) => only.as_object().is_some_and(Map::is_empty),
        _ => false,
    }
}

/// Credits `id` with what changed between `old` and `new`, taking it from everyone else.
fn record_update(
    old: &Value,
    new: &Value,
    root: Fields,
    managed: &mut Managed,
    id: ManagerId,
    api_version: &str,
    now: &str,
) {
    let comparison = tracked_comparison(old, new, root);
    let mut changed = comparison.changed();
    managed.release(None, &changed.union(&comparison.removed));
    strip_untracked(&mut changed);
    if changed.is_empty() {
        return;
    }
    let fields = managed
        .get(&id)
        .map_or(changed.clone(), |previous| previous.fields.union(&changed));
    managed.put(
        id,
        Ownership {
            fields,
            api_version: api_version.to_owned(),
            time: Some(now.to_owned()),
        },
    );
}

/// What changed between two versions of an object, outside the status.
fn tracked_comparison(old: &Value, new: &Value, root: Fields) -> Comparison {
    let mut comparison = typed::compare(old, new, root);
    comparison.ignore(&PathElement::field(STATUS));
    comparison
}

/// Removes the fields nobody owns from a manager's set.
fn strip_untracked(fields: &mut FieldSet) {
    for path in UNTRACKED {
        let path: Vec<PathElement> = path.iter().map(|name| PathElement::field(name)).collect();
        fields.remove(&path);
    }
}

/// Fails an unforced apply that would change fields other managers own. For kubectl, fields
/// client-side apply last applied with the values they still have are no conflict: that is
/// how an object moves from client-side to server-side apply.
fn refuse_conflicts(
    live: &Value,
    root: Fields,
    api_version: &str,
    manager: &str,
    mut conflicts: BTreeMap<ManagerId, FieldSet>,
) -> Result<(), PatchError> {
    if manager == KUBECTL
        && let Some(allowed) = client_side_applied(live, root, api_version)
    {
        conflicts = conflicts
            .into_iter()
            .map(|(id, fields)| (id, fields.difference(&allowed)))
            .filter(|(_, fields)| !fields.is_empty())
            .collect();
    }
    if conflicts.is_empty() {
        return Ok(());
    }
    let listed = conflicts.iter().flat_map(|(id, fields)| {
        fields.paths().into_iter().map(|path| Conflict {
            manager: id.describe(),
            field: display(&path),
        })
    });
    Err(PatchError::Conflict(listed.collect()))
}

/// The fields of client-side apply's last configuration whose values the object still has.
fn client_side_applied(live: &Value, root: Fields, api_version: &str) -> Option<FieldSet> {
    let annotation = live.pointer(&format!(
        "/metadata/annotations/{}",
        LAST_APPLIED.replace('/', "~1")
    ))?;
    let last: Value = serde_json::from_str(annotation.as_str()?).ok()?;
    if text(&last, "apiVersion") != api_version {
        return None;
    }
    let applied = typed::field_set(&last, root).ok()?;
    let comparison = typed::compare(&last, live, root);
    Some(
        applied
            .difference(&comparison.changed())
            .difference(&comparison.removed),
    )
}

/// Keeps client-side apply's annotation in step with what kubectl applies server-side, when
/// the object has one.
fn sync_last_applied(object: &mut Value, config: &Value) {
    let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if annotations
        .get(LAST_APPLIED)
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return;
    }
    let mut applied = config.clone();
    if let Some(metadata) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
        let emptied = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
            .is_some_and(|own| {
                own.remove(LAST_APPLIED);
                own.is_empty()
            });
        if emptied {
            metadata.remove("annotations");
        }
    }
    annotations.insert(
        LAST_APPLIED.to_owned(),
        Value::String(format!("{applied}\n")),
    );
}

/// The apiVersion an apply works in, refusing configurations upstream refuses.
fn applied_version<'a>(live: Option<&Value>, config: &'a Value) -> Result<&'a str, PatchError> {
    if !config.is_object() {
        return Err(PatchError::Malformed(
            "error decoding patch: the configuration must be an object".into(),
        ));
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|fields| !fields.is_null())
    {
        return Err(PatchError::Malformed(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let specified = text(config, "apiVersion");
    let expected = live.map_or(specified, |live| text(live, "apiVersion"));
    if specified.is_empty() || specified != expected {
        return Err(PatchError::Malformed(format!(
            "Incorrect version specified in apply patch. Specified patch version: {specified}, expected: {expected}"
        )));
    }
    Ok(specified)
}

fn text<'a>(object: &'a Value, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn take_managed_fields(object: &mut Value) -> Option<Value> {
    object
        .get_mut("metadata")?
        .as_object_mut()?
        .remove("managedFields")
}

fn store_managed_fields(object: &mut Value, managed: &Managed) {
    let Some(object) = object.as_object_mut() else {
        return;
    };
    match managed.encode() {
        Some(entries) => {
            let metadata = object
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(metadata) = metadata.as_object_mut() {
                metadata.insert("managedFields".to_owned(), entries);
            }
        }
        None => {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("managedFields");
            }
        }
    }
}

/// Drops `null` map entries, as decoding into the typed object does upstream: an applied
/// `null` owns the field and clears it.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(entries) => Value::Object(
            entries
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        scalar => scalar,
    }
}
