//! The Node object a node agent registers and keeps current: labels, the control-plane taint,
//! capacity, conditions, addresses and system info. The object is created once (or its labels
//! refreshed); its status always goes through the `status` subresource.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus,
    NodeSystemInfo, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde::Serialize;

use crate::conditions;
use crate::config::NodeConfig;
use crate::report;

const KUBELET_VERSION: &str = "v1.33.0-mkc";
/// The node's own port, as a kubelet's: where the API server reaches it for logs.
pub const KUBELET_PORT: u16 = 10250;
const CONTROL_PLANE_ROLE: &str = "node-role.kubernetes.io/control-plane";

/// A failed registration or status update.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The server answered with an error status.
    #[error("the API server answered {code} {reason}: {message}")]
    Refused {
        code: u16,
        reason: String,
        message: String,
    },
    /// The server could not be reached, or stopped answering.
    #[error("the API server could not be reached: {0}")]
    Unreachable(String),
    /// The request could not be made or its answer not read.
    #[error("talking to the API server failed: {0}")]
    Client(String),
}

impl From<kube::Error> for NodeError {
    fn from(error: kube::Error) -> NodeError {
        match error {
            kube::Error::Api(status) => NodeError::Refused {
                code: status.code,
                reason: status.reason,
                message: status.message,
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
                NodeError::Unreachable(report::one_line(&error))
            }
            other => NodeError::Client(report::one_line(&other)),
        }
    }
}

impl NodeError {
    /// Whether trying again may succeed: the server was away, overloaded or failing, or the
    /// node changed under the request.
    pub fn is_transient(&self) -> bool {
        match self {
            NodeError::Refused { code, .. } => *code == 409 || *code == 429 || *code >= 500,
            NodeError::Unreachable(_) => true,
            NodeError::Client(_) => false,
        }
    }
}

/// What a node says about the machine and runtime under it; the same for every node of a
/// fleet, so it is read once.
#[derive(Debug, Clone)]
pub struct SystemInfo {
    pub kernel_version: String,
    pub os_image: String,
    pub machine_id: String,
    pub boot_id: String,
    /// As Go names it: `amd64`, `arm64`.
    pub architecture: String,
    pub runtime_version: String,
}

impl SystemInfo {
    /// Reads the machine's kernel, OS and identifiers; what cannot be read stays empty, as
    /// upstream leaves it.
    pub fn detect(runtime_version: String) -> SystemInfo {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|text| text.trim().to_owned())
                .unwrap_or_default()
        };
        let os_image = read("/etc/os-release")
            .lines()
            .find_map(|line| line.strip_prefix("PRETTY_NAME="))
            .map_or_else(
                || "Linux".to_owned(),
                |value| value.trim_matches('"').to_owned(),
            );
        SystemInfo {
            kernel_version: read("/proc/sys/kernel/osrelease"),
            os_image,
            machine_id: read("/etc/machine-id"),
            boot_id: read("/proc/sys/kernel/random/boot_id"),
            architecture: go_arch(std::env::consts::ARCH).to_owned(),
            runtime_version,
        }
    }
}

/// Rust's name of a CPU architecture as Go (and so Kubernetes) spells it.
fn go_arch(rust: &str) -> &str {
    match rust {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Creates the node, or refreshes the labels of one that exists, then posts its status.
pub async fn register(
    api: &Api<Node>,
    node: &NodeConfig,
    system: &SystemInfo,
) -> Result<Node, NodeError> {
    let registered = match api
        .create(&PostParams::default(), &node_object(node, system))
        .await
    {
        Ok(created) => created,
        Err(kube::Error::Api(status)) if status.is_already_exists() => {
            let labels = LabelsPatch {
                metadata: LabelsOnly {
                    labels: labels(node, system),
                },
            };
            api.patch(&node.name, &PatchParams::default(), &Patch::Merge(&labels))
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    post_status(api, node, system, &registered).await
}

/// Posts the node's status, keeping the transition times of conditions that did not change
/// since `current`.
pub async fn post_status(
    api: &Api<Node>,
    node: &NodeConfig,
    system: &SystemInfo,
    current: &Node,
) -> Result<Node, NodeError> {
    let status = node_status(node, system, current.status.as_ref(), Timestamp::now());
    let patch = StatusPatch { status: &status };
    Ok(api
        .patch_status(
            &node.name,
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await?)
}

#[derive(Debug, Serialize)]
struct StatusPatch<'a> {
    status: &'a NodeStatus,
}

#[derive(Debug, Serialize)]
struct LabelsPatch {
    metadata: LabelsOnly,
}

#[derive(Debug, Serialize)]
struct LabelsOnly {
    labels: BTreeMap<String, String>,
}

fn node_object(node: &NodeConfig, system: &SystemInfo) -> Node {
    let taints = node.control_plane.then(|| {
        vec![Taint {
            key: CONTROL_PLANE_ROLE.to_owned(),
            effect: "NoSchedule".to_owned(),
            ..Taint::default()
        }]
    });
    Node {
        metadata: ObjectMeta {
            name: Some(node.name.clone()),
            labels: Some(labels(node, system)),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec {
            taints,
            ..NodeSpec::default()
        }),
        status: None,
    }
}

fn labels(node: &NodeConfig, system: &SystemInfo) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = [
        ("beta.kubernetes.io/arch", system.architecture.as_str()),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", system.architecture.as_str()),
        ("kubernetes.io/hostname", node.name.as_str()),
        ("kubernetes.io/os", "linux"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if node.control_plane {
        labels.insert(CONTROL_PLANE_ROLE.to_owned(), String::new());
    }
    labels
}

/// Upstream's node conditions for a healthy node, in its order: type, status, reason, message.
const CONDITIONS: [(&str, bool, &str, &str); 4] = [
    (
        "MemoryPressure",
        false,
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    (
        "DiskPressure",
        false,
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
    ),
    (
        "PIDPressure",
        false,
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
    ),
    (
        "Ready",
        true,
        "KubeletReady",
        "kubelet is posting ready status",
    ),
];

fn node_status(
    node: &NodeConfig,
    system: &SystemInfo,
    previous: Option<&NodeStatus>,
    now: Timestamp,
) -> NodeStatus {
    let previous = previous
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let conditions = CONDITIONS
        .into_iter()
        .map(|(kind, value, reason, message)| {
            let status = conditions::status(value);
            let before = previous
                .iter()
                .find(|c| c.type_ == kind)
                .map(|c| (c.status.as_str(), c.last_transition_time.as_ref()));
            NodeCondition {
                type_: kind.to_owned(),
                status: status.to_owned(),
                reason: Some(reason.to_owned()),
                message: Some(message.to_owned()),
                last_heartbeat_time: Some(Time(now)),
                last_transition_time: Some(conditions::since(before, status, now)),
            }
        })
        .collect();
    let resources: BTreeMap<String, Quantity> = [
        ("cpu", node.capacity.cpu.clone()),
        ("memory", node.capacity.memory.clone()),
        ("pods", Quantity(node.capacity.pods.to_string())),
    ]
    .into_iter()
    .map(|(name, quantity)| (name.to_owned(), quantity))
    .collect();
    NodeStatus {
        capacity: Some(resources.clone()),
        allocatable: Some(resources),
        conditions: Some(conditions),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".to_owned(),
                address: node.address.to_string(),
            },
            NodeAddress {
                type_: "Hostname".to_owned(),
                address: node.name.clone(),
            },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(KUBELET_PORT),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: system.architecture.clone(),
            boot_id: system.boot_id.clone(),
            container_runtime_version: system.runtime_version.clone(),
            kernel_version: system.kernel_version.clone(),
            kube_proxy_version: String::new(),
            kubelet_version: KUBELET_VERSION.to_owned(),
            machine_id: system.machine_id.clone(),
            operating_system: "linux".to_owned(),
            os_image: system.os_image.clone(),
            system_uuid: String::new(),
            swap: None,
        }),
        ..NodeStatus::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Capacity;
    use serde_json::json;

    fn config(control_plane: bool) -> NodeConfig {
        NodeConfig {
            name: "worker-1".into(),
            address: "172.18.0.3".parse().unwrap(),
            control_plane,
            capacity: Capacity {
                cpu: Quantity("2".into()),
                ..Capacity::default()
            },
        }
    }

    fn system() -> SystemInfo {
        SystemInfo {
            kernel_version: "6.1.0".into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            machine_id: "m".into(),
            boot_id: "b".into(),
            architecture: "amd64".into(),
            runtime_version: "simulated://1.0".into(),
        }
    }

    #[test]
    fn a_worker_has_the_well_known_labels_and_no_taint() {
        let node = serde_json::to_value(node_object(&config(false), &system())).unwrap();
        assert_eq!(
            node["metadata"]["labels"],
            json!({
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": "worker-1",
                "kubernetes.io/os": "linux",
            })
        );
        assert!(node["spec"].get("taints").is_none());
    }

    #[test]
    fn a_control_plane_node_carries_its_role_and_no_schedule_taint() {
        let node = serde_json::to_value(node_object(&config(true), &system())).unwrap();
        assert_eq!(node["metadata"]["labels"][CONTROL_PLANE_ROLE], "");
        assert_eq!(
            node["spec"]["taints"],
            json!([{"key": CONTROL_PLANE_ROLE, "effect": "NoSchedule"}])
        );
    }

    #[test]
    fn the_status_reports_capacity_conditions_addresses_and_system_info() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let status =
            serde_json::to_value(node_status(&config(false), &system(), None, now)).unwrap();
        let resources = json!({"cpu": "2", "memory": "8Gi", "pods": "110"});
        assert_eq!(status["capacity"], resources);
        assert_eq!(status["allocatable"], resources);
        let conditions = status["conditions"].as_array().unwrap();
        let summary: Vec<_> = conditions
            .iter()
            .map(|c| {
                format!(
                    "{}={} {}",
                    c["type"].as_str().unwrap(),
                    c["status"].as_str().unwrap(),
                    c["reason"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "MemoryPressure=False KubeletHasSufficientMemory",
                "DiskPressure=False KubeletHasNoDiskPressure",
                "PIDPressure=False KubeletHasSufficientPID",
                "Ready=True KubeletReady",
            ]
        );
        assert_eq!(conditions[3]["message"], "kubelet is posting ready status");
        assert_eq!(
            status["addresses"],
            json!([{"type": "InternalIP", "address": "172.18.0.3"}, {"type": "Hostname", "address": "worker-1"}])
        );
        assert_eq!(
            status["daemonEndpoints"],
            json!({"kubeletEndpoint": {"Port": 10250}})
        );
        assert_eq!(status["nodeInfo"]["kubeletVersion"], "v1.33.0-mkc");
        assert_eq!(
            status["nodeInfo"]["containerRuntimeVersion"],
            "simulated://1.0"
        );
        assert_eq!(status["nodeInfo"]["operatingSystem"], "linux");
    }

    #[test]
    fn a_repeated_status_keeps_transition_times_and_moves_heartbeats() {
        let first = Timestamp::from_second(1_700_000_000).unwrap();
        let later = Timestamp::from_second(1_700_000_300).unwrap();
        let before = node_status(&config(false), &system(), None, first);
        let after = node_status(&config(false), &system(), Some(&before), later);
        let ready = after.conditions.unwrap().remove(3);
        assert_eq!(ready.last_transition_time, Some(Time(first)));
        assert_eq!(ready.last_heartbeat_time, Some(Time(later)));
    }

    #[test]
    fn architectures_use_go_names() {
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        assert_eq!(go_arch("riscv64"), "riscv64");
    }
}
