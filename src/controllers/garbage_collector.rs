//! The garbage collector: deletes objects whose owners are gone, and carries out the Orphan and
//! Foreground propagation policies that deletes leave to it as finalizers.
//!
//! It keeps an ownership graph of every object's metadata, fed by a metadata watch per
//! resource in the manner of upstream's graph builder: one per built-in resource, and one per
//! established CustomResourceDefinition, started and stopped as CRDs come and go (upstream
//! finds them by polling discovery; watching the CRDs finds them as soon as they are served).
//! A change marks the objects it concerns as dirty; each dirty object is then reconciled once
//! (never two at a time): an owner being deleted with `orphan` has its dependents released,
//! one with `foregroundDeletion` has them deleted first, and a dependent none of whose owners
//! exist any more is deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Client;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::registry::{self, Resource};

const ORPHAN: &str = "orphan";
const FOREGROUND: &str = "foregroundDeletion";
/// Reconciles of distinct objects running at once.
const WORKERS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API request failed: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}/{1} names an owner kind mkc does not serve")]
    UnknownOwnerKind(String, String),
}

/// A resource whose objects the graph holds, in the one version its watch reads.
#[derive(Debug, PartialEq, Eq)]
struct Kind {
    /// `group/plural`: what names the resource whatever version is read.
    key: String,
    api: ApiResource,
    namespaced: bool,
}

impl Kind {
    fn new(api: ApiResource, namespaced: bool) -> Arc<Self> {
        Arc::new(Kind {
            key: format!("{}/{}", api.group, api.plural),
            api,
            namespaced,
        })
    }

    fn built_in(resource: &'static Resource) -> Arc<Self> {
        Kind::new(resource.api_resource(), resource.namespaced)
    }

    /// The resource an established CRD defines, read in its storage version when that is
    /// served and otherwise in the first version that is.
    fn custom(crd: &CustomResourceDefinition) -> Option<Arc<Self>> {
        let established = crd
            .status
            .as_ref()?
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Established" && c.status == "True");
        let versions = &crd.spec.versions;
        let version = versions
            .iter()
            .find(|v| v.served && v.storage)
            .or_else(|| versions.iter().find(|v| v.served))
            .filter(|_| established)?;
        let group = &crd.spec.group;
        let api = ApiResource {
            group: group.clone(),
            version: version.name.clone(),
            api_version: format!("{group}/{}", version.name),
            kind: crd.spec.names.kind.clone(),
            plural: crd.spec.names.plural.clone(),
        };
        Some(Kind::new(api, crd.spec.scope == "Namespaced"))
    }
}

/// What the graph knows of one object.
#[derive(Debug, Clone)]
struct Node {
    kind: Arc<Kind>,
    namespace: Option<String>,
    name: String,
    owners: Vec<OwnerReference>,
    deleting: bool,
    finalizers: Vec<String>,
}

impl Node {
    fn from_meta(kind: &Arc<Kind>, meta: &ObjectMeta) -> Option<(String, Node)> {
        let uid = meta.uid.clone()?;
        let node = Node {
            kind: kind.clone(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone()?,
            owners: meta.owner_references.clone().unwrap_or_default(),
            deleting: meta.deletion_timestamp.is_some(),
            finalizers: meta.finalizers.clone().unwrap_or_default(),
        };
        Some((uid, node))
    }

    fn has_finalizer(&self, finalizer: &str) -> bool {
        self.finalizers.iter().any(|f| f == finalizer)
    }
}

/// The ownership graph: every object by uid, and each owner's dependents.
#[derive(Default)]
struct Graph {
    nodes: HashMap<String, Node>,
    dependents: HashMap<String, BTreeSet<String>>,
}

impl Graph {
    /// Records `node` and returns the uids whose reconcile may now have a different outcome.
    fn upsert(&mut self, uid: String, node: Node) -> Vec<String> {
        let mut dirty = Vec::new();
        let previous = self.nodes.insert(uid.clone(), node.clone());
        let old_owners: Vec<String> = previous
            .iter()
            .flat_map(|p| p.owners.iter().map(|o| o.uid.clone()))
            .collect();
        for owner in &old_owners {
            if let Some(set) = self.dependents.get_mut(owner) {
                set.remove(&uid);
            }
        }
        for owner in &node.owners {
            self.dependents
                .entry(owner.uid.clone())
                .or_default()
                .insert(uid.clone());
        }
        let changed = previous.as_ref().is_none_or(|p| {
            p.deleting != node.deleting
                || p.finalizers != node.finalizers
                || p.owners != node.owners
        });
        if changed {
            if !node.owners.is_empty()
                || node.has_finalizer(ORPHAN)
                || node.has_finalizer(FOREGROUND)
            {
                dirty.push(uid);
            }
            dirty.extend(old_owners);
            dirty.extend(node.owners.iter().map(|o| o.uid.clone()));
        }
        dirty
    }

    /// Forgets `uid` and returns the objects its absence concerns: its dependents (an owner
    /// gone) and its owners (a dependent gone, which a foreground deletion waits for).
    fn remove(&mut self, uid: &str) -> Vec<String> {
        let Some(node) = self.nodes.remove(uid) else {
            return Vec::new();
        };
        for owner in &node.owners {
            if let Some(set) = self.dependents.get_mut(&owner.uid) {
                set.remove(uid);
            }
        }
        let mut dirty: Vec<String> = self
            .dependents
            .get(uid)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        dirty.extend(node.owners.iter().map(|o| o.uid.clone()));
        dirty
    }

    fn dependents_of(&self, uid: &str) -> Vec<(String, Node)> {
        self.dependents
            .get(uid)
            .into_iter()
            .flatten()
            .filter_map(|d| Some((d.clone(), self.nodes.get(d)?.clone())))
            .collect()
    }
}

/// What a reconcile needs to know, copied out of the graph so the API calls run without it.
struct Work {
    uid: String,
    node: Node,
    dependents: Vec<(String, Node)>,
    /// Owners the graph has not seen (gone, or not yet observed), with their resource when it
    /// is one the collector follows.
    missing_owners: Vec<(OwnerReference, Option<Arc<Kind>>)>,
}

/// The outcome of a reconcile: done, or try again after a delay.
type Outcome = (String, Result<(), Error>);

type Meta = kube::core::PartialObjectMeta<DynamicObject>;

/// One event of a resource's metadata watch, with the resource it came from.
type Event = (Arc<Kind>, watcher::Event<Meta>);

pub async fn run(client: Client, shutdown: CancellationToken) {
    let (events, mut incoming) = mpsc::channel(1024);
    let mut watches = Watches::new(client.clone(), events);
    let mut graph = Graph::default();
    for resource in registry::BUILT_IN.stored() {
        let kind = Kind::built_in(resource);
        watches.built_in.push(kind.key.clone());
        watches.follow(&mut graph, kind);
    }
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut definitions = watcher::watcher(crds, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut dirty: BTreeSet<String> = BTreeSet::new();
    let mut running: HashSet<String> = HashSet::new();
    let mut workers: JoinSet<Outcome> = JoinSet::new();
    let mut failures: BTreeMap<String, u32> = BTreeMap::new();
    let (retry_tx, mut retries) = mpsc::unbounded_channel::<String>();
    loop {
        if watches.synced() {
            while workers.len() < WORKERS {
                let Some(uid) = dirty.iter().find(|u| !running.contains(*u)).cloned() else {
                    break;
                };
                dirty.remove(&uid);
                if let Some(work) = work_for(&graph, |owner| watches.resolve(owner), &uid) {
                    running.insert(uid);
                    workers.spawn(reconcile(client.clone(), work));
                }
            }
        }
        tokio::select! {
            event = incoming.recv() => {
                let Some((kind, event)) = event else { return };
                dirty.extend(watches.apply(&mut graph, &kind, event));
            }
            Some(definition) = definitions.next() => match definition {
                Ok(event) => dirty.extend(watches.define(&mut graph, event)),
                Err(err) => tracing::debug!(error = %err, "garbage collector's CRD watch failed; retrying"),
            },
            Some(done) = workers.join_next(), if !workers.is_empty() => {
                let Ok((uid, result)) = done else { continue };
                running.remove(&uid);
                match result {
                    Ok(()) => { failures.remove(&uid); }
                    Err(err) => {
                        let attempts = failures.entry(uid.clone()).or_default();
                        *attempts += 1;
                        let delay = backoff(*attempts);
                        tracing::debug!(%uid, error = %err, ?delay, "garbage collection will retry");
                        let retry = retry_tx.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = retry.send(uid);
                        });
                    }
                }
            }
            Some(uid) = retries.recv() => { dirty.insert(uid); }
            // A stopped custom resource's watch ends here.
            Some(_) = watches.tasks.join_next(), if !watches.tasks.is_empty() => {}
            () = shutdown.cancelled() => {
                watches.stop().await;
                workers.abort_all();
                while workers.join_next().await.is_some() {}
                return;
            }
        }
    }
}

fn backoff(attempts: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempts.min(8))).min(Duration::from_secs(30))
}

/// The metadata watches that feed the graph, one per followed resource: the built-in ones for
/// the collector's life, a custom resource's from its CRD's establishment to its deletion.
/// Each method returns the uids its change made dirty.
struct Watches {
    client: Client,
    events: mpsc::Sender<Event>,
    tasks: JoinSet<()>,
    /// The watch of each resource by key.
    running: HashMap<String, (Arc<Kind>, AbortHandle)>,
    /// The keys of the built-in resources, followed for the collector's life.
    built_in: Vec<String>,
    /// Resources whose watch has listed everything once.
    synced: HashSet<String>,
    /// The uids an initial list or relist has given so far, by resource key.
    listing: HashMap<String, HashSet<String>>,
    /// The resource key each established CRD defines, by CRD name.
    custom: HashMap<String, String>,
    /// CRD names a CRD (re)list has given so far; `None` outside a list.
    custom_listing: Option<HashSet<String>>,
    /// Whether the CRDs have been listed once: until then a custom resource may be missing.
    custom_listed: bool,
}

impl Watches {
    fn new(client: Client, events: mpsc::Sender<Event>) -> Self {
        Watches {
            client,
            events,
            tasks: JoinSet::new(),
            running: HashMap::new(),
            built_in: Vec::new(),
            synced: HashSet::new(),
            listing: HashMap::new(),
            custom: HashMap::new(),
            custom_listing: None,
            custom_listed: false,
        }
    }

    /// Whether the built-in resources and the CRDs have been listed, so that an owner missing
    /// from the graph is likely gone rather than not yet seen. A custom resource's watch is not
    /// waited for: one that cannot list (its CRD established but its version not served) must
    /// not stop all collection, and an owner the graph lacks is looked up before anything goes.
    fn synced(&self) -> bool {
        self.custom_listed && self.built_in.iter().all(|key| self.synced.contains(key))
    }

    /// The followed resource of an owner reference's kind, in whatever version it is read.
    fn resolve(&self, owner: &OwnerReference) -> Option<Arc<Kind>> {
        let group = owner
            .api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group);
        self.running
            .values()
            .map(|(kind, _)| kind)
            .find(|kind| kind.api.group == group && kind.api.kind == owner.kind)
            .cloned()
    }

    /// Starts watching `kind`, replacing a watch of the same resource in another version.
    fn follow(&mut self, graph: &mut Graph, kind: Arc<Kind>) -> Vec<String> {
        if self.running.get(&kind.key).is_some_and(|(k, _)| *k == kind) {
            return Vec::new();
        }
        let dirty = self.unfollow(graph, &kind.key.clone());
        let task = self.tasks.spawn(watch(
            self.client.clone(),
            kind.clone(),
            self.events.clone(),
        ));
        self.running.insert(kind.key.clone(), (kind, task));
        dirty
    }

    /// Stops watching a resource and forgets its objects, as gone: their dependents are then
    /// looked at, and deleted once the API confirms their owners are gone.
    fn unfollow(&mut self, graph: &mut Graph, key: &str) -> Vec<String> {
        let Some((_, task)) = self.running.remove(key) else {
            return Vec::new();
        };
        task.abort();
        self.synced.remove(key);
        self.listing.remove(key);
        let held: Vec<String> = graph
            .nodes
            .iter()
            .filter(|(_, node)| node.kind.key == key)
            .map(|(uid, _)| uid.clone())
            .collect();
        held.iter().flat_map(|uid| graph.remove(uid)).collect()
    }

    /// Follows a change of the CRDs: a custom resource is followed while its CRD is
    /// established.
    fn define(
        &mut self,
        graph: &mut Graph,
        event: watcher::Event<CustomResourceDefinition>,
    ) -> Vec<String> {
        match event {
            watcher::Event::Init => {
                self.custom_listing = Some(HashSet::new());
                Vec::new()
            }
            watcher::Event::InitApply(crd) | watcher::Event::Apply(crd) => {
                let name = crd.metadata.name.clone().unwrap_or_default();
                if let Some(listing) = &mut self.custom_listing {
                    listing.insert(name.clone());
                }
                match Kind::custom(&crd) {
                    Some(kind) => {
                        let mut dirty = match self.custom.insert(name, kind.key.clone()) {
                            Some(old) if old != kind.key => self.unfollow(graph, &old),
                            _ => Vec::new(),
                        };
                        dirty.extend(self.follow(graph, kind));
                        dirty
                    }
                    None => self.undefine(graph, &name),
                }
            }
            watcher::Event::InitDone => {
                self.custom_listed = true;
                let seen = self.custom_listing.take().unwrap_or_default();
                let gone: Vec<String> = self
                    .custom
                    .keys()
                    .filter(|name| !seen.contains(*name))
                    .cloned()
                    .collect();
                gone.iter()
                    .flat_map(|name| self.undefine(graph, name))
                    .collect()
            }
            watcher::Event::Delete(crd) => {
                self.undefine(graph, crd.metadata.name.as_deref().unwrap_or_default())
            }
        }
    }

    fn undefine(&mut self, graph: &mut Graph, crd: &str) -> Vec<String> {
        match self.custom.remove(crd) {
            Some(key) => self.unfollow(graph, &key),
            None => Vec::new(),
        }
    }

    /// Updates the graph from a watch event, unless the watch it came from has been stopped.
    fn apply(
        &mut self,
        graph: &mut Graph,
        kind: &Arc<Kind>,
        event: watcher::Event<Meta>,
    ) -> Vec<String> {
        let current = self
            .running
            .get(&kind.key)
            .is_some_and(|(k, _)| Arc::ptr_eq(k, kind));
        if !current {
            return Vec::new();
        }
        match event {
            watcher::Event::Init => {
                self.listing.insert(kind.key.clone(), HashSet::new());
                Vec::new()
            }
            watcher::Event::InitApply(meta) => {
                let Some((uid, node)) = Node::from_meta(kind, &meta.metadata) else {
                    return Vec::new();
                };
                self.listing
                    .entry(kind.key.clone())
                    .or_default()
                    .insert(uid.clone());
                graph.upsert(uid, node)
            }
            watcher::Event::InitDone => {
                self.synced.insert(kind.key.clone());
                let seen = self.listing.remove(&kind.key).unwrap_or_default();
                let stale: Vec<String> = graph
                    .nodes
                    .iter()
                    .filter(|(uid, node)| node.kind.key == kind.key && !seen.contains(*uid))
                    .map(|(uid, _)| uid.clone())
                    .collect();
                stale.iter().flat_map(|uid| graph.remove(uid)).collect()
            }
            watcher::Event::Apply(meta) => match Node::from_meta(kind, &meta.metadata) {
                Some((uid, node)) => graph.upsert(uid, node),
                None => Vec::new(),
            },
            watcher::Event::Delete(meta) => match meta.metadata.uid.as_deref() {
                Some(uid) => graph.remove(uid),
                None => Vec::new(),
            },
        }
    }

    async fn stop(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Feeds one resource's metadata watch into the graph's event channel.
async fn watch(client: Client, kind: Arc<Kind>, events: mpsc::Sender<Event>) {
    let api: Api<Meta> = Api::all_with(client, &kind.api);
    // The graph needs owners, finalizers and deletion; managedFields would only weigh.
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .modify(|meta| meta.metadata.managed_fields = None)
        .boxed();
    while let Some(event) = stream.next().await {
        match event {
            Ok(event) => {
                if events.send((kind.clone(), event)).await.is_err() {
                    return;
                }
            }
            Err(err) => {
                tracing::debug!(resource = %kind.key, error = %err, "garbage collector watch failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn work_for(
    graph: &Graph,
    resolve: impl Fn(&OwnerReference) -> Option<Arc<Kind>>,
    uid: &str,
) -> Option<Work> {
    let node = graph.nodes.get(uid)?.clone();
    let missing_owners = node
        .owners
        .iter()
        .filter(|o| !graph.nodes.contains_key(&o.uid))
        .map(|o| (o.clone(), resolve(o)))
        .collect();
    Some(Work {
        uid: uid.to_owned(),
        dependents: graph.dependents_of(uid),
        node,
        missing_owners,
    })
}

/// Closes the gap between what the object's owners and finalizers ask and what is.
async fn reconcile(client: Client, work: Work) -> Outcome {
    let uid = work.uid.clone();
    tracing::debug!(%uid, name = %work.node.name, deleting = work.node.deleting, finalizers = ?work.node.finalizers, "garbage collector reconciles");
    let result = reconcile_inner(&client, work).await;
    (uid, result)
}

async fn reconcile_inner(client: &Client, work: Work) -> Result<(), Error> {
    let Work {
        uid,
        node,
        dependents,
        missing_owners,
    } = work;
    if node.deleting && node.has_finalizer(ORPHAN) {
        for (_, dependent) in &dependents {
            remove_owner(client, dependent, &uid).await?;
        }
        return remove_finalizer(client, &node, &uid, ORPHAN).await;
    }
    if node.deleting && node.has_finalizer(FOREGROUND) {
        if dependents.is_empty() {
            return remove_finalizer(client, &node, &uid, FOREGROUND).await;
        }
        for (dependent_uid, dependent) in dependents.iter().filter(|(_, d)| !d.deleting) {
            delete(client, dependent, dependent_uid, DeleteParams::foreground()).await?;
        }
        return Ok(());
    }
    if node.owners.is_empty() || missing_owners.is_empty() {
        return Ok(());
    }
    let mut gone = Vec::new();
    for owner in &missing_owners {
        if !owner_exists(client, &node, owner).await? {
            gone.push(owner.0.uid.clone());
        }
    }
    if gone.len() == node.owners.len() {
        delete(client, &node, &uid, DeleteParams::background()).await
    } else if !gone.is_empty() {
        for owner in gone {
            remove_owner(client, &node, &owner).await?;
        }
        Ok(())
    } else {
        Ok(())
    }
}

fn api_for(client: &Client, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace.filter(|_| kind.namespaced) {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &kind.api),
        None => Api::all_with(client.clone(), &kind.api),
    }
}

fn api_of(client: &Client, node: &Node) -> Api<DynamicObject> {
    api_for(client, &node.kind, node.namespace.as_deref())
}

/// Asks the API whether an owner the graph has not seen exists, so a dependent is never
/// deleted only because its owner's event has not arrived yet. An owner of a kind the
/// collector does not follow (yet) is an error, retried, as upstream's unmapped kinds are.
async fn owner_exists(
    client: &Client,
    dependent: &Node,
    (owner, kind): &(OwnerReference, Option<Arc<Kind>>),
) -> Result<bool, Error> {
    let kind = kind
        .as_ref()
        .ok_or_else(|| Error::UnknownOwnerKind(owner.api_version.clone(), owner.kind.clone()))?;
    let api = api_for(client, kind, dependent.namespace.as_deref());
    let found = api.get_opt(&owner.name).await?;
    Ok(found.is_some_and(|o| o.metadata.uid.as_deref() == Some(owner.uid.as_str())))
}

async fn delete(
    client: &Client,
    node: &Node,
    uid: &str,
    mut params: DeleteParams,
) -> Result<(), Error> {
    params.preconditions = Some(Preconditions {
        uid: Some(uid.to_owned()),
        resource_version: None,
    });
    match api_of(client, node).delete(&node.name, &params).await {
        Ok(_) => Ok(()),
        Err(err) if is_gone(&err) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Drops the reference to `owner_uid` from an object, guarded by its resourceVersion.
async fn remove_owner(client: &Client, node: &Node, owner_uid: &str) -> Result<(), Error> {
    let api = api_of(client, node);
    let Some(current) = api.get_opt(&node.name).await? else {
        return Ok(());
    };
    let owners: Vec<OwnerReference> = current
        .metadata
        .owner_references
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.uid != owner_uid)
        .collect();
    let patch = json!({"metadata": {
        "resourceVersion": current.metadata.resource_version,
        "ownerReferences": if owners.is_empty() { serde_json::Value::Null } else { json!(owners) },
    }});
    patch_ignoring_gone(&api, &node.name, patch).await
}

/// Removes one finalizer, guarded by the resourceVersion so no other finalizer change is lost.
async fn remove_finalizer(
    client: &Client,
    node: &Node,
    uid: &str,
    finalizer: &str,
) -> Result<(), Error> {
    let api = api_of(client, node);
    let Some(current) = api.get_opt(&node.name).await? else {
        return Ok(());
    };
    if current.metadata.uid.as_deref() != Some(uid) {
        return Ok(());
    }
    let finalizers: Vec<String> = current
        .metadata
        .finalizers
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f != finalizer)
        .collect();
    let patch = json!({"metadata": {
        "resourceVersion": current.metadata.resource_version,
        "finalizers": if finalizers.is_empty() { serde_json::Value::Null } else { json!(finalizers) },
    }});
    patch_ignoring_gone(&api, &node.name, patch).await
}

async fn patch_ignoring_gone(
    api: &Api<DynamicObject>,
    name: &str,
    patch: serde_json::Value,
) -> Result<(), Error> {
    let params = PatchParams {
        field_manager: Some("garbage-collector".into()),
        ..PatchParams::default()
    };
    match api.patch(name, &params, &Patch::Merge(patch)).await {
        Ok(_) => Ok(()),
        Err(err) if is_gone(&err) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

fn is_gone(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(uid: &str, owners: &[&str]) -> ObjectMeta {
        ObjectMeta {
            uid: Some(uid.into()),
            name: Some(uid.into()),
            namespace: Some("ns".into()),
            owner_references: Some(
                owners
                    .iter()
                    .map(|o| OwnerReference {
                        uid: (*o).into(),
                        name: (*o).into(),
                        kind: "ReplicaSet".into(),
                        api_version: "apps/v1".into(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn pods() -> Arc<Kind> {
        Kind::built_in(registry::find("", "v1", "pods").unwrap())
    }

    #[test]
    fn an_owner_going_makes_its_dependents_dirty() {
        let mut graph = Graph::default();
        let replicasets = Kind::built_in(registry::find("apps", "v1", "replicasets").unwrap());
        let (rs, rs_node) = Node::from_meta(&replicasets, &meta("rs", &[])).unwrap();
        assert!(
            graph.upsert(rs, rs_node).is_empty(),
            "an object without owners or finalizers needs nothing"
        );
        let (pod, pod_node) = Node::from_meta(&pods(), &meta("pod", &["rs"])).unwrap();
        assert_eq!(graph.upsert(pod, pod_node), ["pod", "rs"]);
        assert_eq!(graph.dependents_of("rs").len(), 1);
        assert_eq!(graph.remove("rs"), ["pod"]);
        let work = work_for(&graph, |_| None, "pod").unwrap();
        assert_eq!(work.missing_owners.len(), 1);
    }

    #[test]
    fn unchanged_updates_dirty_nothing() {
        let mut graph = Graph::default();
        let (pod, node) = Node::from_meta(&pods(), &meta("pod", &["rs"])).unwrap();
        graph.upsert(pod.clone(), node.clone());
        assert!(graph.upsert(pod, node).is_empty());
    }

    #[test]
    fn a_dependent_going_makes_its_owner_dirty() {
        let mut graph = Graph::default();
        let (pod, node) = Node::from_meta(&pods(), &meta("pod", &["rs"])).unwrap();
        graph.upsert(pod, node);
        assert_eq!(graph.remove("pod"), ["rs"]);
        assert!(graph.dependents_of("rs").is_empty());
    }
}
