//! The Docker runtime: each pod is a pause container holding its namespaces (the sandbox) and
//! one container per instance of each of its containers, on a bridge network whose subnet is
//! the node's pod CIDR. Everything is labelled with the pod, the container, the attempt and the
//! node, so the runtime keeps no state of its own that matters: a new runtime object (after an
//! agent restart) finds every pod again from the engine alone.

use std::collections::HashMap;
use std::fmt::Display;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as EngineError;
use bollard::models::{ContainerInspectResponse, ContainerSummaryStateEnum};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, StartContainerOptions, StopContainerOptionsBuilder,
};
use futures::Stream;
use futures::future::join_all;
use tokio::sync::Mutex;

use self::containers::Observed;
use self::labels::{Instance, Role};
use self::network::PodNetwork;
use crate::runtime::{
    ContainerConfig, ContainerRuntime, ContainerState, ImageOutcome, LogOptions, LogStream, PodKey,
    Prepared, ProcessIo, ProcessRequest, RuntimeContainer, RuntimeError, RuntimePod, Sandbox,
    SandboxConfig,
};

mod containers;
mod events;
mod images;
mod labels;
mod logs;
mod network;
mod pause;
mod process;
mod sandbox;

/// How long one engine request may take; a stop waits out the grace period within it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The longest grace period a stop is given, well within [`REQUEST_TIMEOUT`].
const MAX_GRACE: Duration = Duration::from_secs(5 * 60);

/// Why the engine cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach the Docker engine at {host}: {source}; is dockerd running?")]
    Unreachable {
        host: String,
        #[source]
        source: EngineError,
    },
}

/// Where the engine is and what the runtime names in it.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    /// The engine's address: `unix:///var/run/docker.sock`, `tcp://HOST:PORT`.
    pub host: String,
    /// The node the runtime serves; every container it makes is labelled with it.
    pub node_name: String,
    /// The node's address: where host ports are published, and `status.hostIP`.
    pub node_address: IpAddr,
    /// Where pods' volumes on disk live: `PODS_DIR/UID/volumes/NAME`.
    pub pods_dir: PathBuf,
    /// The pod network's name.
    pub network: String,
    /// The pod network's bridge interface.
    pub bridge: String,
    /// Whether the engine masquerades what pods send out of the node. Off where the agent
    /// routes pods between nodes: it then masquerades only what leaves the cluster, itself.
    pub masquerade: bool,
}

impl DockerConfig {
    /// The engine's default socket, the agent's pod directory and the pod network `mkc-pods`
    /// on bridge `mkc0`, masqueraded by the engine.
    pub fn new(node_name: &str, node_address: IpAddr) -> DockerConfig {
        DockerConfig {
            host: "unix:///var/run/docker.sock".to_owned(),
            node_name: node_name.to_owned(),
            node_address,
            pods_dir: PathBuf::from("/var/lib/mkc-agent/pods"),
            network: "mkc-pods".to_owned(),
            bridge: "mkc0".to_owned(),
            masquerade: true,
        }
    }
}

/// One node's runtime on a Docker engine.
pub struct DockerRuntime {
    docker: Docker,
    config: DockerConfig,
    network: PodNetwork,
    /// The pod CIDR the network serves, once known.
    cidr: Mutex<Option<String>>,
    /// Held while the pause image is looked for and imported, so the sandboxes of many pods
    /// arriving at once import it once.
    pause_import: Mutex<()>,
}

/// A container of the node as the engine lists it.
#[derive(Debug)]
struct Listed {
    id: String,
    instance: Instance,
    running: bool,
}

impl DockerRuntime {
    /// Connects to the engine and settles on the API version it speaks (bollard's default is
    /// newer than Docker 20.10's 1.41).
    pub async fn connect(config: DockerConfig) -> Result<DockerRuntime, ConnectError> {
        let unreachable = |source| ConnectError::Unreachable {
            host: config.host.clone(),
            source,
        };
        let docker = Docker::connect_with_host(&config.host)
            .map_err(unreachable)?
            .with_timeout(REQUEST_TIMEOUT)
            .negotiate_version()
            .await
            .map_err(unreachable)?;
        Ok(DockerRuntime {
            docker,
            network: PodNetwork {
                name: config.network.clone(),
                bridge: config.bridge.clone(),
                masquerade: config.masquerade,
            },
            config,
            cidr: Mutex::new(None),
            pause_import: Mutex::new(()),
        })
    }

    /// The node's containers, of one pod and one role if given, running or not.
    async fn list(
        &self,
        pod: Option<&PodKey>,
        role: Option<Role>,
    ) -> Result<Vec<Listed>, RuntimeError> {
        let filters = labels::filters(&self.config.node_name, pod, role);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let listed = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(engine_error("listing containers"))?;
        Ok(listed
            .into_iter()
            .filter_map(|summary| {
                Some(Listed {
                    instance: Instance::parse(summary.labels.as_ref()?)?,
                    running: summary.state == Some(ContainerSummaryStateEnum::RUNNING),
                    id: summary.id?,
                })
            })
            .collect())
    }

    /// Where the pod's volumes on disk live, under its directory, which goes with the pod.
    fn pod_volumes(&self, pod: &PodKey) -> PathBuf {
        self.config.pods_dir.join(&pod.uid).join("volumes")
    }

    /// The pod's own resolv.conf, when its DNS is not the engine's: written with the sandbox,
    /// mounted into each of its containers (the engine would otherwise point them at its own
    /// resolver on a user-defined network).
    fn resolv_conf(&self, pod: &PodKey) -> PathBuf {
        self.config.pods_dir.join(&pod.uid).join("resolv.conf")
    }

    async fn inspect(&self, id: &str) -> Result<ContainerInspectResponse, RuntimeError> {
        self.docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
            .map_err(engine_error(format!("container {id}")))
    }

    async fn sandbox(&self, id: &str) -> Result<Sandbox, RuntimeError> {
        Ok(sandbox::of(&self.inspect(id).await?, &self.network.name))
    }

    /// Starts a sandbox that stopped (its node or engine restarted), once the pod's containers
    /// that still run in its old namespaces are stopped; they start again in the new ones.
    async fn restart_sandbox(
        &self,
        pod: &PodKey,
        sandbox: &Listed,
        listed: &[Listed],
    ) -> Result<(), RuntimeError> {
        let running = listed
            .iter()
            .filter(|l| l.running && l.instance.role != Role::Sandbox);
        for container in running {
            self.stop(&container.id, Duration::ZERO).await?;
        }
        self.docker
            .start_container(&sandbox.id, None::<StartContainerOptions>)
            .await
            .map_err(engine_error(format!("starting the sandbox of pod {pod}")))
    }

    /// Creates and starts a sandbox; one left created but not started is removed, so the next
    /// try starts afresh.
    async fn run_sandbox(
        &self,
        name: &str,
        body: bollard::models::ContainerCreateBody,
    ) -> Result<String, RuntimeError> {
        let options = CreateContainerOptionsBuilder::default().name(name).build();
        let id = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(engine_error(format!("container {name}")))?
            .id;
        if let Err(error) = self
            .docker
            .start_container(&id, None::<StartContainerOptions>)
            .await
        {
            let _ = self.remove(&id).await;
            return Err(engine_error(format!("starting container {name}"))(error));
        }
        Ok(id)
    }

    async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(error) => match engine_error(format!("container {id}"))(error) {
                RuntimeError::NotFound(_) => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Stops a container, killing it after `grace`; one already stopped or gone is fine.
    async fn stop(&self, id: &str, grace: Duration) -> Result<(), RuntimeError> {
        let seconds = grace.min(MAX_GRACE).as_secs_f64().ceil() as i32;
        let options = StopContainerOptionsBuilder::default().t(seconds).build();
        match self.docker.stop_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(EngineError::DockerResponseServerError {
                status_code: 304 | 404,
                ..
            }) => Ok(()),
            Err(error) => Err(engine_error(format!("stopping container {id}"))(error)),
        }
    }

    /// The `newest` instance of a container, with how the `previous` one ended.
    async fn container(
        &self,
        newest: &Listed,
        previous: Option<&Listed>,
    ) -> Result<RuntimeContainer, RuntimeError> {
        let Observed {
            id,
            image,
            image_id,
            state,
        } = containers::observed(&self.inspect(&newest.id).await?);
        let last_termination = match previous {
            Some(previous) => {
                match containers::observed(&self.inspect(&previous.id).await?).state {
                    ContainerState::Exited(termination) => Some(termination),
                    ContainerState::Running { .. } => None,
                }
            }
            None => None,
        };
        Ok(RuntimeContainer {
            name: newest.instance.container.clone(),
            id,
            image,
            image_id: images::reported_id(&self.docker, &image_id).await,
            attempt: newest.instance.attempt,
            state,
            last_termination,
        })
    }
}

/// The instances of each of a pod's containers (the sandbox aside), newest first.
fn by_container(listed: &[Listed]) -> HashMap<&str, Vec<&Listed>> {
    let mut grouped: HashMap<&str, Vec<&Listed>> = HashMap::new();
    for found in listed.iter().filter(|l| l.instance.role != Role::Sandbox) {
        grouped
            .entry(found.instance.container.as_str())
            .or_default()
            .push(found);
    }
    for instances in grouped.values_mut() {
        instances.sort_by_key(|l| std::cmp::Reverse(l.instance.attempt));
    }
    grouped
}

fn sandbox_of(listed: &[Listed]) -> Option<&Listed> {
    listed
        .iter()
        .filter(|l| l.instance.role == Role::Sandbox)
        .max_by_key(|l| l.instance.attempt)
}

/// Turns an engine error about `what` into the seam's: 404 is NotFound, 409 AlreadyExists.
fn engine_error(what: impl Display) -> impl FnOnce(EngineError) -> RuntimeError {
    move |error| match error {
        EngineError::DockerResponseServerError {
            status_code: 404, ..
        } => RuntimeError::NotFound(what.to_string()),
        EngineError::DockerResponseServerError {
            status_code: 409, ..
        } => RuntimeError::AlreadyExists(what.to_string()),
        other => RuntimeError::Engine(format!("{what}: {other}")),
    }
}

impl ContainerRuntime for DockerRuntime {
    async fn version(&self) -> Result<String, RuntimeError> {
        let version = self
            .docker
            .version()
            .await
            .map_err(engine_error("the engine's version"))?;
        Ok(format!("docker://{}", version.version.unwrap_or_default()))
    }

    async fn set_pod_cidr(&self, cidr: &str) -> Result<(), RuntimeError> {
        let mut current = self.cidr.lock().await;
        if current.as_deref() == Some(cidr) {
            return Ok(());
        }
        let in_use = !self.list(None, Some(Role::Sandbox)).await?.is_empty();
        self.network
            .ensure(&self.docker, &self.config.node_name, cidr, in_use)
            .await?;
        *current = Some(cidr.to_owned());
        Ok(())
    }

    async fn ensure_sandbox(&self, config: &SandboxConfig) -> Result<Sandbox, RuntimeError> {
        let listed = self.list(Some(&config.pod), None).await?;
        if let Some(found) = sandbox_of(&listed) {
            if !found.running {
                self.restart_sandbox(&config.pod, found, &listed).await?;
            }
            return self.sandbox(&found.id).await;
        }
        if !config.host_network && self.cidr.lock().await.is_none() {
            return Err(RuntimeError::NetworkNotReady(
                "the node has no pod CIDR yet".into(),
            ));
        }
        {
            let _importing = self.pause_import.lock().await;
            pause::ensure(&self.docker).await?;
        }
        if let Some(dns) = &config.dns {
            let path = self.resolv_conf(&config.pod);
            let write = async {
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                tokio::fs::write(&path, dns.resolv_conf()).await
            };
            write
                .await
                .map_err(|e| RuntimeError::Engine(format!("writing {}: {e}", path.display())))?;
        }
        let labels = Instance::sandbox(&config.pod).labels(&self.config.node_name);
        let body =
            sandbox::create_body(config, labels, &self.network.name, self.config.node_address);
        let id = self.run_sandbox(&sandbox::name(config), body).await?;
        self.sandbox(&id).await
    }

    async fn start_container(
        &self,
        pod: &PodKey,
        config: ContainerConfig<'_>,
        prepared: &Prepared,
    ) -> Result<ImageOutcome, RuntimeError> {
        let listed = self.list(Some(pod), None).await?;
        let sandbox = sandbox_of(&listed)
            .ok_or_else(|| RuntimeError::NotFound(format!("sandbox of pod {pod}")))?;
        if !sandbox.running {
            return Err(RuntimeError::Engine(format!(
                "the sandbox of pod {pod} is not running"
            )));
        }
        let name = &config.spec.name;
        let grouped = by_container(&listed);
        let instances = grouped
            .get(name.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if let Some(newest) = instances.first()
            && (newest.instance.attempt >= config.attempt || newest.running)
        {
            return Err(RuntimeError::AlreadyExists(format!(
                "container {name} (attempt {}) of pod {pod}",
                newest.instance.attempt
            )));
        }
        let image = config.spec.image.as_deref().unwrap_or_default();
        let image_outcome = images::ensure(
            &self.docker,
            image,
            config.spec.image_pull_policy.as_deref(),
        )
        .await?;

        let mut mounts = containers::mounts(
            config.pod,
            config.spec,
            &self.pod_volumes(pod),
            &prepared.volumes,
        );
        let resolv_conf = self.resolv_conf(pod);
        if tokio::fs::try_exists(&resolv_conf).await.unwrap_or(false) {
            mounts
                .binds
                .push(format!("{}:/etc/resolv.conf", resolv_conf.display()));
        }
        for (directory, mode) in &mounts.directories {
            let made = async {
                tokio::fs::create_dir_all(directory).await?;
                match mode {
                    Some(mode) => {
                        let permissions = std::os::unix::fs::PermissionsExt::from_mode(*mode);
                        tokio::fs::set_permissions(directory, permissions).await
                    }
                    None => Ok(()),
                }
            };
            made.await.map_err(|e| {
                RuntimeError::Engine(format!(
                    "creating volume directory {}: {e}",
                    directory.display()
                ))
            })?;
        }
        let instance = Instance {
            pod: pod.clone(),
            container: name.clone(),
            attempt: config.attempt,
            role: config.role.into(),
        };
        let labels = instance.labels(&self.config.node_name);
        let body = containers::create_body(config.spec, prepared, labels, &sandbox.id, mounts);
        let options = CreateContainerOptionsBuilder::default()
            .name(&instance.name())
            .build();
        let id = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(engine_error(format!(
                "container {name} (attempt {}) of pod {pod}",
                config.attempt
            )))?
            .id;
        // A start that fails (a missing executable) leaves the instance created, never run:
        // its status says so and the restart logic takes it from there.
        if let Err(error) = self
            .docker
            .start_container(&id, None::<StartContainerOptions>)
            .await
        {
            tracing::warn!(%pod, container = %name, %error, "starting the container failed");
        }
        // The previous instance stays for its logs and last state; older ones go.
        for old in instances.iter().skip(1) {
            self.remove(&old.id).await?;
        }
        Ok(image_outcome)
    }

    async fn stop_container(
        &self,
        pod: &PodKey,
        container: &str,
        grace: Duration,
    ) -> Result<(), RuntimeError> {
        let listed = self.list(Some(pod), None).await?;
        let newest = by_container(&listed)
            .remove(container)
            .and_then(|instances| instances.first().map(|l| (l.id.clone(), l.running)));
        match newest {
            Some((id, true)) => self.stop(&id, grace).await,
            Some((_, false)) => Ok(()),
            None => Err(RuntimeError::NotFound(format!(
                "container {container:?} in pod {pod}"
            ))),
        }
    }

    async fn stop_pod(&self, pod: &PodKey, grace: Duration) -> Result<(), RuntimeError> {
        let listed = self.list(Some(pod), None).await?;
        let sandbox = sandbox_of(&listed)
            .ok_or_else(|| RuntimeError::NotFound(format!("sandbox of pod {pod}")))?;
        let running = listed
            .iter()
            .filter(|l| l.running && l.instance.role != Role::Sandbox);
        let stopped = join_all(running.map(|l| self.stop(&l.id, grace))).await;
        stopped.into_iter().collect::<Result<Vec<()>, _>>()?;
        // The pause program ends at once on SIGTERM, which frees the pod's address.
        self.stop(&sandbox.id, grace).await
    }

    async fn remove_pod(&self, pod: &PodKey) -> Result<(), RuntimeError> {
        let listed = self.list(Some(pod), None).await?;
        for found in &listed {
            self.remove(&found.id).await?;
        }
        let pod_dir = self.config.pods_dir.join(&pod.uid);
        match tokio::fs::remove_dir_all(&pod_dir).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(RuntimeError::Engine(format!(
                    "removing {}: {error}",
                    pod_dir.display()
                )));
            }
        }
        match sandbox_of(&listed) {
            Some(_) => Ok(()),
            None => Err(RuntimeError::NotFound(format!("sandbox of pod {pod}"))),
        }
    }

    async fn pod_status(&self, pod: &PodKey) -> Result<RuntimePod, RuntimeError> {
        let listed = self.list(Some(pod), None).await?;
        let sandbox = sandbox_of(&listed)
            .ok_or_else(|| RuntimeError::NotFound(format!("sandbox of pod {pod}")))?;
        let sandbox = self.sandbox(&sandbox.id).await?;
        let mut containers = Vec::new();
        for instances in by_container(&listed).values() {
            if let [newest, rest @ ..] = instances.as_slice() {
                containers.push(self.container(newest, rest.first().copied()).await?);
            }
        }
        Ok(RuntimePod {
            sandbox,
            containers,
        })
    }

    async fn logs(
        &self,
        pod: &PodKey,
        container: &str,
        options: &LogOptions,
    ) -> Result<LogStream, RuntimeError> {
        let listed = self.list(Some(pod), None).await?;
        let instances = by_container(&listed).remove(container).unwrap_or_default();
        let wanted = if options.previous {
            instances.get(1).ok_or_else(|| {
                RuntimeError::NotFound(format!(
                    "previous terminated container {container:?} in pod {:?}",
                    pod.name
                ))
            })?
        } else {
            instances.first().ok_or_else(|| {
                RuntimeError::NotFound(format!("container {container:?} in pod {:?}", pod.name))
            })?
        };
        Ok(logs::stream(&self.docker, &wanted.id, options))
    }

    async fn process(
        &self,
        pod: &PodKey,
        container: &str,
        request: ProcessRequest<'_>,
    ) -> Result<ProcessIo, RuntimeError> {
        let listed = self.list(Some(pod), None).await?;
        let newest = by_container(&listed)
            .remove(container)
            .and_then(|instances| instances.first().map(|l| (l.id.clone(), l.running)));
        let id = match newest {
            Some((id, true)) => id,
            _ => {
                return Err(RuntimeError::NotFound(format!(
                    "a running container {container:?} in pod {:?}",
                    pod.name
                )));
            }
        };
        if request.command.is_empty() {
            process::attach(&self.docker, &id, request).await
        } else {
            process::exec(&self.docker, &id, request).await
        }
    }

    fn runs_processes(&self) -> bool {
        true
    }

    fn volumes_dir(&self, pod: &PodKey) -> Option<PathBuf> {
        Some(self.pod_volumes(pod))
    }

    async fn list_pods(&self) -> Result<Vec<PodKey>, RuntimeError> {
        let mut pods: Vec<PodKey> = self
            .list(None, Some(Role::Sandbox))
            .await?
            .into_iter()
            .map(|l| l.instance.pod)
            .collect();
        pods.sort_by(|a, b| a.uid.cmp(&b.uid));
        pods.dedup();
        Ok(pods)
    }

    fn changes(&self) -> impl Stream<Item = PodKey> + Send + 'static {
        events::changes(self.docker.clone(), self.config.node_name.clone())
    }
}
