//! A container runtime held in memory, for tests and for thousands of nodes in one process:
//! sandboxes take addresses from the node's pod CIDR, main containers run from the moment they
//! start until they are stopped, init containers complete at once. A simulated exit
//! ([`SimulatedRuntime::exit_container`]) drives the same restart logic a real crash would.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::Stream;
use futures::channel::mpsc;
use jiff::Timestamp;

use self::ipam::PodCidr;
use crate::runtime::{
    ContainerConfig, ContainerRole, ContainerRuntime, ContainerState, ImageOutcome, LogOptions,
    LogStream, PodKey, Prepared, ProcessIo, ProcessRequest, RuntimeContainer, RuntimeError,
    RuntimePod, Sandbox, SandboxConfig, Termination,
};

mod ipam;

const VERSION: &str = "simulated://1.0";

/// One node's simulated runtime.
#[derive(Default)]
pub struct SimulatedRuntime {
    state: Mutex<State>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<PodKey>>>,
}

#[derive(Default)]
struct State {
    cidr: Option<PodCidr>,
    /// By pod UID.
    pods: HashMap<String, SimulatedPod>,
}

struct SimulatedPod {
    key: PodKey,
    sandbox: Sandbox,
    /// The address taken from the pod CIDR, until the pod's network is taken down.
    held: Option<Ipv4Addr>,
    containers: Vec<RuntimeContainer>,
}

impl SimulatedRuntime {
    pub fn new() -> SimulatedRuntime {
        SimulatedRuntime::default()
    }

    /// Makes a running container exit with `exit_code`, as if its process had ended, and tells
    /// the subscribers of [`ContainerRuntime::changes`].
    pub fn exit_container(
        &self,
        pod_uid: &str,
        container: &str,
        exit_code: i32,
    ) -> Result<(), RuntimeError> {
        let key = {
            let mut state = self.state();
            let pod = state
                .pods
                .get_mut(pod_uid)
                .ok_or_else(|| RuntimeError::NotFound(format!("pod {pod_uid}")))?;
            let running = pod
                .containers
                .iter_mut()
                .find(|c| c.name == container && matches!(c.state, ContainerState::Running { .. }))
                .ok_or_else(|| {
                    RuntimeError::NotFound(format!("running container {container} of {}", pod.key))
                })?;
            exit(running, exit_code, Timestamp::now());
            pod.key.clone()
        };
        self.notify(&key);
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self, key: &PodKey) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|tx| tx.unbounded_send(key.clone()).is_ok());
    }
}

impl State {
    fn pod(&mut self, key: &PodKey) -> Result<&mut SimulatedPod, RuntimeError> {
        self.pods
            .get_mut(&key.uid)
            .ok_or_else(|| RuntimeError::NotFound(format!("sandbox of pod {key}")))
    }

    fn release(&mut self, address: Option<Ipv4Addr>) {
        if let (Some(cidr), Some(ip)) = (self.cidr.as_mut(), address) {
            cidr.release(ip);
        }
    }
}

impl ContainerRuntime for SimulatedRuntime {
    async fn version(&self) -> Result<String, RuntimeError> {
        Ok(VERSION.to_owned())
    }

    async fn set_pod_cidr(&self, cidr: &str) -> Result<(), RuntimeError> {
        let mut state = self.state();
        match &state.cidr {
            Some(current) if current.as_str() == cidr => Ok(()),
            Some(current) => Err(RuntimeError::PodCidr {
                cidr: cidr.to_owned(),
                reason: format!("the node already uses {}", current.as_str()),
            }),
            None => {
                let parsed = PodCidr::parse(cidr).map_err(|e| RuntimeError::PodCidr {
                    cidr: cidr.to_owned(),
                    reason: e.to_string(),
                })?;
                state.cidr = Some(parsed);
                Ok(())
            }
        }
    }

    async fn ensure_sandbox(&self, config: &SandboxConfig) -> Result<Sandbox, RuntimeError> {
        let mut state = self.state();
        if let Some(pod) = state.pods.get(&config.pod.uid) {
            return Ok(pod.sandbox.clone());
        }
        let held = if config.host_network {
            None
        } else {
            let cidr = state.cidr.as_mut().ok_or_else(|| {
                RuntimeError::NetworkNotReady("the node has no pod CIDR yet".into())
            })?;
            let ip = cidr.allocate().map_err(|e| RuntimeError::PodCidr {
                cidr: cidr.as_str().to_owned(),
                reason: e.to_string(),
            })?;
            Some(ip)
        };
        let sandbox = Sandbox {
            ip: held.map(IpAddr::V4),
            created_at: Timestamp::now(),
            running: true,
        };
        state.pods.insert(
            config.pod.uid.clone(),
            SimulatedPod {
                key: config.pod.clone(),
                sandbox: sandbox.clone(),
                held,
                containers: Vec::new(),
            },
        );
        Ok(sandbox)
    }

    async fn start_container(
        &self,
        key: &PodKey,
        config: ContainerConfig<'_>,
        // Its containers run nothing, so they need no environment or files.
        _prepared: &Prepared,
    ) -> Result<ImageOutcome, RuntimeError> {
        let mut state = self.state();
        let pod = state.pod(key)?;
        let name = &config.spec.name;
        let previous = pod.containers.iter().position(|c| &c.name == name);
        let last_termination = match previous.map(|i| &pod.containers[i]) {
            Some(existing)
                if existing.attempt >= config.attempt
                    || matches!(existing.state, ContainerState::Running { .. }) =>
            {
                return Err(RuntimeError::AlreadyExists(format!(
                    "container {name} (attempt {}) of pod {key}",
                    existing.attempt
                )));
            }
            Some(RuntimeContainer {
                state: ContainerState::Exited(termination),
                ..
            }) => Some(termination.clone()),
            _ => None,
        };
        let now = Timestamp::now();
        let image = config.spec.image.clone().unwrap_or_default();
        let mut container = RuntimeContainer {
            name: name.clone(),
            // Unique to this instance, as a runtime's IDs are: a pod started again after the
            // runtime lost it gets new container IDs.
            id: format!(
                "simulated://{}",
                digest(&[
                    &key.uid,
                    name,
                    &config.attempt.to_string(),
                    &now.to_string()
                ])
            ),
            image_id: image_id(&image),
            image,
            attempt: config.attempt,
            state: ContainerState::Running { started_at: now },
            last_termination,
        };
        if config.role == ContainerRole::Init {
            exit(&mut container, 0, now);
        }
        match previous {
            Some(i) => pod.containers[i] = container,
            None => pod.containers.push(container),
        }
        Ok(ImageOutcome::Present)
    }

    async fn stop_container(
        &self,
        key: &PodKey,
        container: &str,
        _grace: Duration,
    ) -> Result<(), RuntimeError> {
        let mut state = self.state();
        let pod = state.pod(key)?;
        let found = pod
            .containers
            .iter_mut()
            .find(|c| c.name == container)
            .ok_or_else(|| RuntimeError::NotFound(format!("container {container} of {key}")))?;
        exit(found, 0, Timestamp::now());
        Ok(())
    }

    async fn stop_pod(&self, key: &PodKey, _grace: Duration) -> Result<(), RuntimeError> {
        let mut state = self.state();
        let now = Timestamp::now();
        let pod = state.pod(key)?;
        for container in &mut pod.containers {
            exit(container, 0, now);
        }
        let address = pod.held.take();
        state.release(address);
        Ok(())
    }

    async fn remove_pod(&self, key: &PodKey) -> Result<(), RuntimeError> {
        let mut state = self.state();
        let pod = state
            .pods
            .remove(&key.uid)
            .ok_or_else(|| RuntimeError::NotFound(format!("sandbox of pod {key}")))?;
        state.release(pod.held);
        Ok(())
    }

    async fn pod_status(&self, key: &PodKey) -> Result<RuntimePod, RuntimeError> {
        let mut state = self.state();
        let pod = state.pod(key)?;
        Ok(RuntimePod {
            sandbox: pod.sandbox.clone(),
            containers: pod.containers.clone(),
        })
    }

    fn runs_processes(&self) -> bool {
        false
    }

    fn volumes_dir(&self, _pod: &PodKey) -> Option<PathBuf> {
        None
    }

    async fn list_pods(&self) -> Result<Vec<PodKey>, RuntimeError> {
        Ok(self.state().pods.values().map(|p| p.key.clone()).collect())
    }

    async fn logs(
        &self,
        _pod: &PodKey,
        _container: &str,
        _options: &LogOptions,
    ) -> Result<LogStream, RuntimeError> {
        Err(RuntimeError::Unsupported("logs"))
    }

    async fn process(
        &self,
        _pod: &PodKey,
        _container: &str,
        _request: ProcessRequest<'_>,
    ) -> Result<ProcessIo, RuntimeError> {
        Err(RuntimeError::Unsupported("processes"))
    }

    fn changes(&self) -> impl Stream<Item = PodKey> + Send + 'static {
        let (tx, rx) = mpsc::unbounded();
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }
}

/// Ends a running container the way a process exit would.
fn exit(container: &mut RuntimeContainer, exit_code: i32, now: Timestamp) {
    if let ContainerState::Running { started_at } = container.state {
        container.state = ContainerState::Exited(Termination {
            container_id: container.id.clone(),
            exit_code,
            reason: if exit_code == 0 { "Completed" } else { "Error" }.to_owned(),
            started_at,
            finished_at: now,
        });
    }
}

/// The image reference as a registry would pin it: repository plus a digest of the name.
fn image_id(image: &str) -> String {
    let repository = match image.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => repository,
        _ => image,
    };
    format!("{repository}@sha256:{}", digest(&[image]))
}

/// 64 hexadecimal digits derived from `parts`, standing in for the SHA-256 identifiers real
/// runtimes report. The same parts give the same digest, so an image keeps its ID.
fn digest(parts: &[&str]) -> String {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    (0u64..4).fold(String::with_capacity(64), |mut text, lane| {
        let mut hash = FNV_OFFSET ^ lane;
        for byte in parts.iter().flat_map(|p| p.bytes().chain([0])) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
        // Writing to a String cannot fail.
        let _ = write!(text, "{hash:016x}");
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Container;

    fn key(uid: &str) -> PodKey {
        PodKey {
            uid: uid.into(),
            namespace: "default".into(),
            name: format!("pod-{uid}"),
        }
    }

    fn sandbox(uid: &str) -> SandboxConfig {
        SandboxConfig {
            pod: key(uid),
            hostname: format!("pod-{uid}"),
            host_network: false,
            host_ports: Vec::new(),
            dns: None,
        }
    }

    fn container(name: &str) -> Container {
        Container {
            name: name.into(),
            image: Some("nginx:1.27".into()),
            ..Container::default()
        }
    }

    fn start<'a>(spec: &'a Container, role: ContainerRole, attempt: u32) -> ContainerConfig<'a> {
        ContainerConfig {
            spec,
            pod: Box::leak(Box::default()),
            role,
            attempt,
        }
    }

    #[tokio::test]
    async fn sandboxes_wait_for_a_cidr_and_give_their_address_back() {
        let runtime = SimulatedRuntime::new();
        assert!(matches!(
            runtime.ensure_sandbox(&sandbox("a")).await,
            Err(RuntimeError::NetworkNotReady(_))
        ));
        runtime.set_pod_cidr("10.244.7.0/24").await.unwrap();
        runtime.set_pod_cidr("10.244.7.0/24").await.unwrap();
        assert!(runtime.set_pod_cidr("10.244.8.0/24").await.is_err());
        let a = runtime.ensure_sandbox(&sandbox("a")).await.unwrap();
        assert_eq!(a.ip, Some("10.244.7.2".parse().unwrap()));
        assert_eq!(runtime.ensure_sandbox(&sandbox("a")).await.unwrap(), a);
        runtime.remove_pod(&key("a")).await.unwrap();
        assert!(matches!(
            runtime.remove_pod(&key("a")).await,
            Err(RuntimeError::NotFound(_))
        ));
        assert!(runtime.list_pods().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn init_containers_complete_and_main_containers_run_until_stopped() {
        let runtime = SimulatedRuntime::new();
        runtime.set_pod_cidr("10.244.7.0/24").await.unwrap();
        runtime.ensure_sandbox(&sandbox("a")).await.unwrap();
        let (init, web) = (container("init"), container("web"));
        runtime
            .start_container(
                &key("a"),
                start(&init, ContainerRole::Init, 0),
                &Prepared::default(),
            )
            .await
            .unwrap();
        runtime
            .start_container(
                &key("a"),
                start(&web, ContainerRole::Main, 0),
                &Prepared::default(),
            )
            .await
            .unwrap();
        assert!(matches!(
            runtime
                .start_container(
                    &key("a"),
                    start(&web, ContainerRole::Main, 0),
                    &Prepared::default()
                )
                .await,
            Err(RuntimeError::AlreadyExists(_))
        ));
        let pod = runtime.pod_status(&key("a")).await.unwrap();
        assert!(matches!(
            &pod.container("init").unwrap().state,
            ContainerState::Exited(t) if t.exit_code == 0 && t.reason == "Completed"
        ));
        let running = pod.container("web").unwrap();
        assert!(matches!(running.state, ContainerState::Running { .. }));
        assert!(running.id.starts_with("simulated://") && running.id.len() == 12 + 64);
        assert!(running.image_id.starts_with("nginx@sha256:"));

        runtime
            .stop_pod(&key("a"), Duration::from_secs(30))
            .await
            .unwrap();
        let pod = runtime.pod_status(&key("a")).await.unwrap();
        assert!(matches!(
            pod.container("web").unwrap().state,
            ContainerState::Exited(_)
        ));
    }

    #[tokio::test]
    async fn an_exit_is_announced_and_a_restart_keeps_the_last_termination() {
        let runtime = SimulatedRuntime::new();
        let mut changes = runtime.changes();
        runtime.set_pod_cidr("10.244.7.0/24").await.unwrap();
        runtime.ensure_sandbox(&sandbox("a")).await.unwrap();
        let web = container("web");
        runtime
            .start_container(
                &key("a"),
                start(&web, ContainerRole::Main, 0),
                &Prepared::default(),
            )
            .await
            .unwrap();
        runtime.exit_container("a", "web", 2).unwrap();
        assert_eq!(changes.next().await, Some(key("a")));
        assert!(runtime.exit_container("a", "web", 2).is_err());

        runtime
            .start_container(
                &key("a"),
                start(&web, ContainerRole::Main, 1),
                &Prepared::default(),
            )
            .await
            .unwrap();
        let restarted = runtime
            .pod_status(&key("a"))
            .await
            .unwrap()
            .containers
            .remove(0);
        assert_eq!(restarted.attempt, 1);
        let last = restarted.last_termination.unwrap();
        assert_eq!((last.exit_code, last.reason.as_str()), (2, "Error"));
        assert_ne!(last.container_id, restarted.id);
    }

    #[test]
    fn image_ids_keep_the_repository_and_drop_the_tag() {
        assert!(image_id("nginx:1.27").starts_with("nginx@sha256:"));
        assert!(image_id("localhost:5000/app").starts_with("localhost:5000/app@sha256:"));
        assert_eq!(image_id("nginx"), image_id("nginx"));
        assert_ne!(digest(&["a", "b"]), digest(&["ab"]));
    }
}
