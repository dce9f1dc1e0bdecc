//! What one agent process runs: the nodes it registers, their capacity, and the timings of its
//! heartbeats and housekeeping. Plain data, filled by the command line or by tests.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeKind {
    /// In memory: containers start at once and run until stopped.
    Simulated,
    /// A Docker engine running one node's pods for real.
    Docker {
        /// The engine's address, such as `unix:///var/run/docker.sock`.
        host: String,
        /// Where pods' `emptyDir` volumes live.
        pods_dir: PathBuf,
    },
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
    /// How often a running pod's ConfigMap, Secret, downward API and projected volumes are
    /// written again from the API (upstream's syncFrequency).
    pub volume_refresh_interval: Duration,
    /// Nodes registered at once at start.
    pub registration_concurrency: usize,
    /// What a node that runs real containers serves beside its pods.
    pub services: Services,
    /// The cluster's DNS (a kubelet's `--cluster-dns` and `--cluster-domain`); without it,
    /// pods use the engine's resolver whatever their dnsPolicy.
    pub cluster_dns: Option<crate::dns::ClusterDns>,
}

/// The parts of a real node beyond pods, for a process running one node on Docker.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// The node's own HTTPS port (logs for the API server), when it has a certificate.
    pub serving: Option<crate::server::Serving>,
    /// The network every node's pod CIDR comes from: with it, the agent routes pod traffic to
    /// other nodes' pods through their addresses.
    pub pod_routes: Option<String>,
    /// The same network: with it, the agent routes Services on the node (as kube-proxy).
    pub service_proxy: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lease_renew_interval: Duration::from_secs(10),
            lease_duration: Duration::from_secs(40),
            status_report_interval: Duration::from_secs(5 * 60),
            housekeeping_interval: Duration::from_secs(10),
            sync_concurrency: 64,
            volume_refresh_interval: Duration::from_secs(60),
            registration_concurrency: 32,
            services: Services::default(),
            cluster_dns: None,
        }
    }
}

/// The CPUs and memory this machine offers pods: the limits of the agent's own cgroup when it
/// has them (a node container started with `--cpus` / `--memory`), else the machine's.
pub fn machine_resources() -> (Quantity, Quantity) {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let millicpus = cgroup_millicpus(
        read("/sys/fs/cgroup/cpu.max").as_deref(),
        read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").as_deref(),
        read("/sys/fs/cgroup/cpu/cpu.cfs_period_us").as_deref(),
    )
    .or_else(|| {
        let cpus = std::thread::available_parallelism().ok()?;
        u64::try_from(cpus.get()).ok()?.checked_mul(1000)
    })
    .unwrap_or(1000);
    let machine = read("/proc/meminfo").as_deref().and_then(mem_total);
    let limit = read("/sys/fs/cgroup/memory.max")
        .or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        .and_then(|text| text.trim().parse::<u64>().ok());
    // An unlimited cgroup v1 reports a huge number; the machine's memory bounds it.
    let memory = match (limit, machine) {
        (Some(limit), Some(machine)) => limit.min(machine),
        (limit, machine) => limit.or(machine).unwrap_or(0),
    };
    let cpu = if millicpus.is_multiple_of(1000) {
        (millicpus / 1000).to_string()
    } else {
        format!("{millicpus}m")
    };
    (Quantity(cpu), Quantity(format!("{}Ki", memory / 1024)))
}

/// The CPU limit of a cgroup in thousandths of a CPU: v2's `cpu.max` (`QUOTA PERIOD` or
/// `max PERIOD`), else v1's quota and period (a quota of -1 is no limit).
fn cgroup_millicpus(
    v2: Option<&str>,
    v1_quota: Option<&str>,
    v1_period: Option<&str>,
) -> Option<u64> {
    let (quota, period) = match v2 {
        Some(max) => max.trim().split_once(' ')?,
        None => (v1_quota?.trim(), v1_period?.trim()),
    };
    let quota: u64 = quota.parse().ok()?;
    let period: u64 = period.parse().ok().filter(|p| *p > 0)?;
    Some((quota * 1000).div_ceil(period))
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
    let kibibytes: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kibibytes.checked_mul(1024)
}

/// Checks that `text` is a Kubernetes quantity: a decimal number with an optional binary
/// (`Ki` … `Ei`) or decimal (`m`, `k`, `M` … `E`) suffix, or an exponent (`1e3`).
pub fn parse_quantity(text: &str) -> Result<Quantity, ConfigError> {
    match quantity_nanos(text) {
        Some(_) => Ok(Quantity(text.to_owned())),
        None => Err(ConfigError::Quantity(text.to_owned())),
    }
}

/// The amount a quantity stands for, in billionths (`500m` is 500,000,000, `1Ki` is
/// 1,024,000,000,000), rounded up as upstream rounds a quantity's milli and whole values; exact,
/// so that dividing it (a resource by its divisor, CPUs into shares) rounds as upstream does.
/// `None` when `text` is not a quantity or is too large to hold.
pub fn quantity_nanos(text: &str) -> Option<i128> {
    const SUFFIXES: [(&str, u32, i32); 14] = [
        ("Ki", 1, 0),
        ("Mi", 2, 0),
        ("Gi", 3, 0),
        ("Ti", 4, 0),
        ("Pi", 5, 0),
        ("Ei", 6, 0),
        ("m", 0, -3),
        ("k", 0, 3),
        ("M", 0, 6),
        ("G", 0, 9),
        ("T", 0, 12),
        ("P", 0, 15),
        ("E", 0, 18),
        ("", 0, 0),
    ];
    let (number, binary, decimal) = SUFFIXES.iter().find_map(|(suffix, binary, decimal)| {
        Some((text.strip_suffix(suffix)?, *binary, *decimal))
    })?;
    let (mantissa, exponent) = match number.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().ok()?),
        None => (number, 0),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !digits(whole) || !digits(fraction) || whole.len() + fraction.len() == 0 {
        return None;
    }
    let fraction_digits = i32::try_from(fraction.len()).ok()?;
    let mut value: i128 = format!("{whole}{fraction}").parse().ok()?;
    value = value.checked_mul(1_i128.checked_shl(10 * binary)?)?;
    let scale = exponent
        .checked_add(decimal)?
        .checked_add(9)?
        .checked_sub(fraction_digits)?;
    if scale >= 0 {
        value.checked_mul(10_i128.checked_pow(u32::try_from(scale).ok()?)?)
    } else {
        // Beyond 10^38 every quantity is smaller than one billionth: it rounds up to one.
        match 10_i128.checked_pow(scale.unsigned_abs()) {
            Some(divisor) => Some((value + divisor - 1) / divisor),
            None => Some(i128::from(value > 0)),
        }
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
    fn quantities_are_exact_in_billionths_rounded_up() {
        let cases = [
            ("500m", Some(500_000_000)),
            ("100m", Some(100_000_000)),
            ("2", Some(2_000_000_000)),
            ("128Mi", Some(134_217_728_000_000_000)),
            ("1G", Some(1_000_000_000_000_000_000)),
            ("1e3", Some(1_000_000_000_000)),
            ("2E-1", Some(200_000_000)),
            ("1.5k", Some(1_500_000_000_000)),
            ("0.0000000001", Some(1)),
            ("1e-60", Some(1)),
            ("0", Some(0)),
            ("1e100", None),
            ("lots", None),
            ("-1", None),
        ];
        for (text, nanos) in cases {
            assert_eq!(quantity_nanos(text), nanos, "{text:?}");
        }
    }

    #[test]
    fn cgroup_limits_read_as_thousandths_of_a_cpu() {
        assert_eq!(
            cgroup_millicpus(Some("150000 100000\n"), None, None),
            Some(1500)
        );
        assert_eq!(cgroup_millicpus(Some("max 100000\n"), None, None), None);
        assert_eq!(
            cgroup_millicpus(None, Some("200000\n"), Some("100000\n")),
            Some(2000)
        );
        assert_eq!(cgroup_millicpus(None, Some("-1\n"), Some("100000\n")), None);
        assert_eq!(cgroup_millicpus(None, None, None), None);
        assert_eq!(
            mem_total("MemTotal:       16314436 kB\nMemFree: 1 kB\n"),
            Some(16_314_436 * 1024)
        );
        assert_eq!(mem_total("nothing"), None);
        let (cpu, memory) = machine_resources();
        assert!(parse_quantity(&cpu.0).is_ok() && parse_quantity(&memory.0).is_ok());
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
