//! What one agent process runs: the nodes it registers, their capacity, and the timings of its
//! heartbeats and housekeeping. Plain data, filled by the command line or by tests.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// A flag value that is not what the agent expects.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{0:?} is not a quantity: write a number with an optional suffix, such as 4, 500m, 8Gi or 1.5G"
    )]
    Quantity(String),
}

/// What a node offers to pods; reported as both capacity and allocatable.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub cpu: Quantity,
    pub memory: Quantity,
    pub pods: u32,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            cpu: Quantity("4".into()),
            memory: Quantity("8Gi".into()),
            pods: 110,
        }
    }
}

/// One node as the agent registers it.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub name: String,
    /// The node's InternalIP, also the host IP of its pods.
    pub address: IpAddr,
    /// Labels the node `node-role.kubernetes.io/control-plane` and taints it NoSchedule.
    pub control_plane: bool,
    pub capacity: Capacity,
}

/// The first address handed to simulated fleet nodes: the shared address space of RFC 6598,
/// which no real network on the machine is likely to use.
const FLEET_ADDRESSES: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 0);

/// The nodes of a simulated fleet: `PREFIX-1` … `PREFIX-COUNT`, each with its own address.
pub fn fleet(count: u32, prefix: &str, capacity: &Capacity) -> Vec<NodeConfig> {
    (1..=count)
        .map(|index| NodeConfig {
            name: format!("{prefix}-{index}"),
            address: IpAddr::V4(Ipv4Addr::from(u32::from(FLEET_ADDRESSES) + index)),
            control_plane: false,
            capacity: capacity.clone(),
        })
        .collect()
}

/// The container runtimes the agent can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// In memory: containers start at once and run until stopped.
    Simulated,
}

/// Which nodes one process runs.
#[derive(Debug, Clone)]
pub enum Nodes {
    /// One node, as a real kubelet: its pod watch selects its own name.
    One(NodeConfig),
    /// Many simulated nodes sharing one client and one pod watch.
    Fleet {
        count: u32,
        prefix: String,
        capacity: Capacity,
    },
}

/// Everything [`crate::run`] needs besides the client.
#[derive(Debug, Clone)]
pub struct Config {
    pub nodes: Nodes,
    pub runtime: RuntimeKind,
    pub settings: Settings,
}

/// Timings and limits shared by every node of a process. The defaults are upstream's.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How often each node renews its Lease (upstream: a quarter of the lease duration).
    pub lease_renew_interval: Duration,
    /// How long a Lease stays valid without renewal (`leaseDurationSeconds`).
    pub lease_duration: Duration,
    /// How often a node re-posts its status when nothing changed (upstream's
    /// nodeStatusReportFrequency).
    pub status_report_interval: Duration,
    /// How often the runtime is swept for pods the API no longer has.
    pub housekeeping_interval: Duration,
    /// Pods synced at once across the whole process.
    pub sync_concurrency: u16,
    /// Nodes registered at once at start.
    pub registration_concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lease_renew_interval: Duration::from_secs(10),
            lease_duration: Duration::from_secs(40),
            status_report_interval: Duration::from_secs(5 * 60),
            housekeeping_interval: Duration::from_secs(10),
            sync_concurrency: 64,
            registration_concurrency: 32,
        }
    }
}

/// Checks that `text` is a Kubernetes quantity: a decimal number with an optional binary
/// (`Ki` … `Ei`) or decimal (`m`, `k`, `M` … `E`) suffix, or an exponent (`1e3`).
pub fn parse_quantity(text: &str) -> Result<Quantity, ConfigError> {
    const SUFFIXES: [&str; 14] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E", "",
    ];
    let invalid = || ConfigError::Quantity(text.to_owned());
    let number = SUFFIXES
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix))
        .ok_or_else(invalid)?;
    let (mantissa, exponent) = match number.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (digits(whole) || whole.is_empty())
                && (digits(fraction) || fraction.is_empty())
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if mantissa_ok && exponent_ok {
        Ok(Quantity(text.to_owned()))
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_take_upstream_suffixes() {
        for good in ["4", "500m", "8Gi", "1.5G", "0.5", "1e3", "2E-1", "110"] {
            assert_eq!(
                parse_quantity(good).map(|q| q.0).ok().as_deref(),
                Some(good)
            );
        }
        for bad in ["", "Gi", "8GB", "-1", "1.2.3", "four", "8 Gi", "."] {
            assert!(parse_quantity(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn fleet_nodes_are_numbered_from_one_with_distinct_addresses() {
        let nodes = fleet(3, "sim", &Capacity::default());
        let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["sim-1", "sim-2", "sim-3"]);
        assert_eq!(nodes[0].address.to_string(), "100.64.0.1");
        assert_eq!(nodes[2].address.to_string(), "100.64.0.3");
    }
}
