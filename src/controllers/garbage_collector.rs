//! The garbage collector: deletes objects whose owners are gone, and carries out the Orphan and
//! Foreground propagation policies that deletes leave to it as finalizers.
//!
//! It keeps an ownership graph of every object's metadata, fed by a metadata watcher per
//! built-in resource, in the manner of upstream's graph builder (custom resources are not
//! followed yet). A change marks the objects it concerns as dirty; each dirty object is then
//! reconciled once (never two at a time): an owner being deleted with `orphan` has its
//! dependents released, one with `foregroundDeletion` has them deleted first, and a dependent
//! none of whose owners exist any more is deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
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

/// What the graph knows of one object.
#[derive(Debug, Clone)]
struct Node {
    resource: &'static Resource,
    namespace: Option<String>,
    name: String,
    owners: Vec<OwnerReference>,
    deleting: bool,
    finalizers: Vec<String>,
}

impl Node {
    fn from_meta(resource: &'static Resource, meta: &ObjectMeta) -> Option<(String, Node)> {
        let uid = meta.uid.clone()?;
        let node = Node {
            resource,
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
    /// Owners the graph has not seen: gone, or not yet observed.
    missing_owners: Vec<OwnerReference>,
}

/// The outcome of a reconcile: done, or try again after a delay.
type Outcome = (String, Result<(), Error>);

pub async fn run(client: Client, shutdown: CancellationToken) {
    let (events, mut incoming) = mpsc::channel(1024);
    let mut watchers = JoinSet::new();
    let stored: Vec<&'static Resource> = registry::BUILT_IN.stored().collect();
    for (index, resource) in registry::RESOURCES.iter().enumerate() {
        if stored.iter().any(|s| std::ptr::eq(*s, *resource)) {
            watchers.spawn(watch(client.clone(), index, resource, events.clone()));
        }
    }
    drop(events);
    let mut graph = Graph::default();
    let mut synced: HashSet<usize> = HashSet::new();
    let mut listing: HashMap<usize, HashSet<String>> = HashMap::new();
    let mut dirty: BTreeSet<String> = BTreeSet::new();
    let mut running: HashSet<String> = HashSet::new();
    let mut workers: JoinSet<Outcome> = JoinSet::new();
    let mut failures: BTreeMap<String, u32> = BTreeMap::new();
    let (retry_tx, mut retries) = mpsc::unbounded_channel::<String>();
    loop {
        if synced.len() == stored.len() {
            while workers.len() < WORKERS {
                let Some(uid) = dirty.iter().find(|u| !running.contains(*u)).cloned() else {
                    break;
                };
                dirty.remove(&uid);
                if let Some(work) = work_for(&graph, &uid) {
                    running.insert(uid);
                    workers.spawn(reconcile(client.clone(), work));
                }
            }
        }
        tokio::select! {
            event = incoming.recv() => {
                let Some((index, event)) = event else { return };
                dirty.extend(apply_event(&mut graph, &mut synced, &mut listing, index, event));
            }
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
            () = shutdown.cancelled() => {
                watchers.abort_all();
                workers.abort_all();
                return;
            }
        }
    }
}

fn backoff(attempts: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempts.min(8))).min(Duration::from_secs(30))
}

type Meta = kube::core::PartialObjectMeta<DynamicObject>;

/// Feeds one resource's metadata watch into the graph's event channel.
async fn watch(
    client: Client,
    index: usize,
    resource: &'static Resource,
    events: mpsc::Sender<(usize, watcher::Event<Meta>)>,
) {
    let api: Api<Meta> = Api::all_with(client, &resource.api_resource());
    // The graph needs owners, finalizers and deletion; managedFields would only weigh.
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .modify(|meta| meta.metadata.managed_fields = None)
        .boxed();
    while let Some(event) = stream.next().await {
        match event {
            Ok(event) => {
                if events.send((index, event)).await.is_err() {
                    return;
                }
            }
            Err(err) => {
                tracing::debug!(resource = resource.plural, error = %err, "garbage collector watch failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Updates the graph from a watch event and returns the uids it made dirty.
fn apply_event(
    graph: &mut Graph,
    synced: &mut HashSet<usize>,
    listing: &mut HashMap<usize, HashSet<String>>,
    index: usize,
    event: watcher::Event<Meta>,
) -> Vec<String> {
    let resource = registry::RESOURCES[index];
    match event {
        watcher::Event::Init => {
            listing.insert(index, HashSet::new());
            Vec::new()
        }
        watcher::Event::InitApply(meta) => {
            let Some((uid, node)) = Node::from_meta(resource, &meta.metadata) else {
                return Vec::new();
            };
            listing.entry(index).or_default().insert(uid.clone());
            graph.upsert(uid, node)
        }
        watcher::Event::InitDone => {
            synced.insert(index);
            let seen = listing.remove(&index).unwrap_or_default();
            let stale: Vec<String> = graph
                .nodes
                .iter()
                .filter(|(uid, node)| std::ptr::eq(node.resource, resource) && !seen.contains(*uid))
                .map(|(uid, _)| uid.clone())
                .collect();
            stale.iter().flat_map(|uid| graph.remove(uid)).collect()
        }
        watcher::Event::Apply(meta) => match Node::from_meta(resource, &meta.metadata) {
            Some((uid, node)) => graph.upsert(uid, node),
            None => Vec::new(),
        },
        watcher::Event::Delete(meta) => match meta.metadata.uid.as_deref() {
            Some(uid) => graph.remove(uid),
            None => Vec::new(),
        },
    }
}

fn work_for(graph: &Graph, uid: &str) -> Option<Work> {
    let node = graph.nodes.get(uid)?.clone();
    let missing_owners = node
        .owners
        .iter()
        .filter(|o| !graph.nodes.contains_key(&o.uid))
        .cloned()
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
            gone.push(owner.uid.clone());
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

fn api_for(client: &Client, node: &Node) -> Api<DynamicObject> {
    let resource = node.resource.api_resource();
    match &node.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// Asks the API whether an owner the graph has not seen exists, so a dependent is never
/// deleted only because its owner's event has not arrived yet.
async fn owner_exists(
    client: &Client,
    dependent: &Node,
    owner: &OwnerReference,
) -> Result<bool, Error> {
    let resource = registry::BUILT_IN
        .find_kind(&owner.api_version, &owner.kind)
        .ok_or_else(|| Error::UnknownOwnerKind(owner.api_version.clone(), owner.kind.clone()))?;
    let namespace = dependent.namespace.clone().filter(|_| resource.namespaced);
    let probe = Node {
        resource,
        namespace,
        name: owner.name.clone(),
        owners: Vec::new(),
        deleting: false,
        finalizers: Vec::new(),
    };
    let found = api_for(client, &probe).get_opt(&owner.name).await?;
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
    match api_for(client, node).delete(&node.name, &params).await {
        Ok(_) => Ok(()),
        Err(err) if is_gone(&err) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Drops the reference to `owner_uid` from an object, guarded by its resourceVersion.
async fn remove_owner(client: &Client, node: &Node, owner_uid: &str) -> Result<(), Error> {
    let api = api_for(client, node);
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
    let api = api_for(client, node);
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

    fn pods() -> &'static Resource {
        registry::find("", "v1", "pods").unwrap()
    }

    #[test]
    fn an_owner_going_makes_its_dependents_dirty() {
        let mut graph = Graph::default();
        let (rs, rs_node) = Node::from_meta(
            registry::find("apps", "v1", "replicasets").unwrap(),
            &meta("rs", &[]),
        )
        .unwrap();
        assert!(
            graph.upsert(rs, rs_node).is_empty(),
            "an object without owners or finalizers needs nothing"
        );
        let (pod, pod_node) = Node::from_meta(pods(), &meta("pod", &["rs"])).unwrap();
        assert_eq!(graph.upsert(pod, pod_node), ["pod", "rs"]);
        assert_eq!(graph.dependents_of("rs").len(), 1);
        assert_eq!(graph.remove("rs"), ["pod"]);
        let work = work_for(&graph, "pod").unwrap();
        assert_eq!(work.missing_owners.len(), 1);
    }

    #[test]
    fn unchanged_updates_dirty_nothing() {
        let mut graph = Graph::default();
        let (pod, node) = Node::from_meta(pods(), &meta("pod", &["rs"])).unwrap();
        graph.upsert(pod.clone(), node.clone());
        assert!(graph.upsert(pod, node).is_empty());
    }

    #[test]
    fn a_dependent_going_makes_its_owner_dirty() {
        let mut graph = Graph::default();
        let (pod, node) = Node::from_meta(pods(), &meta("pod", &["rs"])).unwrap();
        graph.upsert(pod, node);
        assert_eq!(graph.remove("pod"), ["rs"]);
        assert!(graph.dependents_of("rs").is_empty());
    }
}
