//! RFC 7386 JSON merge patch (`application/merge-patch+json`), as `kubectl label`,
//! `kubectl annotate` and custom resources use it.

use serde_json::Value;

use super::PatchError;

/// Applies `patch` to `target`: objects merge key by key, `null` deletes a key, anything else
/// replaces. A patch that is not an object would replace the whole object, which no resource
/// accepts, so it is refused with upstream's wording.
pub(super) fn apply(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(PatchError::Malformed("Invalid JSON Patch".into()));
    }
    let mut merged = target.clone();
    json_patch::merge(&mut merged, patch);
    Ok(merged)
}
