//! Role-based access control: the rules of roles, the policy they and their bindings make, the
//! cache of it the API server's authorizer reads, and the bootstrap policy every cluster
//! starts with.

pub mod bootstrap;
mod cache;
pub mod components;
mod node;
mod policy;
mod rules;

/// The RBAC API group.
pub const GROUP: &str = "rbac.authorization.k8s.io";

pub use cache::{PolicyCache, policy_cache};
pub use node::{NodeCheck, check as check_node, node_name};
pub use policy::{Decision, Policy};
pub use rules::{Attributes, Target, allows, compact, covers, uncovered};
