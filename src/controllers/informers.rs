//! Shared informers: one watch and one cache per kind for the whole controller manager, shared
//! by every controller that needs that kind (as upstream's SharedInformerFactory), so ten
//! thousand pods are listed, watched and held in memory once, not once per controller.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::Api;
use kube::runtime::reflector::{self, ReflectHandle, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How many changes a subscriber may fall behind before the watch waits for it.
const BUFFER: usize = 4096;

/// One kind's cache and the writer feeding it, until the informer starts.
pub struct Informer<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    store: Store<K>,
    writer: Option<reflector::store::Writer<K>>,
    used: bool,
    synced: watch::Sender<bool>,
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
        let (store, writer) = reflector::store_shared(BUFFER);
        let (synced, _) = watch::channel(false);
        Informer {
            store,
            writer: Some(writer),
            used: false,
            synced,
        }
    }

    /// When the cache is complete.
    pub fn synced(&self) -> Synced {
        Synced(self.synced.subscribe())
    }

    /// The cache, filled once the informer has started.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// A stream of every object the informer sees change, for one consumer.
    pub fn subscribe(&mut self) -> ReflectHandle<K> {
        self.used = true;
        self.writer
            .as_ref()
            .and_then(reflector::store::Writer::subscribe)
            .expect("informers are subscribed to before they start")
    }

    /// Starts the watch if anything subscribed.
    fn start(&mut self, api: Api<K>, tasks: &mut JoinSet<()>, shutdown: &CancellationToken) {
        let Some(writer) = self.writer.take().filter(|_| self.used) else {
            return;
        };
        let shutdown = shutdown.clone();
        let synced = self.synced.clone();
        tasks.spawn(async move {
            let stream = watcher(api, watcher::Config::default())
                .default_backoff()
                .reflect_shared(writer);
            let drive = stream.for_each(|event| {
                match event {
                    // The store has applied the listing by the time its end is seen here.
                    Ok(watcher::Event::InitDone) => {
                        synced.send_replace(true);
                    }
                    Err(err) => tracing::debug!(error = %err, "informer watch failed; retrying"),
                    Ok(_) => {}
                }
                std::future::ready(())
            });
            tokio::select! {
                () = drive => {}
                () = shutdown.cancelled() => {}
            }
        });
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
