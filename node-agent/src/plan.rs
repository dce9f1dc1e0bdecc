//! What to do next for a pod, from its spec and what its runtime runs (upstream's
//! computePodActions): create the sandbox, run the init containers one at a time, then start
//! the main containers and restart exited ones as the restart policy allows, each once its
//! crash-loop or image pull back-off has passed.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, PodSpec};

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
}

/// The steps to take now, and when to look again if a container waits out a back-off.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub steps: Vec<Step<'a>>,
    pub retry_after: Option<Duration>,
}

/// Plans the next steps for a pod whose runtime holds `observed` (`None`: no sandbox yet) and
/// whose images failed to pull as `pulls` says. Taking the steps and planning again converges:
/// an empty plan means nothing can be done now.
pub fn plan<'a>(
    spec: &'a PodSpec,
    observed: Option<&RuntimePod>,
    pulls: &PodPulls,
    now: Timestamp,
) -> Plan<'a> {
    let Some(pod) = observed else {
        return Plan {
            steps: vec![Step::CreateSandbox],
            retry_after: None,
        };
    };
    let policy = RestartPolicy::of(spec);
    let planner = Planner {
        pod: spec,
        pulls,
        now,
    };
    for init in spec.init_containers.iter().flatten() {
        let observed = pod.container(&init.name);
        match planner.next(init, ContainerRole::Init, policy.for_init(), observed) {
            Next::Exited { succeeded: true } => {}
            Next::Start(config) => {
                return Plan {
                    steps: vec![Step::Start(config)],
                    retry_after: None,
                };
            }
            Next::BackOff(remaining) => {
                return Plan {
                    steps: Vec::new(),
                    retry_after: Some(remaining),
                };
            }
            Next::Running | Next::Exited { succeeded: false } => return Plan::default(),
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
            Next::BackOff(remaining) => {
                plan.retry_after = Some(plan.retry_after.map_or(remaining, |r| r.min(remaining)));
            }
            Next::Running | Next::Exited { .. } => {}
        }
    }
    plan
}

/// Where one container goes from here.
enum Next<'a> {
    Start(ContainerConfig<'a>),
    BackOff(Duration),
    Running,
    Exited { succeeded: bool },
}

/// What every container's next step depends on besides the container.
struct Planner<'a, 'p> {
    pod: &'a PodSpec,
    pulls: &'p PodPulls,
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
        let start = |attempt| {
            let pulling = self.pulls.get(&spec.name);
            match pulling.and_then(|failure| failure.backoff_left(self.now)) {
                Some(left) => Next::BackOff(left),
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
        match &container.state {
            ContainerState::Running { .. } => Next::Running,
            ContainerState::Exited(termination) => {
                match restart::decide(policy, container.attempt, termination, self.now) {
                    Decision::Restart => start(container.attempt + 1),
                    Decision::BackOff { remaining, .. } => Next::BackOff(remaining),
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
            summary(&plan(&spec, None, &PodPulls::new(), now())),
            (vec!["sandbox".into()], None)
        );
    }

    #[test]
    fn init_containers_run_one_at_a_time_before_the_main_containers() {
        let spec = two_inits_one_main();
        let at = |containers| {
            summary(&plan(
                &spec,
                Some(&pod(containers)),
                &PodPulls::new(),
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
            summary(&plan(&spec, Some(&failed), &PodPulls::new(), now())),
            (vec!["a@1".into()], None)
        );
        let failed_again = pod(vec![exited("a", 1, 1, 4)]);
        assert_eq!(
            summary(&plan(&spec, Some(&failed_again), &PodPulls::new(), now())),
            (vec![], Some(6))
        );

        let mut never = two_inits_one_main();
        never.restart_policy = Some("Never".into());
        assert_eq!(
            summary(&plan(&never, Some(&failed), &PodPulls::new(), now())),
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
        assert_eq!(
            summary(&plan(&spec, Some(&observed), &PodPulls::new(), now())),
            (vec![], Some(15))
        );

        let mut on_failure = spec.clone();
        on_failure.restart_policy = Some("OnFailure".into());
        let completed = pod(vec![exited("web", 0, 0, 5), exited("log", 0, 1, 5)]);
        assert_eq!(
            summary(&plan(
                &on_failure,
                Some(&completed),
                &PodPulls::new(),
                now()
            )),
            (vec!["log@1".into(), "ok@0".into()], None)
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
            summary(&plan(&spec, Some(&observed), &pulls.pod("u"), now())),
            (vec!["log@0".into()], Some(6))
        );
        let later = now() + jiff::SignedDuration::from_secs(6);
        assert_eq!(
            summary(&plan(&spec, Some(&observed), &pulls.pod("u"), later)).0,
            ["web@0", "log@0"]
        );
    }
}
