//! A value derived from every object under one key prefix, kept in step with the store by a
//! list and then a watch of that prefix, as upstream's components read informers' caches: the
//! RBAC policy the authorizer reads, the custom resources the CRDs define.
//!
//! A write that must be in force by the time its client hears of it reads the prefix again
//! ([`Mirror::refresh`]). Either way a value replaces the one held only if it reflects a later
//! revision, so a watch that lags never puts an older value back.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt as _;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Event, EventKind, Revision, Store, StoreError};

/// The stored objects a mirror derives its value from, by key.
pub type Objects = BTreeMap<String, Bytes>;

/// How long a reader waits for the first listing before it is answered from the empty value.
const FIRST_LISTING: Duration = Duration::from_secs(5);

/// The value derived from the objects under `prefix`, and the revision it reflects.
pub struct Mirror<T> {
    prefix: &'static str,
    derive: Box<dyn Fn(&Objects) -> T + Send + Sync>,
    current: RwLock<(Revision, Arc<T>)>,
    /// The revision of the value held; 0 until the first listing is in.
    seen: watch::Sender<Revision>,
}

impl<T: Send + Sync + 'static> Mirror<T> {
    /// A mirror of `prefix` holding `derive`'s value of no objects until it first lists.
    pub fn new(
        prefix: &'static str,
        derive: impl Fn(&Objects) -> T + Send + Sync + 'static,
    ) -> Mirror<T> {
        let empty = derive(&Objects::new());
        Mirror {
            prefix,
            derive: Box::new(derive),
            current: RwLock::new((0, Arc::new(empty))),
            seen: watch::Sender::new(0),
        }
    }

    /// The value as of the latest change the mirror has seen.
    pub fn get(&self) -> Arc<T> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
            .clone()
    }

    /// The revision the value reflects, moving forward with every change; a task that acts on
    /// changes waits on it.
    pub fn changes(&self) -> watch::Receiver<Revision> {
        self.seen.subscribe()
    }

    /// Waits until the mirror holds its first listing, or a few seconds.
    pub async fn loaded(&self) {
        // Every request asks; once the listing is in, the answer needs no waiting.
        if *self.seen.borrow() > 0 {
            return;
        }
        let mut seen = self.seen.subscribe();
        let _ = tokio::time::timeout(FIRST_LISTING, seen.wait_for(|seen| *seen > 0)).await;
    }

    /// Reads every object under the prefix now, for a write that must be in force by the time
    /// its client hears of it.
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let (objects, revision) = self.list(store).await?;
        self.publish(&objects, revision);
        Ok(())
    }

    /// Lists and then watches the prefix until `shutdown`, listing again whenever the watch
    /// ends.
    pub async fn run(self: Arc<Self>, store: Store, shutdown: CancellationToken) {
        loop {
            let followed = tokio::select! {
                followed = self.follow(&store) => followed,
                () = shutdown.cancelled() => return,
            };
            if let Err(error) = followed {
                tracing::warn!(%error, prefix = self.prefix, "a mirror lost its watch; listing again");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }

    async fn list(&self, store: &Store) -> Result<(Objects, Revision), StoreError> {
        let page = store.list(self.prefix, None, None).await?;
        let objects = page
            .entries
            .into_iter()
            .map(|entry| (entry.key, entry.value))
            .collect();
        Ok((objects, page.revision))
    }

    async fn follow(&self, store: &Store) -> Result<(), StoreError> {
        let (mut objects, revision) = self.list(store).await?;
        self.publish(&objects, revision);
        let mut events = store.watch(self.prefix, revision).await?;
        while let Some(event) = events.next().await {
            // A burst of changes (an installer's manifest, the bootstrap policy) derives one
            // value, not one per change.
            let mut revision = apply(&mut objects, &*event?);
            while let Some(Some(event)) = events.next().now_or_never() {
                revision = apply(&mut objects, &*event?);
            }
            self.publish(&objects, revision);
        }
        Ok(())
    }

    /// Holds the value of `objects`, as of `revision`, unless a later one is held already.
    fn publish(&self, objects: &Objects, revision: Revision) {
        let value = Arc::new((self.derive)(objects));
        let mut current = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if revision >= current.0 {
            *current = (revision, value);
            self.seen.send_if_modified(|seen| {
                let newer = revision > *seen;
                *seen = (*seen).max(revision);
                newer
            });
        }
    }
}

/// Applies one change to the objects held; the revision it brings them to.
fn apply(objects: &mut Objects, event: &Event) -> Revision {
    match event.kind {
        EventKind::Deleted => objects.remove(&event.key),
        EventKind::Created | EventKind::Updated => {
            objects.insert(event.key.clone(), event.value.clone())
        }
    };
    event.revision
}
