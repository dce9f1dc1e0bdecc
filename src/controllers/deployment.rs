//! The Deployment controller: one ReplicaSet per pod template (`<deployment>-<pod-template-hash>`),
//! rolled from old to new within maxSurge and maxUnavailable (or all at once with Recreate),
//! revisions recorded in annotations so `kubectl rollout history/undo` work, old ReplicaSets
//! pruned to `revisionHistoryLimit`, and the status and conditions `kubectl rollout status` and
//! `kubectl wait --for=condition=Available` read.
//!
//! The decisions are plain functions of the Deployment and its ReplicaSets ([`plan`]); the
//! reconcile applies them with the fewest API calls.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::events::{Kind, Recorder};
use super::informers::{Informers, Synced};
use super::selector;

pub const HASH_LABEL: &str = "pod-template-hash";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// Annotations of the Deployment that are not copied to its ReplicaSets.
const NOT_COPIED: [&str; 5] = [
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "kubectl.kubernetes.io/last-applied-configuration",
];

struct Context {
    client: Client,
    replica_sets: Store<ReplicaSet>,
    replica_sets_synced: Synced,
    recorder: Recorder,
}

pub fn start(
    client: &Client,
    informers: &mut Informers,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let context = Arc::new(Context {
        client: client.clone(),
        replica_sets: informers.replica_sets.store(),
        replica_sets_synced: informers.replica_sets.synced(),
        recorder: Recorder::new(client.clone(), "deployment-controller"),
    });
    let (controller, synced) = informers.deployments.controller(shutdown);
    let controller = controller.owns_shared_stream(informers.replica_sets.subscribe());
    synced.run(controller, reconcile, error_policy, context)
}

/// What a rollout step changes: new replica counts for ReplicaSets, by name.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    scale: BTreeMap<String, i32>,
}

/// The rollout parameters resolved against the desired replicas, as upstream resolves them:
/// surge rounds up, unavailability down, and both zero means one may be unavailable.
fn surge_and_unavailable(deployment: &Deployment) -> (i32, i32) {
    let spec = deployment.spec.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let rolling = spec
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    let resolve = |value: Option<&IntOrString>, default: &str, round_up: bool| -> i32 {
        match value {
            Some(IntOrString::Int(n)) => *n,
            Some(IntOrString::String(s)) => percent(s, desired, round_up),
            None => percent(default, desired, round_up),
        }
    };
    let surge = resolve(rolling.and_then(|r| r.max_surge.as_ref()), "25%", true);
    let unavailable = resolve(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        "25%",
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

fn percent(text: &str, total: i32, round_up: bool) -> i32 {
    let value: i64 = text.trim_end_matches('%').parse().unwrap_or(0);
    let scaled = value * i64::from(total);
    let result = if round_up {
        (scaled + 99) / 100
    } else {
        scaled / 100
    };
    result as i32
}

fn is_recreate(deployment: &Deployment) -> bool {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("Recreate")
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

fn status_of(rs: &ReplicaSet) -> (i32, i32, i32) {
    let status = rs.status.as_ref();
    (
        status.map_or(0, |s| s.replicas),
        status.and_then(|s| s.ready_replicas).unwrap_or(0),
        status.and_then(|s| s.available_replicas).unwrap_or(0),
    )
}

/// The next scaling step of a rollout towards `new` from `old` (oldest first).
fn plan(deployment: &Deployment, new: &ReplicaSet, old: &[&ReplicaSet]) -> Plan {
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let mut plan = Plan::default();
    let old_pods: i32 = old
        .iter()
        .map(|rs| spec_replicas(rs).max(status_of(rs).0))
        .sum();
    if is_recreate(deployment) {
        for rs in old.iter().filter(|rs| spec_replicas(rs) > 0) {
            plan.scale.insert(rs.name_any(), 0);
        }
        if old_pods == 0 && spec_replicas(new) != desired {
            plan.scale.insert(new.name_any(), desired);
        }
        return plan;
    }
    let (surge, max_unavailable) = surge_and_unavailable(deployment);
    let new_replicas = spec_replicas(new);
    let old_replicas: i32 = old.iter().map(|rs| spec_replicas(rs)).sum();
    // Scale the new ReplicaSet up as far as the surge allows. Pods an old ReplicaSet still
    // has beyond its lowered spec count until its controller has removed them, so that there
    // are never more than `desired + surge` pods at once.
    let target_new = if new_replicas > desired {
        desired
    } else {
        let room = desired + surge - (new_replicas.max(status_of(new).0) + old_pods);
        (new_replicas + room.max(0)).min(desired)
    };
    if target_new != new_replicas {
        plan.scale.insert(new.name_any(), target_new);
    }
    // Scale old ReplicaSets down as far as availability allows, in upstream's two passes:
    // first pods that are not available anyway, within what the new ReplicaSet's unready
    // pods leave, then available pods down to the minimum that must stay available.
    // A ReplicaSet's status can lag its spec: a scaled-down one cannot have more available
    // pods than its spec allows once its controller acts, so availability is capped by it.
    let min_available = desired - max_unavailable;
    let available = |rs: &ReplicaSet| status_of(rs).2.min(spec_replicas(rs));
    let new_available = available(new);
    let new_unavailable = (target_new - new_available).max(0);
    let mut cleanup = target_new + old_replicas - min_available - new_unavailable;
    let old_available: i32 = old.iter().map(|rs| available(rs)).sum();
    let mut scale_down = new_available + old_available - min_available;
    for rs in old {
        let replicas = spec_replicas(rs);
        let available = status_of(rs).2.min(replicas);
        let unhealthy = (replicas - available).clamp(0, cleanup.max(0));
        cleanup -= unhealthy;
        let down = scale_down.clamp(0, replicas - unhealthy);
        scale_down -= down;
        let next = replicas - unhealthy - down;
        if next != replicas {
            plan.scale.insert(rs.name_any(), next);
        }
    }
    plan
}

/// A stable hash of a pod template, encoded as upstream encodes pod-template-hash values.
pub fn template_hash(template: &PodTemplateSpec, collision_count: i32) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    let text = serde_json::to_string(template).unwrap_or_default();
    for byte in text.bytes().chain(collision_count.to_string().bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    hash.to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// A template as it compares across the Deployment and its ReplicaSets: without the hash label.
fn without_hash(template: Option<&PodTemplateSpec>) -> Option<PodTemplateSpec> {
    let mut template = template?.clone();
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(HASH_LABEL);
    }
    Some(template)
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.annotations()
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

async fn reconcile(deployment: Arc<Deployment>, ctx: Arc<Context>) -> Result<Action, Error> {
    if deployment.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let (Some(spec), Some(uid)) = (deployment.spec.as_ref(), deployment.uid()) else {
        return Ok(Action::await_change());
    };
    if !ctx.replica_sets_synced.wait().await {
        return Ok(Action::await_change());
    }
    let namespace = deployment.namespace().unwrap_or_default();
    let api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &namespace);
    let owned = owned_replica_sets(&ctx, &api, &deployment, &uid).await?;
    let template = without_hash(Some(&spec.template));
    let mut new = owned
        .iter()
        .find(|rs| without_hash(rs.spec.as_ref().and_then(|s| s.template.as_ref())) == template)
        .cloned();
    let mut old: Vec<&Arc<ReplicaSet>> = owned
        .iter()
        .filter(|rs| Some(&rs.name_any()) != new.as_ref().map(|n| n.name_any()).as_ref())
        .collect();
    old.sort_by_key(|rs| (revision(rs), rs.creation_timestamp().map(|t| t.0)));
    let max_revision = owned.iter().map(|rs| revision(rs)).max().unwrap_or(0);
    let paused = spec.paused == Some(true);

    if !paused {
        new = Some(match new {
            Some(rs) => ensure_current(&api, &deployment, rs, max_revision).await?,
            None => create_new(&ctx, &api, &deployment, &old, max_revision).await?,
        });
        if let Some(new) = &new {
            record_revision(&ctx, &deployment, revision(new)).await?;
            let step = plan(
                &deployment,
                new,
                &old.iter().map(|rs| rs.as_ref()).collect::<Vec<_>>(),
            );
            apply_plan(&ctx, &api, &deployment, step, &owned).await?;
        }
        prune_history(&api, &deployment, &old).await?;
    } else if let Some(new) = &new {
        // A paused Deployment still follows `spec.replicas` on its current ReplicaSet.
        let desired = spec.replicas.unwrap_or(1);
        if spec_replicas(new) != desired && old.iter().all(|rs| spec_replicas(rs) == 0) {
            let step = Plan {
                scale: [(new.name_any(), desired)].into(),
            };
            apply_plan(&ctx, &api, &deployment, step, &owned).await?;
        }
    }
    let fresh: Vec<Arc<ReplicaSet>> = owned_now(&ctx, &deployment, &uid);
    let new_name = new.as_ref().map(|rs| rs.name_any());
    update_status(&ctx, &deployment, &fresh, new_name.as_deref()).await
}

/// The ReplicaSets the Deployment controls, adopting matching orphans.
async fn owned_replica_sets(
    ctx: &Context,
    api: &Api<ReplicaSet>,
    deployment: &Deployment,
    uid: &str,
) -> Result<Vec<Arc<ReplicaSet>>, Error> {
    let Some(selector) = deployment.spec.as_ref().map(|s| &s.selector) else {
        return Ok(Vec::new());
    };
    let mut owned = Vec::new();
    for rs in ctx
        .replica_sets
        .state()
        .into_iter()
        .filter(|rs| rs.namespace() == deployment.namespace())
    {
        let controller = rs
            .owner_references()
            .iter()
            .find(|o| o.controller == Some(true))
            .map(|o| o.uid.clone());
        let labels = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.as_ref());
        match controller {
            Some(owner) if owner == uid => owned.push(rs),
            None if rs.metadata.deletion_timestamp.is_none()
                && selector::matches(selector, labels) =>
            {
                let Some(mut reference) = deployment.controller_owner_ref(&()) else {
                    continue;
                };
                reference.block_owner_deletion = Some(true);
                let patch = json!({"metadata": {"ownerReferences": [reference], "resourceVersion": rs.resource_version()}});
                match api
                    .patch(
                        &rs.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(patch),
                    )
                    .await
                {
                    Ok(adopted) => owned.push(Arc::new(adopted)),
                    Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                    Err(err) => return Err(err.into()),
                }
            }
            _ => {}
        }
    }
    Ok(owned)
}

fn owned_now(ctx: &Context, deployment: &Deployment, uid: &str) -> Vec<Arc<ReplicaSet>> {
    ctx.replica_sets
        .state()
        .into_iter()
        .filter(|rs| rs.namespace() == deployment.namespace())
        .filter(|rs| {
            rs.owner_references()
                .iter()
                .any(|o| o.controller == Some(true) && o.uid == uid)
        })
        .collect()
}

/// The annotations a ReplicaSet of this Deployment carries at `revision`.
fn annotations_for(deployment: &Deployment, revision: i64) -> BTreeMap<String, String> {
    let (surge, _) = surge_and_unavailable(deployment);
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let mut annotations: BTreeMap<String, String> = deployment
        .annotations()
        .iter()
        .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    annotations.insert(REVISION.into(), revision.to_string());
    annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
    annotations.insert(MAX_REPLICAS.into(), (desired + surge).to_string());
    annotations
}

/// Creates the ReplicaSet for the Deployment's current template.
async fn create_new(
    ctx: &Context,
    api: &Api<ReplicaSet>,
    deployment: &Deployment,
    old: &[&Arc<ReplicaSet>],
    max_revision: i64,
) -> Result<Arc<ReplicaSet>, Error> {
    let spec = deployment.spec.as_ref().cloned().unwrap_or_default();
    let collision_count = deployment
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0);
    let hash = template_hash(&spec.template, collision_count);
    let mut template = spec.template.clone();
    template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.clone());
    let mut selector: LabelSelector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(HASH_LABEL.into(), hash.clone());
    let mut labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.clone());
    let desired = spec.replicas.unwrap_or(1);
    let old_pods: i32 = old.iter().map(|rs| spec_replicas(rs)).sum();
    // The first ReplicaSet starts at full size; a later one starts at zero and the rollout grows it.
    let replicas = if old_pods == 0 && !is_recreate(deployment) {
        desired
    } else {
        0
    };
    let mut reference = deployment.controller_owner_ref(&());
    if let Some(reference) = reference.as_mut() {
        reference.block_owner_deletion = Some(true);
    }
    let name = format!("{}-{hash}", deployment.name_any());
    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: deployment.namespace(),
            labels: Some(labels),
            annotations: Some(annotations_for(deployment, max_revision + 1)),
            owner_references: reference.map(|r| vec![r]),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    };
    let created = match api.create(&PostParams::default(), &rs).await {
        Ok(created) => created,
        Err(kube::Error::Api(status)) if status.code == 409 => {
            // A ReplicaSet of that name exists but did not match: a hash collision. Counting
            // it makes the next attempt pick another name.
            bump_collision_count(ctx, deployment, collision_count + 1).await?;
            return Err(kube::Error::Api(status).into());
        }
        Err(err) => return Err(err.into()),
    };
    if replicas > 0 {
        let message = format!("Scaled up replica set {name} from 0 to {replicas}");
        ctx.recorder
            .publish(deployment, Kind::Normal, "ScalingReplicaSet", message)
            .await;
    }
    Ok(Arc::new(created))
}

/// Writes the current revision onto the Deployment, where `kubectl rollout` reads it.
async fn record_revision(
    ctx: &Context,
    deployment: &Deployment,
    revision: i64,
) -> Result<(), Error> {
    if deployment.annotations().get(REVISION) == Some(&revision.to_string()) {
        return Ok(());
    }
    let api: Api<Deployment> = Api::namespaced(
        ctx.client.clone(),
        &deployment.namespace().unwrap_or_default(),
    );
    // An update of the cached object, as upstream's controller writes (its role allows no
    // patch); a conflict means a newer object is on its way, and brings another reconcile.
    let mut next = deployment.clone();
    next.annotations_mut()
        .insert(REVISION.to_string(), revision.to_string());
    api.replace(&deployment.name_any(), &PostParams::default(), &next)
        .await?;
    Ok(())
}

async fn bump_collision_count(
    ctx: &Context,
    deployment: &Deployment,
    count: i32,
) -> Result<(), Error> {
    let api: Api<Deployment> = Api::namespaced(
        ctx.client.clone(),
        &deployment.namespace().unwrap_or_default(),
    );
    let mut next = deployment.clone();
    next.status
        .get_or_insert_with(Default::default)
        .collision_count = Some(count);
    api.replace_status(&deployment.name_any(), &PostParams::default(), &next)
        .await?;
    Ok(())
}

/// Makes an existing ReplicaSet for the current template the newest revision (a rollback makes
/// an old one current again) with up-to-date annotations.
async fn ensure_current(
    api: &Api<ReplicaSet>,
    deployment: &Deployment,
    rs: Arc<ReplicaSet>,
    max_revision: i64,
) -> Result<Arc<ReplicaSet>, Error> {
    let current = revision(&rs);
    let target = if current < max_revision {
        max_revision + 1
    } else {
        current
    };
    let mut annotations = annotations_for(deployment, target);
    if target != current && current > 0 {
        let history = rs
            .annotations()
            .get(REVISION_HISTORY)
            .map(|h| format!("{h},{current}"))
            .unwrap_or_else(|| current.to_string());
        annotations.insert(REVISION_HISTORY.into(), history);
    } else if let Some(history) = rs.annotations().get(REVISION_HISTORY) {
        annotations.insert(REVISION_HISTORY.into(), history.clone());
    }
    let min_ready = deployment.spec.as_ref().and_then(|s| s.min_ready_seconds);
    let unchanged = annotations
        .iter()
        .all(|(k, v)| rs.annotations().get(k) == Some(v))
        && rs.spec.as_ref().and_then(|s| s.min_ready_seconds) == min_ready;
    if unchanged {
        return Ok(rs);
    }
    let patch =
        json!({"metadata": {"annotations": annotations}, "spec": {"minReadySeconds": min_ready}});
    Ok(Arc::new(
        api.patch(
            &rs.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await?,
    ))
}

async fn apply_plan(
    ctx: &Context,
    api: &Api<ReplicaSet>,
    deployment: &Deployment,
    plan: Plan,
    owned: &[Arc<ReplicaSet>],
) -> Result<(), Error> {
    for (name, replicas) in plan.scale {
        let before = owned
            .iter()
            .find(|rs| rs.name_any() == name)
            .map_or(0, |rs| spec_replicas(rs));
        let patch = json!({"spec": {"replicas": replicas}, "metadata": {"annotations": {DESIRED_REPLICAS: deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).to_string()}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        let direction = if replicas > before { "up" } else { "down" };
        let message = format!("Scaled {direction} replica set {name} from {before} to {replicas}");
        ctx.recorder
            .publish(deployment, Kind::Normal, "ScalingReplicaSet", message)
            .await;
    }
    Ok(())
}

/// Deletes the oldest idle ReplicaSets beyond `revisionHistoryLimit`.
async fn prune_history(
    api: &Api<ReplicaSet>,
    deployment: &Deployment,
    old: &[&Arc<ReplicaSet>],
) -> Result<(), Error> {
    let limit = deployment
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let idle: Vec<&&Arc<ReplicaSet>> = old
        .iter()
        .filter(|rs| spec_replicas(rs) == 0 && status_of(rs).0 == 0)
        .collect();
    let excess = idle.len().saturating_sub(limit);
    for rs in idle.into_iter().take(excess) {
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: rs.uid(),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match api.delete(&rs.name_any(), &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// Computes and writes the Deployment's status; requeues for the progress deadline.
async fn update_status(
    ctx: &Context,
    deployment: &Deployment,
    owned: &[Arc<ReplicaSet>],
    new: Option<&str>,
) -> Result<Action, Error> {
    let now = jiff::Timestamp::now();
    let status = compute_status(deployment, owned, new, now);
    let requeue = deadline_requeue(deployment, &status, now);
    if deployment.status.as_ref() != Some(&status) {
        let api: Api<Deployment> = Api::namespaced(
            ctx.client.clone(),
            &deployment.namespace().unwrap_or_default(),
        );
        let became_stuck = condition(&status, "Progressing")
            .is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT))
            && deployment
                .status
                .as_ref()
                .and_then(|s| condition(s, "Progressing"))
                .is_none_or(|c| c.reason.as_deref() != Some(TIMED_OUT));
        let mut next = deployment.clone();
        next.status = Some(status);
        api.replace_status(&deployment.name_any(), &PostParams::default(), &next)
            .await?;
        if became_stuck {
            let message = format!(
                "Deployment {:?} has timed out progressing.",
                deployment.name_any()
            );
            ctx.recorder
                .publish(
                    deployment,
                    Kind::Warning,
                    "ProgressDeadlineExceeded",
                    message,
                )
                .await;
        }
    }
    Ok(requeue.map_or(Action::await_change(), Action::requeue))
}

const TIMED_OUT: &str = "ProgressDeadlineExceeded";

fn condition<'a>(status: &'a DeploymentStatus, kind: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == kind)
}

/// Whether the rollout to the current template is complete, as `kubectl rollout status` judges.
fn complete(desired: i32, status: &DeploymentStatus) -> bool {
    status.updated_replicas.unwrap_or(0) == desired
        && status.replicas.unwrap_or(0) == desired
        && status.available_replicas.unwrap_or(0) == desired
}

fn compute_status(
    deployment: &Deployment,
    owned: &[Arc<ReplicaSet>],
    new: Option<&str>,
    now: jiff::Timestamp,
) -> DeploymentStatus {
    let spec = deployment.spec.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let sum = |f: fn(&ReplicaSet) -> i32| owned.iter().map(|rs| f(rs)).sum::<i32>();
    let replicas = sum(|rs| status_of(rs).0);
    let ready = sum(|rs| status_of(rs).1);
    let available = sum(|rs| status_of(rs).2);
    let updated = owned
        .iter()
        .filter(|rs| Some(rs.name_any().as_str()) == new)
        .map(|rs| status_of(rs).0)
        .sum();
    let previous = deployment.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: deployment.metadata.generation,
        replicas: Some(replicas),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        unavailable_replicas: Some((desired - available).max(0)),
        collision_count: previous.collision_count,
        conditions: previous.conditions.clone(),
        ..DeploymentStatus::default()
    };
    let (_, max_unavailable) = surge_and_unavailable(deployment);
    let (kind, reason, message) = if available >= desired - max_unavailable {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    set_condition(
        &mut status,
        "Available",
        kind,
        reason,
        message.to_owned(),
        now,
        false,
    );
    let progress = progressing(deployment, &status, &previous, new, now);
    let (kind, reason, message, progressed) = progress;
    set_condition(
        &mut status,
        "Progressing",
        kind,
        reason,
        message,
        now,
        progressed,
    );
    status
}

/// The Progressing condition: paused, complete, progressing (with progress made since last
/// time), or stuck past the deadline.
fn progressing(
    deployment: &Deployment,
    status: &DeploymentStatus,
    previous: &DeploymentStatus,
    new: Option<&str>,
    now: jiff::Timestamp,
) -> (&'static str, &'static str, String, bool) {
    let spec = deployment.spec.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let new = new.unwrap_or_default();
    if spec.and_then(|s| s.paused) == Some(true) {
        return (
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused".into(),
            false,
        );
    }
    let was_paused = condition(previous, "Progressing")
        .is_some_and(|c| c.reason.as_deref() == Some("DeploymentPaused"));
    if was_paused {
        return (
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed".into(),
            true,
        );
    }
    if complete(desired, status) {
        return (
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet {new:?} has successfully progressed."),
            true,
        );
    }
    let progressed = status.updated_replicas != previous.updated_replicas
        || status.available_replicas != previous.available_replicas
        || status.ready_replicas != previous.ready_replicas
        || status.replicas != previous.replicas
        || condition(previous, "Progressing").is_none();
    let deadline = spec
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600);
    let last_update = condition(previous, "Progressing")
        .and_then(|c| c.last_update_time.as_ref())
        .map(|t| t.0);
    let stuck = !progressed
        && last_update.is_some_and(|at| now.duration_since(at).as_secs() >= i64::from(deadline));
    let already_stuck =
        condition(previous, "Progressing").is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT));
    if (stuck || already_stuck) && !progressed {
        return (
            "False",
            TIMED_OUT,
            format!("ReplicaSet {new:?} has timed out progressing."),
            false,
        );
    }
    let created = condition(previous, "Progressing").is_none();
    if created {
        return (
            "True",
            "NewReplicaSetCreated",
            format!("Created new replica set {new:?}"),
            true,
        );
    }
    (
        "True",
        "ReplicaSetUpdated",
        format!("ReplicaSet {new:?} is progressing."),
        progressed,
    )
}

/// Sets a condition, moving lastTransitionTime only when the status changes and
/// lastUpdateTime when it changes or progress was made.
fn set_condition(
    status: &mut DeploymentStatus,
    kind: &str,
    value: &str,
    reason: &str,
    message: String,
    now: jiff::Timestamp,
    progressed: bool,
) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let stamp = Some(Time(now));
    match conditions.iter_mut().find(|c| c.type_ == kind) {
        Some(existing) => {
            if existing.status != value {
                existing.last_transition_time = stamp.clone();
                existing.last_update_time = stamp;
            } else if progressed || existing.reason.as_deref() != Some(reason) {
                existing.last_update_time = stamp;
            }
            existing.status = value.to_owned();
            existing.reason = Some(reason.to_owned());
            existing.message = Some(message);
        }
        None => conditions.push(DeploymentCondition {
            type_: kind.to_owned(),
            status: value.to_owned(),
            reason: Some(reason.to_owned()),
            message: Some(message),
            last_transition_time: stamp.clone(),
            last_update_time: stamp,
        }),
    }
}

/// When an unfinished rollout must be looked at again to notice its deadline passing.
fn deadline_requeue(
    deployment: &Deployment,
    status: &DeploymentStatus,
    now: jiff::Timestamp,
) -> Option<Duration> {
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let progressing = condition(status, "Progressing")?;
    if complete(desired, status)
        || progressing.reason.as_deref() == Some(TIMED_OUT)
        || progressing.status == "Unknown"
    {
        return None;
    }
    let deadline = deployment
        .spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600);
    let since = progressing.last_update_time.as_ref()?.0;
    let left = i64::from(deadline) - now.duration_since(since).as_secs();
    Some(Duration::from_secs(left.max(1) as u64))
}

fn error_policy(_deployment: Arc<Deployment>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "deployment reconcile will retry");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests;
