//! The pod sandbox: a pause container that holds the pod's network and IPC namespaces, which
//! the pod's containers join. On the pod network its address is the pod's; on the host
//! network it is the node's. Ports with a `hostPort` are published on it.

use std::collections::HashMap;
use std::net::IpAddr;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, HostConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use jiff::Timestamp;

use super::labels::Instance;
use super::pause;
use crate::runtime::{Sandbox, SandboxConfig};

/// What the engine is asked to create for the sandbox of `config`.
pub fn create_body(
    config: &SandboxConfig,
    labels: HashMap<String, String>,
    network: &str,
    node_address: IpAddr,
) -> ContainerCreateBody {
    let mut ports: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &config.host_ports {
        let binding = PortBinding {
            host_ip: Some(
                port.host_ip
                    .clone()
                    .unwrap_or_else(|| node_address.to_string()),
            ),
            host_port: Some(port.host_port.to_string()),
        };
        ports
            .entry(format!("{}/{}", port.container_port, port.protocol))
            .or_default()
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    ContainerCreateBody {
        image: Some(pause::image()),
        // The engine refuses a hostname on the host network, where the node's is used.
        hostname: (!config.host_network).then(|| config.hostname.clone()),
        labels: Some(labels),
        exposed_ports: (!ports.is_empty()).then(|| ports.keys().cloned().collect()),
        host_config: Some(HostConfig {
            network_mode: Some(if config.host_network {
                "host".to_owned()
            } else {
                network.to_owned()
            }),
            ipc_mode: Some("shareable".to_owned()),
            port_bindings: (!ports.is_empty()).then_some(ports),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

/// The sandbox an inspected pause container is: its address on `network` (none on the host
/// network, or once stopped), when it was made, and whether it runs.
pub fn of(inspect: &ContainerInspectResponse, network: &str) -> Sandbox {
    let ip = inspect
        .network_settings
        .as_ref()
        .and_then(|settings| settings.networks.as_ref())
        .and_then(|networks| networks.get(network))
        .and_then(|endpoint| endpoint.ip_address.as_deref())
        .and_then(|ip| ip.parse().ok());
    let created_at = inspect
        .created
        .as_deref()
        .and_then(|created| created.parse().ok())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let running = inspect
        .state
        .as_ref()
        .and_then(|state| state.running)
        .unwrap_or(false);
    Sandbox {
        ip,
        created_at,
        running,
    }
}

/// The sandbox's name in the engine.
pub fn name(config: &SandboxConfig) -> String {
    Instance::sandbox(&config.pod).name()
}
