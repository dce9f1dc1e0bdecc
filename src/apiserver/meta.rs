//! Object metadata the server owns: identity, timestamps, generated names, finalizers, and the
//! carrying over of system fields from the stored object to an update.

use serde_json::{Map, Value, json};

/// The current time as Kubernetes writes it (RFC 3339, seconds).
pub fn now() -> String {
    format_time(jiff::Timestamp::now())
}

pub fn format_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `metadata` as a mutable map, created if missing or not an object.
pub fn metadata(object: &mut Value) -> &mut Map<String, Value> {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    match &mut object["metadata"] {
        Value::Object(map) => map,
        _ => unreachable!("metadata was just made an object"),
    }
}

pub fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

pub fn namespace(object: &Value) -> Option<&str> {
    object["metadata"]["namespace"].as_str()
}

pub fn uid(object: &Value) -> &str {
    object["metadata"]["uid"].as_str().unwrap_or_default()
}

pub fn is_deleting(object: &Value) -> bool {
    !object["metadata"]["deletionTimestamp"].is_null()
}

pub fn finalizers(object: &Value) -> Vec<&str> {
    object["metadata"]["finalizers"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Adds a finalizer unless present; true if it was added.
pub fn add_finalizer(object: &mut Value, finalizer: &str) -> bool {
    if finalizers(object).contains(&finalizer) {
        return false;
    }
    let meta = metadata(object);
    match meta.get_mut("finalizers").and_then(Value::as_array_mut) {
        Some(list) => list.push(json!(finalizer)),
        None => {
            meta.insert("finalizers".into(), json!([finalizer]));
        }
    }
    true
}

/// Characters upstream draws generated name suffixes from (no vowels, no look-alikes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Upstream's generated name: the prefix, cut to leave room, and five random characters.
pub fn generate_name(prefix: &str) -> String {
    const MAX_PREFIX: usize = 63 - 5;
    let cut = prefix
        .char_indices()
        .nth(MAX_PREFIX)
        .map_or(prefix.len(), |(i, _)| i);
    let random = uuid::Uuid::new_v4().into_bytes();
    let suffix: String = random[..5]
        .iter()
        .map(|b| SUFFIX_ALPHABET[usize::from(*b) % SUFFIX_ALPHABET.len()] as char)
        .collect();
    format!("{}{suffix}", &prefix[..cut])
}

/// Sets what the server decides about a new object: name (from generateName), uid, creation
/// time, and clears what only the server may set.
pub fn initialise(object: &mut Value, generation: bool) {
    let meta = metadata(object);
    let has_name = meta
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !has_name && let Some(prefix) = meta.get("generateName").and_then(Value::as_str) {
        let generated = generate_name(prefix);
        meta.insert("name".into(), json!(generated));
    }
    for field in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
        "managedFields",
        "generation",
    ] {
        meta.remove(field);
    }
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(now()));
    if generation {
        meta.insert("generation".into(), json!(1));
    }
}

/// Carries the fields clients cannot change from the stored object into its replacement.
pub fn carry_system_fields(new: &mut Value, old: &Value) {
    let old_meta = &old["metadata"];
    let meta = metadata(new);
    for field in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old_meta.get(field) {
            Some(value) => meta.insert(field.into(), value.clone()),
            None => meta.remove(field),
        };
    }
    meta.remove("selfLink");
}

/// Bumps `metadata.generation` when the write `changed` what generation counts (the kind's
/// strategy says what that is), else keeps it.
pub fn bump_generation(new: &mut Value, old: &Value, changed: bool) {
    let generation = old["metadata"]["generation"].as_i64().unwrap_or(0);
    let next = if changed {
        generation + 1
    } else {
        generation.max(1)
    };
    metadata(new).insert("generation".into(), json!(next));
}

/// The field manager of a write: the `fieldManager` parameter, or the client's user agent up
/// to its first slash, as upstream derives it.
pub fn field_manager(param: Option<&str>, user_agent: Option<&str>) -> String {
    match param {
        Some(manager) if !manager.is_empty() => manager.to_owned(),
        _ => user_agent
            .and_then(|ua| ua.split('/').next())
            .filter(|ua| !ua.is_empty())
            .unwrap_or("unknown")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_keep_the_prefix_and_add_five_characters() {
        let name = generate_name("web-7d4b9c-");
        assert_eq!(name.len(), "web-7d4b9c-".len() + 5);
        assert!(name.starts_with("web-7d4b9c-"));
        assert!(name[11..].bytes().all(|b| SUFFIX_ALPHABET.contains(&b)));
        assert_eq!(generate_name(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn initialise_names_and_stamps_new_objects() {
        let mut object =
            json!({"metadata": {"generateName": "p-", "resourceVersion": "9", "uid": "mine"}});
        initialise(&mut object, true);
        let meta = &object["metadata"];
        assert!(meta["name"].as_str().unwrap().starts_with("p-"));
        assert_ne!(meta["uid"], "mine");
        assert!(meta["resourceVersion"].is_null());
        assert_eq!(meta["generation"], 1);
        assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn generation_moves_only_with_a_change_that_counts() {
        let old = json!({"metadata": {"generation": 3}, "spec": {"replicas": 1}});
        let mut same = json!({"metadata": {}, "spec": {"replicas": 1}, "status": {"x": 1}});
        bump_generation(&mut same, &old, false);
        assert_eq!(same["metadata"]["generation"], 3);
        let mut changed = json!({"metadata": {}, "spec": {"replicas": 2}});
        bump_generation(&mut changed, &old, true);
        assert_eq!(changed["metadata"]["generation"], 4);
    }

    #[test]
    fn field_manager_falls_back_to_the_user_agent() {
        assert_eq!(
            field_manager(Some("kubectl-create"), Some("kubectl/v1.32")),
            "kubectl-create"
        );
        assert_eq!(
            field_manager(None, Some("kubectl/v1.32.0 (linux/amd64)")),
            "kubectl"
        );
        assert_eq!(field_manager(Some(""), None), "unknown");
    }
}
