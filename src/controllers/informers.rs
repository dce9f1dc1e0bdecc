//! Shared informers: one watch and one cache per kind for the whole controller manager, shared
//! by every controller that needs that kind (as upstream's SharedInformerFactory), so ten
//! thousand pods are listed, watched and held in memory once, not once per controller.
//!
//! Each informer applies its watch to a kube-runtime store and hands every change, deletions
//! included, to its subscribers as `Arc`s of the cached objects. A subscriber that falls
//! behind is handed the whole cache again, so it misses nothing it needs to reconcile.

use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::Api;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How many changes a subscriber may fall behind before it is handed the whole cache again.
const BUFFER: usize = 8192;

/// One kind's cache, its watch, and the fan-out of its changes.
pub struct Informer<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    store: Store<K>,
    writer: Option<reflector::store::Writer<K>>,
    changes: broadcast::Sender<Arc<K>>,
    synced: watch::Sender<bool>,
    used: bool,
}

/// Whether an informer's cache holds its first complete listing. Any number of tasks may wait
/// on it (a store's own `wait_until_ready` wakes only one of several waiters).
#[derive(Clone)]
pub struct Synced(watch::Receiver<bool>);

impl Synced {
    /// Resolves once the cache is complete; false if the informer stopped before that.
    pub async fn wait(&self) -> bool {
        self.0.clone().wait_for(|synced| *synced).await.is_ok()
    }
}

impl<K> Informer<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    fn new() -> Informer<K> {
        let writer = reflector::store::Writer::default();
        let (changes, _) = broadcast::channel(BUFFER);
        let (synced, _) = watch::channel(false);
        Informer {
            store: writer.as_reader(),
            writer: Some(writer),
            changes,
            synced,
            used: false,
        }
    }

    /// The cache, filled once the informer has started.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// When the cache is complete.
    pub fn synced(&self) -> Synced {
        Synced(self.synced.subscribe())
    }

    /// Every object the informer sees change, added, updated or deleted, for one consumer.
    pub fn subscribe(&mut self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        self.used = true;
        let receiver = self.changes.subscribe();
        let store = self.store.clone();
        stream::unfold(receiver, move |mut receiver| {
            let store = store.clone();
            async move {
                let batch: Vec<Arc<K>> = match receiver.recv().await {
                    Ok(object) => vec![object],
                    Err(broadcast::error::RecvError::Lagged(_)) => store.state(),
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                Some((stream::iter(batch), receiver))
            }
        })
        .flatten()
    }

    /// Starts the watch if anything subscribed.
    fn start(&mut self, api: Api<K>, tasks: &mut JoinSet<()>, shutdown: &CancellationToken) {
        let Some(mut writer) = self.writer.take().filter(|_| self.used) else {
            return;
        };
        let (store, changes, synced) = (
            self.store.clone(),
            self.changes.clone(),
            self.synced.clone(),
        );
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            // No controller reads managedFields, and they can outweigh the rest of an object.
            let events = watcher(api, watcher::Config::default())
                .default_backoff()
                .modify(|object| object.managed_fields_mut().clear());
            let mut events = std::pin::pin!(events);
            loop {
                let event = tokio::select! {
                    event = events.next() => event,
                    () = shutdown.cancelled() => return,
                };
                let Some(event) = event else { return };
                match event {
                    Ok(event) => {
                        writer.apply_watcher_event(&event);
                        publish(&event, &store, &changes, &synced);
                    }
                    Err(err) => tracing::debug!(error = %err, "informer watch failed; retrying"),
                }
            }
        });
    }
}

/// Hands a change the store has applied to the subscribers.
fn publish<K>(
    event: &watcher::Event<K>,
    store: &Store<K>,
    changes: &broadcast::Sender<Arc<K>>,
    synced: &watch::Sender<bool>,
) where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    match event {
        watcher::Event::Apply(object) | watcher::Event::InitApply(object) => {
            if let Some(cached) = store.get(&ObjectRef::from_obj(object)) {
                let _ = changes.send(cached);
            }
        }
        watcher::Event::Delete(object) => {
            let _ = changes.send(Arc::new(object.clone()));
        }
        watcher::Event::InitDone => {
            synced.send_replace(true);
        }
        watcher::Event::Init => {}
    }
}

/// The kinds the built-in controllers share.
pub struct Informers {
    pub pods: Informer<Pod>,
    pub nodes: Informer<Node>,
    pub leases: Informer<Lease>,
    pub services: Informer<Service>,
    pub replica_sets: Informer<ReplicaSet>,
    pub deployments: Informer<Deployment>,
}

impl Informers {
    pub fn new() -> Informers {
        Informers {
            pods: Informer::new(),
            nodes: Informer::new(),
            leases: Informer::new(),
            services: Informer::new(),
            replica_sets: Informer::new(),
            deployments: Informer::new(),
        }
    }

    /// Starts the informers something subscribed to.
    pub fn start(mut self, client: &Client, tasks: &mut JoinSet<()>, shutdown: &CancellationToken) {
        self.pods.start(Api::all(client.clone()), tasks, shutdown);
        self.nodes.start(Api::all(client.clone()), tasks, shutdown);
        self.leases.start(Api::all(client.clone()), tasks, shutdown);
        self.services
            .start(Api::all(client.clone()), tasks, shutdown);
        self.replica_sets
            .start(Api::all(client.clone()), tasks, shutdown);
        self.deployments
            .start(Api::all(client.clone()), tasks, shutdown);
    }
}
