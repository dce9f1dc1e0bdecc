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
mod fleet;
mod heartbeat;
mod housekeeping;
mod ipam;
mod network;
mod node;
mod plan;
mod pod_sync;
mod report;
mod restart;
mod runtime;
mod simulated;
mod status;

pub use agent::{Error, run, run_nodes};
pub use config::{
    Capacity, Config, ConfigError, NodeConfig, Nodes, RuntimeKind, Settings, fleet, parse_quantity,
};
pub use fleet::{FleetError, NodeSetup};
pub use heartbeat::LEASE_NAMESPACE;
pub use node::NodeError;
pub use report::one_line;
pub use runtime::{
    ContainerConfig, ContainerRole, ContainerRuntime, ContainerState, PodKey, RuntimeContainer,
    RuntimeError, RuntimePod, Sandbox, SandboxConfig, Termination,
};
pub use simulated::SimulatedRuntime;
