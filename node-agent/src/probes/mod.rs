//! Liveness, readiness and startup probes, as upstream's kubelet prober runs them. Each probe
//! of a running container instance gets a worker ([`worker`]), started when pod sync first
//! sees the instance running and stopped when it stops or its pod goes. Workers conclude
//! [`Verdicts`]; pod sync reads them (readiness into the container's `ready` and the pod's
//! Ready conditions, startup into `started`, a failed liveness or startup probe into a kill)
//! and is woken whenever one changes. Containers of a runtime whose containers run no real
//! processes (the simulated one) are not probed, so they behave as containers without probes.

pub mod check;
mod grpc;
mod https;
mod worker;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::channel::mpsc;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, Probe};
use kube::runtime::reflector::ObjectRef;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use self::check::{Action, ContainerCheck};
use self::worker::{Reporting, Worker, lock};
use crate::events::{Recorder, Subject};
use crate::runtime::{
    ContainerRole, ContainerRuntime, ContainerState, PodKey, RuntimeContainer, RuntimePod,
};

/// The grace period of a pod that names none, upstream's default.
const DEFAULT_GRACE: i64 = 30;
/// The shortest grace period a probe's kill gives, upstream's minimum.
const MIN_KILL_GRACE: Duration = Duration::from_secs(2);

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Liveness,
    Readiness,
    Startup,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Startup, Kind::Liveness, Kind::Readiness];

    /// The probe's name as events spell it.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Liveness => "Liveness",
            Kind::Readiness => "Readiness",
            Kind::Startup => "Startup",
        }
    }

    /// The container's probe of this kind.
    fn of(self, container: &Container) -> Option<&Probe> {
        match self {
            Kind::Liveness => container.liveness_probe.as_ref(),
            Kind::Readiness => container.readiness_probe.as_ref(),
            Kind::Startup => container.startup_probe.as_ref(),
        }
    }

    /// The verdict before the first: a container is alive until shown otherwise, not ready
    /// until shown ready, and not known to have started.
    fn initial(self) -> Verdict {
        match self {
            Kind::Liveness => Verdict::Success,
            Kind::Readiness => Verdict::Failure,
            Kind::Startup => Verdict::Unknown,
        }
    }
}

/// What a probe has concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Unknown,
    Success,
    Failure,
}

/// What the probes of one container instance have concluded; `None` for a probe it lacks.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdicts {
    /// The instance, as the runtime names it.
    pub container_id: String,
    liveness: Option<Verdict>,
    readiness: Option<Verdict>,
    startup: Option<Verdict>,
}

/// The verdicts of a pod's probed containers, by container name.
pub type PodVerdicts = HashMap<String, Verdicts>;

/// The verdicts about `container`'s current instance, if it is probed.
pub fn of_instance<'v>(
    verdicts: &'v PodVerdicts,
    container: &RuntimeContainer,
) -> Option<&'v Verdicts> {
    verdicts
        .get(&container.name)
        .filter(|v| v.container_id == container.id)
}

impl Verdicts {
    /// The initial verdicts of an instance probed by `kinds`.
    pub fn new(container_id: &str, kinds: &[Kind]) -> Verdicts {
        let initial = |kind: Kind| kinds.contains(&kind).then(|| kind.initial());
        Verdicts {
            container_id: container_id.to_owned(),
            liveness: initial(Kind::Liveness),
            readiness: initial(Kind::Readiness),
            startup: initial(Kind::Startup),
        }
    }

    pub fn get(&self, kind: Kind) -> Option<Verdict> {
        match kind {
            Kind::Liveness => self.liveness,
            Kind::Readiness => self.readiness,
            Kind::Startup => self.startup,
        }
    }

    /// Sets the verdict of a probe the instance has; whether it changed.
    pub(crate) fn set(&mut self, kind: Kind, verdict: Verdict) -> bool {
        let slot = match kind {
            Kind::Liveness => &mut self.liveness,
            Kind::Readiness => &mut self.readiness,
            Kind::Startup => &mut self.startup,
        };
        match slot {
            Some(old) if *old != verdict => {
                *old = verdict;
                true
            }
            _ => false,
        }
    }

    /// Whether the container has started: it has no startup probe, or it succeeded.
    pub fn started(&self) -> bool {
        self.startup.is_none_or(|v| v == Verdict::Success)
    }

    /// Whether the container is ready: started, and without a readiness probe or passing it.
    pub fn ready(&self) -> bool {
        self.started() && self.readiness.is_none_or(|v| v == Verdict::Success)
    }

    /// The probe whose failure means the container is to be killed.
    pub fn failed(&self) -> Option<Kind> {
        [Kind::Liveness, Kind::Startup]
            .into_iter()
            .find(|kind| self.get(*kind) == Some(Verdict::Failure))
    }
}

/// A probe's timing and thresholds, with upstream's defaults and minimums.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl Settings {
    pub fn of(probe: &Probe, kind: Kind) -> Settings {
        let positive =
            |value: Option<i32>| value.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0);
        let seconds = |value: Option<i32>, default: u32| {
            Duration::from_secs(u64::from(positive(value).unwrap_or(default)))
        };
        Settings {
            initial_delay: seconds(probe.initial_delay_seconds, 0),
            period: seconds(probe.period_seconds, 10),
            timeout: seconds(probe.timeout_seconds, 1),
            // Liveness and startup probes must succeed once, as validation insists upstream.
            success_threshold: match kind {
                Kind::Readiness => positive(probe.success_threshold).unwrap_or(1),
                Kind::Liveness | Kind::Startup => 1,
            },
            failure_threshold: positive(probe.failure_threshold).unwrap_or(3),
        }
    }
}

/// How long a container killed for failing its `kind` probe may take to stop: the probe's own
/// `terminationGracePeriodSeconds`, else the pod's, and never less than upstream's 2 s.
pub fn kill_grace(pod: &PodSpec, container: &Container, kind: Kind) -> Duration {
    let seconds = kind
        .of(container)
        .and_then(|probe| probe.termination_grace_period_seconds)
        .or(pod.termination_grace_period_seconds)
        .unwrap_or(DEFAULT_GRACE);
    Duration::from_secs(u64::try_from(seconds).unwrap_or_default()).max(MIN_KILL_GRACE)
}

/// A pod as pod sync last saw it, for starting and stopping its probe workers.
pub struct Sighting<'a, R> {
    pub runtime: &'a Arc<R>,
    pub node: &'a str,
    pub pod: &'a Pod,
    pub key: &'a PodKey,
    pub observed: Option<&'a RuntimePod>,
    /// Where HTTP and TCP probes connect unless they name a host.
    pub pod_ip: Option<IpAddr>,
    pub now: Timestamp,
}

/// The probing of one container instance.
struct Probing {
    verdicts: Arc<Mutex<Verdicts>>,
    /// Stops its workers.
    stop: CancellationToken,
}

/// The probe workers of every pod of the process, and their verdicts.
pub struct Probes {
    /// By pod UID, then container name.
    pods: Mutex<HashMap<String, HashMap<String, Probing>>>,
    workers: Mutex<JoinSet<()>>,
    wake: mpsc::UnboundedSender<ObjectRef<Pod>>,
    events: Recorder,
    stop: CancellationToken,
}

impl Probes {
    /// Probes whose changed verdicts go to `wake`, and whose failures to `events`.
    pub fn new(wake: mpsc::UnboundedSender<ObjectRef<Pod>>, events: Recorder) -> Probes {
        Probes {
            pods: Mutex::default(),
            workers: Mutex::default(),
            wake,
            events,
            stop: CancellationToken::new(),
        }
    }

    /// Starts workers for the running instances of the pod's containers that have none yet,
    /// and stops those of instances no longer running. The verdicts of a stopped instance stay
    /// until its next instance starts: a container killed for a failed probe restarts whatever
    /// its exit code.
    pub fn sync<R: ContainerRuntime>(&self, sighting: &Sighting<'_, R>) {
        let Some(spec) = sighting.pod.spec.as_ref() else {
            return;
        };
        if !sighting.runtime.runs_processes() {
            return;
        }
        let mut pods = self.pods();
        let probed = pods.entry(sighting.key.uid.clone()).or_default();
        for container in &spec.containers {
            if Kind::ALL.iter().all(|kind| kind.of(container).is_none()) {
                continue;
            }
            let Some(instance) = sighting.observed.and_then(|p| p.container(&container.name))
            else {
                continue;
            };
            let current = probed.get(&container.name);
            match (&instance.state, current) {
                (ContainerState::Running { .. }, Some(probing))
                    if lock(&probing.verdicts).container_id == instance.id => {}
                (ContainerState::Running { started_at }, _) => {
                    if let Some(old) = probed.remove(&container.name) {
                        old.stop.cancel();
                    }
                    let since = Duration::try_from(sighting.now.duration_since(*started_at))
                        .unwrap_or_default();
                    let probing = self.start(sighting, container, &instance.id, since);
                    probed.insert(container.name.clone(), probing);
                }
                (ContainerState::Exited(_), Some(probing)) => probing.stop.cancel(),
                (ContainerState::Exited(_), None) => {}
            }
        }
        if probed.is_empty() {
            pods.remove(&sighting.key.uid);
        }
    }

    /// Starts a worker for each probe the container has that this agent runs (perhaps none,
    /// which is remembered too, so the probes left out are reported once per instance).
    /// `running_for` is how long the instance has run.
    fn start<R: ContainerRuntime>(
        &self,
        sighting: &Sighting<'_, R>,
        container: &Container,
        container_id: &str,
        running_for: Duration,
    ) -> Probing {
        let actions: Vec<(Kind, &Probe, _)> = Kind::ALL
            .into_iter()
            .filter_map(|kind| {
                let probe = kind.of(container)?;
                match Action::of(probe, container, sighting.pod_ip) {
                    Some(action) => Some((kind, probe, action)),
                    None => {
                        tracing::warn!(pod = %sighting.key, container = %container.name,
                            probe = kind.title(), "only exec, tcpSocket and HTTP httpGet probes are run; this one is left out");
                        None
                    }
                }
            })
            .collect();
        let kinds: Vec<Kind> = actions.iter().map(|(kind, ..)| *kind).collect();
        let verdicts = Arc::new(Mutex::new(Verdicts::new(container_id, &kinds)));
        let stop = self.stop.child_token();
        let subject = Subject::pod(sighting.pod, sighting.node)
            .container(ContainerRole::Main, &container.name);
        let mut workers = self.workers();
        // Reap the workers that ended, so the set holds only live ones.
        while workers.try_join_next().is_some() {}
        for (kind, probe, action) in actions {
            let settings = Settings::of(probe, kind);
            let worker = Worker {
                kind,
                settings,
                check: ContainerCheck {
                    runtime: sighting.runtime.clone(),
                    pod: sighting.key.clone(),
                    container: container.name.clone(),
                    action,
                },
                first_after: settings.initial_delay.saturating_sub(running_for),
                reporting: Reporting {
                    verdicts: verdicts.clone(),
                    wake: self.wake.clone(),
                    pod: ObjectRef::new(&sighting.key.name).within(&sighting.key.namespace),
                    events: self.events.clone(),
                    subject: subject.clone(),
                },
                stop: stop.clone(),
            };
            workers.spawn(worker.run());
        }
        Probing { verdicts, stop }
    }

    /// The verdicts of the pod's probed containers.
    pub fn verdicts(&self, uid: &str) -> PodVerdicts {
        self.pods()
            .get(uid)
            .map(|probed| {
                probed
                    .iter()
                    .map(|(name, probing)| (name.clone(), lock(&probing.verdicts).clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The pod is finished, terminating or gone: its workers stop and its verdicts go.
    pub fn forget(&self, uid: &str) {
        if let Some(probed) = self.pods().remove(uid) {
            probed.values().for_each(|probing| probing.stop.cancel());
        }
    }

    /// Forgets every pod whose UID `keep` refuses.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        self.pods().retain(|uid, probed| {
            let kept = keep(uid);
            if !kept {
                probed.values().for_each(|probing| probing.stop.cancel());
            }
            kept
        });
    }

    /// Stops every worker and waits for them to end.
    pub async fn shut_down(&self) {
        self.stop.cancel();
        let mut workers = std::mem::take(&mut *self.workers());
        while workers.join_next().await.is_some() {}
    }

    fn pods(&self) -> MutexGuard<'_, HashMap<String, HashMap<String, Probing>>> {
        self.pods.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn workers(&self) -> MutexGuard<'_, JoinSet<()>> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(value: serde_json::Value) -> Container {
        serde_json::from_value(value).unwrap()
    }

    #[tokio::test]
    async fn containers_of_a_runtime_without_processes_are_not_probed() {
        use crate::runtime::simulated::SimulatedRuntime;
        use crate::runtime::{RuntimeContainer, Sandbox};
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u"},
            "spec": {"containers": [{"name": "web",
                "readinessProbe": {"exec": {"command": ["false"]}}}]},
        }))
        .unwrap();
        let key = PodKey::of(&pod).unwrap();
        let now = Timestamp::now();
        let observed = RuntimePod {
            sandbox: Sandbox {
                ip: None,
                created_at: now,
                running: true,
            },
            containers: vec![RuntimeContainer {
                name: "web".into(),
                id: "simulated://1".into(),
                image: "i".into(),
                image_id: "i".into(),
                attempt: 0,
                state: ContainerState::Running { started_at: now },
                last_termination: None,
            }],
        };
        let (wake, _wakes) = mpsc::unbounded();
        let (events, _notes) = Recorder::queue(8);
        let probes = Probes::new(wake, events);
        probes.sync(&Sighting {
            runtime: &Arc::new(SimulatedRuntime::new()),
            node: "node-1",
            pod: &pod,
            key: &key,
            observed: Some(&observed),
            pod_ip: None,
            now,
        });
        assert!(probes.verdicts("u").is_empty());
        assert!(probes.workers().is_empty());
        probes.shut_down().await;
    }

    #[test]
    fn settings_take_upstream_defaults_and_minimums() {
        let probe: Probe = serde_json::from_value(json!({"exec": {"command": ["true"]}})).unwrap();
        assert_eq!(
            Settings::of(&probe, Kind::Readiness),
            Settings {
                initial_delay: Duration::ZERO,
                period: Duration::from_secs(10),
                timeout: Duration::from_secs(1),
                success_threshold: 1,
                failure_threshold: 3,
            }
        );
        let tuned: Probe = serde_json::from_value(json!({
            "initialDelaySeconds": 5, "periodSeconds": 2, "timeoutSeconds": 0,
            "successThreshold": 3, "failureThreshold": -1,
        }))
        .unwrap();
        let readiness = Settings::of(&tuned, Kind::Readiness);
        assert_eq!(
            (readiness.initial_delay, readiness.period, readiness.timeout),
            (
                Duration::from_secs(5),
                Duration::from_secs(2),
                Duration::from_secs(1)
            )
        );
        assert_eq!(
            (readiness.success_threshold, readiness.failure_threshold),
            (3, 3)
        );
        assert_eq!(Settings::of(&tuned, Kind::Liveness).success_threshold, 1);
    }

    #[test]
    fn verdicts_say_started_ready_and_what_failed() {
        let all = [Kind::Startup, Kind::Liveness, Kind::Readiness];
        let mut verdicts = Verdicts::new("docker://a", &all);
        assert!(!verdicts.started() && !verdicts.ready());
        assert_eq!(verdicts.failed(), None);
        assert!(verdicts.set(Kind::Startup, Verdict::Success));
        assert!(!verdicts.set(Kind::Startup, Verdict::Success));
        assert!(verdicts.started() && !verdicts.ready());
        verdicts.set(Kind::Readiness, Verdict::Success);
        assert!(verdicts.ready());
        verdicts.set(Kind::Liveness, Verdict::Failure);
        assert_eq!(verdicts.failed(), Some(Kind::Liveness));

        let none = Verdicts::new("docker://b", &[]);
        assert!(none.started() && none.ready());
        let mut only_liveness = Verdicts::new("docker://c", &[Kind::Liveness]);
        assert!(!only_liveness.set(Kind::Readiness, Verdict::Failure));
        assert!(only_liveness.ready());
    }

    #[test]
    fn a_probe_kill_takes_the_probes_grace_then_the_pods_and_at_least_two_seconds() {
        let spec: PodSpec =
            serde_json::from_value(json!({"containers": [], "terminationGracePeriodSeconds": 20}))
                .unwrap();
        let own = container(json!({"name": "web",
            "livenessProbe": {"tcpSocket": {"port": 80}, "terminationGracePeriodSeconds": 5}}));
        assert_eq!(
            kill_grace(&spec, &own, Kind::Liveness),
            Duration::from_secs(5)
        );
        assert_eq!(
            kill_grace(&spec, &own, Kind::Startup),
            Duration::from_secs(20)
        );
        let quick: PodSpec =
            serde_json::from_value(json!({"containers": [], "terminationGracePeriodSeconds": 0}))
                .unwrap();
        assert_eq!(kill_grace(&quick, &own, Kind::Startup), MIN_KILL_GRACE);
        assert_eq!(
            kill_grace(&PodSpec::default(), &own, Kind::Startup),
            Duration::from_secs(30)
        );
    }
}
