//! Tests of the scheduler's pure parts: quantities and requests, node bookkeeping, each filter,
//! the `FailedScheduling` message and the ranking of nodes.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Toleration};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::filter::{Unfit, failed_scheduling_message, filter, tolerated};
use super::node_info::{HostPort, NodeInfo};
use super::resources::{
    DEFAULT_MEMORY_REQUEST, Resources, Shortfall, allocatable, parse_milli, parse_value,
    pod_requests,
};
use super::score::{SPREAD_STEP, owner_uid, score};

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

fn from_json<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap_or_else(|error| panic!("invalid fixture: {error}"))
}

/// A ready node with 4 cpus, 8Gi of memory, 100Gi of ephemeral storage and room for 110 pods.
fn node_json(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "allocatable": {
                "cpu": "4", "memory": "8Gi", "ephemeral-storage": "100Gi", "pods": "110",
            },
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    })
}

fn node_info(node: Value) -> NodeInfo {
    NodeInfo::new(Arc::new(from_json(node)))
}

fn node_running(name: &str, pods: &[Value]) -> NodeInfo {
    let mut node = node_info(node_json(name));
    for pod in pods {
        node.add_pod(&from_json(pod.clone()));
    }
    node
}

/// A pod with one container requesting `cpu` and `memory`.
fn pod_json(uid: &str, cpu: &str, memory: &str) -> Value {
    json!({
        "metadata": {"name": uid, "namespace": "default", "uid": uid},
        "spec": {"containers": [{
            "name": "app",
            "resources": {"requests": {"cpu": cpu, "memory": memory}},
        }]},
    })
}

fn owned_by(mut pod: Value, owner: &str) -> Value {
    pod["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": owner,
        "controller": true,
    }]);
    pod
}

fn with_host_port(mut pod: Value, port: Value) -> Value {
    pod["spec"]["containers"][0]["ports"] = json!([port]);
    pod
}

fn check(pod: &Value, node: &NodeInfo) -> Result<(), Unfit> {
    let pod: Pod = from_json(pod.clone());
    filter(&pod, &pod_requests(&pod), node)
}

fn taint(key: &str) -> Unfit {
    Unfit::UntoleratedTaint {
        key: key.to_owned(),
        value: String::new(),
    }
}

// Quantities and requests.

#[test]
fn cpu_quantities_read_as_millicores_rounded_up() {
    let cases = [
        ("100m", 100),
        ("0.5", 500),
        ("2", 2000),
        ("1.5", 1500),
        (".25", 250),
        ("5.", 5000),
        ("+3", 3000),
        ("1e3", 1_000_000),
        ("2k", 2_000_000),
        ("250000u", 250),
        ("0.0001", 1),
        ("1n", 1),
        ("0", 0),
    ];
    for (quantity, milli) in cases {
        assert_eq!(parse_milli(quantity), Some(milli), "{quantity}");
    }
}

#[test]
fn byte_quantities_read_across_suffixes() {
    let cases = [
        ("128Mi", 128 * MI),
        ("1.5Gi", 3 * GI / 2),
        ("1Ki", 1024),
        ("1G", 1_000_000_000),
        ("1e3", 1000),
        ("1E", 1_000_000_000_000_000_000),
        ("1Ei", 1 << 60),
        ("1.00000000000000000000000000000000000000Ei", 1 << 60),
        ("100m", 1),
        ("1e-100", 1),
        ("-1Ki", -1024),
        ("10Ei", i64::MAX),
        ("1e100", i64::MAX),
    ];
    for (quantity, bytes) in cases {
        assert_eq!(parse_value(quantity), Some(bytes), "{quantity}");
    }
}

#[test]
fn malformed_quantities_are_refused() {
    for quantity in [
        "", "abc", ".", "1.2.3", "Mi", "1Qi", "1K", "1 Gi", "1e", "1e3.5", "--1",
    ] {
        assert_eq!(parse_value(quantity), None, "{quantity}");
        assert_eq!(parse_milli(quantity), None, "{quantity}");
    }
}

#[test]
fn init_containers_peak_beside_the_sidecars_started_before_them() {
    let pod: Pod = from_json(json!({
        "metadata": {"name": "p", "uid": "p"},
        "spec": {
            "overhead": {"cpu": "50m", "memory": "1Mi"},
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "200m", "memory": "100Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "300m"}}},
            ],
            "initContainers": [
                {"name": "first", "resources": {"requests": {"cpu": "1", "memory": "50Mi"}}},
                {"name": "sidecar", "restartPolicy": "Always",
                 "resources": {"requests": {"cpu": "100m", "memory": "10Mi"}}},
                {"name": "last", "resources": {"requests": {"cpu": "950m", "memory": "500Mi"}}},
            ],
        },
    }));
    // "last" runs beside the sidecar: 1050m and 510Mi, above both "first" and the running
    // pod (600m, 110Mi); the overhead comes on top.
    let expected = Resources {
        milli_cpu: 1100,
        memory: 511 * MI,
        ephemeral_storage: 0,
        pods: 1,
    };
    assert_eq!(pod_requests(&pod), expected);
}

#[test]
fn sidecars_add_to_the_running_containers() {
    let pod: Pod = from_json(json!({
        "metadata": {"name": "p", "uid": "p"},
        "spec": {
            "containers": [{"name": "app", "resources": {"requests": {"cpu": "1"}}}],
            "initContainers": [
                {"name": "setup", "resources": {"requests": {"cpu": "1200m"}}},
                {"name": "proxy", "restartPolicy": "Always",
                 "resources": {"requests": {"cpu": "500m"}}},
            ],
        },
    }));
    assert_eq!(pod_requests(&pod).milli_cpu, 1500);
}

#[test]
fn a_limit_without_a_request_is_requested_and_malformed_amounts_count_as_zero() {
    let pod: Pod = from_json(json!({
        "metadata": {"name": "p", "uid": "p"},
        "spec": {"containers": [
            {"name": "limited", "resources": {
                "limits": {"cpu": "2", "memory": "1Gi"},
                "requests": {"ephemeral-storage": "1Gi"},
            }},
            {"name": "broken", "resources": {"requests": {"cpu": "lots", "memory": "1Mi"}}},
        ]},
    }));
    let expected = Resources {
        milli_cpu: 2000,
        memory: GI + MI,
        ephemeral_storage: GI,
        pods: 1,
    };
    assert_eq!(pod_requests(&pod), expected);
    let no_spec: Pod = from_json(json!({"metadata": {"name": "p"}}));
    assert_eq!(
        pod_requests(&no_spec),
        Resources {
            pods: 1,
            ..Resources::default()
        }
    );
}

#[test]
fn allocatable_comes_from_the_node_status() {
    let expected = Resources {
        milli_cpu: 4000,
        memory: 8 * GI,
        ephemeral_storage: 100 * GI,
        pods: 110,
    };
    assert_eq!(allocatable(&from_json(node_json("n1"))), expected);
    assert_eq!(
        allocatable(&from_json(json!({"metadata": {"name": "bare"}}))),
        Resources::default()
    );
}

// Node bookkeeping.

#[test]
fn pods_are_added_and_removed_once_by_uid() {
    let mut node = node_info(node_json("n1"));
    let port = json!({"containerPort": 80, "hostPort": 8080});
    let web: Pod = from_json(with_host_port(
        owned_by(pod_json("web", "500m", "1Gi"), "rs-1"),
        port,
    ));
    let worker: Pod = from_json(owned_by(pod_json("worker", "250m", "0"), "rs-1"));
    let claim = HostPort {
        ip: "0.0.0.0",
        protocol: "TCP",
        port: 8080,
    };

    node.add_pod(&web);
    node.add_pod(&web);
    node.add_pod(&worker);
    assert_eq!(node.pod_count(), 2);
    assert!(node.has_pod("web") && node.has_pod("worker"));
    let both = Resources {
        milli_cpu: 750,
        memory: GI,
        ephemeral_storage: 0,
        pods: 2,
    };
    assert_eq!(node.requested(), &both);
    assert_eq!(
        node.non_zero_requested().memory,
        GI + DEFAULT_MEMORY_REQUEST
    );
    assert_eq!(node.owner_pods("rs-1"), 2);
    assert!(node.port_in_use(&claim));

    node.remove_pod(&web);
    node.remove_pod(&web);
    assert_eq!(node.pod_count(), 1);
    let worker_only = Resources {
        milli_cpu: 250,
        memory: 0,
        ephemeral_storage: 0,
        pods: 1,
    };
    assert_eq!(node.requested(), &worker_only);
    assert_eq!(node.owner_pods("rs-1"), 1);
    assert!(!node.port_in_use(&claim));

    node.remove_pod(&worker);
    assert_eq!(node.requested(), &Resources::default());
    assert_eq!(node.non_zero_requested(), &Resources::default());
    assert_eq!(node.owner_pods("rs-1"), 0);
}

#[test]
fn adding_a_pod_again_replaces_what_it_requested() {
    let mut node = node_info(node_json("n1"));
    node.add_pod(&from_json(pod_json("p", "500m", "1Gi")));
    node.add_pod(&from_json(pod_json("p", "2", "1Gi")));
    assert_eq!(node.requested().milli_cpu, 2000);
    assert_eq!(node.requested().pods, 1);
}

// Filters, in upstream's order.

#[test]
fn a_cordoned_node_takes_only_pods_tolerating_it() {
    let mut cordoned = node_json("n1");
    cordoned["spec"]["unschedulable"] = json!(true);
    let node = node_info(cordoned);
    let mut pod = pod_json("p", "100m", "64Mi");
    assert_eq!(check(&pod, &node), Err(Unfit::Unschedulable));
    pod["spec"]["tolerations"] = json!([{
        "key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule",
    }]);
    assert_eq!(check(&pod, &node), Ok(()));
}

#[test]
fn a_pod_naming_a_node_fits_only_there() {
    let node = node_info(node_json("n1"));
    let mut pod = pod_json("p", "100m", "64Mi");
    pod["spec"]["nodeName"] = json!("n2");
    assert_eq!(check(&pod, &node), Err(Unfit::NodeName));
    pod["spec"]["nodeName"] = json!("n1");
    assert_eq!(check(&pod, &node), Ok(()));
}

#[test]
fn untolerated_no_schedule_and_no_execute_taints_refuse_the_node() {
    let mut tainted = node_json("cp");
    tainted["spec"]["taints"] = json!([
        {"key": "soft", "effect": "PreferNoSchedule"},
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
        {"key": "dedicated", "value": "gpu", "effect": "NoExecute"},
    ]);
    let node = node_info(tainted);
    let mut pod = pod_json("p", "100m", "64Mi");
    assert_eq!(
        check(&pod, &node),
        Err(taint("node-role.kubernetes.io/control-plane"))
    );
    pod["spec"]["tolerations"] = json!([
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
         "effect": "NoSchedule"},
    ]);
    let gpu = Unfit::UntoleratedTaint {
        key: "dedicated".into(),
        value: "gpu".into(),
    };
    assert_eq!(check(&pod, &node), Err(gpu));
    pod["spec"]["tolerations"] = json!([
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
         "effect": "NoSchedule"},
        {"key": "dedicated", "value": "gpu"},
    ]);
    assert_eq!(check(&pod, &node), Ok(()));
}

#[test]
fn a_node_not_ready_is_refused_as_its_taint_would_refuse_it() {
    let pod = pod_json("p", "100m", "64Mi");
    let conditions = [
        (
            json!([{"type": "Ready", "status": "False"}]),
            "node.kubernetes.io/not-ready",
        ),
        (
            json!([{"type": "Ready", "status": "Unknown"}]),
            "node.kubernetes.io/unreachable",
        ),
        (json!([]), "node.kubernetes.io/not-ready"),
    ];
    for (condition, key) in conditions {
        let mut node = node_json("n1");
        node["status"]["conditions"] = condition;
        assert_eq!(check(&pod, &node_info(node)), Err(taint(key)));
    }
    let mut tolerant = pod.clone();
    tolerant["spec"]["tolerations"] = json!([{"operator": "Exists"}]);
    let mut node = node_json("n1");
    node["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    assert_eq!(check(&tolerant, &node_info(node)), Ok(()));
}

#[test]
fn tolerations_match_taints_as_upstream() {
    let cases = [
        (
            json!({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}),
            "k=v:NoSchedule",
            true,
        ),
        (
            json!({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}),
            "k=w:NoSchedule",
            false,
        ),
        (json!({"key": "k", "value": "v"}), "k=v:NoExecute", true),
        (
            json!({"key": "k", "operator": "Equal"}),
            "k:NoSchedule",
            true,
        ),
        (
            json!({"key": "k", "operator": "Exists"}),
            "k=any:NoExecute",
            true,
        ),
        (
            json!({"key": "k", "operator": "Exists", "effect": "NoExecute"}),
            "k:NoSchedule",
            false,
        ),
        (
            json!({"key": "other", "operator": "Exists"}),
            "k:NoSchedule",
            false,
        ),
        (json!({"operator": "Exists"}), "anything=v:NoExecute", true),
        (
            json!({"operator": "Exists", "effect": "NoSchedule"}),
            "anything=v:NoExecute",
            false,
        ),
        (
            json!({"key": "k", "operator": "Bogus"}),
            "k:NoSchedule",
            false,
        ),
    ];
    for (toleration, taint, expected) in cases {
        let tolerations: Vec<Toleration> = vec![from_json(toleration.clone())];
        let (key_value, effect) = taint.split_once(':').unwrap_or((taint, ""));
        let (key, value) = key_value.split_once('=').unwrap_or((key_value, ""));
        let outcome = tolerated(&tolerations, key, value, effect);
        assert_eq!(outcome, expected, "{toleration} vs {taint}");
    }
    assert!(!tolerated(&[], "k", "", "NoSchedule"));
}

/// A pod whose required node affinity has `terms`.
fn affinity_pod(terms: Value) -> Value {
    let mut pod = pod_json("p", "100m", "64Mi");
    pod["spec"]["affinity"] = json!({"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms},
    }});
    pod
}

/// Required node affinity of one term with one label requirement.
fn expression_terms(key: &str, operator: &str, values: Value) -> Value {
    json!([{"matchExpressions": [{"key": key, "operator": operator, "values": values}]}])
}

/// Required node affinity of one term with one `metadata.name` requirement.
fn field_terms(operator: &str, names: Value) -> Value {
    json!([{"matchFields": [{"key": "metadata.name", "operator": operator, "values": names}]}])
}

fn labelled_node() -> NodeInfo {
    let mut node = node_json("n1");
    node["metadata"]["labels"] = json!({"zone": "a", "generation": "5", "disk": "ssd"});
    node_info(node)
}

#[test]
fn required_node_affinity_operators() {
    let node = labelled_node();
    let cases = [
        (expression_terms("zone", "In", json!(["a", "b"])), true),
        (expression_terms("zone", "In", json!(["b"])), false),
        (expression_terms("zone", "In", json!([])), false),
        (expression_terms("zone", "NotIn", json!(["b"])), true),
        (expression_terms("zone", "NotIn", json!(["a"])), false),
        (expression_terms("rack", "NotIn", json!(["r1"])), true),
        (expression_terms("zone", "Exists", json!(null)), true),
        (expression_terms("rack", "Exists", json!(null)), false),
        (expression_terms("rack", "DoesNotExist", json!(null)), true),
        (expression_terms("zone", "DoesNotExist", json!(null)), false),
        (expression_terms("generation", "Gt", json!(["4"])), true),
        (expression_terms("generation", "Gt", json!(["5"])), false),
        (expression_terms("generation", "Lt", json!(["6"])), true),
        (expression_terms("generation", "Lt", json!(["5"])), false),
        (expression_terms("generation", "Lt", json!(["six"])), false),
        (
            expression_terms("generation", "Gt", json!(["1", "2"])),
            false,
        ),
        (expression_terms("zone", "Gt", json!(["1"])), false),
        (expression_terms("rack", "Lt", json!(["9"])), false),
        (expression_terms("zone", "Near", json!(["a"])), false),
        (field_terms("NotIn", json!(["n1"])), false),
        (field_terms("NotIn", json!(["n2"])), true),
        (
            json!([{"matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["a"]},
                {"key": "generation", "operator": "Gt", "values": ["9"]},
            ]}]),
            false,
        ),
        (
            json!([
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]},
            ]),
            true,
        ),
        (json!([{}]), false),
        (json!([]), false),
    ];
    for (terms, fits) in cases {
        let expected = if fits {
            Ok(())
        } else {
            Err(Unfit::NodeAffinity)
        };
        assert_eq!(
            check(&affinity_pod(terms.clone()), &node),
            expected,
            "{terms}"
        );
    }
}

#[test]
fn node_selector_labels_must_all_match() {
    let node = labelled_node();
    let mut pod = pod_json("p", "100m", "64Mi");
    pod["spec"]["nodeSelector"] = json!({"zone": "a", "disk": "ssd"});
    assert_eq!(check(&pod, &node), Ok(()));
    pod["spec"]["nodeSelector"]["disk"] = json!("hdd");
    assert_eq!(check(&pod, &node), Err(Unfit::NodeAffinity));
}

#[test]
fn affinity_pinned_by_name_leaves_other_nodes_out_first() {
    let mut cordoned = node_json("n1");
    cordoned["spec"]["unschedulable"] = json!(true);
    let elsewhere = affinity_pod(field_terms("In", json!(["n2"])));
    assert_eq!(
        check(&elsewhere, &node_info(cordoned)),
        Err(Unfit::NotNamedByAffinity)
    );
    assert_eq!(check(&elsewhere, &node_info(node_json("n2"))), Ok(()));
    // Listing several names selects them for the pre-filter, yet the field filter itself takes
    // a single name, as upstream's does.
    let several = affinity_pod(field_terms("In", json!(["n1", "n2"])));
    assert_eq!(
        check(&several, &node_info(node_json("n1"))),
        Err(Unfit::NodeAffinity)
    );
    // A term without a name pin admits every node to filtering.
    let mixed = affinity_pod(json!([
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]},
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
    ]));
    assert_eq!(check(&mixed, &labelled_node()), Err(Unfit::NodeAffinity));
}

#[test]
fn host_ports_conflict_by_protocol_port_and_ip() {
    let mut node = node_info(node_json("n1"));
    node.add_pod(&from_json(with_host_port(
        pod_json("any-ip", "100m", "64Mi"),
        json!({"containerPort": 80, "hostPort": 80}),
    )));
    node.add_pod(&from_json(with_host_port(
        pod_json("one-ip", "100m", "64Mi"),
        json!({"containerPort": 81, "hostPort": 81, "hostIP": "10.0.0.1", "protocol": "TCP"}),
    )));
    let wanting = |port: Value| with_host_port(pod_json("p", "100m", "64Mi"), port);
    let cases = [
        (
            json!({"containerPort": 80, "hostPort": 80, "protocol": "UDP"}),
            Ok(()),
        ),
        (
            json!({"containerPort": 80, "hostPort": 80, "protocol": "TCP"}),
            Err(Unfit::HostPorts),
        ),
        (
            json!({"containerPort": 80, "hostPort": 80, "hostIP": "10.0.0.9"}),
            Err(Unfit::HostPorts),
        ),
        (
            json!({"containerPort": 81, "hostPort": 81, "hostIP": "10.0.0.2"}),
            Ok(()),
        ),
        (
            json!({"containerPort": 81, "hostPort": 81, "hostIP": "10.0.0.1"}),
            Err(Unfit::HostPorts),
        ),
        (
            json!({"containerPort": 81, "hostPort": 81, "hostIP": "0.0.0.0"}),
            Err(Unfit::HostPorts),
        ),
        (
            json!({"containerPort": 81, "hostPort": 81}),
            Err(Unfit::HostPorts),
        ),
        (json!({"containerPort": 80}), Ok(())),
    ];
    for (port, expected) in cases {
        assert_eq!(check(&wanting(port.clone()), &node), expected, "{port}");
    }
}

#[test]
fn sidecar_host_ports_count_and_other_init_containers_do_not() {
    let mut node = node_info(node_json("n1"));
    node.add_pod(&from_json(with_host_port(
        pod_json("web", "100m", "64Mi"),
        json!({"containerPort": 80, "hostPort": 80}),
    )));
    let with_init = |restart_policy: Value| {
        let mut pod = pod_json("p", "100m", "64Mi");
        pod["spec"]["initContainers"] = json!([{
            "name": "init", "restartPolicy": restart_policy,
            "ports": [{"containerPort": 80, "hostPort": 80}],
        }]);
        pod
    };
    assert_eq!(
        check(&with_init(json!("Always")), &node),
        Err(Unfit::HostPorts)
    );
    assert_eq!(check(&with_init(json!(null)), &node), Ok(()));
}

#[test]
fn requests_must_fit_in_what_the_node_has_left() {
    let mut node = node_info(node_json("n1"));
    node.add_pod(&from_json(pod_json("busy", "3500m", "7Gi")));
    assert_eq!(check(&pod_json("small", "500m", "1Gi"), &node), Ok(()));
    let short = |cpu, memory| Shortfall {
        cpu,
        memory,
        ..Shortfall::default()
    };
    assert_eq!(
        check(&pod_json("p", "1", "512Mi"), &node),
        Err(Unfit::Insufficient {
            shortfall: short(true, false),
            unresolvable: false
        }),
    );
    assert_eq!(
        check(&pod_json("p", "5", "2Gi"), &node),
        Err(Unfit::Insufficient {
            shortfall: short(true, true),
            unresolvable: true
        }),
    );
    let mut storage = pod_json("p", "100m", "64Mi");
    storage["spec"]["containers"][0]["resources"]["requests"]["ephemeral-storage"] = json!("101Gi");
    let ephemeral = Shortfall {
        ephemeral_storage: true,
        ..Shortfall::default()
    };
    assert_eq!(
        check(&storage, &node),
        Err(Unfit::Insufficient {
            shortfall: ephemeral,
            unresolvable: true
        })
    );
}

#[test]
fn pod_count_is_capped_even_for_pods_requesting_nothing() {
    let mut full = node_json("n1");
    full["status"]["allocatable"]["pods"] = json!("1");
    full["status"]["allocatable"]["cpu"] = json!("100m");
    let mut node = node_info(full);
    let nothing =
        json!({"metadata": {"name": "q", "uid": "q"}, "spec": {"containers": [{"name": "c"}]}});
    assert_eq!(check(&nothing, &node), Ok(()));
    node.add_pod(&from_json(pod_json("greedy", "1", "64Mi")));
    let pods = Shortfall {
        pods: true,
        ..Shortfall::default()
    };
    assert_eq!(
        check(&nothing, &node),
        Err(Unfit::Insufficient {
            shortfall: pods,
            unresolvable: false
        })
    );
}

// The FailedScheduling message.

/// The reasons a pod asking for 2 cpus is refused by a tainted control plane and three busy
/// workers.
fn control_plane_and_busy_workers() -> Vec<Unfit> {
    let mut control_plane = node_json("cp");
    control_plane["spec"]["taints"] =
        json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    let mut nodes = vec![node_info(control_plane)];
    for name in ["w1", "w2", "w3"] {
        let mut worker = node_info(node_json(name));
        worker.add_pod(&from_json(pod_json(&format!("busy-{name}"), "3", "1Gi")));
        nodes.push(worker);
    }
    let pod = pod_json("p", "2", "1Gi");
    nodes
        .iter()
        .filter_map(|node| check(&pod, node).err())
        .collect()
}

#[test]
fn message_for_a_tainted_control_plane_and_short_cpu() {
    let unfit = control_plane_and_busy_workers();
    assert_eq!(
        failed_scheduling_message(4, &unfit),
        "0/4 nodes are available: \
         1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, \
         3 Insufficient cpu. preemption: 0/4 nodes are available: \
         1 Preemption is not helpful for scheduling, \
         3 No preemption victims found for incoming pod.",
    );
}

#[test]
fn message_when_memory_is_short_everywhere() {
    let refusals = |pod: Value| -> Vec<Unfit> {
        ["a", "b", "c"]
            .map(|name| node_running(name, &[pod_json(&format!("busy-{name}"), "1", "7Gi")]))
            .iter()
            .filter_map(|node| check(&pod, node).err())
            .collect()
    };
    assert_eq!(
        failed_scheduling_message(3, &refusals(pod_json("p", "100m", "2Gi"))),
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: \
         3 No preemption victims found for incoming pod.",
    );
    // Asking for more than a node has at all is beyond what preemption could free.
    assert_eq!(
        failed_scheduling_message(3, &refusals(pod_json("p", "100m", "9Gi"))),
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: \
         3 Preemption is not helpful for scheduling.",
    );
}

#[test]
fn message_counts_every_reason_and_sorts_as_strings() {
    let both = Shortfall {
        cpu: true,
        memory: true,
        ..Shortfall::default()
    };
    let mut unfit = vec![Unfit::NodeAffinity; 10];
    unfit.extend([
        Unfit::Insufficient {
            shortfall: both,
            unresolvable: false,
        },
        Unfit::Insufficient {
            shortfall: both,
            unresolvable: false,
        },
        Unfit::HostPorts,
        Unfit::Unschedulable,
        Unfit::NotNamedByAffinity,
    ]);
    assert_eq!(
        failed_scheduling_message(15, &unfit),
        "0/15 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, \
         1 node(s) didn't satisfy plugin(s) [NodeAffinity], 1 node(s) were unschedulable, \
         10 node(s) didn't match Pod's node affinity/selector, \
         2 Insufficient cpu, 2 Insufficient memory. \
         preemption: 0/15 nodes are available: 12 Preemption is not helpful for scheduling, \
         3 No preemption victims found for incoming pod.",
    );
}

#[test]
fn message_without_nodes() {
    assert_eq!(
        failed_scheduling_message(0, &[]),
        "no nodes available to schedule pods"
    );
}

// Ranking.

fn scored(pod: &Value, node: &NodeInfo) -> i64 {
    let pod: Pod = from_json(pod.clone());
    score(&pod, owner_uid(&pod), &pod_requests(&pod), node)
}

#[test]
fn owner_is_the_controller_reference() {
    let mut pod = owned_by(pod_json("p", "100m", "64Mi"), "rs-1");
    assert_eq!(owner_uid(&from_json(pod.clone())), Some("rs-1"));
    pod["metadata"]["ownerReferences"][0]["controller"] = json!(false);
    assert_eq!(owner_uid(&from_json(pod)), None);
}

#[test]
fn fewer_pods_of_the_same_owner_win_over_a_lighter_load() {
    let pod = owned_by(pod_json("new", "500m", "1Gi"), "rs-1");
    let sibling_here = node_running("a", &[owned_by(pod_json("old", "100m", "128Mi"), "rs-1")]);
    let busy = node_running("b", &[owned_by(pod_json("other", "3", "6Gi"), "rs-2")]);
    let (spread, loaded) = (scored(&pod, &sibling_here), scored(&pod, &busy));
    assert!(loaded > spread, "{loaded} > {spread}");
    assert!(
        spread + SPREAD_STEP > loaded,
        "the sibling's node is the lighter one"
    );
}

#[test]
fn the_less_loaded_then_the_more_balanced_node_wins() {
    let pod = pod_json("new", "500m", "1Gi");
    // With the pod: half of cpu and of memory used; least-allocated 50, balanced 100.
    let even = node_running("even", &[pod_json("x", "1500m", "3Gi")]);
    // A quarter of cpu and three quarters of memory: least-allocated 50, balanced 75.
    let skewed = node_running("skewed", &[pod_json("y", "500m", "5Gi")]);
    // An eighth of cpu and of memory: least-allocated 87, balanced 100.
    let idle = node_running("idle", &[]);
    assert_eq!(scored(&pod, &even), 150);
    assert_eq!(scored(&pod, &skewed), 125);
    assert_eq!(scored(&pod, &idle), 187);
}

#[test]
fn pods_requesting_nothing_rank_by_default_requests_without_balance() {
    let pod =
        json!({"metadata": {"name": "q", "uid": "q"}, "spec": {"containers": [{"name": "c"}]}});
    // 100m of 4 cpus and 200Mi of 8Gi leave 97% of each.
    assert_eq!(scored(&pod, &node_running("idle", &[])), 97);
}

#[test]
fn untolerated_prefer_no_schedule_taints_outrank_spreading() {
    let pod = owned_by(pod_json("new", "500m", "1Gi"), "rs-1");
    let mut tainted = node_json("tainted");
    tainted["spec"]["taints"] = json!([{"key": "spot", "effect": "PreferNoSchedule"}]);
    let tainted = node_info(tainted);
    let crowded = node_running(
        "crowded",
        &[
            owned_by(pod_json("a", "100m", "64Mi"), "rs-1"),
            owned_by(pod_json("b", "100m", "64Mi"), "rs-1"),
        ],
    );
    assert!(scored(&pod, &crowded) > scored(&pod, &tainted));
    let mut tolerant = pod.clone();
    tolerant["spec"]["tolerations"] = json!([{"key": "spot", "operator": "Exists"}]);
    assert_eq!(
        scored(&tolerant, &tainted),
        scored(&tolerant, &node_running("plain", &[]))
    );
}
