//! The policy the authorizer reads: a [`Mirror`] of the RBAC group's keys, as upstream's
//! authorizer reads informers' caches. A write of a role or binding reads the policy again
//! before it is answered, so a client that has just been granted something may use it at once.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::policy::Policy;
use crate::store::mirror::{Mirror, Objects};

/// Where the four RBAC kinds are kept: `/rbac.authorization.k8s.io/<plural>/...`.
const PREFIX: &str = "/rbac.authorization.k8s.io/";

/// The current policy and the store revision it reflects.
pub type PolicyCache = Mirror<Policy>;

/// A cache holding the empty policy until it first lists.
pub fn policy_cache() -> PolicyCache {
    Mirror::new(PREFIX, decode)
}

/// Builds a policy from the stored objects, skipping any that do not decode.
fn decode(objects: &Objects) -> Policy {
    let of = |plural: &str| {
        let prefix = format!("{PREFIX}{plural}/");
        objects
            .range(prefix.clone()..)
            .take_while(move |(key, _)| key.starts_with(&prefix))
            .map(|(_, value)| value)
    };
    fn typed<'a, T: DeserializeOwned>(values: impl Iterator<Item = &'a Bytes>) -> Vec<T> {
        values
            .filter_map(|value| serde_json::from_slice(value).ok())
            .collect()
    }
    Policy::new(
        typed(of("clusterroles")),
        typed(of("roles")),
        typed(of("clusterrolebindings")),
        typed(of("rolebindings")),
    )
}
