//! The policy the authorizer reads, kept in step with the store by a watch of the RBAC group's
//! keys, as upstream's authorizer reads informers' caches. A write of a role or binding also
//! reads the policy again before it is answered, so a client that has just been granted
//! something may use it at once. Either way a policy replaces the one held only if it reflects
//! a later revision, so a watch that lags never puts an older policy back.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt as _;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::policy::Policy;
use crate::store::{Event, EventKind, Revision, Store, StoreError};

/// Where the four RBAC kinds are kept: `/rbac.authorization.k8s.io/<plural>/...`.
const PREFIX: &str = "/rbac.authorization.k8s.io/";

/// How long a request waits for the first listing before it is decided on an empty policy.
const FIRST_LISTING: Duration = Duration::from_secs(5);

/// The current policy and the store revision it reflects.
pub struct PolicyCache {
    current: RwLock<(Revision, Arc<Policy>)>,
    /// The revision of the policy held; 0 until the first listing is in.
    seen: watch::Sender<Revision>,
}

impl Default for PolicyCache {
    fn default() -> Self {
        PolicyCache {
            current: RwLock::new((0, Arc::new(Policy::default()))),
            seen: watch::Sender::new(0),
        }
    }
}

impl PolicyCache {
    /// The policy as of the latest change the cache has seen.
    pub fn policy(&self) -> Arc<Policy> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .clone()
    }

    /// Waits until the cache holds its first listing, or a few seconds.
    pub async fn loaded(&self) {
        // Every request asks; once the listing is in, the answer needs no waiting.
        if *self.seen.borrow() > 0 {
            return;
        }
        let mut seen = self.seen.subscribe();
        let _ = tokio::time::timeout(FIRST_LISTING, seen.wait_for(|seen| *seen > 0)).await;
    }

    /// Reads every role and binding from the store now, for a write that must be in force
    /// by the time its client hears of it.
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let page = store.list(PREFIX, None, None).await?;
        let objects: BTreeMap<String, Bytes> = page
            .entries
            .into_iter()
            .map(|entry| (entry.key, entry.value))
            .collect();
        self.publish(&objects, page.revision);
        Ok(())
    }

    /// Lists and then watches the RBAC keys until `shutdown`, listing again whenever the
    /// watch ends.
    pub async fn run(self: Arc<Self>, store: Store, shutdown: CancellationToken) {
        loop {
            let followed = tokio::select! {
                followed = self.follow(&store) => followed,
                () = shutdown.cancelled() => return,
            };
            if let Err(error) = followed {
                tracing::warn!(%error, "the RBAC policy cache lost its watch; listing again");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    async fn follow(&self, store: &Store) -> Result<(), StoreError> {
        let page = store.list(PREFIX, None, None).await?;
        let mut objects: BTreeMap<String, Bytes> = page
            .entries
            .into_iter()
            .map(|entry| (entry.key, entry.value))
            .collect();
        self.publish(&objects, page.revision);
        let mut events = store.watch(PREFIX, page.revision).await?;
        while let Some(event) = events.next().await {
            // A burst of changes (an installer's manifest, the bootstrap policy) makes one
            // policy, not one per change.
            let mut revision = apply(&mut objects, &*event?);
            while let Some(Some(event)) = events.next().now_or_never() {
                revision = apply(&mut objects, &*event?);
            }
            self.publish(&objects, revision);
        }
        Ok(())
    }

    /// Holds the policy of `objects`, as of `revision`, unless a later one is held already.
    fn publish(&self, objects: &BTreeMap<String, Bytes>, revision: Revision) {
        let policy = Arc::new(decode(objects));
        let mut current = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if revision >= current.0 {
            *current = (revision, policy);
            self.seen.send_if_modified(|seen| {
                let newer = revision > *seen;
                *seen = (*seen).max(revision);
                newer
            });
        }
    }
}

/// Applies one change to the objects held; the revision it brings them to.
fn apply(objects: &mut BTreeMap<String, Bytes>, event: &Event) -> Revision {
    match event.kind {
        EventKind::Deleted => objects.remove(&event.key),
        EventKind::Created | EventKind::Updated => {
            objects.insert(event.key.clone(), event.value.clone())
        }
    };
    event.revision
}

/// Builds a policy from the stored objects, skipping any that do not decode.
fn decode(objects: &BTreeMap<String, Bytes>) -> Policy {
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
