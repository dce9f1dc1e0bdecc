//! Rows and columns of every printed resource, checked cell by cell against what kube-apiserver
//! prints for the same objects.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{cells, columns};

/// The server's clock in every test; objects are created at 11:55 ("5m" old) unless noted.
const NOW: &str = "2025-01-01T12:00:00Z";
const FIVE_MINUTES_AGO: &str = "2025-01-01T11:55:00Z";
const TWO_DAYS_AGO: &str = "2024-12-30T08:00:00Z";

fn row(group: &str, resource: &str, object: Value) -> Vec<Value> {
    let now: Timestamp = NOW.parse().expect("valid timestamp");
    cells(group, resource, &object, now)
}

fn column_names(group: &str, resource: &str, priority: i32) -> Vec<&'static str> {
    let columns = columns(group, resource).iter();
    columns
        .filter(|column| column.priority == priority)
        .map(|column| column.name)
        .collect()
}

fn metadata(name: &str) -> Value {
    json!({"name": name, "namespace": "default", "creationTimestamp": FIVE_MINUTES_AGO})
}

/// Every resource with a printer of its own.
const PRINTED: [(&str, &str); 43] = [
    ("", "pods"),
    ("", "nodes"),
    ("", "namespaces"),
    ("", "services"),
    ("", "endpoints"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "serviceaccounts"),
    ("", "replicationcontrollers"),
    ("", "podtemplates"),
    ("", "resourcequotas"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "controllerrevisions"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("policy", "poddisruptionbudgets"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "networkpolicies"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "volumeattachments"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("node.k8s.io", "runtimeclasses"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    ("apiregistration.k8s.io", "apiservices"),
    ("coordination.k8s.io", "leases"),
    ("discovery.k8s.io", "endpointslices"),
];

#[test]
fn rows_always_align_with_columns() {
    for (group, resource) in PRINTED {
        let count = columns(group, resource).len();
        let minimal = row(group, resource, json!({"metadata": metadata("x")}));
        assert_eq!(minimal.len(), count, "{group}/{resource} minimal object");
        let malformed = row(
            group,
            resource,
            json!({"metadata": metadata("x"), "spec": 7, "status": 7}),
        );
        assert_eq!(
            malformed.len(),
            count,
            "{group}/{resource} malformed object"
        );
    }
}

#[test]
fn every_printer_has_one_name_column() {
    for (group, resource) in PRINTED {
        let named: Vec<_> = columns(group, resource)
            .iter()
            .filter(|column| column.format == "name")
            .map(|column| column.name)
            .collect();
        // Upstream gives a volume attachment's Attacher the name format as well.
        let expected: &[&str] = match resource {
            "volumeattachments" => &["Name", "Attacher"],
            _ => &["Name"],
        };
        assert_eq!(named, expected, "{group}/{resource}");
    }
}

#[test]
fn unreadable_objects_keep_their_name_and_age() {
    let pod = json!({"metadata": metadata("broken"), "spec": {"containers": "not a list"}});
    let unknown = Value::from("<unknown>");
    assert_eq!(
        row("", "pods", pod),
        vec![
            json!("broken"),
            unknown.clone(),
            unknown.clone(),
            unknown.clone(),
            json!("5m"),
            unknown.clone(),
            unknown.clone(),
            unknown.clone(),
            unknown
        ]
    );
}

mod default_table {
    use super::*;

    #[test]
    fn columns_are_name_and_creation_date() {
        let columns = columns("rbac.authorization.k8s.io", "roles");
        let shape: Vec<_> = columns
            .iter()
            .map(|column| (column.name, column.kind, column.format))
            .collect();
        assert_eq!(
            shape,
            [("Name", "string", "name"), ("Created At", "date", "")]
        );
        assert!(
            columns[1]
                .description
                .starts_with("CreationTimestamp is a timestamp")
        );
    }

    #[test]
    fn resources_upstream_leaves_to_the_default_table() {
        for (group, resource) in [
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "clusterroles"),
            ("", "limitranges"),
            ("apiextensions.k8s.io", "customresourcedefinitions"),
        ] {
            assert_eq!(
                column_names(group, resource, 0),
                ["Name", "Created At"],
                "{group}/{resource}"
            );
        }
    }

    #[test]
    fn cells_are_name_and_rfc3339_time() {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata("reader")});
        assert_eq!(
            row("rbac.authorization.k8s.io", "roles", role),
            [json!("reader"), json!(FIVE_MINUTES_AGO)]
        );
        let undated = json!({"metadata": {"name": "undated"}});
        assert_eq!(
            row("example.com", "widgets", undated),
            [json!("undated"), json!("0001-01-01T00:00:00Z")]
        );
    }
}

mod pods {
    use super::*;

    fn pod(spec: Value, status: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata("web-0"), "spec": spec, "status": status})
    }

    fn one_container() -> Value {
        json!({"containers": [{"name": "web", "image": "nginx:1.27"}], "nodeName": "worker-1"})
    }

    /// The READY, STATUS and RESTARTS cells.
    fn summary(object: Value) -> (String, String, String) {
        let cells = row("", "pods", object);
        let text = |index: usize| cells[index].as_str().expect("text cell").to_owned();
        (text(1), text(2), text(3))
    }

    fn summary_of(ready: &str, status: &str, restarts: &str) -> (String, String, String) {
        (ready.to_owned(), status.to_owned(), restarts.to_owned())
    }

    #[test]
    fn columns_match_upstream() {
        assert_eq!(
            column_names("", "pods", 0),
            ["Name", "Ready", "Status", "Restarts", "Age"]
        );
        assert_eq!(
            column_names("", "pods", 1),
            ["IP", "Node", "Nominated Node", "Readiness Gates"]
        );
        assert!(
            columns("", "pods")
                .iter()
                .all(|column| column.kind == "string")
        );
    }

    #[test]
    fn pending_unscheduled_pod() {
        let object = pod(
            json!({"containers": [{"name": "web", "image": "nginx:1.27"}]}),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}),
        );
        assert_eq!(
            row("", "pods", object),
            [
                "web-0", "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn scheduling_gated_pod() {
        let object = pod(
            json!({"containers": [{"name": "web"}]}),
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
        );
        assert_eq!(summary(object), summary_of("0/1", "SchedulingGated", "0"));
    }

    #[test]
    fn container_creating_shows_the_waiting_reason() {
        let object = pod(
            one_container(),
            json!({"phase": "Pending", "containerStatuses": [
                {"name": "web", "image": "nginx:1.27", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}}
            ]}),
        );
        assert_eq!(
            row("", "pods", object),
            [
                "web-0",
                "0/1",
                "ContainerCreating",
                "0",
                "5m",
                "<none>",
                "worker-1",
                "<none>",
                "<none>"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn running_pod_with_readiness_gate_and_nominated_node() {
        let mut spec = one_container();
        spec["readinessGates"] = json!([{"conditionType": "example.com/load-balancer"}, {"conditionType": "example.com/dns"}]);
        let object = pod(
            spec,
            json!({
                "phase": "Running",
                "podIP": "10.244.1.5",
                "podIPs": [{"ip": "10.244.1.5"}, {"ip": "fd00::5"}],
                "nominatedNodeName": "worker-2",
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "example.com/load-balancer", "status": "True"},
                    {"type": "example.com/dns", "status": "False"},
                ],
                "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": FIVE_MINUTES_AGO}}}],
            }),
        );
        assert_eq!(
            row("", "pods", object),
            [
                "web-0",
                "1/1",
                "Running",
                "0",
                "5m",
                "10.244.1.5",
                "worker-1",
                "worker-2",
                "1/2"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn pod_ip_falls_back_to_the_singular_field() {
        let object = pod(
            one_container(),
            json!({"phase": "Running", "podIP": "10.244.1.6"}),
        );
        assert_eq!(row("", "pods", object)[5], "10.244.1.6");
    }

    #[test]
    fn crash_loop_shows_restarts_and_when_the_last_one_was() {
        let mut object = pod(
            one_container(),
            json!({"phase": "Running", "containerStatuses": [{
                "name": "web", "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-01-01T11:59:50Z"}},
            }]}),
        );
        object["metadata"]["creationTimestamp"] = json!(TWO_DAYS_AGO);
        let cells = row("", "pods", object);
        assert_eq!(
            cells[..5],
            ["web-0", "0/1", "CrashLoopBackOff", "5 (10s ago)", "2d4h"].map(Value::from)
        );
    }

    #[test]
    fn restarts_without_a_known_time_are_a_bare_count() {
        let object = pod(
            one_container(),
            json!({"phase": "Running", "containerStatuses": [{"name": "web", "ready": true, "restartCount": 2, "state": {"running": {}}}]}),
        );
        assert_eq!(summary(object), summary_of("1/1", "Running", "2"));
    }

    #[test]
    fn completed_pod() {
        let object = pod(
            one_container(),
            json!({"phase": "Succeeded", "containerStatuses": [{
                "name": "web", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2025-01-01T11:57:00Z"}},
            }]}),
        );
        assert_eq!(summary(object), summary_of("0/1", "Completed", "0"));
    }

    #[test]
    fn completed_container_beside_a_running_one_is_not_ready() {
        let object = pod(
            json!({"containers": [{"name": "app"}, {"name": "job"}]}),
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}], "containerStatuses": [
                {"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "job", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            ]}),
        );
        assert_eq!(summary(object), summary_of("1/2", "NotReady", "0"));
    }

    #[test]
    fn terminated_without_reason_shows_signal_or_exit_code() {
        let terminated = |state: Value| {
            pod(
                one_container(),
                json!({"phase": "Running", "containerStatuses": [{"name": "web", "restartCount": 0, "state": {"terminated": state}}]}),
            )
        };
        assert_eq!(
            summary(terminated(json!({"exitCode": 137, "signal": 9}))).1,
            "Signal:9"
        );
        assert_eq!(summary(terminated(json!({"exitCode": 2}))).1, "ExitCode:2");
    }

    #[test]
    fn deleted_running_pod_is_terminating() {
        let mut object = pod(
            one_container(),
            json!({"phase": "Running", "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0, "state": {"running": {}}}]}),
        );
        object["metadata"]["deletionTimestamp"] = json!("2025-01-01T11:59:00Z");
        assert_eq!(summary(object), summary_of("1/1", "Terminating", "0"));
    }

    #[test]
    fn deleted_finished_pod_keeps_its_status() {
        let mut object = pod(one_container(), json!({"phase": "Succeeded"}));
        object["metadata"]["deletionTimestamp"] = json!("2025-01-01T11:59:00Z");
        assert_eq!(summary(object).1, "Succeeded");
    }

    #[test]
    fn deleted_pod_on_a_lost_node_is_unknown() {
        let mut object = pod(
            one_container(),
            json!({"phase": "Running", "reason": "NodeLost"}),
        );
        object["metadata"]["deletionTimestamp"] = json!("2025-01-01T11:59:00Z");
        assert_eq!(summary(object).1, "Unknown");
    }

    #[test]
    fn running_init_container_shows_progress() {
        let object = pod(
            json!({"initContainers": [{"name": "migrate"}, {"name": "seed"}], "containers": [{"name": "web"}]}),
            json!({
                "phase": "Pending",
                "conditions": [{"type": "Initialized", "status": "False"}],
                "initContainerStatuses": [
                    {"name": "migrate", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "seed", "restartCount": 0, "state": {"running": {}}},
                ],
                "containerStatuses": [{"name": "web", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}],
            }),
        );
        assert_eq!(summary(object), summary_of("0/1", "Init:1/2", "0"));
    }

    #[test]
    fn first_init_container_not_started() {
        let object = pod(
            json!({"initContainers": [{"name": "migrate"}], "containers": [{"name": "web"}]}),
            json!({"phase": "Pending", "initContainerStatuses": [
                {"name": "migrate", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}},
            ]}),
        );
        assert_eq!(summary(object), summary_of("0/1", "Init:0/1", "0"));
    }

    #[test]
    fn crashing_init_container_counts_its_restarts() {
        let object = pod(
            json!({"initContainers": [{"name": "migrate"}], "containers": [{"name": "web"}]}),
            json!({"phase": "Pending", "initContainerStatuses": [{
                "name": "migrate", "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-01-01T11:59:00Z"}},
            }]}),
        );
        assert_eq!(
            summary(object),
            summary_of("0/1", "Init:CrashLoopBackOff", "3 (60s ago)")
        );
    }

    #[test]
    fn failed_init_container_without_reason_shows_exit_code() {
        let object = pod(
            json!({"initContainers": [{"name": "migrate"}], "containers": [{"name": "web"}]}),
            json!({"phase": "Pending", "initContainerStatuses": [
                {"name": "migrate", "restartCount": 0, "state": {"terminated": {"exitCode": 3}}},
            ]}),
        );
        assert_eq!(summary(object).1, "Init:ExitCode:3");
    }

    #[test]
    fn sidecars_count_as_containers_and_keep_their_restarts() {
        let object = pod(
            json!({
                "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                "containers": [{"name": "web"}],
            }),
            json!({
                "phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{
                    "name": "proxy", "ready": true, "started": true, "restartCount": 1, "state": {"running": {}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-01-01T11:58:00Z"}},
                }],
                "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0, "state": {"running": {}}}],
            }),
        );
        assert_eq!(summary(object), summary_of("2/2", "Running", "1 (2m ago)"));
    }
}

mod nodes {
    use super::*;

    #[test]
    fn columns_match_upstream() {
        assert_eq!(
            column_names("", "nodes", 0),
            ["Name", "Status", "Roles", "Age", "Version"]
        );
        assert_eq!(
            column_names("", "nodes", 1),
            [
                "Internal-IP",
                "External-IP",
                "OS-Image",
                "Kernel-Version",
                "Container-Runtime"
            ]
        );
    }

    #[test]
    fn ready_control_plane_node() {
        let node = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "cp", "creationTimestamp": TWO_DAYS_AGO, "labels": {
                "node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "cp",
            }},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "cp"}, {"type": "InternalIP", "address": "172.18.0.2"}],
                "nodeInfo": {
                    "kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "kernelVersion": "6.8.0-45-generic", "containerRuntimeVersion": "containerd://1.7.24",
                    "architecture": "amd64", "operatingSystem": "linux",
                },
            },
        });
        assert_eq!(
            row("", "nodes", node),
            [
                "cp",
                "Ready",
                "control-plane",
                "2d4h",
                "v1.33.1",
                "172.18.0.2",
                "<none>",
                "Debian GNU/Linux 12 (bookworm)",
                "6.8.0-45-generic",
                "containerd://1.7.24",
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn cordoned_not_ready_node_with_several_roles() {
        let node = json!({
            "metadata": {"name": "worker-1", "creationTimestamp": FIVE_MINUTES_AGO, "labels": {
                "kubernetes.io/role": "worker", "node-role.kubernetes.io/gpu": "true",
            }},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "Ready", "status": "False"}],
                "addresses": [{"type": "ExternalIP", "address": "203.0.113.4"}],
            },
        });
        assert_eq!(
            row("", "nodes", node),
            [
                "worker-1",
                "NotReady,SchedulingDisabled",
                "gpu,worker",
                "5m",
                "",
                "<none>",
                "203.0.113.4",
                "<unknown>",
                "<unknown>",
                "<unknown>",
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn node_without_ready_condition_is_unknown_without_roles() {
        let node = json!({"metadata": {"name": "new", "creationTimestamp": FIVE_MINUTES_AGO}, "status": {}});
        let cells = row("", "nodes", node);
        assert_eq!(cells[1..3], ["Unknown", "<none>"].map(Value::from));
    }
}

#[test]
fn namespace_row() {
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata("team-a"), "status": {"phase": "Terminating"}});
    assert_eq!(column_names("", "namespaces", 0), ["Name", "Status", "Age"]);
    assert_eq!(
        row("", "namespaces", namespace),
        ["team-a", "Terminating", "5m"].map(Value::from)
    );
}

mod services {
    use super::*;

    fn service(spec: Value, status: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata("web"), "spec": spec, "status": status})
    }

    #[test]
    fn columns_match_upstream() {
        assert_eq!(
            column_names("", "services", 0),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age"
            ]
        );
        assert_eq!(column_names("", "services", 1), ["Selector"]);
    }

    #[test]
    fn cluster_ip_service() {
        let object = service(
            json!({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                   "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
                   "selector": {"app": "web", "tier": "front"}}),
            json!({}),
        );
        assert_eq!(
            row("", "services", object),
            [
                "web",
                "ClusterIP",
                "10.96.0.10",
                "<none>",
                "80/TCP",
                "5m",
                "app=web,tier=front"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn node_port_service_shows_node_ports_and_external_ips() {
        let object = service(
            json!({"type": "NodePort", "clusterIP": "10.96.4.2", "externalIPs": ["203.0.113.7"], "ports": [
                {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                {"port": 53, "nodePort": 30053, "protocol": "UDP"},
                {"port": 443, "nodePort": 30443},
            ]}),
            json!({}),
        );
        assert_eq!(
            row("", "services", object),
            [
                "web",
                "NodePort",
                "10.96.4.2",
                "203.0.113.7",
                "80:30080/TCP,53:30053/UDP,443:30443/TCP",
                "5m",
                "<none>"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn load_balancer_is_pending_until_it_has_addresses() {
        let spec = json!({"type": "LoadBalancer", "clusterIP": "10.96.7.7", "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]});
        assert_eq!(
            row("", "services", service(spec.clone(), json!({})))[3],
            "<pending>"
        );
        let mut with_external = spec;
        with_external["externalIPs"] = json!(["203.0.113.7"]);
        let status = json!({"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}, {"ip": "198.51.100.9"}]}});
        assert_eq!(
            row("", "services", service(with_external, status))[3],
            "198.51.100.9,lb.example.com,203.0.113.7"
        );
    }

    #[test]
    fn external_name_and_headless_services() {
        let external = service(
            json!({"type": "ExternalName", "externalName": "db.example.com"}),
            json!({}),
        );
        assert_eq!(
            row("", "services", external),
            [
                "web",
                "ExternalName",
                "<none>",
                "db.example.com",
                "<none>",
                "5m",
                "<none>"
            ]
            .map(Value::from)
        );
        let headless = service(
            json!({"type": "ClusterIP", "clusterIP": "None", "ports": [{"port": 5432, "protocol": "TCP"}]}),
            json!({}),
        );
        assert_eq!(row("", "services", headless)[2], "None");
    }
}

mod endpoints {
    use super::*;

    fn endpoints(subsets: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata("web"), "subsets": subsets})
    }

    #[test]
    fn more_than_three_endpoints_are_truncated() {
        let object = endpoints(json!([
            {"addresses": [{"ip": "10.244.1.2"}, {"ip": "10.244.2.3"}], "ports": [{"port": 80, "protocol": "TCP"}]},
            {"addresses": [{"ip": "10.244.3.4"}, {"ip": "10.244.3.5"}], "notReadyAddresses": [{"ip": "10.244.9.9"}],
             "ports": [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]},
        ]));
        assert_eq!(
            column_names("", "endpoints", 0),
            ["Name", "Endpoints", "Age"]
        );
        assert_eq!(
            row("", "endpoints", object),
            [
                "web",
                "10.244.1.2:80,10.244.2.3:80,10.244.3.4:80 + 3 more...",
                "5m"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn headless_ipv6_and_empty_endpoints() {
        let portless =
            endpoints(json!([{"addresses": [{"ip": "10.244.1.2"}, {"ip": "10.244.1.3"}]}]));
        assert_eq!(row("", "endpoints", portless)[1], "10.244.1.2,10.244.1.3");
        let ipv6 =
            endpoints(json!([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 8443}]}]));
        assert_eq!(row("", "endpoints", ipv6)[1], "[fd00::1]:8443");
        assert_eq!(row("", "endpoints", endpoints(json!([])))[1], "<none>");
    }
}

#[test]
fn config_map_counts_text_and_binary_keys() {
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata("settings"),
        "data": {"app.yaml": "port: 80", "LOG_LEVEL": "debug"}, "binaryData": {"logo.png": "iVBORw0K"},
    });
    assert_eq!(column_names("", "configmaps", 0), ["Name", "Data", "Age"]);
    assert_eq!(
        row("", "configmaps", config_map),
        [json!("settings"), json!(3), json!("5m")]
    );
}

#[test]
fn secret_row() {
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": metadata("db-creds"),
        "type": "kubernetes.io/basic-auth", "data": {"username": "YWRtaW4=", "password": "czNjcjN0"},
    });
    assert_eq!(
        column_names("", "secrets", 0),
        ["Name", "Type", "Data", "Age"]
    );
    assert_eq!(
        row("", "secrets", secret),
        [
            json!("db-creds"),
            json!("kubernetes.io/basic-auth"),
            json!(2),
            json!("5m")
        ]
    );
}

#[test]
fn service_account_row() {
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata("builder"), "secrets": [{"name": "builder-token"}]});
    assert_eq!(
        column_names("", "serviceaccounts", 0),
        ["Name", "Secrets", "Age"]
    );
    assert_eq!(
        row("", "serviceaccounts", account),
        [json!("builder"), json!(1), json!("5m")]
    );
}

mod events {
    use super::*;

    #[test]
    fn columns_match_upstream() {
        for group in ["", "events.k8s.io"] {
            assert_eq!(
                column_names(group, "events", 0),
                ["Last Seen", "Type", "Reason", "Object", "Message"]
            );
            assert_eq!(
                column_names(group, "events", 1),
                ["Subobject", "Source", "First Seen", "Count", "Name"]
            );
        }
    }

    #[test]
    fn kubelet_event_with_count() {
        let event = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": metadata("web-0.181a5b3c"),
            "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default", "fieldPath": "spec.containers{web}"},
            "reason": "Pulled", "message": "Successfully pulled image \"nginx:1.27\"\n", "type": "Normal",
            "source": {"component": "kubelet", "host": "worker-1"},
            "firstTimestamp": "2025-01-01T11:50:00Z", "lastTimestamp": "2025-01-01T11:58:00Z", "count": 3,
        });
        assert_eq!(
            row("", "events", event),
            [
                json!("2m"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-0"),
                json!("spec.containers{web}"),
                json!("kubelet, worker-1"),
                json!("Successfully pulled image \"nginx:1.27\""),
                json!("10m"),
                json!(3),
                json!("web-0.181a5b3c"),
            ]
        );
    }

    #[test]
    fn series_event_reported_by_a_controller() {
        let event = json!({
            "apiVersion": "v1", "kind": "Event", "metadata": metadata("web-0.181a5b3d"),
            "involvedObject": {"kind": "Pod", "name": "web-0"},
            "reason": "FailedScheduling", "message": "0/3 nodes are available", "type": "Warning",
            "eventTime": "2025-01-01T11:45:00.000000Z", "reportingComponent": "default-scheduler",
            "series": {"count": 4, "lastObservedTime": "2025-01-01T11:59:30.000000Z"},
        });
        assert_eq!(
            row("", "events", event),
            [
                json!("30s"),
                json!("Warning"),
                json!("FailedScheduling"),
                json!("pod/web-0"),
                json!(""),
                json!("default-scheduler"),
                json!("0/3 nodes are available"),
                json!("15m"),
                json!(4),
                json!("web-0.181a5b3d"),
            ]
        );
    }

    #[test]
    fn events_api_event() {
        let event = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": metadata("web.181a5b3e"),
            "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"},
            "note": "Scaled up replica set web-7d4b9c to 3", "reason": "ScalingReplicaSet", "type": "Normal",
            "action": "Scale", "eventTime": "2025-01-01T11:57:00.000000Z",
            "reportingController": "deployment-controller", "reportingInstance": "",
        });
        assert_eq!(
            row("events.k8s.io", "events", event),
            [
                json!("3m"),
                json!("Normal"),
                json!("ScalingReplicaSet"),
                json!("deployment/web"),
                json!(""),
                json!("deployment-controller"),
                json!("Scaled up replica set web-7d4b9c to 3"),
                json!("3m"),
                json!(1),
                json!("web.181a5b3e"),
            ]
        );
    }

    #[test]
    fn event_about_a_kind_without_a_name() {
        let event = json!({"metadata": metadata("cluster.1"), "involvedObject": {"kind": "Cluster"}, "count": 2});
        let cells = row("", "events", event);
        assert_eq!(cells[0], "<unknown>");
        assert_eq!(cells[3], "cluster");
        assert_eq!(cells[8], 2);
    }
}

mod workloads {
    use super::*;

    fn template(containers: Value) -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}})
    }

    #[test]
    fn deployment_row() {
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata("web"),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": template(json!([{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox:1.36"}]))},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
        });
        assert_eq!(
            column_names("apps", "deployments", 0),
            ["Name", "Ready", "Up-to-date", "Available", "Age"]
        );
        assert_eq!(
            column_names("apps", "deployments", 1),
            ["Containers", "Images", "Selector"]
        );
        assert_eq!(
            row("apps", "deployments", deployment),
            [
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("5m"),
                json!("web,log"),
                json!("nginx:1.27,busybox:1.36"),
                json!("app=web")
            ]
        );
    }

    #[test]
    fn new_deployment_defaults_to_one_replica() {
        let deployment = json!({"metadata": metadata("web"), "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template(json!([]))}});
        assert_eq!(
            row("apps", "deployments", deployment)[1..4],
            [json!("0/1"), json!(0), json!(0)]
        );
    }

    #[test]
    fn deployment_with_unreadable_selector() {
        let deployment = json!({"metadata": metadata("web"), "spec": {
            "selector": {"matchExpressions": [{"key": "app", "operator": "Near", "values": ["x"]}]}, "template": template(json!([]))}});
        assert_eq!(row("apps", "deployments", deployment)[7], "<invalid>");
    }

    #[test]
    fn replica_set_row() {
        let replica_set = json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": metadata("web-7d4b9c"),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9c"},
                     "matchExpressions": [{"key": "track", "operator": "In", "values": ["stable", "canary"]}]},
                     "template": template(json!([{"name": "web", "image": "nginx:1.27"}]))},
            "status": {"replicas": 3, "readyReplicas": 1},
        });
        assert_eq!(
            column_names("apps", "replicasets", 0),
            ["Name", "Desired", "Current", "Ready", "Age"]
        );
        assert_eq!(
            column_names("apps", "replicasets", 1),
            ["Containers", "Images", "Selector"]
        );
        assert_eq!(
            row("apps", "replicasets", replica_set),
            [
                json!("web-7d4b9c"),
                json!(3),
                json!(3),
                json!(1),
                json!("5m"),
                json!("web"),
                json!("nginx:1.27"),
                json!("app=web,pod-template-hash=7d4b9c,track in (canary,stable)"),
            ]
        );
    }

    #[test]
    fn stateful_set_row() {
        let stateful_set = json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata("db"),
            "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": template(json!([{"name": "postgres", "image": "postgres:16"}]))},
            "status": {"replicas": 2, "readyReplicas": 1},
        });
        assert_eq!(
            column_names("apps", "statefulsets", 0),
            ["Name", "Ready", "Age"]
        );
        assert_eq!(
            column_names("apps", "statefulsets", 1),
            ["Containers", "Images"]
        );
        assert_eq!(
            row("apps", "statefulsets", stateful_set),
            ["db", "1/3", "5m", "postgres", "postgres:16"].map(Value::from)
        );
    }

    #[test]
    fn daemon_set_row() {
        let daemon_set = json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": metadata("kube-proxy"),
            "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}, "template": {
                "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                         "containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.33.1"}]}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                       "updatedNumberScheduled": 3, "numberAvailable": 2, "numberMisscheduled": 0},
        });
        assert_eq!(
            column_names("apps", "daemonsets", 0),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age"
            ]
        );
        assert_eq!(
            row("apps", "daemonsets", daemon_set),
            [
                json!("kube-proxy"),
                json!(3),
                json!(3),
                json!(2),
                json!(3),
                json!(2),
                json!("kubernetes.io/os=linux"),
                json!("5m"),
                json!("kube-proxy"),
                json!("registry.k8s.io/kube-proxy:v1.33.1"),
                json!("k8s-app=kube-proxy"),
            ]
        );
    }

    #[test]
    fn controller_revision_names_its_controller() {
        let owned = json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision", "revision": 2,
            "metadata": {"name": "db-5d8f7b", "creationTimestamp": FIVE_MINUTES_AGO, "ownerReferences": [
                {"apiVersion": "v1", "kind": "Pod", "name": "db-0", "uid": "u1"},
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "u2", "controller": true},
            ]},
        });
        assert_eq!(
            column_names("apps", "controllerrevisions", 0),
            ["Name", "Controller", "Revision", "Age"]
        );
        assert_eq!(
            row("apps", "controllerrevisions", owned),
            [
                json!("db-5d8f7b"),
                json!("statefulset.apps/db"),
                json!(2),
                json!("5m")
            ]
        );
        let orphan = json!({"metadata": metadata("db-1"), "revision": 1});
        assert_eq!(row("apps", "controllerrevisions", orphan)[1], "<none>");
    }
}

mod jobs {
    use super::*;

    fn job(spec: Value, status: Value) -> Value {
        let mut spec = spec;
        spec["template"] = json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34"}]}});
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata("pi"), "spec": spec, "status": status})
    }

    #[test]
    fn columns_match_upstream() {
        assert_eq!(
            column_names("batch", "jobs", 0),
            ["Name", "Status", "Completions", "Duration", "Age"]
        );
        assert_eq!(
            column_names("batch", "jobs", 1),
            ["Containers", "Images", "Selector"]
        );
    }

    #[test]
    fn complete_job() {
        let object = job(
            json!({"completions": 1, "parallelism": 1, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "9f1c"}}}),
            json!({"succeeded": 1, "startTime": "2025-01-01T11:56:00Z", "completionTime": "2025-01-01T11:58:30Z", "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"},
            ]}),
        );
        assert_eq!(
            row("batch", "jobs", object),
            [
                "pi",
                "Complete",
                "1/1",
                "2m30s",
                "5m",
                "pi",
                "perl:5.34",
                "batch.kubernetes.io/controller-uid=9f1c"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn running_parallel_job_without_completion_count() {
        let object = job(
            json!({"parallelism": 3}),
            json!({"active": 3, "startTime": "2025-01-01T11:59:15Z"}),
        );
        assert_eq!(
            row("batch", "jobs", object)[1..4],
            ["Running", "0/1 of 3", "45s"].map(Value::from)
        );
    }

    #[test]
    fn job_not_started_has_no_duration() {
        let object = job(json!({"completions": 5}), json!({"succeeded": 2}));
        assert_eq!(
            row("batch", "jobs", object)[1..4],
            ["Running", "2/5", ""].map(Value::from)
        );
        let unselected = job(json!({}), json!({}));
        assert_eq!(row("batch", "jobs", unselected)[7], "<none>");
    }

    #[test]
    fn status_reflects_conditions_and_deletion() {
        let with =
            |conditions: Value| job(json!({"completions": 1}), json!({"conditions": conditions}));
        let status = |object: Value| row("batch", "jobs", object)[1].clone();
        assert_eq!(
            status(with(json!([{"type": "Failed", "status": "True"}]))),
            "Failed"
        );
        assert_eq!(
            status(with(json!([{"type": "Suspended", "status": "True"}]))),
            "Suspended"
        );
        assert_eq!(
            status(with(json!([{"type": "FailureTarget", "status": "True"}]))),
            "FailureTarget"
        );
        assert_eq!(
            status(with(json!([{"type": "Complete", "status": "False"}]))),
            "Running"
        );
        let mut deleted = with(json!([{"type": "Suspended", "status": "True"}]));
        deleted["metadata"]["deletionTimestamp"] = json!(NOW);
        assert_eq!(status(deleted), "Terminating");
    }
}

#[test]
fn lease_row() {
    let lease = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata("kube-controller-manager"),
        "spec": {"holderIdentity": "cp_5b1f2a", "leaseDurationSeconds": 15},
    });
    assert_eq!(
        column_names("coordination.k8s.io", "leases", 0),
        ["Name", "Holder", "Age"]
    );
    assert_eq!(
        row("coordination.k8s.io", "leases", lease),
        ["kube-controller-manager", "cp_5b1f2a", "5m"].map(Value::from)
    );
    let unheld = json!({"metadata": metadata("idle"), "spec": {}});
    assert_eq!(row("coordination.k8s.io", "leases", unheld)[1], "");
}

mod endpoint_slices {
    use super::*;

    #[test]
    fn slice_row_truncates_addresses() {
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": metadata("web-x7k2p"),
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "https", "port": 443}],
            "endpoints": [
                {"addresses": ["10.244.1.2"], "conditions": {"ready": true}},
                {"addresses": ["10.244.2.3"]},
                {"addresses": ["10.244.3.4", "10.244.3.5"]},
            ],
        });
        assert_eq!(
            column_names("discovery.k8s.io", "endpointslices", 0),
            ["Name", "AddressType", "Ports", "Endpoints", "Age"]
        );
        assert_eq!(
            row("discovery.k8s.io", "endpointslices", slice),
            [
                "web-x7k2p",
                "IPv4",
                "80,443",
                "10.244.1.2,10.244.2.3,10.244.3.4 + 1 more...",
                "5m"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn empty_slice_and_portless_ports() {
        let empty = json!({"metadata": metadata("idle"), "addressType": "IPv6", "endpoints": []});
        assert_eq!(
            row("discovery.k8s.io", "endpointslices", empty)[2..4],
            ["<unset>", "<unset>"].map(Value::from)
        );
        let named = json!({"metadata": metadata("any"), "addressType": "IPv4", "endpoints": [],
                           "ports": [{"name": "dns"}, {}, {"port": 1}, {"port": 2}]});
        assert_eq!(
            row("discovery.k8s.io", "endpointslices", named)[2],
            "dns,*,1 + 1 more..."
        );
    }
}

mod cron_jobs {
    use super::*;

    fn cron_job(name: &str, spec: Value, status: Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata(name), "spec": spec, "status": status})
    }

    fn job_template(job_spec: Value, container: Value) -> Value {
        let mut job_spec = job_spec;
        job_spec["template"] =
            json!({"spec": {"restartPolicy": "OnFailure", "containers": [container]}});
        json!({"spec": job_spec})
    }

    #[test]
    fn columns_match_upstream() {
        assert_eq!(
            column_names("batch", "cronjobs", 0),
            [
                "Name",
                "Schedule",
                "Timezone",
                "Suspend",
                "Active",
                "Last Schedule",
                "Age"
            ]
        );
        assert_eq!(
            column_names("batch", "cronjobs", 1),
            ["Containers", "Images", "Selector"]
        );
        let kinds: Vec<_> = columns("batch", "cronjobs")
            .iter()
            .map(|column| column.kind)
            .collect();
        assert_eq!(kinds[3..5], ["boolean", "integer"]);
    }

    #[test]
    fn cron_job_that_has_not_run_yet() {
        let object = cron_job(
            "hello",
            json!({"schedule": "*/5 * * * *", "jobTemplate": job_template(json!({}), json!({"name": "hello", "image": "busybox:1.36"}))}),
            json!({}),
        );
        assert_eq!(
            row("batch", "cronjobs", object),
            [
                json!("hello"),
                json!("*/5 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(0),
                json!("<none>"),
                json!("5m"),
                json!("hello"),
                json!("busybox:1.36"),
                json!("<none>"),
            ]
        );
    }

    #[test]
    fn suspended_cron_job_with_a_time_zone_and_a_running_job() {
        let object = cron_job(
            "backup",
            json!({
                "schedule": "0 3 * * *", "timeZone": "Europe/Paris", "suspend": true,
                "jobTemplate": job_template(
                    json!({"selector": {"matchLabels": {"app": "backup"}}}),
                    json!({"name": "backup", "image": "restic:0.17"}),
                ),
            }),
            json!({
                "active": [{"kind": "Job", "namespace": "default", "name": "backup-28930500"}],
                "lastScheduleTime": "2025-01-01T11:58:00Z",
            }),
        );
        assert_eq!(
            row("batch", "cronjobs", object),
            [
                json!("backup"),
                json!("0 3 * * *"),
                json!("Europe/Paris"),
                json!("True"),
                json!(1),
                json!("2m"),
                json!("5m"),
                json!("backup"),
                json!("restic:0.17"),
                json!("app=backup"),
            ]
        );
    }
}

mod pod_disruption_budgets {
    use super::*;

    #[test]
    fn budget_by_count_with_allowed_disruptions() {
        let budget = json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": metadata("web"),
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3},
        });
        assert_eq!(
            column_names("policy", "poddisruptionbudgets", 0),
            [
                "Name",
                "Min Available",
                "Max Unavailable",
                "Allowed Disruptions",
                "Age"
            ]
        );
        assert_eq!(
            row("policy", "poddisruptionbudgets", budget),
            [
                json!("web"),
                json!("2"),
                json!("N/A"),
                json!(1),
                json!("5m")
            ]
        );
    }

    #[test]
    fn budget_by_percentage_before_its_first_status() {
        let budget = json!({"metadata": metadata("db"), "spec": {"maxUnavailable": "25%"}});
        assert_eq!(
            row("policy", "poddisruptionbudgets", budget),
            [
                json!("db"),
                json!("N/A"),
                json!("25%"),
                json!(0),
                json!("5m")
            ]
        );
    }
}

mod networking {
    use super::*;

    #[test]
    fn ingress_with_tls_many_hosts_and_addresses() {
        let ingress = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata("web"),
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["a.example.com"], "secretName": "a-tls"}],
                "rules": [
                    {"host": "a.example.com"}, {"host": "b.example.com"}, {},
                    {"host": "c.example.com"}, {"host": "d.example.com"},
                ],
            },
            "status": {"loadBalancer": {"ingress": [
                {"ip": "203.0.113.10"}, {"hostname": "lb.example.com"}, {"ip": "203.0.113.10"},
            ]}},
        });
        assert_eq!(
            column_names("networking.k8s.io", "ingresses", 0),
            ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
        );
        assert_eq!(
            row("networking.k8s.io", "ingresses", ingress),
            [
                "web",
                "nginx",
                "a.example.com,b.example.com,c.example.com + 2 more...",
                "203.0.113.10,lb.example.com",
                "80, 443",
                "5m"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn ingress_without_class_hosts_or_address() {
        let ingress = json!({"metadata": metadata("catch-all"), "spec": {"rules": [{"http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
        ]}}]}});
        assert_eq!(
            row("networking.k8s.io", "ingresses", ingress),
            ["catch-all", "<none>", "*", "", "80", "5m"].map(Value::from)
        );
    }

    #[test]
    fn ingress_class_parameters() {
        let with_group = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": metadata("nginx"),
            "spec": {"controller": "k8s.io/ingress-nginx", "parameters": {
                "apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb", "scope": "Cluster",
            }},
        });
        assert_eq!(
            column_names("networking.k8s.io", "ingressclasses", 0),
            ["Name", "Controller", "Parameters", "Age"]
        );
        assert_eq!(
            row("networking.k8s.io", "ingressclasses", with_group),
            [
                "nginx",
                "k8s.io/ingress-nginx",
                "IngressParameters.k8s.example.com/external-lb",
                "5m"
            ]
            .map(Value::from)
        );
        let core_kind = json!({"metadata": metadata("haproxy"), "spec": {
            "controller": "haproxy.org/ingress", "parameters": {"kind": "ConfigMap", "name": "haproxy"}}});
        assert_eq!(
            row("networking.k8s.io", "ingressclasses", core_kind)[2],
            "ConfigMap/haproxy"
        );
        let plain = json!({"metadata": metadata("traefik"), "spec": {"controller": "traefik.io/ingress-controller"}});
        assert_eq!(
            row("networking.k8s.io", "ingressclasses", plain)[2],
            "<none>"
        );
    }

    #[test]
    fn network_policy_pod_selector() {
        let policy = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata("allow-db"),
            "spec": {"podSelector": {"matchLabels": {"role": "db"}}, "policyTypes": ["Ingress"]},
        });
        assert_eq!(
            column_names("networking.k8s.io", "networkpolicies", 0),
            ["Name", "Pod-Selector", "Age"]
        );
        assert_eq!(
            row("networking.k8s.io", "networkpolicies", policy),
            ["allow-db", "role=db", "5m"].map(Value::from)
        );
        let everything = json!({"metadata": metadata("deny-all"), "spec": {"podSelector": {}}});
        assert_eq!(
            row("networking.k8s.io", "networkpolicies", everything)[1],
            "<none>"
        );
    }
}

mod horizontal_pod_autoscalers {
    use super::*;

    fn autoscaler(spec: Value, status: Value) -> Value {
        let mut spec = spec;
        spec["scaleTargetRef"] =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": metadata("web"),
               "spec": spec, "status": status})
    }

    fn targets(spec: Value, status: Value) -> Value {
        row(
            "autoscaling",
            "horizontalpodautoscalers",
            autoscaler(spec, status),
        )[2]
        .clone()
    }

    #[test]
    fn cpu_utilization_against_its_target() {
        let object = autoscaler(
            json!({"minReplicas": 2, "maxReplicas": 10, "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
            ]}),
            json!({"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 50, "averageValue": "250m"}}},
            ]}),
        );
        assert_eq!(
            column_names("autoscaling", "horizontalpodautoscalers", 0),
            [
                "Name",
                "Reference",
                "Targets",
                "MinPods",
                "MaxPods",
                "Replicas",
                "Age"
            ]
        );
        assert_eq!(
            row("autoscaling", "horizontalpodautoscalers", object),
            [
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 50%/80%"),
                json!("2"),
                json!(10),
                json!(3),
                json!("5m"),
            ]
        );
    }

    #[test]
    fn unmeasured_target_is_unknown() {
        let metrics = json!([
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
        ]);
        assert_eq!(
            targets(json!({"maxReplicas": 5, "metrics": metrics}), json!({})),
            "cpu: <unknown>/80%"
        );
    }

    #[test]
    fn autoscaler_without_metrics_or_minimum_reads_as_defaulted() {
        let object = autoscaler(json!({"maxReplicas": 5}), json!({}));
        assert_eq!(
            row("autoscaling", "horizontalpodautoscalers", object)[2..6],
            [json!("cpu: <unknown>/80%"), json!("1"), json!(5), json!(0)]
        );
    }

    #[test]
    fn metrics_of_every_kind_and_the_first_two_shown() {
        let spec = json!({"maxReplicas": 10, "metrics": [
            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "packets-per-second"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
            {"type": "Object", "object": {"metric": {"name": "requests-per-second"},
                "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main-route"},
                "target": {"type": "Value", "value": "10k"}}},
        ]});
        let status = json!({"currentMetrics": [
            {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "300Mi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "packets-per-second"}, "current": {"averageValue": "800"}}},
        ]});
        assert_eq!(
            targets(spec, status),
            "memory: 300Mi/500Mi, 800/1k + 1 more..."
        );
        let external = json!({"maxReplicas": 10, "metrics": [
            {"type": "External", "external": {"metric": {"name": "queue_messages_ready"},
                "target": {"type": "AverageValue", "averageValue": "30"}}},
            {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                "target": {"type": "Utilization", "averageUtilization": 60}}},
        ]});
        let measured = json!({"currentMetrics": [
            {"type": "External", "external": {"metric": {"name": "queue_messages_ready"}, "current": {"averageValue": "12"}}},
            {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "current": {"averageUtilization": 75}}},
        ]});
        assert_eq!(
            targets(external.clone(), json!({})),
            "<unknown>/30 (avg), cpu: <unknown>/60%"
        );
        assert_eq!(targets(external, measured), "12/30 (avg), cpu: 75%/60%");
    }
}

mod storage {
    use super::*;

    #[test]
    fn default_storage_class_is_marked() {
        let class = json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard", "creationTimestamp": FIVE_MINUTES_AGO,
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer",
        });
        assert_eq!(
            column_names("storage.k8s.io", "storageclasses", 0),
            [
                "Name",
                "Provisioner",
                "ReclaimPolicy",
                "VolumeBindingMode",
                "AllowVolumeExpansion",
                "Age"
            ]
        );
        assert_eq!(
            row("storage.k8s.io", "storageclasses", class),
            [
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false),
                json!("5m"),
            ]
        );
    }

    #[test]
    fn storage_class_defaults_and_the_beta_default_annotation() {
        let class = json!({"metadata": metadata("fast"), "provisioner": "ebs.csi.aws.com", "allowVolumeExpansion": true});
        assert_eq!(
            row("storage.k8s.io", "storageclasses", class),
            [
                json!("fast"),
                json!("ebs.csi.aws.com"),
                json!("Delete"),
                json!("Immediate"),
                json!(true),
                json!("5m"),
            ]
        );
        let annotated = |value: &str| {
            json!({"metadata": {"name": "old", "annotations": {"storageclass.beta.kubernetes.io/is-default-class": value}},
                   "provisioner": "kubernetes.io/no-provisioner"})
        };
        assert_eq!(
            row("storage.k8s.io", "storageclasses", annotated("true"))[0],
            "old (default)"
        );
        assert_eq!(
            row("storage.k8s.io", "storageclasses", annotated("yes"))[0],
            "old"
        );
    }

    #[test]
    fn csi_drivers() {
        let driver = |spec: Value| json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": metadata("ebs.csi.aws.com"), "spec": spec});
        assert_eq!(
            column_names("storage.k8s.io", "csidrivers", 0),
            [
                "Name",
                "AttachRequired",
                "PodInfoOnMount",
                "StorageCapacity",
                "TokenRequests",
                "RequiresRepublish",
                "Modes",
                "Age"
            ]
        );
        assert_eq!(
            row(
                "storage.k8s.io",
                "csidrivers",
                driver(
                    json!({"attachRequired": true, "podInfoOnMount": false, "volumeLifecycleModes": ["Persistent"]})
                )
            ),
            [
                json!("ebs.csi.aws.com"),
                json!(true),
                json!(false),
                json!(false),
                json!("<unset>"),
                json!(false),
                json!("Persistent"),
                json!("5m"),
            ]
        );
        let everything = driver(json!({
            "attachRequired": false, "podInfoOnMount": true, "storageCapacity": true, "requiresRepublish": true,
            "tokenRequests": [{"audience": "vault"}, {"audience": ""}], "volumeLifecycleModes": ["Persistent", "Ephemeral"],
        }));
        assert_eq!(
            row("storage.k8s.io", "csidrivers", everything)[1..7],
            [
                json!(false),
                json!(true),
                json!(true),
                json!("vault,"),
                json!(true),
                json!("Persistent,Ephemeral"),
            ]
        );
        assert_eq!(
            row("storage.k8s.io", "csidrivers", driver(json!({})))[1..7],
            [
                json!(true),
                json!(false),
                json!(false),
                json!("<unset>"),
                json!(false),
                json!("Persistent"),
            ]
        );
    }

    #[test]
    fn csi_node_counts_its_drivers() {
        let node = json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": metadata("worker-1"),
            "spec": {"drivers": [{"name": "ebs.csi.aws.com", "nodeID": "i-0abc", "topologyKeys": ["topology.ebs.csi.aws.com/zone"]}]},
        });
        assert_eq!(
            column_names("storage.k8s.io", "csinodes", 0),
            ["Name", "Drivers", "Age"]
        );
        assert_eq!(
            row("storage.k8s.io", "csinodes", node),
            [json!("worker-1"), json!(1), json!("5m")]
        );
    }

    #[test]
    fn volume_attachment() {
        let attachment = |status: Value| {
            json!({
                "apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": metadata("csi-0a1b"),
                "spec": {"attacher": "ebs.csi.aws.com", "nodeName": "worker-1", "source": {"persistentVolumeName": "pvc-7f3e"}},
                "status": status,
            })
        };
        assert_eq!(
            column_names("storage.k8s.io", "volumeattachments", 0),
            ["Name", "Attacher", "PV", "Node", "Attached", "Age"]
        );
        assert_eq!(
            row(
                "storage.k8s.io",
                "volumeattachments",
                attachment(json!({"attached": true}))
            ),
            [
                json!("csi-0a1b"),
                json!("ebs.csi.aws.com"),
                json!("pvc-7f3e"),
                json!("worker-1"),
                json!(true),
                json!("5m"),
            ]
        );
        assert_eq!(
            row("storage.k8s.io", "volumeattachments", attachment(json!({})))[4],
            false
        );
    }
}

mod volumes {
    use super::*;

    #[test]
    fn bound_persistent_volume() {
        let volume = json!({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": metadata("pvc-7f3e"),
            "spec": {
                "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": "standard", "volumeMode": "Filesystem", "hostPath": {"path": "/var/local-path/pvc-7f3e"},
                "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data-db-0"},
            },
            "status": {"phase": "Bound"},
        });
        assert_eq!(
            column_names("", "persistentvolumes", 0),
            [
                "Name",
                "Capacity",
                "Access Modes",
                "Reclaim Policy",
                "Status",
                "Claim",
                "StorageClass",
                "VolumeAttributesClass",
                "Reason",
                "Age"
            ]
        );
        assert_eq!(column_names("", "persistentvolumes", 1), ["VolumeMode"]);
        assert_eq!(
            row("", "persistentvolumes", volume),
            [
                "pvc-7f3e",
                "10Gi",
                "RWO",
                "Delete",
                "Bound",
                "default/data-db-0",
                "standard",
                "<unset>",
                "",
                "5m",
                "Filesystem"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn deleted_volume_with_beta_class_and_several_access_modes() {
        let volume = json!({
            "metadata": {"name": "nfs-1", "creationTimestamp": TWO_DAYS_AGO, "deletionTimestamp": NOW,
                         "annotations": {"volume.beta.kubernetes.io/storage-class": "slow"}},
            "spec": {
                "accessModes": ["ReadWriteMany", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"],
                "storageClassName": "fast", "volumeAttributesClassName": "gold",
            },
            "status": {"phase": "Failed", "reason": "VolumeFailedRecycle"},
        });
        assert_eq!(
            row("", "persistentvolumes", volume),
            [
                "nfs-1",
                "0",
                "ROX,RWX,RWOP",
                "Retain",
                "Terminating",
                "",
                "slow",
                "gold",
                "VolumeFailedRecycle",
                "2d4h",
                "Filesystem"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn pending_claim_shows_no_capacity() {
        let claim = json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata("data-db-0"),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "storageClassName": "standard", "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        });
        assert_eq!(
            column_names("", "persistentvolumeclaims", 0),
            [
                "Name",
                "Status",
                "Volume",
                "Capacity",
                "Access Modes",
                "StorageClass",
                "VolumeAttributesClass",
                "Age"
            ]
        );
        assert_eq!(
            column_names("", "persistentvolumeclaims", 1),
            ["VolumeMode"]
        );
        assert_eq!(
            row("", "persistentvolumeclaims", claim),
            [
                "data-db-0",
                "Pending",
                "",
                "",
                "",
                "standard",
                "<unset>",
                "5m",
                "Filesystem"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn bound_claim_shows_its_volume_capacity() {
        let claim = json!({
            "metadata": metadata("data-db-0"),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "storageClassName": "standard", "volumeMode": "Block", "volumeName": "pvc-7f3e"},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}},
        });
        assert_eq!(
            row("", "persistentvolumeclaims", claim),
            [
                "data-db-0",
                "Bound",
                "pvc-7f3e",
                "10Gi",
                "RWO",
                "standard",
                "<unset>",
                "5m",
                "Block"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn claim_without_spec_reads_as_defaulted() {
        let claim = json!({"metadata": metadata("bare")});
        assert_eq!(
            row("", "persistentvolumeclaims", claim),
            [
                "bare",
                "Pending",
                "",
                "",
                "",
                "",
                "<unset>",
                "5m",
                "Filesystem"
            ]
            .map(Value::from)
        );
    }
}

mod core_workloads_and_quotas {
    use super::*;

    #[test]
    fn replication_controller_row() {
        let controller = json!({
            "apiVersion": "v1", "kind": "ReplicationController", "metadata": metadata("nginx"),
            "spec": {"replicas": 3, "selector": {"app": "nginx"}, "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2},
        });
        assert_eq!(
            column_names("", "replicationcontrollers", 0),
            ["Name", "Desired", "Current", "Ready", "Age"]
        );
        assert_eq!(
            column_names("", "replicationcontrollers", 1),
            ["Containers", "Images", "Selector"]
        );
        assert_eq!(
            row("", "replicationcontrollers", controller),
            [
                json!("nginx"),
                json!(3),
                json!(3),
                json!(2),
                json!("5m"),
                json!("nginx"),
                json!("nginx:1.27"),
                json!("app=nginx"),
            ]
        );
        let bare = json!({"metadata": metadata("bare"), "spec": {}});
        assert_eq!(
            row("", "replicationcontrollers", bare)[1..4],
            [json!(1), json!(0), json!(0)]
        );
    }

    #[test]
    fn pod_template_row() {
        let template = json!({
            "apiVersion": "v1", "kind": "PodTemplate", "metadata": metadata("web-template"),
            "template": {"metadata": {"labels": {"tier": "front", "app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox:1.36"}]}},
        });
        assert_eq!(
            column_names("", "podtemplates", 0),
            ["Name", "Containers", "Images", "Pod Labels"]
        );
        assert!(column_names("", "podtemplates", 1).is_empty());
        assert_eq!(
            row("", "podtemplates", template),
            [
                "web-template",
                "web,log",
                "nginx:1.27,busybox:1.36",
                "app=web,tier=front"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn resource_quota_splits_requests_and_limits() {
        let quota = json!({
            "apiVersion": "v1", "kind": "ResourceQuota", "metadata": metadata("compute"),
            "spec": {"hard": {"requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi", "pods": "10"}},
            "status": {
                "hard": {"requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi", "pods": "10"},
                "used": {"requests.cpu": "500m", "requests.memory": "256Mi", "limits.cpu": "1", "pods": "3"},
            },
        });
        assert_eq!(
            column_names("", "resourcequotas", 0),
            ["Name", "Request", "Limit", "Age"]
        );
        assert_eq!(
            row("", "resourcequotas", quota),
            [
                "compute",
                "pods: 3/10, requests.cpu: 500m/1, requests.memory: 256Mi/1Gi",
                "limits.cpu: 1/2, limits.memory: 0/2Gi",
                "5m"
            ]
            .map(Value::from)
        );
        let unobserved = json!({"metadata": metadata("new"), "spec": {"hard": {"pods": "10"}}});
        assert_eq!(
            row("", "resourcequotas", unobserved),
            ["new", "", "", "5m"].map(Value::from)
        );
    }
}

mod scheduling_and_runtime_classes {
    use super::*;

    #[test]
    fn priority_class_row() {
        let class = json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": metadata("high-priority"),
            "value": 1000000, "globalDefault": false, "description": "For critical pods.", "preemptionPolicy": "Never",
        });
        assert_eq!(
            column_names("scheduling.k8s.io", "priorityclasses", 0),
            ["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]
        );
        assert_eq!(
            row("scheduling.k8s.io", "priorityclasses", class),
            [
                json!("high-priority"),
                json!(1000000),
                json!(false),
                json!("5m"),
                json!("Never"),
            ]
        );
        let defaulted =
            json!({"metadata": metadata("default-priority"), "value": 0, "globalDefault": true});
        assert_eq!(
            row("scheduling.k8s.io", "priorityclasses", defaulted)[1..],
            [
                json!(0),
                json!(true),
                json!("5m"),
                json!("PreemptLowerPriority")
            ]
        );
    }

    #[test]
    fn runtime_class_row() {
        let class = json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": metadata("gvisor"), "handler": "runsc"});
        assert_eq!(
            column_names("node.k8s.io", "runtimeclasses", 0),
            ["Name", "Handler", "Age"]
        );
        assert_eq!(
            row("node.k8s.io", "runtimeclasses", class),
            ["gvisor", "runsc", "5m"].map(Value::from)
        );
    }
}

mod certificate_signing_requests {
    use super::*;

    fn request(spec: Value, status: Value) -> Value {
        let mut spec = spec;
        spec["request"] = json!("LS0tLS1CRUdJTg==");
        json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
               "metadata": metadata("alice"), "spec": spec, "status": status})
    }

    #[test]
    fn approved_and_issued_request() {
        let object = request(
            json!({"signerName": "kubernetes.io/kube-apiserver-client", "expirationSeconds": 86400,
                   "usages": ["client auth"], "username": "kubernetes-admin"}),
            json!({"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove"}],
                   "certificate": "LS0tLS1CRUdJTg=="}),
        );
        assert_eq!(
            column_names("certificates.k8s.io", "certificatesigningrequests", 0),
            [
                "Name",
                "Age",
                "SignerName",
                "Requestor",
                "RequestedDuration",
                "Condition"
            ]
        );
        assert_eq!(
            row("certificates.k8s.io", "certificatesigningrequests", object),
            [
                "alice",
                "5m",
                "kubernetes.io/kube-apiserver-client",
                "kubernetes-admin",
                "24h",
                "Approved,Issued"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn pending_request_without_signer_or_duration() {
        let object = request(json!({"signerName": ""}), json!({}));
        assert_eq!(
            row("certificates.k8s.io", "certificatesigningrequests", object),
            ["alice", "5m", "<none>", "", "<none>", "Pending"].map(Value::from)
        );
    }

    #[test]
    fn denial_wins_over_approval_and_failure_is_added() {
        let object = request(
            json!({"signerName": "example.com/signer"}),
            json!({"conditions": [
                {"type": "Approved", "status": "True"},
                {"type": "Denied", "status": "True"},
                {"type": "Failed", "status": "True"},
            ]}),
        );
        assert_eq!(
            row("certificates.k8s.io", "certificatesigningrequests", object)[5],
            "Denied,Failed"
        );
    }
}

mod role_bindings {
    use super::*;

    const RBAC: &str = "rbac.authorization.k8s.io";

    #[test]
    fn columns_match_upstream() {
        for resource in ["rolebindings", "clusterrolebindings"] {
            assert_eq!(column_names(RBAC, resource, 0), ["Name", "Role", "Age"]);
            assert_eq!(
                column_names(RBAC, resource, 1),
                ["Users", "Groups", "ServiceAccounts"]
            );
        }
    }

    #[test]
    fn role_binding_lists_its_subjects_by_kind() {
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata("read-pods"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
            "subjects": [
                {"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "Group", "name": "developers", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
                {"kind": "User", "name": "joe", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "ServiceAccount", "name": "default", "namespace": "default"},
            ],
        });
        assert_eq!(
            row(RBAC, "rolebindings", binding),
            [
                "read-pods",
                "Role/pod-reader",
                "5m",
                "jane, joe",
                "developers",
                "ci/builder, default/default"
            ]
            .map(Value::from)
        );
    }

    #[test]
    fn cluster_role_binding_with_a_group_and_without_subjects() {
        let binding = |subjects: Value| {
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": metadata("cluster-admin"),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": subjects,
            })
        };
        assert_eq!(
            row(
                RBAC,
                "clusterrolebindings",
                binding(
                    json!([{"kind": "Group", "name": "system:masters", "apiGroup": "rbac.authorization.k8s.io"}])
                )
            ),
            [
                "cluster-admin",
                "ClusterRole/cluster-admin",
                "5m",
                "",
                "system:masters",
                ""
            ]
            .map(Value::from)
        );
        assert_eq!(
            row(RBAC, "clusterrolebindings", binding(json!(null)))[3..],
            ["", "", ""].map(Value::from)
        );
    }
}

mod webhook_configurations {
    use super::*;

    #[test]
    fn configurations_count_their_webhooks() {
        let webhook = |name: &str| {
            json!({"name": name, "admissionReviewVersions": ["v1"], "sideEffects": "None",
                   "clientConfig": {"service": {"namespace": "default", "name": "webhook"}}})
        };
        let validating = json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": metadata("policy"), "webhooks": [webhook("a.example.com"), webhook("b.example.com")],
        });
        let mutating = json!({"metadata": metadata("inject")});
        for resource in [
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
        ] {
            assert_eq!(
                column_names("admissionregistration.k8s.io", resource, 0),
                ["Name", "Webhooks", "Age"]
            );
        }
        assert_eq!(
            row(
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
                validating
            ),
            [json!("policy"), json!(2), json!("5m")]
        );
        assert_eq!(
            row(
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                mutating
            ),
            [json!("inject"), json!(0), json!("5m")]
        );
    }
}

mod admission_policies {
    use super::*;

    const GROUP: &str = "admissionregistration.k8s.io";

    #[test]
    fn policies_count_their_validations_and_name_their_param_kind() {
        assert_eq!(
            column_names(GROUP, "validatingadmissionpolicies", 0),
            ["Name", "Validations", "ParamKind", "Age"]
        );
        let policy = json!({
            "metadata": metadata("max-keys"),
            "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                     "validations": [{"expression": "true"}, {"expression": "true"}]},
        });
        assert_eq!(
            row(GROUP, "validatingadmissionpolicies", policy),
            [
                json!("max-keys"),
                json!(2),
                json!("v1/ConfigMap"),
                json!("5m")
            ]
        );
        let bare = json!({"metadata": metadata("bare")});
        assert_eq!(
            row(GROUP, "validatingadmissionpolicies", bare),
            [json!("bare"), json!(0), json!("<unset>"), json!("5m")]
        );
    }

    #[test]
    fn bindings_name_their_policy_and_params() {
        assert_eq!(
            column_names(GROUP, "validatingadmissionpolicybindings", 0),
            ["Name", "PolicyName", "ParamRef", "Age"]
        );
        let binding = |param_ref: Value| {
            let mut binding = json!({
                "metadata": metadata("max-keys"),
                "spec": {"policyName": "max-keys", "validationActions": ["Deny"]},
            });
            if !param_ref.is_null() {
                binding["spec"]["paramRef"] = param_ref;
            }
            row(GROUP, "validatingadmissionpolicybindings", binding)[2].clone()
        };
        assert_eq!(binding(Value::Null), "<unset>");
        assert_eq!(
            binding(json!({"name": "limits", "namespace": "default"})),
            "default/limits"
        );
        assert_eq!(binding(json!({"name": "limits"})), "*/limits");
        assert_eq!(
            binding(json!({"selector": {"matchLabels": {"tier": "limits"}}})),
            "tier=limits"
        );
        let full = json!({"metadata": metadata("b"), "spec": {"policyName": "p"}});
        assert_eq!(
            row(GROUP, "validatingadmissionpolicybindings", full),
            [json!("b"), json!("p"), json!("<unset>"), json!("5m")]
        );
    }
}

mod api_services {
    use super::*;

    fn api_service(name: &str, spec: Value, status: Value) -> Value {
        json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": metadata(name),
               "spec": spec, "status": status})
    }

    #[test]
    fn local_api_service_is_available() {
        let object = api_service(
            "v1.apps",
            json!({"group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15}),
            json!({"conditions": [{"type": "Available", "status": "True", "reason": "Local",
                                   "message": "Local APIServices are always available"}]}),
        );
        assert_eq!(
            column_names("apiregistration.k8s.io", "apiservices", 0),
            ["Name", "Service", "Available", "Age"]
        );
        assert_eq!(
            row("apiregistration.k8s.io", "apiservices", object),
            ["v1.apps", "Local", "True", "5m"].map(Value::from)
        );
    }

    #[test]
    fn aggregated_api_service_without_endpoints() {
        let spec = json!({"service": {"namespace": "kube-system", "name": "metrics-server", "port": 443},
                          "group": "metrics.k8s.io", "version": "v1beta1", "insecureSkipTLSVerify": true,
                          "groupPriorityMinimum": 100, "versionPriority": 100});
        let unavailable = api_service(
            "v1beta1.metrics.k8s.io",
            spec.clone(),
            json!({"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints",
                                   "message": "endpoints for service/metrics-server in \"kube-system\" have no addresses"}]}),
        );
        assert_eq!(
            row("apiregistration.k8s.io", "apiservices", unavailable),
            [
                "v1beta1.metrics.k8s.io",
                "kube-system/metrics-server",
                "False (MissingEndpoints)",
                "5m"
            ]
            .map(Value::from)
        );
        let unchecked = api_service("v1beta1.metrics.k8s.io", spec, json!({}));
        assert_eq!(
            row("apiregistration.k8s.io", "apiservices", unchecked)[2],
            "Unknown"
        );
    }
}
