//! What the stored objects of admissionregistration.k8s.io put in force: the webhooks their
//! configurations register, and the validating admission policies with their bindings. One
//! [`Mirror`] of the group keeps both in step with the store, so no write waits on the store to
//! learn which of them apply to it, and a write to the group is in force once it is answered.

use super::policies::{self, Policies};
use super::webhooks::{self, Webhooks};
use crate::store::mirror::{Mirror, Objects};

/// Every object of the group lives under this prefix; the key's next segment names its resource.
pub(super) const PREFIX: &str = "/admissionregistration.k8s.io/";

/// The webhooks and policies of the stored objects, kept in step with the store.
pub type Configurations = Mirror<Configured>;

/// A mirror that has read nothing yet; [`Mirror::run`] keeps it current.
pub fn configurations() -> Configurations {
    Mirror::new(PREFIX, derive)
}

#[derive(Debug, Default)]
pub struct Configured {
    pub webhooks: Webhooks,
    pub policies: Policies,
}

fn derive(objects: &Objects) -> Configured {
    Configured {
        webhooks: webhooks::derive(objects),
        policies: policies::derive(objects),
    }
}

/// The stored objects of one resource of the group (`validatingadmissionpolicies`), in name
/// order.
pub(super) fn stored<'o>(
    objects: &'o Objects,
    resource: &'o str,
) -> impl Iterator<Item = &'o [u8]> {
    objects
        .iter()
        .filter(move |(key, _)| {
            key.strip_prefix(PREFIX)
                .and_then(|rest| rest.strip_prefix(resource))
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .map(|(_, value)| &value[..])
}
