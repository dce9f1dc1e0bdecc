//! A pod's status as a kubelet reports it, computed from the pod and what its runtime runs:
//! phase, conditions, container statuses, addresses and start time. Pure, so every rule is a
//! unit test; [`patch`] turns the result into the smallest merge patch.

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState as ApiState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Map, Value};

use crate::conditions;
use crate::probes::{self, PodVerdicts, Verdicts};
use crate::pulls::PodPulls;
use crate::restart::{self, Decision, RestartPolicy};
use crate::runtime::{
    ContainerRole, ContainerState, PodKey, RuntimeContainer, RuntimePod, Termination,
};

/// The conditions a kubelet owns, in the order it reports them; others (PodScheduled from
/// the binding, DisruptionTarget, readiness gates) are kept as they are, after these.
const KUBELET_CONDITIONS: [&str; 4] = [
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
];

/// What the status is computed from.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub pod: &'a Pod,
    pub key: &'a PodKey,
    /// What the runtime runs for the pod; `None` before its sandbox exists or after removal.
    pub runtime: Option<&'a RuntimePod>,
    /// The pod's containers whose image could not be pulled.
    pub pulls: &'a PodPulls,
    /// The container (its name, and why) that this sync could not start because what its
    /// environment names is missing from the API: upstream's CreateContainerConfigError.
    pub config_error: Option<(&'a str, &'a str)>,
    /// What the probes of its containers concluded.
    pub probes: &'a PodVerdicts,
    pub host_ip: IpAddr,
    /// The pod is being deleted and its containers were stopped: its phase becomes terminal
    /// and nothing restarts.
    pub terminating: bool,
    pub now: Timestamp,
}

/// The pod's status after this observation; fields the kubelet does not own are kept.
pub fn pod_status(o: &Observation) -> PodStatus {
    let old = o.pod.status.clone().unwrap_or_default();
    let no_spec = PodSpec::default();
    let spec = o.pod.spec.as_ref().unwrap_or(&no_spec);
    let policy = if o.terminating {
        RestartPolicy::Never
    } else {
        RestartPolicy::of(spec)
    };
    let init_specs = spec.init_containers.as_deref().unwrap_or_default();
    let incomplete: Vec<&str> = init_specs
        .iter()
        .filter(|c| !completed(o.runtime.and_then(|p| p.container(&c.name))))
        .map(|c| c.name.as_str())
        .collect();
    let initialized = incomplete.is_empty();
    let main_waiting = if initialized {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let init_statuses = statuses(
        o,
        init_specs,
        ContainerRole::Init,
        policy.for_init(),
        "PodInitializing",
    );
    let main_statuses = statuses(
        o,
        &spec.containers,
        ContainerRole::Main,
        policy,
        main_waiting,
    );
    let phase = phase(policy, &init_statuses, &main_statuses, o.terminating);
    let unready: Vec<&str> = main_statuses
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let facts = Facts {
        sandbox_ready: o.runtime.is_some_and(|pod| pod.sandbox.running),
        incomplete,
        unready,
        succeeded: phase == "Succeeded",
    };
    let host_ip = o.host_ip.to_string();
    let pod_ip = match o.runtime {
        Some(_) if spec.host_network == Some(true) => Some(host_ip.clone()),
        Some(pod) => pod.sandbox.ip.map(|ip| ip.to_string()),
        None => old.pod_ip.clone(),
    };
    PodStatus {
        phase: Some(phase.to_owned()),
        conditions: Some(pod_conditions(
            old.conditions.as_deref().unwrap_or_default(),
            &facts,
            o.now,
        )),
        host_ips: Some(vec![HostIP {
            ip: host_ip.clone(),
        }]),
        host_ip: Some(host_ip),
        pod_ips: pod_ip.clone().map(|ip| vec![PodIP { ip }]),
        pod_ip,
        start_time: old.start_time.clone().or(Some(Time(o.now))),
        init_container_statuses: (!init_specs.is_empty()).then_some(init_statuses),
        container_statuses: Some(main_statuses),
        ..old
    }
}

/// The merge patch that turns `old` into `new`, or `None` when they are the same. Lists are
/// replaced whole, as a merge patch does; fields `new` lacks are removed.
pub fn patch(old: Option<&PodStatus>, new: &PodStatus) -> Result<Option<Value>, serde_json::Error> {
    let old = match old {
        Some(old) => serde_json::to_value(old)?,
        None => Value::Object(Map::new()),
    };
    let new = serde_json::to_value(new)?;
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return Ok(None);
    };
    let mut patch: Map<String, Value> = new
        .iter()
        .filter(|(field, value)| old.get(*field) != Some(value))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    for field in old.keys().filter(|field| !new.contains_key(*field)) {
        patch.insert(field.clone(), Value::Null);
    }
    Ok((!patch.is_empty()).then_some(Value::Object(patch)))
}

/// Whether an init container ran to completion.
fn completed(container: Option<&RuntimeContainer>) -> bool {
    matches!(container.map(|c| &c.state), Some(ContainerState::Exited(t)) if t.exit_code == 0)
}

fn statuses(
    o: &Observation,
    specs: &[Container],
    role: ContainerRole,
    policy: RestartPolicy,
    waiting_reason: &str,
) -> Vec<ContainerStatus> {
    specs
        .iter()
        .map(
            |spec| match o.runtime.and_then(|p| p.container(&spec.name)) {
                Some(observed) => observed_status(o, observed, role, policy),
                None => ContainerStatus {
                    name: spec.name.clone(),
                    image: spec.image.clone().unwrap_or_default(),
                    started: Some(false),
                    state: Some(
                        match (config_error(o, &spec.name), o.pulls.get(&spec.name)) {
                            (Some(state), _) => state,
                            (None, Some(failure)) => pulling(failure.waiting()),
                            (None, None) => waiting(waiting_reason, None),
                        },
                    ),
                    last_state: Some(ApiState::default()),
                    ..ContainerStatus::default()
                },
            },
        )
        .collect()
}

fn observed_status(
    o: &Observation,
    container: &RuntimeContainer,
    role: ContainerRole,
    policy: RestartPolicy,
) -> ContainerStatus {
    let previous = || container.last_termination.as_ref().map(terminated);
    let verdicts = probes::of_instance(o.probes, container);
    let next_instance = config_error(o, &container.name)
        .or_else(|| o.pulls.get(&container.name).map(|f| pulling(f.waiting())));
    let (state, last_state, running) = match (&container.state, next_instance) {
        (ContainerState::Running { started_at }, _) => (
            ApiState {
                running: Some(ContainerStateRunning {
                    started_at: Some(Time(*started_at)),
                }),
                ..ApiState::default()
            },
            previous(),
            true,
        ),
        // The next instance waits for its configuration or its image.
        (ContainerState::Exited(termination), Some(state)) => {
            (state, Some(terminated(termination)), false)
        }
        (ContainerState::Exited(termination), None) => {
            let policy = match verdicts.and_then(Verdicts::failed) {
                Some(_) => policy.after_probe_kill(),
                None => policy,
            };
            match restart::decide(policy, container.attempt, termination, o.now) {
                Decision::BackOff { delay, .. } => {
                    let message = format!(
                        "back-off {} restarting failed container={} pod={}",
                        go_duration(delay),
                        container.name,
                        o.key
                    );
                    (
                        waiting("CrashLoopBackOff", Some(message)),
                        Some(terminated(termination)),
                        false,
                    )
                }
                Decision::Restart | Decision::Stay => (terminated(termination), previous(), false),
            }
        }
    };
    ContainerStatus {
        name: container.name.clone(),
        image: container.image.clone(),
        image_id: container.image_id.clone(),
        container_id: Some(container.id.clone()),
        // Without probes a running main container has started and is ready; with them, once
        // they say so.
        ready: running && role == ContainerRole::Main && verdicts.is_none_or(Verdicts::ready),
        started: Some(running && verdicts.is_none_or(Verdicts::started)),
        restart_count: i32::try_from(container.attempt).unwrap_or(i32::MAX),
        state: Some(state),
        last_state: Some(last_state.unwrap_or_default()),
        ..ContainerStatus::default()
    }
}

fn waiting(reason: &str, message: Option<String>) -> ApiState {
    ApiState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_owned()),
            message,
        }),
        ..ApiState::default()
    }
}

/// Waiting for what the container's environment names, if that is what stopped it.
fn config_error(o: &Observation, container: &str) -> Option<ApiState> {
    let (name, message) = o.config_error?;
    (name == container).then(|| waiting("CreateContainerConfigError", Some(message.to_owned())))
}

/// Waiting for an image that could not be pulled.
fn pulling((reason, message): (&str, String)) -> ApiState {
    waiting(reason, Some(message))
}

fn terminated(t: &Termination) -> ApiState {
    ApiState {
        terminated: Some(ContainerStateTerminated {
            container_id: Some(t.container_id.clone()),
            exit_code: t.exit_code,
            reason: Some(t.reason.clone()),
            started_at: Some(Time(t.started_at)),
            finished_at: Some(Time(t.finished_at)),
            ..ContainerStateTerminated::default()
        }),
        ..ApiState::default()
    }
}

/// Upstream's pod phase (kubelet's getPhase): Pending until initialized and every container
/// has run, Running while any runs or restarts, then Succeeded or Failed by exit codes.
fn phase(
    policy: RestartPolicy,
    init: &[ContainerStatus],
    main: &[ContainerStatus],
    terminating: bool,
) -> &'static str {
    let exit_code = |s: &ContainerStatus| {
        s.state
            .as_ref()
            .and_then(|state| state.terminated.as_ref())
            .map(|t| t.exit_code)
    };
    let init_failed = init
        .iter()
        .any(|s| exit_code(s).is_some_and(|code| code != 0));
    if init_failed && policy == RestartPolicy::Never {
        return "Failed";
    }
    let initialized = init.iter().all(|s| exit_code(s) == Some(0));
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for status in main {
        let state = status.state.as_ref();
        let restarting = status
            .last_state
            .as_ref()
            .is_some_and(|s| s.terminated.is_some());
        if state.is_some_and(|s| s.running.is_some()) {
            running += 1;
        } else if let Some(code) = exit_code(status) {
            stopped += 1;
            succeeded += usize::from(code == 0);
        } else if restarting {
            stopped += 1;
        } else {
            waiting += 1;
        }
    }
    if terminating {
        return if running == 0 && waiting == 0 && stopped == succeeded && initialized {
            "Succeeded"
        } else {
            "Failed"
        };
    }
    if !initialized || waiting > 0 || (running == 0 && stopped == 0) {
        "Pending"
    } else if running > 0 || policy == RestartPolicy::Always {
        // Exited containers of an Always pod are restarting.
        "Running"
    } else if stopped == succeeded {
        "Succeeded"
    } else if policy == RestartPolicy::Never {
        "Failed"
    } else {
        // OnFailure: the failed ones are restarting.
        "Running"
    }
}

/// What the kubelet's conditions are derived from.
struct Facts<'a> {
    sandbox_ready: bool,
    /// Init containers that have not completed.
    incomplete: Vec<&'a str>,
    /// Main containers that are not ready.
    unready: Vec<&'a str>,
    succeeded: bool,
}

fn pod_conditions(old: &[PodCondition], facts: &Facts, now: Timestamp) -> Vec<PodCondition> {
    let ready = match (facts.succeeded, facts.unready.is_empty()) {
        (true, _) => (false, Some("PodCompleted"), None),
        (false, true) => (true, None, None),
        (false, false) => (
            false,
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                facts.unready.join(" ")
            )),
        ),
    };
    let initialized = match (facts.incomplete.is_empty(), facts.succeeded) {
        (true, true) => (true, Some("PodCompleted"), None),
        (true, false) => (true, None, None),
        (false, _) => (
            false,
            Some("ContainersNotInitialized"),
            Some(format!(
                "containers with incomplete status: [{}]",
                facts.incomplete.join(" ")
            )),
        ),
    };
    let derived = [
        (facts.sandbox_ready, None, None),
        initialized,
        ready.clone(),
        ready,
    ];
    let previous = |kind: &str| old.iter().find(|c| c.type_ == kind);
    let mut conditions: Vec<PodCondition> = KUBELET_CONDITIONS
        .into_iter()
        .zip(derived)
        .map(|(kind, (value, reason, message))| {
            let status = conditions::status(value);
            let before =
                previous(kind).map(|c| (c.status.as_str(), c.last_transition_time.as_ref()));
            PodCondition {
                type_: kind.to_owned(),
                status: status.to_owned(),
                reason: reason.map(str::to_owned),
                message,
                last_transition_time: Some(conditions::since(before, status, now)),
                ..PodCondition::default()
            }
        })
        .collect();
    conditions.extend(
        old.iter()
            .filter(|c| !KUBELET_CONDITIONS.contains(&c.type_.as_str()))
            .cloned(),
    );
    conditions
}

/// A duration to the millisecond as Go prints one: `10s`, `2m40s`, `1h0m0s`, `1.5s`, `250ms`.
pub fn go_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let millis = duration.subsec_millis();
    if seconds == 0 && millis > 0 {
        return format!("{millis}ms");
    }
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let s = match millis {
        0 => s.to_string(),
        _ => format!("{s}.{millis:03}").trim_end_matches('0').to_owned(),
    };
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Sandbox;
    use serde_json::json;

    const UID: &str = "0d6c1f2e";

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn key() -> PodKey {
        PodKey {
            uid: UID.into(),
            namespace: "default".into(),
            name: "web".into(),
        }
    }

    /// A bound pod as the server stores it: Pending, PodScheduled, a QoS class.
    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": UID},
            "spec": spec,
            "status": {
                "phase": "Pending",
                "qosClass": "BestEffort",
                "conditions": [{"type": "PodScheduled", "status": "True",
                                "lastTransitionTime": "2023-11-14T22:13:00Z"}],
            },
        }))
        .unwrap()
    }

    fn nginx() -> Pod {
        pod(json!({"containers": [{"name": "nginx", "image": "nginx:1.27"}]}))
    }

    fn container(name: &str, attempt: u32, state: ContainerState) -> RuntimeContainer {
        RuntimeContainer {
            name: name.into(),
            id: format!("simulated://{name}-{attempt}"),
            image: "nginx:1.27".into(),
            image_id: "nginx@sha256:abc".into(),
            attempt,
            state,
            last_termination: None,
        }
    }

    fn running_since(seconds: i64) -> ContainerState {
        ContainerState::Running {
            started_at: at(seconds),
        }
    }

    fn ended(name: &str, attempt: u32, exit_code: i32, finished: i64) -> Termination {
        Termination {
            container_id: format!("simulated://{name}-{attempt}"),
            exit_code,
            reason: if exit_code == 0 { "Completed" } else { "Error" }.into(),
            started_at: at(finished - 1),
            finished_at: at(finished),
        }
    }

    fn runtime(containers: Vec<RuntimeContainer>) -> RuntimePod {
        RuntimePod {
            sandbox: Sandbox {
                ip: Some("10.244.1.2".parse().unwrap()),
                created_at: at(0),
                running: true,
            },
            containers,
        }
    }

    fn observe(
        pod: &Pod,
        runtime: Option<&RuntimePod>,
        now: i64,
        terminating: bool,
    ) -> serde_json::Value {
        let key = key();
        let status = pod_status(&Observation {
            pod,
            key: &key,
            runtime,
            pulls: &PodPulls::new(),
            config_error: None,
            probes: &PodVerdicts::new(),
            host_ip: "172.18.0.3".parse().unwrap(),
            terminating,
            now: at(now),
        });
        serde_json::to_value(status).unwrap()
    }

    fn condition<'a>(status: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
        status["conditions"]
            .as_array()
            .and_then(|list| list.iter().find(|c| c["type"] == kind))
            .unwrap_or(&serde_json::Value::Null)
    }

    #[test]
    fn a_running_pod_reports_what_kubectl_shows_as_one_of_one_running() {
        let pod = nginx();
        let observed = runtime(vec![container("nginx", 0, running_since(5))]);
        let status = observe(&pod, Some(&observed), 6, false);
        assert_eq!(status["phase"], "Running");
        assert_eq!(status["podIP"], "10.244.1.2");
        assert_eq!(status["podIPs"], json!([{"ip": "10.244.1.2"}]));
        assert_eq!(status["hostIP"], "172.18.0.3");
        assert_eq!(status["hostIPs"], json!([{"ip": "172.18.0.3"}]));
        assert_eq!(status["startTime"], "2023-11-14T22:13:26Z");
        assert_eq!(status["qosClass"], "BestEffort");
        assert!(status.get("initContainerStatuses").is_none());
        let types: Vec<_> = status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled"
            ]
        );
        assert!(
            status["conditions"].as_array().unwrap()[..4]
                .iter()
                .all(|c| c["status"] == "True")
        );
        assert_eq!(
            condition(&status, "PodScheduled")["lastTransitionTime"],
            "2023-11-14T22:13:00Z"
        );
        assert_eq!(
            status["containerStatuses"],
            json!([{
                "name": "nginx",
                "image": "nginx:1.27",
                "imageID": "nginx@sha256:abc",
                "containerID": "simulated://nginx-0",
                "ready": true,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2023-11-14T22:13:25Z"}},
                "lastState": {},
            }])
        );
    }

    #[test]
    fn a_pod_without_a_sandbox_waits_in_container_creating() {
        let status = observe(&nginx(), None, 0, false);
        assert_eq!(status["phase"], "Pending");
        assert_eq!(
            condition(&status, "PodReadyToStartContainers")["status"],
            "False"
        );
        assert_eq!(condition(&status, "Initialized")["status"], "True");
        assert_eq!(
            condition(&status, "Ready"),
            &json!({"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                    "message": "containers with unready status: [nginx]",
                    "lastTransitionTime": "2023-11-14T22:13:20Z"})
        );
        assert_eq!(
            status["containerStatuses"][0]["state"],
            json!({"waiting": {"reason": "ContainerCreating"}})
        );
        assert!(status.get("podIP").is_none());
    }

    #[test]
    fn init_containers_hold_the_pod_in_pod_initializing() {
        let pod = pod(json!({
            "initContainers": [{"name": "setup", "image": "busybox"}, {"name": "migrate", "image": "busybox"}],
            "containers": [{"name": "nginx", "image": "nginx:1.27"}],
        }));
        let observed = runtime(vec![container(
            "setup",
            0,
            ContainerState::Exited(ended("setup", 0, 0, 3)),
        )]);
        let status = observe(&pod, Some(&observed), 4, false);
        assert_eq!(status["phase"], "Pending");
        assert_eq!(
            condition(&status, "Initialized")["message"],
            "containers with incomplete status: [migrate]"
        );
        let init = &status["initContainerStatuses"];
        assert_eq!(init[0]["state"]["terminated"]["reason"], "Completed");
        assert_eq!(init[0]["ready"], false);
        assert_eq!(
            init[1]["state"],
            json!({"waiting": {"reason": "PodInitializing"}})
        );
        assert_eq!(
            status["containerStatuses"][0]["state"],
            json!({"waiting": {"reason": "PodInitializing"}})
        );
    }

    #[test]
    fn a_crashing_container_waits_in_crash_loop_back_off_and_the_pod_keeps_running() {
        let mut crashed = container("nginx", 2, ContainerState::Exited(ended("nginx", 2, 1, 10)));
        crashed.last_termination = Some(ended("nginx", 1, 1, 5));
        let status = observe(&nginx(), Some(&runtime(vec![crashed])), 12, false);
        let nginx = &status["containerStatuses"][0];
        assert_eq!(status["phase"], "Running");
        assert_eq!(nginx["restartCount"], 2);
        assert_eq!(nginx["ready"], false);
        assert_eq!(
            nginx["state"]["waiting"],
            json!({"reason": "CrashLoopBackOff",
                   "message": format!("back-off 20s restarting failed container=nginx pod=web_default({UID})")})
        );
        assert_eq!(nginx["lastState"]["terminated"]["exitCode"], 1);
        assert_eq!(
            nginx["lastState"]["terminated"]["containerID"],
            "simulated://nginx-2"
        );
    }

    #[test]
    fn a_container_whose_environment_names_what_is_missing_waits_in_create_container_config_error()
    {
        let pod = nginx();
        let key = key();
        let observe = |config_error, runtime: &RuntimePod| {
            let status = pod_status(&Observation {
                pod: &pod,
                key: &key,
                runtime: Some(runtime),
                pulls: &PodPulls::new(),
                config_error,
                probes: &PodVerdicts::new(),
                host_ip: "172.18.0.3".parse().unwrap(),
                terminating: false,
                now: at(6),
            });
            serde_json::to_value(status).unwrap()
        };
        let missing = Some(("nginx", "configmap \"settings\" not found"));
        let never_ran = observe(missing, &runtime(vec![]));
        assert_eq!(never_ran["phase"], "Pending");
        assert_eq!(
            never_ran["containerStatuses"][0]["state"],
            json!({"waiting": {"reason": "CreateContainerConfigError",
                               "message": "configmap \"settings\" not found"}})
        );
        let exited = container("nginx", 0, ContainerState::Exited(ended("nginx", 0, 1, 5)));
        let restarting = observe(missing, &runtime(vec![exited]));
        let nginx = &restarting["containerStatuses"][0];
        assert_eq!(
            nginx["state"]["waiting"]["reason"],
            "CreateContainerConfigError"
        );
        assert_eq!(nginx["lastState"]["terminated"]["exitCode"], 1);
        let other = observe(
            Some(("sidecar", "secret \"s\" not found")),
            &runtime(vec![]),
        );
        assert_eq!(
            other["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
    }

    #[test]
    fn a_container_whose_image_cannot_be_pulled_waits_in_err_image_pull_then_back_off() {
        let pod = nginx();
        let key = key();
        let pulls = crate::pulls::PullFailures::default();
        pulls.failed(UID, "nginx", "nginx:1.27", "no such host", at(5));
        let observe = |pulls: &PodPulls| {
            let status = pod_status(&Observation {
                pod: &pod,
                key: &key,
                runtime: Some(&runtime(vec![])),
                pulls,
                config_error: None,
                probes: &PodVerdicts::new(),
                host_ip: "172.18.0.3".parse().unwrap(),
                terminating: false,
                now: at(6),
            });
            serde_json::to_value(status).unwrap()["containerStatuses"][0]["state"].clone()
        };
        assert_eq!(
            observe(&pulls.pod(UID)),
            json!({"waiting": {"reason": "ErrImagePull", "message": "no such host"}})
        );
        pulls.begin_sync(UID, at(6));
        assert_eq!(
            observe(&pulls.pod(UID)),
            json!({"waiting": {"reason": "ImagePullBackOff",
                               "message": "Back-off pulling image \"nginx:1.27\""}})
        );
    }

    #[test]
    fn probes_decide_when_a_container_has_started_and_is_ready() {
        use crate::probes::{Kind, Verdict};
        let pod = nginx();
        let key = key();
        let observed = runtime(vec![container("nginx", 0, running_since(5))]);
        let mut verdicts = Verdicts::new("simulated://nginx-0", &[Kind::Startup, Kind::Readiness]);
        let observe = |verdicts: &Verdicts| {
            let probes = PodVerdicts::from([("nginx".to_owned(), verdicts.clone())]);
            let status = pod_status(&Observation {
                pod: &pod,
                key: &key,
                runtime: Some(&observed),
                pulls: &PodPulls::new(),
                config_error: None,
                probes: &probes,
                host_ip: "172.18.0.3".parse().unwrap(),
                terminating: false,
                now: at(6),
            });
            let status = serde_json::to_value(status).unwrap();
            let nginx = &status["containerStatuses"][0];
            (
                nginx["started"].as_bool().unwrap(),
                nginx["ready"].as_bool().unwrap(),
                condition(&status, "ContainersReady")["status"].clone(),
                condition(&status, "Ready")["status"].clone(),
            )
        };
        assert_eq!(
            observe(&verdicts),
            (false, false, json!("False"), json!("False"))
        );
        verdicts.set(Kind::Startup, Verdict::Success);
        assert_eq!(
            observe(&verdicts),
            (true, false, json!("False"), json!("False"))
        );
        verdicts.set(Kind::Readiness, Verdict::Success);
        assert_eq!(
            observe(&verdicts),
            (true, true, json!("True"), json!("True"))
        );
        // Verdicts about another instance say nothing about this one.
        let mut stale = Verdicts::new("simulated://nginx-9", &[Kind::Readiness]);
        stale.set(Kind::Readiness, Verdict::Failure);
        assert_eq!(observe(&stale), (true, true, json!("True"), json!("True")));
    }

    #[test]
    fn a_restarted_container_reports_its_previous_run() {
        let mut restarted = container("nginx", 1, running_since(20));
        restarted.last_termination = Some(ended("nginx", 0, 137, 19));
        let status = observe(&nginx(), Some(&runtime(vec![restarted])), 21, false);
        let nginx = &status["containerStatuses"][0];
        assert_eq!(nginx["restartCount"], 1);
        assert_eq!(nginx["lastState"]["terminated"]["exitCode"], 137);
        assert_eq!(
            nginx["state"]["running"]["startedAt"],
            "2023-11-14T22:13:40Z"
        );
    }

    #[test]
    fn phases_follow_the_restart_policy() {
        let mut never = nginx();
        never.spec.as_mut().unwrap().restart_policy = Some("Never".into());
        let failed = runtime(vec![container(
            "nginx",
            0,
            ContainerState::Exited(ended("nginx", 0, 3, 9)),
        )]);
        assert_eq!(observe(&never, Some(&failed), 10, false)["phase"], "Failed");
        let done = runtime(vec![container(
            "nginx",
            0,
            ContainerState::Exited(ended("nginx", 0, 0, 9)),
        )]);
        let status = observe(&never, Some(&done), 10, false);
        assert_eq!(status["phase"], "Succeeded");
        assert_eq!(condition(&status, "Ready")["reason"], "PodCompleted");
        assert_eq!(condition(&status, "Initialized")["reason"], "PodCompleted");
        assert_eq!(
            status["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            0
        );
    }

    #[test]
    fn a_deleted_pod_ends_succeeded_or_failed_and_never_restarts() {
        let stopped = runtime(vec![container(
            "nginx",
            0,
            ContainerState::Exited(ended("nginx", 0, 0, 9)),
        )]);
        let status = observe(&nginx(), Some(&stopped), 10, true);
        assert_eq!(status["phase"], "Succeeded");
        assert!(status["containerStatuses"][0]["state"]["terminated"].is_object());
        assert_eq!(observe(&nginx(), None, 10, true)["phase"], "Failed");
    }

    #[test]
    fn transition_times_move_only_with_a_change_and_an_unchanged_status_needs_no_patch() {
        let mut pod = nginx();
        let observed = runtime(vec![container("nginx", 0, running_since(5))]);
        let key = key();
        let observation = |pod: &Pod, runtime, now| {
            pod_status(&Observation {
                pod,
                key: &key,
                runtime,
                pulls: &PodPulls::new(),
                config_error: None,
                probes: &PodVerdicts::new(),
                host_ip: "172.18.0.3".parse().unwrap(),
                terminating: false,
                now: at(now),
            })
        };
        pod.status = Some(observation(&pod, Some(&observed), 6));
        let again = observation(&pod, Some(&observed), 60);
        assert_eq!(patch(pod.status.as_ref(), &again).unwrap(), None);

        let waiting = observation(&pod, None, 70);
        let diff = patch(pod.status.as_ref(), &waiting).unwrap().unwrap();
        let value = serde_json::to_value(&waiting).unwrap();
        assert_eq!(
            condition(&value, "Ready")["lastTransitionTime"],
            "2023-11-14T22:14:30Z"
        );
        assert_eq!(
            condition(&value, "Initialized")["lastTransitionTime"],
            "2023-11-14T22:13:26Z"
        );
        assert_eq!(
            condition(&value, "PodScheduled")["lastTransitionTime"],
            "2023-11-14T22:13:00Z"
        );
        assert!(diff.get("conditions").is_some() && diff.get("containerStatuses").is_some());
        assert!(diff.get("hostIP").is_none() && diff.get("startTime").is_none());
    }

    #[test]
    fn a_patch_removes_what_the_new_status_lacks() {
        let old: PodStatus =
            serde_json::from_value(json!({"phase": "Running", "message": "old"})).unwrap();
        let new: PodStatus =
            serde_json::from_value(json!({"phase": "Running", "podIP": "10.0.0.2"})).unwrap();
        assert_eq!(
            patch(Some(&old), &new).unwrap(),
            Some(json!({"podIP": "10.0.0.2", "message": null}))
        );
        assert_eq!(
            patch(None, &old).unwrap(),
            Some(json!({"phase": "Running", "message": "old"}))
        );
    }

    #[test]
    fn durations_print_as_go_prints_them() {
        let printed: Vec<_> = [10, 80, 300, 3600]
            .map(|s| go_duration(Duration::from_secs(s)))
            .into();
        assert_eq!(printed, ["10s", "1m20s", "5m0s", "1h0m0s"]);
        let precise: Vec<_> = [0, 250, 1_500, 61_020]
            .map(|ms| go_duration(Duration::from_millis(ms)))
            .into();
        assert_eq!(precise, ["0s", "250ms", "1.5s", "1m1.02s"]);
    }
}
