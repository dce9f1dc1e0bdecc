//! The mkc node agent: our kubelet. It registers nodes, keeps their Leases and status
//! current, and runs the pods bound to them on a container runtime, talking to the API server
//! only over HTTPS through the kube client.
//!
//! One process runs one node, as a real kubelet, or a fleet of simulated nodes sharing one
//! client and one pod watch. Pod sync, status and restart decisions are shared by every runtime
//! behind the [`ContainerRuntime`] seam.

mod agent;
mod conditions;
mod config;
mod dns;
mod events;
mod fleet;
mod heartbeat;
mod host;
mod housekeeping;
mod network;
mod node;
mod notes;
mod plan;
mod pod_sync;
mod probes;
mod proxy;
mod pulls;
mod report;
mod resolve;
mod restart;
mod routes;
mod runtime;
mod server;
mod service_env;
mod status;
pub mod streams;
mod tokens;
mod volumes;

pub use agent::{Error, run, run_nodes};
pub use config::{
    Capacity, Config, ConfigError, NodeConfig, Nodes, RuntimeKind, Services, Settings, fleet,
    machine_resources, parse_quantity,
};
pub use dns::ClusterDns;
pub use fleet::{FleetError, NodeSetup};
pub use heartbeat::LEASE_NAMESPACE;
pub use node::{KUBELET_PORT, NodeError};
pub use report::one_line;
pub use runtime::docker::{ConnectError, DockerConfig, DockerRuntime};
pub use runtime::simulated::SimulatedRuntime;
pub use runtime::{
    ContainerConfig, ContainerRole, ContainerRuntime, ContainerState, HostPort, ImageOutcome,
    LogOptions, LogStream, PodKey, Prepared, RuntimeContainer, RuntimeError, RuntimePod, Sandbox,
    SandboxConfig, Termination,
};
pub use server::{API_SERVER_CLIENT, Serving};
