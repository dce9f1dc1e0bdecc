//! What to do next for a pod, from its spec and what its runtime runs (upstream's
//! computePodActions): create the sandbox, run the init containers one at a time, then start
//! the main containers and restart exited ones as the restart policy allows, each once its
//! crash-loop or image pull back-off has passed; kill a container that failed its liveness or
//! startup probe.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, PodSpec};

use crate::probes::{self, PodVerdicts, Verdicts};
use crate::pulls::PodPulls;
use crate::restart::{self, Decision, RestartPolicy};
use crate::runtime::{
    ContainerConfig, ContainerRole, ContainerState, RuntimeContainer, RuntimePod,
};

/// One runtime call to make.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    CreateSandbox,
    Start(ContainerConfig<'a>),
    Kill(Kill<'a>),
}

/// A running container that failed its liveness or startup probe, to be stopped within
/// `grace`; the restart policy then takes it from there.
#[derive(Debug, Clone, Copy)]
pub struct Kill<'a> {
    pub container: &'a Container,
    pub probe: probes::Kind,
    pub grace: Duration,
    /// The pod restarts it afterwards.
    pub restart: bool,
}

impl Kill<'_> {
    /// Why, as upstream's `Killing` event says.
    pub fn message(&self) -> String {
        let restart = if self.restart {
            ", will be restarted"
        } else {
            ""
        };
        format!(
            "Container {} failed {} probe{restart}",
            self.container.name,
            self.probe.title().to_lowercase()
        )
    }
}

/// What a container waits out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackOff {
    /// It exited, and restarts after the crash-loop back-off.
    CrashLoop,
    /// Its image could not be pulled, and is pulled again after the image back-off.
    ImagePull,
}

/// A container waiting out a back-off.
#[derive(Debug, Clone, Copy)]
pub struct Waiting<'a> {
    pub container: &'a Container,
    pub role: ContainerRole,
    pub back_off: BackOff,
}

/// The steps to take now, the containers waiting out a back-off, and when to look again for
/// them.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub steps: Vec<Step<'a>>,
    pub waiting: Vec<Waiting<'a>>,
    pub retry_after: Option<Duration>,
}

impl<'a> Plan<'a> {
    fn step(step: Step<'a>) -> Plan<'a> {
        Plan {
            steps: vec![step],
            ..Plan::default()
        }
    }

    fn wait(&mut self, waiting: Waiting<'a>, remaining: Duration) {
        self.waiting.push(waiting);
        self.retry_after = Some(self.retry_after.map_or(remaining, |r| r.min(remaining)));
    }
}

/// Plans the next steps for a pod whose runtime holds `observed` (`None`: no sandbox yet),
/// whose images failed to pull as `pulls` says, and whose probes concluded `verdicts`. Taking
/// the steps and planning again converges: an empty plan means nothing can be done now.
pub fn plan<'a>(
    spec: &'a PodSpec,
    observed: Option<&RuntimePod>,
    pulls: &PodPulls,
    verdicts: &PodVerdicts,
    now: Timestamp,
) -> Plan<'a> {
    let Some(pod) = observed else {
        return Plan::step(Step::CreateSandbox);
    };
    let plan = plan_containers(spec, pod, pulls, verdicts, now);
    // A sandbox that stopped (its node restarted) is started again, before any container.
    if !pod.sandbox.running && plan.steps.iter().any(|s| matches!(s, Step::Start(_))) {
        return Plan {
            steps: vec![Step::CreateSandbox],
            ..plan
        };
    }
    plan
}

/// The containers' steps, in a sandbox that exists.
fn plan_containers<'a>(
    spec: &'a PodSpec,
    pod: &RuntimePod,
    pulls: &PodPulls,
    verdicts: &PodVerdicts,
    now: Timestamp,
) -> Plan<'a> {
    let policy = RestartPolicy::of(spec);
    let planner = Planner {
        pod: spec,
        pulls,
        verdicts,
        now,
    };
    for init in spec.init_containers.iter().flatten() {
        let observed = pod.container(&init.name);
        match planner.next(init, ContainerRole::Init, policy.for_init(), observed) {
            Next::Exited { succeeded: true } => {}
            Next::Start(config) => return Plan::step(Step::Start(config)),
            Next::BackOff(remaining, waiting) => {
                let mut plan = Plan::default();
                plan.wait(waiting, remaining);
                return plan;
            }
            // Init containers have no probes, so none is killed.
            Next::Kill(_) | Next::Running | Next::Exited { succeeded: false } => {
                return Plan::default();
            }
        }
    }
    let mut plan = Plan::default();
    for container in &spec.containers {
        match planner.next(
            container,
            ContainerRole::Main,
            policy,
            pod.container(&container.name),
        ) {
            Next::Start(config) => plan.steps.push(Step::Start(config)),
            Next::Kill(kill) => plan.steps.push(Step::Kill(kill)),
            Next::BackOff(remaining, waiting) => plan.wait(waiting, remaining),
            Next::Running | Next::Exited { .. } => {}
        }
    }
    plan
}

/// Where one container goes from here.
enum Next<'a> {
    Start(ContainerConfig<'a>),
    Kill(Kill<'a>),
    BackOff(Duration, Waiting<'a>),
    Running,
    Exited { succeeded: bool },
}

/// What every container's next step depends on besides the container.
struct Planner<'a, 'p> {
    pod: &'a PodSpec,
    pulls: &'p PodPulls,
    verdicts: &'p PodVerdicts,
    now: Timestamp,
}

impl<'a> Planner<'a, '_> {
    fn next(
        &self,
        spec: &'a Container,
        role: ContainerRole,
        policy: RestartPolicy,
        observed: Option<&RuntimeContainer>,
    ) -> Next<'a> {
        let waiting = |back_off| Waiting {
            container: spec,
            role,
            back_off,
        };
        let start = |attempt| {
            let pulling = self.pulls.get(&spec.name);
            match pulling.and_then(|failure| failure.backoff_left(self.now)) {
                Some(left) => Next::BackOff(left, waiting(BackOff::ImagePull)),
                None => Next::Start(ContainerConfig {
                    spec,
                    pod: self.pod,
                    role,
                    attempt,
                }),
            }
        };
        let Some(container) = observed else {
            return start(0);
        };
        let failed = probes::of_instance(self.verdicts, container).and_then(Verdicts::failed);
        match &container.state {
            ContainerState::Running { .. } => match failed {
                Some(probe) => Next::Kill(Kill {
                    container: spec,
                    probe,
                    grace: probes::kill_grace(self.pod, spec, probe),
                    restart: policy != RestartPolicy::Never,
                }),
                None => Next::Running,
            },
            ContainerState::Exited(termination) => {
                let policy = match failed {
                    Some(_) => policy.after_probe_kill(),
                    None => policy,
                };
                match restart::decide(policy, container.attempt, termination, self.now) {
                    Decision::Restart => start(container.attempt + 1),
                    Decision::BackOff { remaining, .. } => {
                        Next::BackOff(remaining, waiting(BackOff::CrashLoop))
                    }
                    Decision::Stay => Next::Exited {
                        succeeded: termination.exit_code == 0,
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Sandbox, Termination};
    use serde_json::json;

    fn spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_100).unwrap()
    }

    fn running(name: &str, attempt: u32) -> RuntimeContainer {
        RuntimeContainer {
            name: name.into(),
            id: format!("simulated://{name}{attempt}"),
            image: "i".into(),
            image_id: "i@sha256:0".into(),
            attempt,
            state: ContainerState::Running {
                started_at: Timestamp::from_second(1_700_000_000).unwrap(),
            },
            last_termination: None,
        }
    }

    fn exited(name: &str, attempt: u32, exit_code: i32, finished_ago: i64) -> RuntimeContainer {
        let finished_at = Timestamp::from_second(1_700_000_100 - finished_ago).unwrap();
        RuntimeContainer {
            state: ContainerState::Exited(Termination {
                container_id: format!("simulated://{name}{attempt}"),
                exit_code,
                reason: if exit_code == 0 { "Completed" } else { "Error" }.into(),
                started_at: finished_at,
                finished_at,
            }),
            ..running(name, attempt)
        }
    }

    fn pod(containers: Vec<RuntimeContainer>) -> RuntimePod {
        RuntimePod {
            sandbox: Sandbox {
                ip: None,
                created_at: now(),
                running: true,
            },
            containers,
        }
    }

    /// The plan as `sandbox` or `name@attempt` entries, plus the retry in seconds.
    fn summary(plan: &Plan) -> (Vec<String>, Option<u64>) {
        let steps = plan
            .steps
            .iter()
            .map(|step| match step {
                Step::CreateSandbox => "sandbox".to_owned(),
                Step::Start(c) => format!("{}@{}", c.spec.name, c.attempt),
                Step::Kill(k) => format!("kill {} in {}s", k.container.name, k.grace.as_secs()),
            })
            .collect();
        (steps, plan.retry_after.map(|d| d.as_secs()))
    }

    fn two_inits_one_main() -> PodSpec {
        spec(json!({
            "initContainers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "web"}, {"name": "log"}],
        }))
    }

    #[test]
    fn a_new_pod_gets_its_sandbox_first() {
        let spec = two_inits_one_main();
        assert_eq!(
            summary(&plan(
                &spec,
                None,
                &PodPulls::new(),
                &PodVerdicts::new(),
                now()
            )),
            (vec!["sandbox".into()], None)
        );
    }

    #[test]
    fn a_stopped_sandbox_is_started_before_the_containers_restart() {
        let spec = spec(json!({"containers": [{"name": "web"}]}));
        let plan_for = |pod: &RuntimePod, spec: &PodSpec| {
            summary(&plan(
                spec,
                Some(pod),
                &PodPulls::new(),
                &PodVerdicts::new(),
                now(),
            ))
        };
        let mut restarted = pod(vec![exited("web", 0, 137, 60)]);
        restarted.sandbox.running = false;
        assert_eq!(plan_for(&restarted, &spec), (vec!["sandbox".into()], None));
        restarted.sandbox.running = true;
        assert_eq!(plan_for(&restarted, &spec), (vec!["web@1".into()], None));

        // Nothing will run again: no sandbox is needed.
        let never = serde_json::from_value::<PodSpec>(
            json!({"restartPolicy": "Never", "containers": [{"name": "web"}]}),
        )
        .unwrap();
        let mut done = pod(vec![exited("web", 0, 0, 60)]);
        done.sandbox.running = false;
        assert_eq!(plan_for(&done, &never), (vec![], None));
    }

    #[test]
    fn init_containers_run_one_at_a_time_before_the_main_containers() {
        let spec = two_inits_one_main();
        let at = |containers| {
            summary(&plan(
                &spec,
                Some(&pod(containers)),
                &PodPulls::new(),
                &PodVerdicts::new(),
                now(),
            ))
        };
        assert_eq!(at(vec![]), (vec!["a@0".into()], None));
        assert_eq!(at(vec![running("a", 0)]), (vec![], None));
        assert_eq!(at(vec![exited("a", 0, 0, 1)]), (vec!["b@0".into()], None));
        assert_eq!(
            at(vec![exited("a", 0, 0, 1), exited("b", 0, 0, 1)]),
            (vec!["web@0".into(), "log@0".into()], None)
        );
    }

    #[test]
    fn a_failed_init_container_is_retried_unless_the_pod_never_restarts() {
        let spec = two_inits_one_main();
        let failed = pod(vec![exited("a", 0, 1, 0)]);
        assert_eq!(
            summary(&plan(
                &spec,
                Some(&failed),
                &PodPulls::new(),
                &PodVerdicts::new(),
                now()
            )),
            (vec!["a@1".into()], None)
        );
        let failed_again = pod(vec![exited("a", 1, 1, 4)]);
        assert_eq!(
            summary(&plan(
                &spec,
                Some(&failed_again),
                &PodPulls::new(),
                &PodVerdicts::new(),
                now()
            )),
            (vec![], Some(6))
        );

        let mut never = two_inits_one_main();
        never.restart_policy = Some("Never".into());
        assert_eq!(
            summary(&plan(
                &never,
                Some(&failed),
                &PodPulls::new(),
                &PodVerdicts::new(),
                now()
            )),
            (vec![], None)
        );
    }

    #[test]
    fn main_containers_restart_by_policy_and_wait_out_the_shortest_back_off() {
        let spec = spec(json!({"containers": [{"name": "web"}, {"name": "log"}, {"name": "ok"}]}));
        let observed = pod(vec![
            exited("web", 2, 1, 5),
            exited("log", 3, 1, 10),
            running("ok", 0),
        ]);
        let planned = plan(
            &spec,
            Some(&observed),
            &PodPulls::new(),
            &PodVerdicts::new(),
            now(),
        );
        assert_eq!(summary(&planned), (vec![], Some(15)));
        assert_eq!(planned.waiting.len(), 2);
        assert!(
            planned
                .waiting
                .iter()
                .all(|w| w.back_off == BackOff::CrashLoop)
        );

        let mut on_failure = spec.clone();
        on_failure.restart_policy = Some("OnFailure".into());
        let completed = pod(vec![exited("web", 0, 0, 5), exited("log", 0, 1, 5)]);
        assert_eq!(
            summary(&plan(
                &on_failure,
                Some(&completed),
                &PodPulls::new(),
                &PodVerdicts::new(),
                now()
            )),
            (vec!["log@1".into(), "ok@0".into()], None)
        );
    }

    #[test]
    fn a_container_that_failed_its_liveness_probe_is_killed_then_restarted() {
        use crate::probes::{Kind, Verdict};
        let mut spec = spec(json!({
            "terminationGracePeriodSeconds": 7, "restartPolicy": "OnFailure",
            "containers": [{"name": "web", "livenessProbe": {"tcpSocket": {"port": 80}}},
                           {"name": "log"}],
        }));
        let web = running("web", 0);
        let mut failed = Verdicts::new(&web.id, &[Kind::Liveness]);
        failed.set(Kind::Liveness, Verdict::Failure);
        let verdicts = PodVerdicts::from([("web".to_owned(), failed)]);
        let pulls = PodPulls::new();
        let observed = pod(vec![web, running("log", 0)]);
        let planned = plan(&spec, Some(&observed), &pulls, &verdicts, now());
        assert_eq!(summary(&planned), (vec!["kill web in 7s".into()], None));
        let Step::Kill(kill) = planned.steps[0] else {
            panic!("not a kill: {:?}", planned.steps[0]);
        };
        assert_eq!(
            kill.message(),
            "Container web failed liveness probe, will be restarted"
        );
        // Killed, it starts again even after exiting 0, though the pod restarts on failure only.
        let killed = pod(vec![exited("web", 0, 0, 0), running("log", 0)]);
        assert_eq!(
            summary(&plan(&spec, Some(&killed), &pulls, &verdicts, now())),
            (vec!["web@1".into()], None)
        );
        // The verdict is about that instance only.
        let next = pod(vec![running("web", 1), running("log", 0)]);
        assert!(
            plan(&spec, Some(&next), &pulls, &verdicts, now())
                .steps
                .is_empty()
        );

        spec.restart_policy = Some("Never".into());
        let planned = plan(&spec, Some(&observed), &pulls, &verdicts, now());
        let Step::Kill(kill) = planned.steps[0] else {
            panic!("not a kill: {:?}", planned.steps[0]);
        };
        assert_eq!(kill.message(), "Container web failed liveness probe");
        assert!(
            plan(&spec, Some(&killed), &pulls, &verdicts, now())
                .steps
                .is_empty()
        );
    }

    #[test]
    fn a_container_whose_pull_failed_waits_out_the_image_back_off() {
        let spec = spec(json!({"containers": [{"name": "web"}, {"name": "log"}]}));
        let pulls = crate::pulls::PullFailures::default();
        pulls.failed(
            "u",
            "web",
            "web:1",
            "no registry",
            now() - jiff::SignedDuration::from_secs(4),
        );
        let observed = pod(vec![]);
        assert_eq!(
            summary(&plan(
                &spec,
                Some(&observed),
                &pulls.pod("u"),
                &PodVerdicts::new(),
                now()
            )),
            (vec!["log@0".into()], Some(6))
        );
        let waiting = plan(
            &spec,
            Some(&observed),
            &pulls.pod("u"),
            &PodVerdicts::new(),
            now(),
        );
        assert_eq!(waiting.waiting.len(), 1);
        assert_eq!(waiting.waiting[0].container.name, "web");
        assert_eq!(waiting.waiting[0].back_off, BackOff::ImagePull);
        let later = now() + jiff::SignedDuration::from_secs(6);
        assert_eq!(
            summary(&plan(
                &spec,
                Some(&observed),
                &pulls.pod("u"),
                &PodVerdicts::new(),
                later
            ))
            .0,
            ["web@0", "log@0"]
        );
    }
}
