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
const PRINTED: [(&str, &str); 18] = [
    ("", "pods"),
    ("", "nodes"),
    ("", "namespaces"),
    ("", "services"),
    ("", "endpoints"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "serviceaccounts"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "controllerrevisions"),
    ("batch", "jobs"),
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
        let named = columns(group, resource)
            .iter()
            .filter(|column| column.format == "name");
        assert_eq!(named.count(), 1, "{group}/{resource}");
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
