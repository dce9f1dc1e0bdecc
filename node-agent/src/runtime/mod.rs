//! The seam between pod sync and whatever runs containers. Pod sync, status computation and
//! restart decisions speak only these types, so a Docker runtime and the simulated one are
//! interchangeable; a runtime keeps no Kubernetes logic of its own.

pub mod docker;
pub mod simulated;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures::Stream;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

/// How the image of a started container came to be on the node, for the events a kubelet
/// records about it.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageOutcome {
    /// It was on the node already and was not pulled.
    Present,
    /// It was pulled, which took `took`.
    Pulled { took: Duration },
    /// Pulling it failed with `message`, and the copy already on the node was used.
    PullFailedUsedPresent { message: String },
}

/// What can go wrong in a runtime call. NotFound and AlreadyExists are typed so callers can
/// make creates and deletes idempotent.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("the pod network is not ready: {0}")]
    NetworkNotReady(String),
    #[error("pod CIDR {cidr}: {reason}")]
    PodCidr { cidr: String, reason: String },
    /// The image is not on the node and could not be pulled; pod sync backs off before trying
    /// again and reports the container waiting in ErrImagePull / ImagePullBackOff.
    #[error("pulling image {image:?}: {message}")]
    ImagePull { image: String, message: String },
    /// The engine refused or failed a request; `0` says which and why.
    #[error("{0}")]
    Engine(String),
    /// The runtime runs no processes, so it has none of `0` to give.
    #[error("this runtime runs no processes, so it has no {0}")]
    Unsupported(&'static str),
}

/// How a container's log is asked for, as `kubectl logs` asks the API server and the API
/// server asks the node (`follow`, `previous`, `timestamps`, `tailLines`, `sinceSeconds`,
/// `limitBytes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    /// The instance before the current one, after a restart.
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<u64>,
    pub since_seconds: Option<u64>,
    pub limit_bytes: Option<u64>,
}

impl LogOptions {
    /// Reads the query of a `containerLogs` request; unknown or unreadable values are ignored,
    /// as the API server checked them before forwarding.
    pub fn from_query(query: &str) -> LogOptions {
        let mut options = LogOptions::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let on = matches!(value.as_ref(), "true" | "1" | "True");
            let number = value.parse::<u64>().ok();
            match key.as_ref() {
                "follow" => options.follow = on,
                "previous" => options.previous = on,
                "timestamps" => options.timestamps = on,
                "tailLines" => options.tail_lines = number,
                "sinceSeconds" => options.since_seconds = number,
                "limitBytes" => options.limit_bytes = number,
                _ => {}
            }
        }
        options
    }
}

/// A container's log as it is read: its bytes, stdout and stderr interleaved as written.
pub type LogStream = futures::stream::BoxStream<'static, Result<bytes::Bytes, RuntimeError>>;

/// Which of a process's outputs a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    Stdout,
    Stderr,
}

/// A process in one of a pod's containers whose streams the caller holds: what `exec` runs
/// and what `attach` joins.
pub struct ProcessIo {
    /// Its standard input, when it was asked for.
    pub stdin: Option<std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>>,
    /// Its output, ending when the process closes stdout and stderr (with a terminal, all of it
    /// is stdout).
    pub output: futures::stream::BoxStream<'static, (Stdio, bytes::Bytes)>,
    /// Tells its terminal the client's new size (width, height).
    pub resize: Box<dyn FnMut(u16, u16) + Send>,
    /// Its exit code, once the output has ended.
    pub exit: futures::future::BoxFuture<'static, Result<i64, RuntimeError>>,
}

/// What a process in a container is started or joined with.
#[derive(Debug, Clone, Copy)]
pub struct ProcessRequest<'a> {
    /// The command to run; empty to attach to the container's own process.
    pub command: &'a [String],
    pub stdin: bool,
    pub tty: bool,
}

/// A pod as runtimes know it: by UID, with its names kept for humans and logs. A pod deleted
/// and created again under the same name is a different pod here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodKey {
    pub uid: String,
    pub namespace: String,
    pub name: String,
}

impl PodKey {
    /// The key of an API pod; `None` when the pod lacks a UID (never the case for a stored pod).
    pub fn of(pod: &Pod) -> Option<PodKey> {
        Some(PodKey {
            uid: pod.metadata.uid.clone()?,
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
        })
    }
}

impl std::fmt::Display for PodKey {
    /// Upstream's way of naming a pod in messages: `name_namespace(uid)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}({})", self.name, self.namespace, self.uid)
    }
}

/// What a pod's sandbox needs: its identity, whether it shares the node's network, and the
/// container ports published on the node's address.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub pod: PodKey,
    pub hostname: String,
    pub host_network: bool,
    pub host_ports: Vec<HostPort>,
    /// The pod's resolver settings; `None` keeps the engine's.
    pub dns: Option<DnsConfig>,
}

/// What a pod's `/etc/resolv.conf` holds, as CRI's DNSConfig.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsConfig {
    pub servers: Vec<String>,
    pub searches: Vec<String>,
    pub options: Vec<String>,
}

impl DnsConfig {
    /// The file's text.
    pub fn resolv_conf(&self) -> String {
        let mut text = String::new();
        for server in &self.servers {
            text.push_str(&format!("nameserver {server}\n"));
        }
        for (keyword, values) in [("search", &self.searches), ("options", &self.options)] {
            if !values.is_empty() {
                text.push_str(&format!("{keyword} {}\n", values.join(" ")));
            }
        }
        text
    }
}

impl SandboxConfig {
    /// The sandbox of `pod` as its spec describes it: the spec's hostname or the pod's name,
    /// and every container port that names a `hostPort` (none on the host network, where the
    /// ports are the node's already); `dns` is what its resolv.conf holds.
    pub fn of(pod: PodKey, spec: &PodSpec, dns: Option<DnsConfig>) -> SandboxConfig {
        let host_network = spec.host_network == Some(true);
        let host_ports = spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter(|_| !host_network)
            .filter_map(|port| {
                Some(HostPort {
                    container_port: u16::try_from(port.container_port).ok()?,
                    host_port: u16::try_from(port.host_port?).ok()?,
                    protocol: port
                        .protocol
                        .as_deref()
                        .unwrap_or("TCP")
                        .to_ascii_lowercase(),
                    host_ip: port.host_ip.clone().filter(|ip| !ip.is_empty()),
                })
            })
            .collect();
        SandboxConfig {
            hostname: spec.hostname.clone().unwrap_or_else(|| pod.name.clone()),
            pod,
            host_network,
            host_ports,
            dns,
        }
    }
}

/// A container port published on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub container_port: u16,
    pub host_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// The node address to publish on; `None` for the node's own address.
    pub host_ip: Option<String>,
}

/// A pod's sandbox: the network identity its containers share.
#[derive(Debug, Clone, PartialEq)]
pub struct Sandbox {
    /// The pod's own address; `None` for a pod on the host network.
    pub ip: Option<IpAddr>,
    pub created_at: Timestamp,
    /// Whether it holds the pod's namespaces still; one that stopped (its node restarted) is
    /// started again before any container of the pod is.
    pub running: bool,
}

/// Whether a container runs to completion before the next starts, or runs for the pod's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRole {
    Init,
    Main,
}

/// One container to start in a pod's sandbox.
#[derive(Debug, Clone, Copy)]
pub struct ContainerConfig<'a> {
    pub spec: &'a Container,
    /// The pod's spec, for what a container takes from its pod: volumes, the service account,
    /// the node name.
    pub pod: &'a PodSpec,
    pub role: ContainerRole,
    /// How many times this container has been restarted; reported back as its restart count.
    pub attempt: u32,
}

/// What the agent resolved for one container from its pod and the API before starting it, as
/// plain data: a runtime reads no API objects and expands nothing, as a CRI runtime receives
/// what the kubelet made of the spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    /// The spec's `command`, expanded: it replaces the image's entrypoint; `None` keeps it.
    pub command: Option<Vec<String>>,
    /// The spec's `args`, expanded (none when a command is given without them): they replace
    /// the image's arguments; `None` keeps them.
    pub args: Option<Vec<String>>,
    /// The environment, each name once, in the order it was defined: `envFrom`, then `env`.
    pub env: Vec<(String, String)>,
    /// Host directories holding the files of the pod's ConfigMap, Secret, downward API and
    /// projected volumes, by volume name; mounted read-only.
    pub volumes: HashMap<String, PathBuf>,
}

/// How a container instance ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Termination {
    pub container_id: String,
    pub exit_code: i32,
    /// `Completed` for exit code 0, `Error` otherwise, or what the runtime knows better
    /// (`OOMKilled`).
    pub reason: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

/// Where the current instance of a container is.
#[derive(Debug, Clone, PartialEq)]
pub enum ContainerState {
    Running { started_at: Timestamp },
    Exited(Termination),
}

/// The newest instance of one of a pod's containers.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeContainer {
    pub name: String,
    /// The ID as the API reports it, with the runtime's scheme: `docker://…`.
    pub id: String,
    pub image: String,
    pub image_id: String,
    /// The attempt it was started with, which is the container's restart count.
    pub attempt: u32,
    pub state: ContainerState,
    /// How the instance before this one ended, if there was one.
    pub last_termination: Option<Termination>,
}

/// What a runtime runs for one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimePod {
    pub sandbox: Sandbox,
    pub containers: Vec<RuntimeContainer>,
}

impl RuntimePod {
    pub fn container(&self, name: &str) -> Option<&RuntimeContainer> {
        self.containers.iter().find(|c| c.name == name)
    }
}

/// The operations pod sync needs from a container runtime. Every call is idempotent in
/// effect: creating what exists answers AlreadyExists, removing what is gone answers NotFound.
///
/// One runtime serves one node; it outlives the agent that drives it (a restarted agent finds
/// the pods still running and resyncs from [`ContainerRuntime::list_pods`]).
pub trait ContainerRuntime: Send + Sync + 'static {
    /// The runtime's name and version as nodes report it: `simulated://1.0`, `docker://27.5.1`.
    fn version(&self) -> impl Future<Output = Result<String, RuntimeError>> + Send;

    /// Tells the runtime the node's pod CIDR, from which pod addresses come. Repeating the same
    /// CIDR is a no-op.
    fn set_pod_cidr(&self, cidr: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Creates the pod's sandbox unless it exists, starts it again if it stopped, and returns
    /// it.
    fn ensure_sandbox(
        &self,
        config: &SandboxConfig,
    ) -> impl Future<Output = Result<Sandbox, RuntimeError>> + Send;

    /// Starts a container in the pod's sandbox with what the agent `prepared` for it, replacing
    /// an exited instance of an earlier attempt, and says how its image came to be on the node.
    /// AlreadyExists when this attempt (or a later one) already started.
    fn start_container(
        &self,
        pod: &PodKey,
        container: ContainerConfig<'_>,
        prepared: &Prepared,
    ) -> impl Future<Output = Result<ImageOutcome, RuntimeError>> + Send;

    /// Where the agent writes the files of the pod's volumes that come from the API, one
    /// directory per volume; `None` when the runtime's containers have no files (the simulated
    /// runtime), so nothing is written.
    fn volumes_dir(&self, pod: &PodKey) -> Option<PathBuf>;

    /// Stops the running instance of one of the pod's containers, killing it after `grace`, as
    /// a failed liveness probe asks; its exit shows in [`ContainerRuntime::pod_status`] and the
    /// restart policy takes it from there. An instance already stopped is fine; NotFound when
    /// the pod has no such container.
    fn stop_container(
        &self,
        pod: &PodKey,
        container: &str,
        grace: Duration,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Stops every running container of the pod, killing what still runs after `grace`, and
    /// takes down its network, releasing its address. The stopped containers stay, with their
    /// exit status (and logs), until [`ContainerRuntime::remove_pod`]; a stopped pod is not
    /// started again.
    fn stop_pod(
        &self,
        pod: &PodKey,
        grace: Duration,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Removes the pod's containers and sandbox, releasing its address if it still holds one.
    fn remove_pod(&self, pod: &PodKey) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// The pod's sandbox and containers; NotFound when it has no sandbox.
    fn pod_status(
        &self,
        pod: &PodKey,
    ) -> impl Future<Output = Result<RuntimePod, RuntimeError>> + Send;

    /// The log of one of the pod's containers: the newest instance, or the one before it.
    fn logs(
        &self,
        pod: &PodKey,
        container: &str,
        options: &LogOptions,
    ) -> impl Future<Output = Result<LogStream, RuntimeError>> + Send;

    /// Runs a command in the newest instance of one of the pod's containers, or attaches to
    /// its own process when the command is empty.
    fn process(
        &self,
        pod: &PodKey,
        container: &str,
        request: ProcessRequest<'_>,
    ) -> impl Future<Output = Result<ProcessIo, RuntimeError>> + Send;

    /// Whether the pod's containers run real processes that probes can reach. Probes of
    /// containers on a runtime whose containers do not (the simulated one) are not run: those
    /// containers are treated as having none, as upstream treats a container without probes.
    fn runs_processes(&self) -> bool;

    /// Every pod the runtime holds a sandbox for.
    fn list_pods(&self) -> impl Future<Output = Result<Vec<PodKey>, RuntimeError>> + Send;

    /// Pods whose containers changed on their own (an exit), not as the direct result of a
    /// call; pod sync looks at them again. Each call opens a new subscription.
    fn changes(&self) -> impl Stream<Item = PodKey> + Send + 'static;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_options_read_the_kubelet_query() {
        let options =
            LogOptions::from_query("follow=true&tailLines=5&previous=1&limitBytes=x&other=1");
        assert_eq!(
            options,
            LogOptions {
                follow: true,
                previous: true,
                tail_lines: Some(5),
                ..LogOptions::default()
            }
        );
    }
}
