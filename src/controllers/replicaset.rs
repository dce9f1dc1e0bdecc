//! The ReplicaSet controller: keeps `spec.replicas` pods running for each ReplicaSet, owned
//! through controller ownerReferences, adopting matching orphans and releasing pods whose
//! labels stop matching, and reports the counts in the ReplicaSet's status.
//!
//! The pod cache can lag behind the controller's own writes, so every create and delete is
//! remembered ([`Expectations`]) until the cache shows it: a reconcile that runs before the
//! cache catches up counts the pods it already asked for and never makes more than asked.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::Action;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::events::{Kind, Recorder};
use super::informers::{Informers, Synced};
use super::owners::PodsByOwner;
use super::pace::Pace;
use super::{pods, selector};

/// The least time between two reconciles of one ReplicaSet (see [`Pace`]).
const PACE: Duration = Duration::from_millis(100);
/// How long a create or delete is waited for in the cache before it is assumed lost.
const EXPECTATION_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest batch of pods created at once, after upstream's slow start.
const MAX_BATCH: usize = 500;

struct Context {
    client: Client,
    pods: PodsByOwner,
    pace: Pace,
    pods_synced: Synced,
    recorder: Recorder,
    expectations: Expectations,
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    pods: PodsByOwner,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let context = Arc::new(Context {
        client: client.clone(),
        pods,
        pace: Pace::new(PACE),
        pods_synced: informers.pods.synced(),
        recorder: Recorder::new(client.clone(), "replicaset-controller"),
        expectations: Expectations::default(),
    });
    let (controller, synced) = informers.replica_sets.controller(shutdown);
    let controller = controller.owns_shared_stream(informers.pods.subscribe());
    synced.run(controller, reconcile, error_policy, context)
}

/// Creates and deletes not yet seen in the pod cache, per ReplicaSet UID: a ReplicaSet created
/// again under the same name starts clean, and what a deleted one left lapses.
#[derive(Default)]
struct Expectations {
    pending: Mutex<HashMap<String, Pending>>,
    /// When lapsed expectations of every ReplicaSet were last dropped: a deleted ReplicaSet is
    /// never reconciled again, so nothing else would drop its own.
    swept: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Pending {
    created: HashMap<String, Instant>,
    deleted: HashMap<String, Instant>,
}

impl Pending {
    fn newest(&self) -> Option<Instant> {
        self.created
            .values()
            .chain(self.deleted.values())
            .max()
            .copied()
    }
}

impl Expectations {
    /// Settles what the cache now shows and returns (pods created but not yet seen, names
    /// deleted but still seen).
    fn settle(&self, key: &str, seen: &BTreeMap<String, bool>) -> (usize, Vec<String>) {
        let Ok(mut pending) = self.pending.lock() else {
            return (0, Vec::new());
        };
        let now = Instant::now();
        if let Ok(mut swept) = self.swept.lock()
            && swept.is_none_or(|at| now.duration_since(at) >= EXPECTATION_TIMEOUT)
        {
            pending.retain(|_, entry| {
                entry
                    .newest()
                    .is_some_and(|at| now.duration_since(at) < EXPECTATION_TIMEOUT)
            });
            *swept = Some(now);
        }
        let Some(entry) = pending.get_mut(key) else {
            return (0, Vec::new());
        };
        entry.created.retain(|name, at| {
            !seen.contains_key(name) && now.duration_since(*at) < EXPECTATION_TIMEOUT
        });
        entry.deleted.retain(|name, at| {
            seen.get(name) == Some(&true) && now.duration_since(*at) < EXPECTATION_TIMEOUT
        });
        let settled = (entry.created.len(), entry.deleted.keys().cloned().collect());
        if entry.created.is_empty() && entry.deleted.is_empty() {
            pending.remove(key);
        }
        settled
    }

    fn created(&self, key: &str, name: String) {
        if let Ok(mut pending) = self.pending.lock() {
            pending
                .entry(key.to_owned())
                .or_default()
                .created
                .insert(name, Instant::now());
        }
    }

    fn deleted(&self, key: &str, name: String) {
        if let Ok(mut pending) = self.pending.lock() {
            pending
                .entry(key.to_owned())
                .or_default()
                .deleted
                .insert(name, Instant::now());
        }
    }

    fn forget(&self, key: &str) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(key);
        }
    }
}

async fn reconcile(rs: Arc<ReplicaSet>, ctx: Arc<Context>) -> Result<Action, Error> {
    let (Some(spec), Some(uid)) = (rs.spec.as_ref(), rs.uid()) else {
        return Ok(Action::await_change());
    };
    if rs.metadata.deletion_timestamp.is_some() {
        ctx.expectations.forget(&uid);
        ctx.pace.forget(&uid);
        return Ok(Action::await_change());
    }
    let key = format!("{}/{}", rs.namespace().unwrap_or_default(), rs.name_any());
    if let Some(wait) = ctx.pace.check(&uid) {
        return Ok(Action::requeue(wait));
    }
    // The pod cache must be complete before absent pods may be taken for missing ones.
    if !ctx.pods_synced.wait().await {
        return Ok(Action::await_change());
    }
    let namespace = rs.namespace().unwrap_or_default();
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    let claimed = claim(&ctx, &pods_api, &rs, &uid).await?;

    let active: Vec<&Arc<Pod>> = claimed.iter().filter(|p| pods::is_active(p)).collect();
    let seen: BTreeMap<String, bool> = claimed
        .iter()
        .map(|p| (p.name_any(), pods::is_active(p)))
        .collect();
    let (in_flight, leaving) = ctx.expectations.settle(&uid, &seen);
    let counted = active
        .iter()
        .filter(|p| !leaving.contains(&p.name_any()))
        .count()
        + in_flight;
    let desired = spec.replicas.unwrap_or(1).max(0) as usize;

    if counted < desired {
        create_pods(&ctx, &pods_api, &rs, &uid, desired - counted).await?;
    } else if counted > desired && in_flight == 0 {
        let candidates: Vec<&Arc<Pod>> = active
            .into_iter()
            .filter(|p| !leaving.contains(&p.name_any()))
            .collect();
        delete_pods(
            &ctx,
            &pods_api,
            &rs,
            &uid,
            pods::victims(candidates, counted - desired),
        )
        .await?;
    }

    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let status = status(&rs, &claimed, min_ready);
    tracing::debug!(replicaset = %key, claimed = claimed.len(), ready = ?status.ready_replicas, "replicaset reconciled");
    if rs.status.as_ref() != Some(&status) {
        let api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &namespace);
        // Upstream's controller updates the status of its cached object; its role allows
        // no patch.
        let mut next = (*rs).clone();
        next.status = Some(status);
        api.replace_status(&rs.name_any(), &PostParams::default(), &next)
            .await?;
    }
    // Pods that are ready but not yet available for minReadySeconds become available by time.
    Ok(match pods::next_available(&claimed, min_ready) {
        Some(after) => Action::requeue(after),
        None => Action::await_change(),
    })
}

/// The pods this ReplicaSet controls after adopting matching orphans and releasing pods whose
/// labels no longer match.
async fn claim(
    ctx: &Context,
    api: &Api<Pod>,
    rs: &ReplicaSet,
    uid: &str,
) -> Result<Vec<Arc<Pod>>, Error> {
    let Some(selector) = rs.spec.as_ref().map(|s| &s.selector) else {
        return Ok(Vec::new());
    };
    let namespace = rs.namespace().unwrap_or_default();
    let mut claimed = Vec::new();
    let candidates = ctx
        .pods
        .owned_by(uid)
        .into_iter()
        .chain(ctx.pods.orphans_in(&namespace));
    for pod in candidates {
        let controller = pod
            .owner_references()
            .iter()
            .find(|o| o.controller == Some(true));
        let matching = selector::matches(selector, pod.metadata.labels.as_ref());
        match (controller.map(|o| o.uid.as_str()), matching) {
            (Some(owner), true) if owner == uid => claimed.push(pod),
            (Some(owner), false) if owner == uid => release(api, &pod, uid).await?,
            (None, true)
                if pod.metadata.deletion_timestamp.is_none() && adopt(api, &pod, rs).await? =>
            {
                claimed.push(pod);
            }
            _ => {}
        }
    }
    Ok(claimed)
}

fn owner_reference(rs: &ReplicaSet) -> Option<OwnerReference> {
    let mut reference = rs.controller_owner_ref(&())?;
    reference.block_owner_deletion = Some(true);
    Some(reference)
}

/// Makes this ReplicaSet the controller of an orphan, guarded by the pod's uid and version.
async fn adopt(api: &Api<Pod>, pod: &Pod, rs: &ReplicaSet) -> Result<bool, Error> {
    let Some(reference) = owner_reference(rs) else {
        return Ok(false);
    };
    let mut owners = pod.owner_references().to_vec();
    owners.push(reference);
    let patch = json!({"metadata": {"ownerReferences": owners, "uid": pod.uid(), "resourceVersion": pod.resource_version()}});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Drops this ReplicaSet's reference from a pod whose labels no longer match.
async fn release(api: &Api<Pod>, pod: &Pod, uid: &str) -> Result<(), Error> {
    let owners: Vec<&OwnerReference> = pod
        .owner_references()
        .iter()
        .filter(|o| o.uid != uid)
        .collect();
    let patch = json!({"metadata": {
        "ownerReferences": if owners.is_empty() { serde_json::Value::Null } else { json!(owners) },
        "resourceVersion": pod.resource_version(),
    }});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The pod a ReplicaSet's template describes.
fn pod_from_template(template: &PodTemplateSpec, rs: &ReplicaSet) -> Pod {
    let meta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", rs.name_any())),
            namespace: rs.namespace(),
            labels: meta.labels,
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: owner_reference(rs).map(|r| vec![r]),
            ..ObjectMeta::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// Creates `count` pods in batches of growing size (1, 2, 4, …), as upstream's slow start, so a
/// template the server refuses fails once rather than `count` times.
async fn create_pods(
    ctx: &Context,
    api: &Api<Pod>,
    rs: &ReplicaSet,
    uid: &str,
    count: usize,
) -> Result<(), Error> {
    let Some(template) = rs.spec.as_ref().and_then(|s| s.template.as_ref()) else {
        return Ok(());
    };
    let pod = pod_from_template(template, rs);
    let params = PostParams::default();
    let mut remaining = count;
    let mut batch = 1;
    while remaining > 0 {
        let size = batch.min(remaining).min(MAX_BATCH);
        let mut creates: FuturesUnordered<_> =
            (0..size).map(|_| api.create(&params, &pod)).collect();
        let mut failure = None;
        while let Some(result) = creates.next().await {
            match result {
                Ok(created) => {
                    let name = created.name_any();
                    ctx.expectations.created(uid, name.clone());
                    ctx.recorder
                        .publish(
                            rs,
                            Kind::Normal,
                            "SuccessfulCreate",
                            format!("Created pod: {name}"),
                        )
                        .await;
                }
                Err(err) => failure = Some(err),
            }
        }
        if let Some(err) = failure {
            let message = format!("Error creating: {err}");
            ctx.recorder
                .publish(rs, Kind::Warning, "FailedCreate", message)
                .await;
            return Err(err.into());
        }
        remaining -= size;
        batch *= 2;
    }
    Ok(())
}

async fn delete_pods(
    ctx: &Context,
    api: &Api<Pod>,
    rs: &ReplicaSet,
    uid: &str,
    victims: Vec<&Arc<Pod>>,
) -> Result<(), Error> {
    let mut deletes: FuturesUnordered<_> = victims
        .into_iter()
        .map(|pod| async move {
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: pod.uid(),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            (pod.name_any(), api.delete(&pod.name_any(), &params).await)
        })
        .collect();
    while let Some((name, result)) = deletes.next().await {
        match result {
            Ok(_) => {
                ctx.expectations.deleted(uid, name.clone());
                ctx.recorder
                    .publish(
                        rs,
                        Kind::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    )
                    .await;
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// The status the controlled pods add up to.
fn status(rs: &ReplicaSet, pods: &[Arc<Pod>], min_ready_seconds: i32) -> ReplicaSetStatus {
    let template_labels = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let active: Vec<&Arc<Pod>> = pods.iter().filter(|p| pods::is_active(p)).collect();
    let fully_labeled = active
        .iter()
        .filter(|p| {
            let labels = p.metadata.labels.as_ref();
            template_labels
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .count();
    let ready = active.iter().filter(|p| pods::is_ready(p)).count();
    let available = active
        .iter()
        .filter(|p| pods::is_available(p, min_ready_seconds))
        .count();
    ReplicaSetStatus {
        replicas: active.len() as i32,
        fully_labeled_replicas: Some(fully_labeled as i32),
        ready_replicas: Some(ready as i32),
        available_replicas: Some(available as i32),
        observed_generation: rs.metadata.generation,
        conditions: rs.status.as_ref().and_then(|s| s.conditions.clone()),
        ..ReplicaSetStatus::default()
    }
}

fn error_policy(_rs: Arc<ReplicaSet>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "replicaset reconcile will retry");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn expectations_belong_to_one_replicaset_uid_and_lapse() {
        let expectations = Expectations::default();
        expectations.created("uid-old", "web-abc".into());
        let nothing_seen = BTreeMap::new();
        assert_eq!(expectations.settle("uid-old", &nothing_seen), (1, vec![]));
        // A ReplicaSet created again under the same name has a new UID and starts clean.
        assert_eq!(expectations.settle("uid-new", &nothing_seen), (0, vec![]));

        // One left behind by a ReplicaSet that went mid-reconcile is dropped once it lapses.
        tokio::time::advance(EXPECTATION_TIMEOUT).await;
        expectations.settle("uid-new", &nothing_seen);
        assert!(expectations.pending.lock().unwrap().is_empty());
    }
}
