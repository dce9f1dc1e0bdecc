//! RFC 6902 JSON patch (`application/json-patch+json`), with upstream's limit on the number
//! of operations and its wording for operations that do not apply.

use json_patch::{Patch, PatchErrorKind, PatchOperation};
use serde_json::Value;

use super::PatchError;

/// Upstream refuses JSON patches with more operations than this.
const MAX_OPERATIONS: usize = 10_000;

/// Applies the operations in order; the target is left as it was when one fails.
pub(super) fn apply(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let patch: Patch = serde_json::from_value(patch.clone())
        .map_err(|error| PatchError::Malformed(error.to_string()))?;
    if patch.len() > MAX_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            max: MAX_OPERATIONS,
            got: patch.len(),
        });
    }
    let mut patched = target.clone();
    json_patch::patch_unsafe(&mut patched, &patch).map_err(|error| describe(&patch, &error))?;
    Ok(patched)
}

/// Words a failed operation as upstream's JSON patch library does.
fn describe(patch: &Patch, error: &json_patch::PatchError) -> PatchError {
    let path = &error.path;
    let missing = "missing value";
    let message = match (patch.get(error.operation), &error.kind) {
        (_, PatchErrorKind::TestFailed) => format!("testing value {path} failed: test failed"),
        (Some(PatchOperation::Add(_)), PatchErrorKind::InvalidPointer) => {
            format!("add operation does not apply: doc is missing path: \"{path}\": {missing}")
        }
        (Some(PatchOperation::Remove(_)), PatchErrorKind::InvalidPointer) => {
            format!("remove operation does not apply: doc is missing path: \"{path}\": {missing}")
        }
        (Some(PatchOperation::Replace(_)), PatchErrorKind::InvalidPointer) => {
            format!("replace operation does not apply: doc is missing key: {path}: {missing}")
        }
        (Some(PatchOperation::Test(_)), PatchErrorKind::InvalidPointer) => {
            format!("test operation does not apply: is missing path: {path}: {missing}")
        }
        (Some(PatchOperation::Move(operation)), PatchErrorKind::InvalidFromPointer) => {
            format!(
                "move operation does not apply: doc is missing from path: {}: {missing}",
                operation.from
            )
        }
        (Some(PatchOperation::Copy(operation)), PatchErrorKind::InvalidFromPointer) => {
            format!(
                "copy operation does not apply: doc is missing from path: {}: {missing}",
                operation.from
            )
        }
        (Some(PatchOperation::Move(_)), PatchErrorKind::InvalidPointer) => {
            format!(
                "move operation does not apply: doc is missing destination path: {path}: {missing}"
            )
        }
        (Some(PatchOperation::Copy(_)), PatchErrorKind::InvalidPointer) => {
            format!(
                "copy operation does not apply: doc is missing destination path: {path}: {missing}"
            )
        }
        _ => error.to_string(),
    };
    PatchError::Unprocessable(message)
}
