//! The patch engines of the API server: JSON merge patch, JSON patch, strategic merge patch,
//! and server-side apply with the `metadata.managedFields` bookkeeping every write updates.
//!
//! The store holds objects as `serde_json::Value`s, and each engine is a pure function from
//! the stored object and the request body to the new object. The HTTP layer keeps
//! preconditions, admission and persistence, and turns a [`PatchError`] into the status
//! [`PatchError::status_code`] gives. The engines follow upstream Kubernetes
//! (`k8s.io/apimachinery` and `sigs.k8s.io/structured-merge-diff`) so that kubectl and the
//! client libraries see the results, errors and managedFields they expect.

mod apply;
mod fieldset;
mod json;
mod managed;
mod merge;
mod schema;
mod strategic;
mod typed;

#[cfg(test)]
mod tests;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

/// Why a patch could not be applied; each variant answers with the status upstream uses.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The body is not a patch of its declared type, or uses a directive wrongly (400).
    #[error("{0}")]
    Malformed(String),
    /// The patch is well-formed but does not apply to this object: a failed JSON patch `test`,
    /// a path that does not exist, a list of lists (422).
    #[error("{0}")]
    Unprocessable(String),
    /// A JSON patch with more operations than the server accepts (413).
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations { max: usize, got: usize },
    /// The merge failed in a way upstream reports as an internal error, such as a list
    /// element without its merge key or an apply configuration with duplicate items (500).
    #[error("{0}")]
    Internal(String),
    /// Server-side apply would change fields other managers own (409). Each conflict becomes
    /// a `FieldManagerConflict` cause with message `conflict with <manager>` and its field.
    #[error("{}", conflict_message(.0))]
    Conflict(Vec<Conflict>),
}

impl PatchError {
    /// The HTTP status upstream answers this error with.
    pub fn status_code(&self) -> u16 {
        match self {
            PatchError::Malformed(_) => 400,
            PatchError::Unprocessable(_) => 422,
            PatchError::TooManyOperations { .. } => 413,
            PatchError::Internal(_) => 500,
            PatchError::Conflict(_) => 409,
        }
    }
}

/// One field an apply would take from another manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager as upstream prints it: `"kubectl"` for an applier,
    /// `"kube-controller-manager" using apps/v1` for an updater.
    pub manager: String,
    /// The field as upstream prints it: `.spec.template.spec.containers[name="nginx"].image`.
    pub field: String,
}

/// Upstream's message for a refused apply; conflicts arrive grouped by manager.
fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.manager, only.field
        );
    }
    let mut lines = Vec::new();
    let mut current_manager = None;
    for conflict in conflicts {
        if current_manager != Some(&conflict.manager) {
            lines.push(format!("conflicts with {}:", conflict.manager));
            current_manager = Some(&conflict.manager);
        }
        lines.push(format!("- {}", conflict.field));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// The list and map semantics of a custom resource's fields, which server-side apply and the
/// managedFields of ordinary writes follow. Built-in kinds' come from a table, found by the
/// object's apiVersion and kind; writes pass `None` for them.
#[derive(Clone, Copy, Debug)]
pub struct Semantics(schema::Fields);

impl Semantics {
    /// Reads them from a CRD version's structural schema, once: what is made is kept for the
    /// process's life.
    pub fn of_structural(schema: &JSONSchemaProps) -> Self {
        Semantics(schema::of_structural(schema))
    }
}

/// RFC 7386 JSON merge patch (`application/merge-patch+json`).
pub fn merge(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    merge::apply(target, patch)
}

/// RFC 6902 JSON patch (`application/json-patch+json`).
pub fn json(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    json::apply(target, patch)
}

/// Strategic merge patch (`application/strategic-merge-patch+json`) for the built-in kind
/// given by `api_version` and `kind`; other kinds merge maps and replace lists.
pub fn strategic(
    target: &Value,
    patch: &Value,
    api_version: &str,
    kind: &str,
) -> Result<Value, PatchError> {
    strategic::apply(target, patch, schema::of_kind(api_version, kind))
}

/// Server-side apply (`application/apply-patch+yaml`, already parsed to JSON): merges
/// `config`, owned by `manager`, into `live` (`None` to create), tracking ownership in
/// `metadata.managedFields`. `now` (RFC 3339) stamps the manager's entry when the object
/// changes; an apply that changes nothing returns the live object, entry times included.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
    custom: Option<Semantics>,
) -> Result<Value, PatchError> {
    apply::apply(live, config, manager, force, now, custom.map(|s| s.0))
}

/// Records, for an ordinary write (create, update or patch: operation `Update`), which fields
/// `manager` changed between `old` (`None` on create) and `new`, updating `new`'s
/// `metadata.managedFields` as upstream does. A request may set managedFields itself, or reset
/// them with `[{}]` (`[]` keeps the stored ones); an existing object without any is left
/// untracked, as upstream leaves it.
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    now: &str,
    custom: Option<Semantics>,
) {
    apply::track_update(old, new, manager, now, custom.map(|s| s.0));
}
