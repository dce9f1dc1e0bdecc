//! Pod sync: makes each node's runtime run the pods bound to the node and reports their
//! status, as upstream's syncPod and syncTerminatingPod do, recording the events a kubelet
//! records on the way. One pod watch feeds the whole process; kube-runtime's controller runs
//! one sync per pod at a time, again when the pod changes, when its runtime reports an exit,
//! when its node's network becomes ready, when a probe's verdict changes, and when a back-off
//! ends.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::channel::mpsc;
use futures::{StreamExt, stream};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, PodSpec, Service};
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::dns::{self, ClusterDns};
use crate::events::{self, Note, Recorder, Subject};
use crate::fleet::{Fleet, LocalNode};
use crate::housekeeping::Housekeeping;
use crate::notes;
use crate::plan::{self, Kill, Step, Waiting};
use crate::probes::{Probes, Sighting};
use crate::pulls::PodPulls;
use crate::resolve::{self, PodInfo, ResolveError};
use crate::runtime::{
    ContainerConfig, ContainerRole, ContainerRuntime, ContainerState, PodKey, RuntimeError,
    RuntimePod, SandboxConfig,
};
use crate::service_env;
use crate::status::{self, Observation};
use crate::tokens::Tokens;

/// How soon a failed sync is tried again.
const RETRY: Duration = Duration::from_secs(3);
/// The grace period of a pod that names none, upstream's default.
const DEFAULT_GRACE: i64 = 30;
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Why a pod could not be synced; it is tried again after [`RETRY`].
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("container runtime: {0}")]
    Runtime(#[from] RuntimeError),
    #[error("API request failed: {0}")]
    Api(#[from] kube::Error),
    /// What the container needs from the API is not there yet; it waits, and its status says
    /// so. The message is what upstream records on the pod (FailedMount, or the
    /// CreateContainerConfigError message).
    #[error("{0}")]
    Prepare(#[from] ResolveError),
    #[error("encoding the pod status: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Panicked(#[from] mkc_supervisor::Panicked),
}

/// What every sync shares.
pub struct Context<R> {
    pub client: Client,
    pub fleet: Arc<Fleet<R>>,
    /// The cluster's DNS, for pods that resolve names through it.
    pub cluster_dns: Option<ClusterDns>,
    /// Every Service, for the variables pods get for them.
    pub services: reflector::Store<Service>,
}

/// How many pods are synced at once, and how often a running pod is synced again to refresh
/// its API volumes.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub concurrency: u16,
    pub volume_refresh: Duration,
}

/// What every sync shares besides the [`Context`]: the probes of the process's pods, the
/// recorder of their events, their service account tokens, and the volume refresh interval.
struct Shared<R> {
    context: Arc<Context<R>>,
    probes: Probes,
    events: Recorder,
    tokens: Tokens,
    volume_refresh: Duration,
}

/// Where pod sync learns of pods to look at.
pub struct Inputs {
    pub store: reflector::Store<Pod>,
    pub writer: reflector::store::Writer<Pod>,
    /// Pods whose node's network became ready.
    pub wakes: mpsc::UnboundedReceiver<ObjectRef<Pod>>,
    pub housekeeping: Housekeeping,
}

/// Watches the pods bound to the fleet's nodes and syncs them until `shutdown`, letting the
/// syncs under way finish. A single node selects its own pods on the server, as a kubelet
/// does; a fleet watches every bound pod once and syncs those of its nodes.
pub async fn run<R: ContainerRuntime>(
    context: Arc<Context<R>>,
    inputs: Inputs,
    pacing: Pacing,
    shutdown: CancellationToken,
) {
    let selector = match context.fleet.single() {
        Some(node) => format!("spec.nodeName={}", node.config.name),
        None => "spec.nodeName!=".to_owned(),
    };
    let (events, writer) = events::recorder(context.client.clone());
    let writing = tokio::spawn(writer.run(shutdown.clone()));
    let (verdict_changes, verdicts_changed) = mpsc::unbounded();
    let shared = Arc::new(Shared {
        probes: Probes::new(verdict_changes, events.clone()),
        context,
        events,
        tokens: Tokens::default(),
        volume_refresh: pacing.volume_refresh,
    });
    let context = &shared.context;
    let housekeeping = inputs.housekeeping;
    let listed = Arc::new(AtomicBool::new(false));
    let saw_list = listed.clone();
    let (watched, store) = (shared.clone(), inputs.store.clone());
    let pods = watcher(
        Api::<Pod>::all(context.client.clone()),
        watcher::Config::default().fields(&selector),
    )
    .default_backoff()
    .modify(trim)
    .reflect(inputs.writer)
    .inspect(move |event| match event {
        Ok(watcher::Event::Delete(pod)) => {
            if let Some(uid) = pod.metadata.uid.as_deref() {
                watched.probes.forget(uid);
                watched.tokens.forget(uid);
            }
            housekeeping.forget(pod);
        }
        Ok(watcher::Event::InitDone) => {
            saw_list.store(true, Ordering::Release);
            let listed: std::collections::HashSet<String> = store
                .state()
                .iter()
                .filter_map(|pod| pod.metadata.uid.clone())
                .collect();
            watched.probes.retain(|uid| listed.contains(uid));
            watched.tokens.retain(|uid| listed.contains(uid));
            housekeeping.sweep();
        }
        _ => {}
    })
    .applied_objects();
    let exits = stream::select_all(
        context
            .fleet
            .iter()
            .map(|node| node.runtime.changes().boxed()),
    )
    .map(|pod: PodKey| ObjectRef::new(&pod.name).within(&pod.namespace));
    let controller = Controller::for_stream(pods, inputs.store)
        .with_config(controller::Config::default().concurrency(pacing.concurrency))
        .reconcile_on(exits)
        .reconcile_on(inputs.wakes)
        .reconcile_on(verdicts_changed)
        .graceful_shutdown_on(shutdown.clone().cancelled_owned())
        .run(
            |pod, ctx| mkc_supervisor::catch(reconcile(pod, ctx)),
            error_policy,
            shared.clone(),
        )
        .for_each(|outcome| async move {
            match outcome {
                // Sync failures are reported by error_policy.
                Ok(_) | Err(controller::Error::ReconcilerFailed(..)) => {}
                // A pod deleted before its turn came; housekeeping has it.
                Err(controller::Error::ObjectNotFound(pod)) => {
                    tracing::debug!(%pod, "pod gone before its sync");
                }
                Err(error) => tracing::warn!(%error, "watching pods failed; retrying"),
            }
        });
    let mut controller = pin!(controller);
    let ended = tokio::select! {
        () = &mut controller => true,
        () = shutdown.cancelled() => false,
    };
    // The controller holds every sync back until the first list, and would wait for that
    // list even after shutdown. Before it nothing is under way (the flag is set in the same
    // poll that makes the store ready), so the controller is dropped; after it, the syncs
    // under way finish.
    if !ended && listed.load(Ordering::Acquire) {
        controller.await;
    }
    shared.probes.shut_down().await;
    // The writer ends with the shutdown; a panic in it has been reported already.
    let _ = writing.await;
}

/// Drops what pod sync never reads, to keep thousands of pods small in memory.
fn trim(pod: &mut Pod) {
    pod.metadata.managed_fields = None;
    if let Some(annotations) = pod.metadata.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

async fn reconcile<R: ContainerRuntime>(
    pod: Arc<Pod>,
    shared: Arc<Shared<R>>,
) -> Result<Action, SyncError> {
    let context = &shared.context;
    let node_name = pod.spec.as_ref().and_then(|spec| spec.node_name.as_deref());
    let (Some(node), Some(key)) = (
        node_name.and_then(|n| context.fleet.get(n)),
        PodKey::of(&pod),
    ) else {
        return Ok(Action::await_change());
    };
    let sync = PodSync {
        api: Api::namespaced(context.client.clone(), &key.namespace),
        subject: Subject::pod(&pod, &node.config.name),
        node,
        pod: &pod,
        key,
        probes: &shared.probes,
        events: &shared.events,
        tokens: &shared.tokens,
        volume_refresh: shared.volume_refresh,
        cluster_dns: context.cluster_dns.as_ref(),
        services: &context.services,
    };
    if finished(&pod) {
        sync.release().await?;
        Ok(Action::await_change())
    } else if pod.metadata.deletion_timestamp.is_some() {
        sync.terminate().await?;
        Ok(Action::await_change())
    } else {
        sync.run().await
    }
}

fn error_policy<R>(pod: Arc<Pod>, error: &SyncError, _shared: Arc<Shared<R>>) -> Action {
    tracing::warn!(pod = %ObjectRef::from_obj(pod.as_ref()), %error, "syncing the pod failed");
    Action::requeue(RETRY)
}

/// Whether the pod reached a terminal phase: nothing of it runs again and its status is final.
fn finished(pod: &Pod) -> bool {
    let phase = pod
        .status
        .as_ref()
        .and_then(|status| status.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
}

/// One sync of one pod on its node.
struct PodSync<'a, R> {
    api: Api<Pod>,
    node: &'a Arc<LocalNode<R>>,
    pod: &'a Pod,
    key: PodKey,
    probes: &'a Probes,
    events: &'a Recorder,
    tokens: &'a Tokens,
    volume_refresh: Duration,
    cluster_dns: Option<&'a ClusterDns>,
    services: &'a reflector::Store<Service>,
    /// The pod, as its events name it.
    subject: Subject,
}

impl<R: ContainerRuntime> PodSync<'_, R> {
    /// Takes planned steps until none is left, reports the status, and says when to look
    /// again.
    async fn run(&self) -> Result<Action, SyncError> {
        let Some(spec) = self.pod.spec.as_ref() else {
            return Ok(Action::await_change());
        };
        self.node.pulls.begin_sync(&self.key.uid, Timestamp::now());
        let mut observed = self.observe().await?;
        // Only a pod that still needs its sandbox waits for the network: one the runtime
        // already runs (found again after an agent restart) has its address.
        let host_network = spec.host_network == Some(true);
        if observed.is_none()
            && !host_network
            && !self.node.network.admit(ObjectRef::from_obj(self.pod))
        {
            self.report(None, false).await?;
            return Ok(Action::await_change());
        }
        // Each round creates the sandbox, kills or starts containers, so a well-behaved
        // runtime converges well within this bound; past it, the pod is looked at again
        // shortly.
        let containers = spec.containers.len() + spec.init_containers.as_ref().map_or(0, Vec::len);
        let mut rounds_left = 2 + 3 * containers;
        let mut next = loop {
            let pulls = self.node.pulls.pod(&self.key.uid);
            let verdicts = self.probes.verdicts(&self.key.uid);
            let plan = plan::plan(spec, observed.as_ref(), &pulls, &verdicts, Timestamp::now());
            if plan.steps.is_empty() {
                self.backing_off(&plan.waiting, &pulls);
                break plan.retry_after;
            }
            if rounds_left == 0 {
                break Some(RETRY);
            }
            rounds_left -= 1;
            for step in plan.steps {
                self.take(step, observed.as_ref()).await?;
            }
            observed = self.observe().await?;
        };
        self.probes.sync(&Sighting {
            runtime: &self.node.runtime,
            node: &self.node.config.name,
            pod: self.pod,
            key: &self.key,
            observed: observed.as_ref(),
            pod_ip: match observed.as_ref() {
                Some(_) if host_network => Some(self.node.config.address),
                Some(pod) => pod.sandbox.ip,
                None => None,
            },
            now: Timestamp::now(),
        });
        if let Some(running) = observed.as_ref().filter(|pod| runs_any(pod))
            && self.refresh_volumes(running).await
        {
            let renewal = self.tokens.renewal(&self.key.uid);
            let refresh = refresh_after(self.volume_refresh, renewal, Timestamp::now());
            next = Some(next.map_or(refresh, |n| n.min(refresh)));
        }
        self.report(observed.as_ref(), false).await?;
        Ok(next.map_or_else(Action::await_change, Action::requeue))
    }

    /// Writes the pod's API volumes again; whether it has any, and so is to be looked at
    /// again after the refresh interval (or at a token's renewal). A failure keeps what the
    /// volume held, as upstream does, and is tried again then.
    async fn refresh_volumes(&self, observed: &RuntimePod) -> bool {
        let Some(dir) = self.node.runtime.volumes_dir(&self.key) else {
            return false;
        };
        let info = PodInfo::new(self.pod, &self.node.config, Some(observed));
        let client = kube::Client::from(self.api.clone());
        match resolve::refresh_volumes(&client, self.tokens, &info, &dir).await {
            Ok(any) => any,
            // Only a pod with such volumes can fail to refresh them.
            Err(error) => {
                tracing::warn!(pod = %self.key, %error, "refreshing the pod's volumes failed");
                true
            }
        }
    }

    fn record(&self, notes: impl IntoIterator<Item = Note>) {
        notes.into_iter().for_each(|note| self.events.record(note));
    }

    /// Records the back-offs the containers wait out in this sync.
    fn backing_off(&self, waiting: &[Waiting], pulls: &PodPulls) {
        for wait in waiting {
            let name = &wait.container.name;
            // The image a pull backs off from is the one that failed.
            let image = match pulls.get(name) {
                Some(failure) => failure.image.as_str(),
                None => wait.container.image.as_deref().unwrap_or_default(),
            };
            let subject = self.subject.container(wait.role, name);
            self.record(notes::backing_off(
                &subject,
                name,
                image,
                wait.back_off,
                &self.key,
            ));
        }
    }

    /// Takes one step on a pod whose runtime holds `observed`.
    async fn take(&self, step: Step<'_>, observed: Option<&RuntimePod>) -> Result<(), SyncError> {
        let runtime = &self.node.runtime;
        let done = match step {
            Step::CreateSandbox => {
                let no_spec = PodSpec::default();
                let spec = self.pod.spec.as_ref().unwrap_or(&no_spec);
                let dns = dns::pod_dns(spec, &self.key.namespace, self.cluster_dns);
                let config = SandboxConfig::of(self.key.clone(), spec, dns);
                runtime
                    .ensure_sandbox(&config)
                    .await
                    .map(drop)
                    .map_err(SyncError::from)
            }
            Step::Start(container) => self.start(container, observed).await,
            Step::Kill(kill) => self.kill(kill).await.map_err(SyncError::from),
        };
        match done {
            Ok(()) | Err(SyncError::Runtime(RuntimeError::AlreadyExists(_))) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Starts a container with what it needs from the API. Until that is there, the status
    /// is reported with the container waiting, and the failed sync is tried again.
    async fn start(
        &self,
        container: ContainerConfig<'_>,
        observed: Option<&RuntimePod>,
    ) -> Result<(), SyncError> {
        let (uid, name) = (&self.key.uid, &container.spec.name);
        let info = PodInfo::new(self.pod, &self.node.config, observed);
        let volumes_dir = self.node.runtime.volumes_dir(&self.key);
        let client = kube::Client::from(self.api.clone());
        // Upstream's kubelet, too, starts no container before it has listed the Services.
        let _ = self.services.wait_until_ready().await;
        let no_spec = PodSpec::default();
        let services = self.services.state();
        let service_env = service_env::variables(
            services.iter().map(|s| &**s),
            &self.key.namespace,
            self.pod.spec.as_ref().unwrap_or(&no_spec),
        );
        let prepared = match resolve::prepare(
            &client,
            self.tokens,
            &info,
            container.spec,
            &service_env,
            volumes_dir.as_deref(),
        )
        .await
        {
            Ok(prepared) => prepared,
            Err(error) => {
                let container = self.subject.container(container.role, name);
                self.record([notes::not_prepared(&self.subject, &container, &error)]);
                let now = self.observe().await?;
                // A volume that cannot be set up keeps the container ContainerCreating,
                // as upstream's volume manager does; anything else is the container's
                // configuration.
                let message = error.to_string();
                let config_error = match error {
                    ResolveError::Mount { .. } => None,
                    _ => Some((name.as_str(), message.as_str())),
                };
                self.report_with(now.as_ref(), false, config_error).await?;
                return Err(error.into());
            }
        };
        let subject = self.subject.container(container.role, name);
        let image = container.spec.image.as_deref().unwrap_or_default();
        let began = Timestamp::now();
        match self
            .node
            .runtime
            .start_container(&self.key, container, &prepared)
            .await
        {
            Ok(outcome) => {
                self.node.pulls.started(uid, name);
                self.record(notes::started(&subject, name, image, &outcome, began));
                Ok(())
            }
            // Not a failed sync: the container waits out the image back-off, and its status
            // says why.
            Err(RuntimeError::ImagePull { image, message }) => {
                let now = Timestamp::now();
                self.node.pulls.failed(uid, name, &image, &message, now);
                let never = container.spec.image_pull_policy.as_deref() == Some("Never");
                self.record(notes::pull_failed(&subject, &image, &message, never, began));
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Stops a container that failed its liveness or startup probe; the next round restarts
    /// it as the restart policy says.
    async fn kill(&self, kill: Kill<'_>) -> Result<(), RuntimeError> {
        let name = &kill.container.name;
        let subject = self.subject.container(ContainerRole::Main, name);
        self.record([notes::killing(&subject, name, Some(kill.message()))]);
        ignore_not_found(
            self.node
                .runtime
                .stop_container(&self.key, name, kill.grace)
                .await,
        )
    }

    /// Takes down what is left of a finished pod, freeing its address; its stopped containers
    /// stay until the pod goes.
    async fn release(&self) -> Result<(), SyncError> {
        self.probes.forget(&self.key.uid);
        self.node.pulls.forget(&self.key.uid);
        self.tokens.forget(&self.key.uid);
        Ok(ignore_not_found(
            self.node.runtime.stop_pod(&self.key, Duration::ZERO).await,
        )?)
    }

    /// Stops the pod's containers within what is left of its grace period, reports the final
    /// status, frees the sandbox, and confirms the deletion with a zero grace period.
    async fn terminate(&self) -> Result<(), SyncError> {
        let runtime = &self.node.runtime;
        self.probes.forget(&self.key.uid);
        self.node.pulls.forget(&self.key.uid);
        self.tokens.forget(&self.key.uid);
        if let Some(observed) = self.observe().await? {
            self.stopping(&observed);
        }
        let grace = remaining_grace(self.pod, Timestamp::now());
        ignore_not_found(runtime.stop_pod(&self.key, grace).await)?;
        let observed = self.observe().await?;
        self.report(observed.as_ref(), true).await?;
        ignore_not_found(runtime.remove_pod(&self.key).await)?;
        let confirm = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(self.key.uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match self.api.delete(&self.key.name, &confirm).await {
            Ok(_) => Ok(()),
            // Gone already, or a new pod took the name.
            Err(kube::Error::Api(status)) if status.is_not_found() || status.is_conflict() => {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Records a `Killing` event for each container of the pod still running.
    fn stopping(&self, observed: &RuntimePod) {
        let inits = self
            .pod
            .spec
            .as_ref()
            .and_then(|spec| spec.init_containers.as_deref())
            .unwrap_or_default();
        let running = observed
            .containers
            .iter()
            .filter(|c| matches!(c.state, ContainerState::Running { .. }));
        for container in running {
            let role = match inits.iter().any(|init| init.name == container.name) {
                true => ContainerRole::Init,
                false => ContainerRole::Main,
            };
            let subject = self.subject.container(role, &container.name);
            self.record([notes::killing(&subject, &container.name, None)]);
        }
    }

    async fn observe(&self) -> Result<Option<RuntimePod>, SyncError> {
        match self.node.runtime.pod_status(&self.key).await {
            Ok(pod) => Ok(Some(pod)),
            Err(RuntimeError::NotFound(_)) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Patches the pod's status when it differs from what the API holds. The patch names the
    /// resourceVersion it was computed from, so a status that changed meanwhile is never
    /// overwritten; that change brings the pod back here anyway.
    async fn report(
        &self,
        runtime: Option<&RuntimePod>,
        terminating: bool,
    ) -> Result<(), SyncError> {
        self.report_with(runtime, terminating, None).await
    }

    /// [`PodSync::report`], with the container this sync could not configure, and why.
    async fn report_with(
        &self,
        runtime: Option<&RuntimePod>,
        terminating: bool,
        config_error: Option<(&str, &str)>,
    ) -> Result<(), SyncError> {
        let status = status::pod_status(&Observation {
            pod: self.pod,
            key: &self.key,
            runtime,
            pulls: &self.node.pulls.pod(&self.key.uid),
            config_error,
            probes: &self.probes.verdicts(&self.key.uid),
            host_ip: self.node.config.address,
            terminating,
            now: Timestamp::now(),
        });
        let Some(changes) = status::patch(self.pod.status.as_ref(), &status)? else {
            return Ok(());
        };
        let body = json!({
            "metadata": {"resourceVersion": self.pod.metadata.resource_version},
            "status": changes,
        });
        match self
            .api
            .patch_status(
                &self.key.name,
                &PatchParams::default(),
                &Patch::Merge(&body),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.is_conflict() || status.is_not_found() => {
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// Whether any of the pod's containers runs.
fn runs_any(pod: &RuntimePod) -> bool {
    pod.containers
        .iter()
        .any(|c| matches!(c.state, ContainerState::Running { .. }))
}

/// How long until a running pod's API volumes are written again: the refresh interval, or
/// less when one of its tokens is due for renewal before then, so that a renewed token
/// reaches the containers whatever the interval. A renewal time already past (a renewal that
/// failed, the cached token kept) waits out the interval.
fn refresh_after(interval: Duration, renewal: Option<Timestamp>, now: Timestamp) -> Duration {
    let until_renewal = renewal.and_then(|at| Duration::try_from(now.duration_until(at)).ok());
    until_renewal.map_or(interval, |until| until.min(interval))
}

fn ignore_not_found(result: Result<(), RuntimeError>) -> Result<(), RuntimeError> {
    match result {
        Err(RuntimeError::NotFound(_)) => Ok(()),
        other => other,
    }
}

/// What is left of a deleted pod's grace period: its `deletionTimestamp` is the deadline, and
/// `deletionGracePeriodSeconds` (or the spec's period) bounds it.
fn remaining_grace(pod: &Pod, now: Timestamp) -> Duration {
    let seconds = pod
        .metadata
        .deletion_grace_period_seconds
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .unwrap_or(DEFAULT_GRACE);
    let period = Duration::from_secs(u64::try_from(seconds).unwrap_or_default());
    let Some(deadline) = &pod.metadata.deletion_timestamp else {
        return period;
    };
    let left = Duration::try_from(deadline.0.duration_since(now)).unwrap_or_default();
    left.min(period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deleted(grace: Option<i64>, deadline: &str, spec_grace: Option<i64>) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "deletionTimestamp": deadline,
                         "deletionGracePeriodSeconds": grace},
            "spec": {"containers": [], "terminationGracePeriodSeconds": spec_grace},
        }))
        .unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_grace_period_runs_out_at_the_deletion_timestamp() {
        let pod = deleted(Some(30), "2025-01-01T00:00:30Z", None);
        assert_eq!(
            remaining_grace(&pod, at("2025-01-01T00:00:00Z")),
            Duration::from_secs(30)
        );
        assert_eq!(
            remaining_grace(&pod, at("2025-01-01T00:00:20Z")),
            Duration::from_secs(10)
        );
        assert_eq!(
            remaining_grace(&pod, at("2025-01-01T00:01:00Z")),
            Duration::ZERO
        );
    }

    #[test]
    fn the_grace_period_never_exceeds_the_one_granted() {
        let pod = deleted(Some(5), "2025-01-01T00:01:00Z", Some(60));
        assert_eq!(
            remaining_grace(&pod, at("2025-01-01T00:00:00Z")),
            Duration::from_secs(5)
        );
        let unset = deleted(None, "2025-01-01T00:01:00Z", Some(10));
        assert_eq!(
            remaining_grace(&unset, at("2025-01-01T00:00:00Z")),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn volumes_are_refreshed_by_the_next_token_renewal() {
        let (now, minute) = (at("2025-01-01T00:00:00Z"), Duration::from_secs(60));
        assert_eq!(refresh_after(minute, None, now), minute);
        let soon = at("2025-01-01T00:00:20Z");
        assert_eq!(
            refresh_after(minute, Some(soon), now),
            Duration::from_secs(20)
        );
        let later = at("2025-01-01T01:00:00Z");
        assert_eq!(refresh_after(minute, Some(later), now), minute);
        let past = at("2024-12-31T23:59:00Z");
        assert_eq!(refresh_after(minute, Some(past), now), minute);
    }

    #[test]
    fn trimming_keeps_what_sync_reads() {
        let mut pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "uid": "u",
                         "annotations": {LAST_APPLIED: "{}", "keep": "me"},
                         "managedFields": [{"manager": "kubectl"}]},
            "spec": {"containers": [{"name": "c"}]},
        }))
        .unwrap();
        trim(&mut pod);
        assert!(pod.metadata.managed_fields.is_none());
        assert_eq!(pod.metadata.annotations.unwrap().len(), 1);
        assert!(pod.spec.is_some());
    }

    #[test]
    fn terminal_phases_are_finished() {
        let with_phase = |phase: &str| -> Pod {
            serde_json::from_value(json!({"metadata": {}, "status": {"phase": phase}})).unwrap()
        };
        assert!(finished(&with_phase("Succeeded")));
        assert!(finished(&with_phase("Failed")));
        assert!(!finished(&with_phase("Running")));
    }
}
