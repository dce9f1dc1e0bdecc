//! Shared informers: one watch and one cache per kind for the whole controller manager, shared
//! by every controller that needs that kind (as upstream's SharedInformerFactory), so ten
//! thousand pods are listed, watched and held in memory once, not once per controller.
//!
//! Each informer applies its watch to a kube-runtime store, then updates the indexes kept beside
//! it, then hands every change, deletions included, to its subscribers as `Arc`s of the cached
//! objects: whatever a change triggers reads a cache and indexes that already hold it. After a
//! relisting every object is handed out again, and those the listing lacks as deletions. A
//! subscriber that falls behind is handed the whole cache again, so it misses nothing it needs
//! to reconcile.

use std::sync::{Arc, Mutex, PoisonError};

use futures::{Stream, StreamExt, stream};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
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
    indexes: Vec<Index<K>>,
    changes: broadcast::Sender<Arc<K>>,
    synced: watch::Sender<bool>,
    used: bool,
    /// A field selector narrowing the watch to the objects wanted (one name in every namespace).
    fields: Option<&'static str>,
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

    /// Runs `task` once the cache is complete, or not at all if the informer stops first.
    ///
    /// Controllers start this way. A kube-runtime Controller holds its runner until its store
    /// is ready, through a channel that wakes only the last of several waiters: controllers
    /// sharing one store and started together would not all wake, and one still held would
    /// never finish its graceful shutdown. A store that is ready already answers each at once.
    pub async fn then(self, task: impl Future<Output = ()>) {
        if self.wait().await {
            task.await;
        }
    }

    /// Runs `controller` once the cache is complete (see [`Synced::then`]). A panic in a
    /// reconcile is an error like any other: `error_policy` decides when to try again.
    pub async fn run<K, Ctx, E, F, R>(
        self,
        controller: Controller<K>,
        mut reconcile: F,
        error_policy: impl Fn(Arc<K>, &E, Arc<Ctx>) -> Action,
        context: Arc<Ctx>,
    ) where
        K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
        K::DynamicType: Eq + std::hash::Hash + Clone + std::fmt::Debug + Unpin,
        F: FnMut(Arc<K>, Arc<Ctx>) -> R,
        R: Future<Output = Result<Action, E>> + Send + 'static,
        E: std::error::Error + From<mkc_supervisor::Panicked> + Send + 'static,
    {
        let guarded = move |object, ctx| mkc_supervisor::catch(reconcile(object, ctx));
        let run = controller
            .run(guarded, error_policy, context)
            .for_each(|_| async {});
        self.then(run).await;
    }
}

impl<K> Informer<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    fn new() -> Informer<K> {
        Informer::with_fields(None)
    }

    fn with_fields(fields: Option<&'static str>) -> Informer<K> {
        let writer = reflector::store::Writer::default();
        let (changes, _) = broadcast::channel(BUFFER);
        let (synced, _) = watch::channel(false);
        Informer {
            store: writer.as_reader(),
            writer: Some(writer),
            indexes: Vec::new(),
            changes,
            synced,
            used: false,
            fields,
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

    /// A kube-runtime Controller over this informer's changes and cache that stops gracefully
    /// on `shutdown`, and the readiness to start it on (see [`Synced::then`]).
    pub fn controller(&mut self, shutdown: CancellationToken) -> (Controller<K>, Synced) {
        let controller = Controller::for_shared_stream(self.subscribe(), self.store())
            .graceful_shutdown_on(async move { shutdown.cancelled().await });
        (controller, self.synced())
    }

    /// Keeps an index beside the cache: `index` is called with every key that changed and the
    /// object the cache now holds for it (`None` once gone), after the cache has it and before
    /// any subscriber hears of it, so a reconcile triggered by a change finds the index current.
    pub fn index(&mut self, index: impl FnMut(&ObjectRef<K>, Option<&Arc<K>>) + Send + 'static) {
        self.used = true;
        self.indexes.push(Box::new(index));
    }

    /// Starts the watch if anything subscribed.
    fn start(&mut self, api: Api<K>, tasks: &mut JoinSet<()>, shutdown: &CancellationToken)
    where
        K: k8s_openapi::Resource,
    {
        let Some(writer) = self.writer.take().filter(|_| self.used) else {
            return;
        };
        // Shared with each run of the watch: if one panics, the next relists into the same
        // cache, indexes and subscribers, which the listing brings back in line.
        let fan_out = Arc::new(Mutex::new(FanOut {
            writer,
            store: self.store.clone(),
            indexes: std::mem::take(&mut self.indexes),
            changes: self.changes.clone(),
            synced: self.synced.clone(),
        }));
        let config = match self.fields {
            Some(fields) => watcher::Config::default().fields(fields),
            None => watcher::Config::default(),
        };
        let stop = shutdown.clone();
        let watch = move || watch(api.clone(), config.clone(), fan_out.clone(), stop.clone());
        let name = <K as k8s_openapi::Resource>::KIND;
        tasks.spawn(mkc_supervisor::supervise(name, shutdown.clone(), watch));
    }
}

/// Feeds one informer's watch into its fan-out until `shutdown`.
async fn watch<K>(
    api: Api<K>,
    config: watcher::Config,
    fan_out: Arc<Mutex<FanOut<K>>>,
    shutdown: CancellationToken,
) where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    // No controller reads managedFields, and they can outweigh the rest of an object.
    let events = watcher(api, config)
        .default_backoff()
        .modify(|object| object.managed_fields_mut().clear());
    let mut events = std::pin::pin!(events);
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            () = shutdown.cancelled() => return,
        };
        match event {
            Some(Ok(event)) => fan_out
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .apply(event),
            Some(Err(err)) => tracing::debug!(error = %err, "informer watch failed; retrying"),
            None => return,
        }
    }
}

/// An index kept beside an informer's cache.
type Index<K> = Box<dyn FnMut(&ObjectRef<K>, Option<&Arc<K>>) + Send>;

/// What one informer's watch task feeds: the cache, then the indexes, then the subscribers.
struct FanOut<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    writer: reflector::store::Writer<K>,
    store: Store<K>,
    indexes: Vec<Index<K>>,
    changes: broadcast::Sender<Arc<K>>,
    synced: watch::Sender<bool>,
}

impl<K> FanOut<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default,
{
    fn apply(&mut self, event: watcher::Event<K>) {
        match &event {
            watcher::Event::Apply(object) => {
                self.writer.apply_watcher_event(&event);
                let key = ObjectRef::from_obj(object);
                if let Some(cached) = self.store.get(&key) {
                    self.changed(&key, Some(cached));
                }
            }
            watcher::Event::Delete(object) => {
                self.writer.apply_watcher_event(&event);
                let key = ObjectRef::from_obj(object);
                self.changed(&key, None);
                let _ = self.changes.send(Arc::new(object.clone()));
            }
            // A listing, first or after the watch lost its place, fills a buffer that replaces
            // the cache at its end: only then is there anything to tell, and objects missing
            // from it are gone.
            watcher::Event::Init | watcher::Event::InitApply(_) => {
                self.writer.apply_watcher_event(&event);
            }
            watcher::Event::InitDone => {
                let before = self.store.state();
                self.writer.apply_watcher_event(&event);
                for object in before {
                    let key = ObjectRef::from_obj(object.as_ref());
                    if self.store.get(&key).is_none() {
                        self.changed(&key, None);
                        let _ = self.changes.send(object);
                    }
                }
                for object in self.store.state() {
                    self.changed(&ObjectRef::from_obj(object.as_ref()), Some(object));
                }
                self.synced.send_replace(true);
            }
        }
    }

    /// Tells the indexes, then the subscribers (when the object is still there), of a change.
    fn changed(&mut self, key: &ObjectRef<K>, current: Option<Arc<K>>) {
        for index in &mut self.indexes {
            index(key, current.as_ref());
        }
        if let Some(object) = current {
            let _ = self.changes.send(object);
        }
    }
}

/// The kinds the built-in controllers share.
pub struct Informers {
    pub namespaces: Informer<Namespace>,
    pub pods: Informer<Pod>,
    pub nodes: Informer<Node>,
    pub leases: Informer<Lease>,
    pub services: Informer<Service>,
    pub replica_sets: Informer<ReplicaSet>,
    pub deployments: Informer<Deployment>,
    /// Only the ServiceAccounts named `default`: no controller needs the others.
    pub service_accounts: Informer<ServiceAccount>,
    /// Only the ConfigMaps named [`ROOT_CA_CONFIG_MAP`]: no controller needs the others.
    pub root_ca_config_maps: Informer<ConfigMap>,
    pub cluster_roles: Informer<ClusterRole>,
}

/// The ConfigMap holding the cluster's CA in every namespace.
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";
const ROOT_CA_FIELDS: &str = "metadata.name=kube-root-ca.crt";
const DEFAULT_SERVICE_ACCOUNT_FIELDS: &str = "metadata.name=default";

impl Informers {
    pub fn new() -> Informers {
        Informers {
            namespaces: Informer::new(),
            pods: Informer::new(),
            nodes: Informer::new(),
            leases: Informer::new(),
            services: Informer::new(),
            replica_sets: Informer::new(),
            deployments: Informer::new(),
            service_accounts: Informer::with_fields(Some(DEFAULT_SERVICE_ACCOUNT_FIELDS)),
            root_ca_config_maps: Informer::with_fields(Some(ROOT_CA_FIELDS)),
            cluster_roles: Informer::new(),
        }
    }

    /// Starts the informers something subscribed to.
    pub fn start(mut self, client: &Client, tasks: &mut JoinSet<()>, shutdown: &CancellationToken) {
        self.namespaces
            .start(Api::all(client.clone()), tasks, shutdown);
        self.pods.start(Api::all(client.clone()), tasks, shutdown);
        self.nodes.start(Api::all(client.clone()), tasks, shutdown);
        self.leases.start(Api::all(client.clone()), tasks, shutdown);
        self.services
            .start(Api::all(client.clone()), tasks, shutdown);
        self.replica_sets
            .start(Api::all(client.clone()), tasks, shutdown);
        self.deployments
            .start(Api::all(client.clone()), tasks, shutdown);
        self.service_accounts
            .start(Api::all(client.clone()), tasks, shutdown);
        self.root_ca_config_maps
            .start(Api::all(client.clone()), tasks, shutdown);
        self.cluster_roles
            .start(Api::all(client.clone()), tasks, shutdown);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(name: &str, version: &str) -> Pod {
        serde_json::from_value(json!({"metadata": {
            "name": name, "namespace": "d", "resourceVersion": version,
        }}))
        .unwrap()
    }

    /// A fan-out whose index logs `(name, still there, subscribers told already)`.
    fn fan_out() -> (
        FanOut<Pod>,
        broadcast::Receiver<Arc<Pod>>,
        Arc<Mutex<Vec<(String, bool, bool)>>>,
    ) {
        let writer = reflector::store::Writer::default();
        let (changes, received) = broadcast::channel(16);
        let log = Arc::new(Mutex::new(Vec::new()));
        let (index_log, mut early) = (log.clone(), changes.subscribe());
        let index: Index<Pod> = Box::new(move |key, current| {
            // Told already: this very version (or, for a deletion, this name) was sent.
            let version = current.and_then(|pod| pod.resource_version());
            let told =
                std::iter::from_fn(|| early.try_recv().ok()).fold(false, |told, sent: Arc<Pod>| {
                    told || (sent.name_any() == key.name
                        && (current.is_none() || sent.resource_version() == version))
                });
            index_log
                .lock()
                .unwrap()
                .push((key.name.clone(), current.is_some(), told));
        });
        let fan_out = FanOut {
            store: writer.as_reader(),
            writer,
            indexes: vec![index],
            changes,
            synced: watch::channel(false).0,
        };
        (fan_out, received, log)
    }

    fn drain(received: &mut broadcast::Receiver<Arc<Pod>>) -> Vec<(String, String)> {
        std::iter::from_fn(|| received.try_recv().ok())
            .map(|p| (p.name_any(), p.resource_version().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn indexes_hear_of_a_change_before_subscribers_and_relists_tell_what_went() {
        let (mut fan_out, mut received, log) = fan_out();
        fan_out.apply(watcher::Event::Init);
        fan_out.apply(watcher::Event::InitApply(pod("a", "1")));
        fan_out.apply(watcher::Event::InitApply(pod("b", "2")));
        assert!(
            drain(&mut received).is_empty(),
            "nothing is told before the listing ends"
        );
        fan_out.apply(watcher::Event::InitDone);
        let mut first = drain(&mut received);
        first.sort();
        assert_eq!(first, [("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert!(*fan_out.synced.borrow());

        fan_out.apply(watcher::Event::Apply(pod("a", "3")));
        assert_eq!(drain(&mut received), [("a".into(), "3".into())]);

        // The watch lost its place; b went meanwhile.
        fan_out.apply(watcher::Event::Init);
        fan_out.apply(watcher::Event::InitApply(pod("a", "4")));
        fan_out.apply(watcher::Event::InitDone);
        assert_eq!(
            drain(&mut received),
            [("b".into(), "2".into()), ("a".into(), "4".into())]
        );
        assert!(
            fan_out
                .store
                .get(&ObjectRef::new("b").within("d"))
                .is_none()
        );

        let log = log.lock().unwrap();
        assert!(log.iter().all(|(_, _, told)| !told), "{log:?}");
        let b: Vec<bool> = log
            .iter()
            .filter(|(name, ..)| name == "b")
            .map(|(_, present, _)| *present)
            .collect();
        assert_eq!(b, [true, false]);
    }
}
