//! Tables of the core group besides pods, events and storage: nodes, namespaces, services,
//! endpoints, config maps, secrets, service accounts, replication controllers, pod templates and
//! resource quotas.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    ConfigMap, EndpointSubset, Endpoints, Namespace, Node, NodeStatus, PodTemplate,
    ReplicationController, ResourceQuota, Secret, Service, ServiceAccount, ServiceSpec,
    ServiceStatus,
};
use serde_json::Value;

use super::common::{self, AGE, CONTAINERS, DEFAULT_REPLICAS, IMAGES, NAME};
use super::labels::format_labels;
use super::{Column, Printer};

pub(super) static NODES: Printer = Printer {
    columns: &NODE_COLUMNS,
    row: node_row,
};
pub(super) static NAMESPACES: Printer = Printer {
    columns: &NAMESPACE_COLUMNS,
    row: namespace_row,
};
pub(super) static SERVICES: Printer = Printer {
    columns: &SERVICE_COLUMNS,
    row: service_row,
};
pub(super) static ENDPOINTS: Printer = Printer {
    columns: &ENDPOINTS_COLUMNS,
    row: endpoints_row,
};
pub(super) static CONFIG_MAPS: Printer = Printer {
    columns: &CONFIG_MAP_COLUMNS,
    row: config_map_row,
};
pub(super) static SECRETS: Printer = Printer {
    columns: &SECRET_COLUMNS,
    row: secret_row,
};
pub(super) static SERVICE_ACCOUNTS: Printer = Printer {
    columns: &SERVICE_ACCOUNT_COLUMNS,
    row: service_account_row,
};
pub(super) static REPLICATION_CONTROLLERS: Printer = Printer {
    columns: &REPLICATION_CONTROLLER_COLUMNS,
    row: replication_controller_row,
};
pub(super) static POD_TEMPLATES: Printer = Printer {
    columns: &POD_TEMPLATE_COLUMNS,
    row: pod_template_row,
};
pub(super) static RESOURCE_QUOTAS: Printer = Printer {
    columns: &RESOURCE_QUOTA_COLUMNS,
    row: resource_quota_row,
};

const NODE_ADDRESSES_DESCRIPTION: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

const NODE_COLUMNS: [Column; 10] = [
    NAME,
    Column::string("Status", "The status of the node"),
    Column::string("Roles", "The roles of the node"),
    AGE,
    Column::string("Version", "Kubelet Version reported by the node."),
    Column::string("Internal-IP", NODE_ADDRESSES_DESCRIPTION).wide(),
    Column::string("External-IP", NODE_ADDRESSES_DESCRIPTION).wide(),
    Column::string(
        "OS-Image",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    )
    .wide(),
    Column::string(
        "Kernel-Version",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    )
    .wide(),
    Column::string(
        "Container-Runtime",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    )
    .wide(),
];

const NAMESPACE_COLUMNS: [Column; 3] = [
    NAME,
    Column::string("Status", "The status of the namespace"),
    AGE,
];

const SERVICE_COLUMNS: [Column; 7] = [
    NAME,
    Column::string(
        "Type",
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    ),
    Column::string(
        "Cluster-IP",
        "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    Column::string(
        "External-IP",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
    ),
    Column::string(
        "Port(s)",
        "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    AGE,
    Column::string(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
    )
    .wide(),
];

const ENDPOINTS_COLUMNS: [Column; 3] = [
    NAME,
    Column::string(
        "Endpoints",
        "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
    ),
    AGE,
];

const CONFIG_MAP_COLUMNS: [Column; 3] = [
    NAME,
    Column::string(
        "Data",
        "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    AGE,
];

const SECRET_COLUMNS: [Column; 4] = [
    NAME,
    Column::string(
        "Type",
        "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
    ),
    Column::string(
        "Data",
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    AGE,
];

const SERVICE_ACCOUNT_COLUMNS: [Column; 3] = [
    NAME,
    Column::string(
        "Secrets",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret",
    ),
    AGE,
];

const REPLICATION_CONTROLLER_COLUMNS: [Column; 8] = [
    NAME,
    Column::integer(
        "Desired",
        "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller",
    ),
    Column::integer(
        "Current",
        "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller",
    ),
    Column::integer(
        "Ready",
        "The number of ready replicas for this replication controller.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    Column::string(
        "Selector",
        "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    )
    .wide(),
];

/// A pod template's table has no age, and shows its containers by default.
const POD_TEMPLATE_COLUMNS: [Column; 4] = [
    NAME,
    Column {
        priority: 0,
        ..CONTAINERS
    },
    Column {
        priority: 0,
        ..IMAGES
    },
    Column::string("Pod Labels", "The labels for the pod template."),
];

const RESOURCE_QUOTA_COLUMNS: [Column; 4] = [
    NAME,
    Column::string(
        "Request",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    Column::string(
        "Limit",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

/// Labels naming a node's roles: `node-role.kubernetes.io/<role>` (any value), or the older
/// `kubernetes.io/role=<role>`.
const NODE_ROLE_PREFIX: &str = "node-role.kubernetes.io/";
const LEGACY_NODE_ROLE: &str = "kubernetes.io/role";

fn node_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let node: Node = common::parse(object)?;
    let mut status = node.status.unwrap_or_default();
    let info = status.node_info.take().unwrap_or_default();
    let unschedulable = node
        .spec
        .and_then(|spec| spec.unschedulable)
        .unwrap_or(false);
    Some(vec![
        common::name(&node.metadata),
        node_status(&status, unschedulable).into(),
        node_roles(node.metadata.labels.as_ref()).into(),
        common::age(&node.metadata, now),
        info.kubelet_version.into(),
        node_address(&status, "InternalIP").into(),
        node_address(&status, "ExternalIP").into(),
        or_unknown(info.os_image).into(),
        or_unknown(info.kernel_version).into(),
        or_unknown(info.container_runtime_version).into(),
    ])
}

/// "Ready", "NotReady" or "Unknown" from the Ready condition, then "SchedulingDisabled" for a
/// cordoned node.
fn node_status(status: &NodeStatus, unschedulable: bool) -> String {
    let ready = status
        .conditions
        .iter()
        .flatten()
        .rev()
        .find(|condition| condition.type_ == "Ready");
    let mut words = vec![match ready {
        Some(condition) if condition.status == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if unschedulable {
        words.push("SchedulingDisabled");
    }
    words.join(",")
}

/// The node's roles from its role labels, sorted, or `<none>`.
fn node_roles(labels: Option<&BTreeMap<String, String>>) -> String {
    let roles: BTreeSet<&str> = labels
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| match key.strip_prefix(NODE_ROLE_PREFIX) {
            Some(role) => Some(role),
            None if key == LEGACY_NODE_ROLE => Some(value.as_str()),
            None => None,
        })
        .filter(|role| !role.is_empty())
        .collect();
    if roles.is_empty() {
        "<none>".to_owned()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

/// The node's first address of this type, or `<none>`.
fn node_address(status: &NodeStatus, address_type: &str) -> String {
    let address = status
        .addresses
        .iter()
        .flatten()
        .find(|address| address.type_ == address_type);
    address.map_or_else(|| "<none>".to_owned(), |address| address.address.clone())
}

fn or_unknown(value: String) -> String {
    if value.is_empty() {
        "<unknown>".to_owned()
    } else {
        value
    }
}

fn namespace_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let namespace: Namespace = common::parse(object)?;
    let phase = namespace
        .status
        .and_then(|status| status.phase)
        .unwrap_or_default();
    Some(vec![
        common::name(&namespace.metadata),
        phase.into(),
        common::age(&namespace.metadata, now),
    ])
}

fn service_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let service: Service = common::parse(object)?;
    let spec = service.spec.unwrap_or_default();
    let status = service.status.unwrap_or_default();
    Some(vec![
        common::name(&service.metadata),
        spec.type_.clone().unwrap_or_default().into(),
        cluster_ip(&spec).into(),
        external_ip(&spec, &status).into(),
        service_ports(&spec).into(),
        common::age(&service.metadata, now),
        format_labels(spec.selector.as_ref()).into(),
    ])
}

/// The primary cluster IP: the first of `clusterIPs`, else `clusterIP`, else `<none>`.
fn cluster_ip(spec: &ServiceSpec) -> String {
    let first = spec.cluster_ips.as_deref().and_then(<[_]>::first);
    let ip = first
        .or(spec.cluster_ip.as_ref())
        .filter(|ip| !ip.is_empty());
    ip.map_or_else(|| "<none>".to_owned(), Clone::clone)
}

/// Where the service is reachable from outside, by type: external IPs, the load balancer's
/// addresses (`<pending>` until it has some), or the external name.
fn external_ip(spec: &ServiceSpec, status: &ServiceStatus) -> String {
    let external_ips = spec.external_ips.as_deref().unwrap_or_default();
    match spec.type_.as_deref() {
        Some("ClusterIP" | "NodePort") if external_ips.is_empty() => "<none>".to_owned(),
        Some("ClusterIP" | "NodePort") => external_ips.join(","),
        Some("LoadBalancer") => {
            let mut addresses = load_balancer_addresses(status);
            addresses.extend(external_ips.iter().cloned());
            if addresses.is_empty() {
                "<pending>".to_owned()
            } else {
                addresses.join(",")
            }
        }
        Some("ExternalName") => spec.external_name.clone().unwrap_or_default(),
        _ => "<unknown>".to_owned(),
    }
}

/// The load balancer's ingress points, each by IP or else hostname, sorted and deduplicated.
fn load_balancer_addresses(status: &ServiceStatus) -> Vec<String> {
    let ingress = status
        .load_balancer
        .iter()
        .flat_map(|balancer| balancer.ingress.iter().flatten());
    common::ingress_addresses(
        ingress.map(|ingress| (ingress.ip.as_deref(), ingress.hostname.as_deref())),
    )
}

/// "80/TCP", or "80:30080/TCP" for a port also open on every node; `<none>` without ports.
fn service_ports(spec: &ServiceSpec) -> String {
    let ports: Vec<String> = spec
        .ports
        .iter()
        .flatten()
        .map(|port| {
            // The API defaults an unset protocol to TCP.
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            match port.node_port.filter(|node_port| *node_port > 0) {
                Some(node_port) => format!("{}:{node_port}/{protocol}", port.port),
                None => format!("{}/{protocol}", port.port),
            }
        })
        .collect();
    if ports.is_empty() {
        "<none>".to_owned()
    } else {
        ports.join(",")
    }
}

fn endpoints_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let endpoints: Endpoints = common::parse(object)?;
    let subsets = endpoints.subsets.unwrap_or_default();
    let text = if subsets.is_empty() {
        "<none>".to_owned()
    } else {
        common::first_three(subsets.iter().flat_map(subset_endpoints))
    };
    Some(vec![
        common::name(&endpoints.metadata),
        text.into(),
        common::age(&endpoints.metadata, now),
    ])
}

/// Every ready address of the subset joined with every port ("10.0.0.1:80"), port by port;
/// bare addresses when the subset has no ports, as headless services may.
fn subset_endpoints(subset: &EndpointSubset) -> Vec<String> {
    let addresses = subset.addresses.as_deref().unwrap_or_default();
    match subset.ports.as_deref() {
        None | Some([]) => addresses.iter().map(|address| address.ip.clone()).collect(),
        Some(ports) => ports
            .iter()
            .flat_map(|port| {
                addresses
                    .iter()
                    .map(|address| join_host_port(&address.ip, port.port))
            })
            .collect(),
    }
}

/// `host:port`, with an IPv6 host in brackets.
fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn config_map_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let config_map: ConfigMap = common::parse(object)?;
    let text_keys = config_map.data.as_ref().map_or(0, BTreeMap::len);
    let binary_keys = config_map.binary_data.as_ref().map_or(0, BTreeMap::len);
    Some(vec![
        common::name(&config_map.metadata),
        (text_keys + binary_keys).into(),
        common::age(&config_map.metadata, now),
    ])
}

fn secret_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let secret: Secret = common::parse(object)?;
    Some(vec![
        common::name(&secret.metadata),
        secret.type_.unwrap_or_default().into(),
        secret.data.as_ref().map_or(0, BTreeMap::len).into(),
        common::age(&secret.metadata, now),
    ])
}

fn service_account_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let account: ServiceAccount = common::parse(object)?;
    Some(vec![
        common::name(&account.metadata),
        account.secrets.as_ref().map_or(0, Vec::len).into(),
        common::age(&account.metadata, now),
    ])
}

fn replication_controller_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let controller: ReplicationController = common::parse(object)?;
    let spec = controller.spec.unwrap_or_default();
    let status = controller.status.unwrap_or_default();
    let [containers, images] = common::container_cells(spec.template.as_ref());
    Some(vec![
        common::name(&controller.metadata),
        spec.replicas.unwrap_or(DEFAULT_REPLICAS).into(),
        status.replicas.into(),
        status.ready_replicas.unwrap_or(0).into(),
        common::age(&controller.metadata, now),
        containers,
        images,
        format_labels(spec.selector.as_ref()).into(),
    ])
}

fn pod_template_row(object: &Value, _now: Timestamp) -> Option<Vec<Value>> {
    let template: PodTemplate = common::parse(object)?;
    let pod = template.template.as_ref();
    let [containers, images] = common::container_cells(pod);
    let labels = pod
        .and_then(|pod| pod.metadata.as_ref())
        .and_then(|meta| meta.labels.as_ref());
    Some(vec![
        common::name(&template.metadata),
        containers,
        images,
        format_labels(labels).into(),
    ])
}

/// Each hard limit as "resource: used/hard", in resource name order; the `limits.*` ones in the
/// Limit cell, all others in the Request cell.
fn resource_quota_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let quota: ResourceQuota = common::parse(object)?;
    let status = quota.status.unwrap_or_default();
    let hard = status.hard.unwrap_or_default();
    let used = status.used.unwrap_or_default();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for (resource, limit) in &hard {
        let text = format!(
            "{resource}: {}/{}",
            common::quantity(used.get(resource)),
            common::quantity(Some(limit)),
        );
        let is_limit = resource
            .split_once('.')
            .is_some_and(|(prefix, _)| prefix == "limits");
        if is_limit {
            limits.push(text);
        } else {
            requests.push(text);
        }
    }
    Some(vec![
        common::name(&quota.metadata),
        requests.join(", ").into(),
        limits.join(", ").into(),
        common::age(&quota.metadata, now),
    ])
}
