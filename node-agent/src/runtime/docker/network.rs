//! The pod network: a user-defined bridge whose subnet is the node's pod CIDR, so the engine
//! hands pod addresses out of it (`.1` is the bridge) and, unless the agent routes pods
//! between nodes (see `crate::routes`), masquerades their traffic leaving the node. Found
//! again by name after a restart; replaced only when the CIDR changed and no sandbox still
//! uses it.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::InspectNetworkOptions;

use super::engine_error;
use super::labels::NODE;
use crate::runtime::RuntimeError;

/// The network's name and its bridge interface's.
#[derive(Debug, Clone)]
pub struct PodNetwork {
    pub name: String,
    /// At most 15 characters, the kernel's limit for interface names.
    pub bridge: String,
    /// Whether the engine masquerades the network's traffic leaving the node.
    pub masquerade: bool,
}

impl PodNetwork {
    /// Makes the network serve `cidr`, creating it if missing. `in_use` says whether sandboxes
    /// are attached, which forbids replacing a network of another subnet.
    pub async fn ensure(
        &self,
        docker: &Docker,
        node: &str,
        cidr: &str,
        in_use: bool,
    ) -> Result<(), RuntimeError> {
        let existing = docker
            .inspect_network(&self.name, None::<InspectNetworkOptions>)
            .await;
        match existing {
            Ok(network) => {
                let subnets: Vec<String> = network
                    .ipam
                    .and_then(|ipam| ipam.config)
                    .into_iter()
                    .flatten()
                    .filter_map(|config| config.subnet)
                    .collect();
                if subnets.iter().any(|subnet| subnet == cidr) {
                    return Ok(());
                }
                if in_use {
                    return Err(RuntimeError::PodCidr {
                        cidr: cidr.to_owned(),
                        reason: format!(
                            "pods still run on network {} with subnet {}",
                            self.name,
                            subnets.join(", ")
                        ),
                    });
                }
                docker
                    .remove_network(&self.name)
                    .await
                    .map_err(engine_error(format!("network {}", self.name)))?;
            }
            Err(error) => match engine_error(format!("network {}", self.name))(error) {
                RuntimeError::NotFound(_) => {}
                other => return Err(other),
            },
        }
        docker
            .create_network(self.request(node, cidr))
            .await
            .map_err(
                |error| match engine_error(format!("network {}", self.name))(error) {
                    RuntimeError::Engine(message) => RuntimeError::PodCidr {
                        cidr: cidr.to_owned(),
                        reason: message,
                    },
                    other => other,
                },
            )?;
        Ok(())
    }

    fn request(&self, node: &str, cidr: &str) -> NetworkCreateRequest {
        let options = [
            ("com.docker.network.bridge.name", self.bridge.as_str()),
            (
                "com.docker.network.bridge.enable_ip_masquerade",
                if self.masquerade { "true" } else { "false" },
            ),
        ];
        NetworkCreateRequest {
            name: self.name.clone(),
            driver: Some("bridge".to_owned()),
            ipam: Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(cidr.to_owned()),
                    gateway: gateway(cidr),
                    ..IpamConfig::default()
                }]),
                ..Ipam::default()
            }),
            options: Some(
                options
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            ),
            labels: Some(HashMap::from([(NODE.to_owned(), node.to_owned())])),
            ..NetworkCreateRequest::default()
        }
    }
}

/// The first address of an IPv4 CIDR, the bridge's; `None` when `cidr` is not one (the
/// engine then picks, or refuses the subnet).
fn gateway(cidr: &str) -> Option<String> {
    let (address, _) = cidr.split_once('/')?;
    let address: std::net::Ipv4Addr = address.parse().ok()?;
    Some(std::net::Ipv4Addr::from(u32::from(address).checked_add(1)?).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_takes_the_first_address() {
        assert_eq!(gateway("10.244.1.0/24").as_deref(), Some("10.244.1.1"));
        assert_eq!(gateway("fd00::/64"), None);
        assert_eq!(gateway("nonsense"), None);
    }
}
