//! CustomResourceDefinitions made served resources: the catalog derives, from the stored CRDs,
//! the resources they define, each with a strategy built from its version's structural schema
//! (pruning, defaults, validation, CEL rules) and printer columns; the controller keeps the
//! CRDs' status in step and removes a deleted CRD's objects.

mod catalog;
pub(crate) mod cel;
mod cel_library;
mod columns;
mod controller;
mod jsonpath;
mod schema;
mod strategy;

pub use self::cel::Rules;
pub use catalog::{Catalog, Crds, Definition, catalog};
pub use columns::check_json_path;
pub use controller::{CLEANUP_FINALIZER, run};

/// The group CRDs belong to.
pub const GROUP: &str = "apiextensions.k8s.io";
