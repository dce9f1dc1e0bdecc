//! Node registration and heartbeats against a real `mkc server`: the Node object and its
//! status, the control-plane role, the Lease and its renewal, registering again, and the binary.

mod common;

use std::process::{Command, Stdio};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::Api;
use mkc_node_agent::{Capacity, Config, LEASE_NAMESPACE, NodeConfig, Nodes, RuntimeKind};
use serde_json::json;

use common::{RunningAgent, TestServer, quick_settings, wait_for};

fn one_node(name: &str, control_plane: bool, capacity: Capacity) -> Config {
    Config {
        nodes: Nodes::One(NodeConfig {
            name: name.into(),
            address: "10.1.2.3".parse().unwrap(),
            control_plane,
            capacity,
        }),
        runtime: RuntimeKind::Simulated,
        settings: quick_settings(),
    }
}

fn ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn registered(client: &kube::Client, name: &str) -> serde_json::Value {
    let nodes = wait_for(Api::<Node>::all(client.clone()), "a Ready node", |nodes| {
        nodes
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some(name) && ready(n))
    })
    .await;
    let node = nodes
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some(name))
        .unwrap();
    serde_json::to_value(node.as_ref()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_registers_with_its_labels_capacity_status_and_lease() {
    let server = TestServer::start();
    let client = server.client().await;
    let capacity = Capacity {
        cpu: Quantity("2".into()),
        memory: Quantity("4Gi".into()),
        pods: 50,
    };
    let agent = RunningAgent::start(one_node("worker-1", false, capacity), client.clone());
    let node = registered(&client, "worker-1").await;

    let labels = &node["metadata"]["labels"];
    assert_eq!(labels["kubernetes.io/hostname"], "worker-1");
    assert_eq!(labels["kubernetes.io/os"], "linux");
    assert_eq!(labels["beta.kubernetes.io/os"], "linux");
    assert!(labels["kubernetes.io/arch"].is_string());
    assert_eq!(
        labels["kubernetes.io/arch"],
        labels["beta.kubernetes.io/arch"]
    );
    assert!(
        labels
            .get("node-role.kubernetes.io/control-plane")
            .is_none()
    );
    assert!(node["spec"].get("taints").is_none());

    let status = &node["status"];
    let resources = json!({"cpu": "2", "memory": "4Gi", "pods": "50"});
    assert_eq!(status["capacity"], resources);
    assert_eq!(status["allocatable"], resources);
    let conditions: Vec<_> = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
                c["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        conditions,
        [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID"),
            ("Ready", "True", "KubeletReady"),
        ]
    );
    assert_eq!(
        status["addresses"],
        json!([{"type": "InternalIP", "address": "10.1.2.3"}, {"type": "Hostname", "address": "worker-1"}])
    );
    assert_eq!(status["nodeInfo"]["kubeletVersion"], "v1.33.0-mkc");
    assert_eq!(
        status["nodeInfo"]["containerRuntimeVersion"],
        "simulated://1.0"
    );
    assert_eq!(status["nodeInfo"]["operatingSystem"], "linux");
    assert!(
        !status["nodeInfo"]["kernelVersion"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert_eq!(status["daemonEndpoints"]["kubeletEndpoint"]["Port"], 10250);

    let leases = wait_for(
        Api::<Lease>::namespaced(client.clone(), LEASE_NAMESPACE),
        "the node's lease",
        |leases| leases.len() == 1,
    )
    .await;
    let lease = serde_json::to_value(leases[0].as_ref()).unwrap();
    assert_eq!(lease["metadata"]["name"], "worker-1");
    assert_eq!(lease["spec"]["holderIdentity"], "worker-1");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(
        lease["metadata"]["ownerReferences"],
        json!([{"apiVersion": "v1", "kind": "Node", "name": "worker-1", "uid": node["metadata"]["uid"]}])
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_node_carries_its_role_and_taint() {
    let server = TestServer::start();
    let client = server.client().await;
    let agent = RunningAgent::start(
        one_node("control", true, Capacity::default()),
        client.clone(),
    );
    let node = registered(&client, "control").await;
    assert_eq!(
        node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"],
        ""
    );
    assert_eq!(
        node["spec"]["taints"],
        json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    );
    assert_eq!(
        node["status"]["capacity"],
        json!({"cpu": "4", "memory": "8Gi", "pods": "110"})
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_renewed_at_every_beat() {
    let server = TestServer::start();
    let client = server.client().await;
    let agent = RunningAgent::start(
        one_node("worker-1", false, Capacity::default()),
        client.clone(),
    );
    let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let renew_time = |lease: &Lease| lease.spec.as_ref().and_then(|s| s.renew_time.clone());
    let first = wait_for(leases.clone(), "a lease", |l| l.len() == 1).await;
    let first_renewal = renew_time(&first[0]).expect("renewTime");
    let later = wait_for(leases, "three more renewals", |l| {
        l.first()
            .and_then(|lease| renew_time(lease))
            .is_some_and(|t| {
                t.0.duration_since(first_renewal.0) >= jiff::SignedDuration::from_millis(600)
            })
    })
    .await;
    assert_eq!(later.len(), 1);
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_again_updates_the_node_and_duplicates_nothing() {
    let server = TestServer::start();
    let client = server.client().await;
    let agent = RunningAgent::start(
        one_node("worker-1", false, Capacity::default()),
        client.clone(),
    );
    let before = registered(&client, "worker-1").await;
    agent.stop().await;

    let bigger = Capacity {
        cpu: Quantity("16".into()),
        ..Capacity::default()
    };
    let agent = RunningAgent::start(one_node("worker-1", false, bigger), client.clone());
    let nodes = wait_for(
        Api::<Node>::all(client.clone()),
        "the new capacity",
        |nodes| {
            nodes.iter().any(|n| {
                n.status
                    .as_ref()
                    .and_then(|s| s.capacity.as_ref())
                    .and_then(|c| c.get("cpu"))
                    == Some(&Quantity("16".into()))
            })
        },
    )
    .await;
    assert_eq!(nodes.len(), 1);
    let after = serde_json::to_value(nodes[0].as_ref()).unwrap();
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    let transition =
        |node: &serde_json::Value| node["status"]["conditions"][3]["lastTransitionTime"].clone();
    assert_eq!(
        transition(&after),
        transition(&before),
        "Ready did not change, so neither does its time"
    );
    let leases = Api::<Lease>::namespaced(client.clone(), LEASE_NAMESPACE);
    assert_eq!(
        wait_for(leases, "the lease", |l| !l.is_empty()).await.len(),
        1
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_registers_its_node_and_stops_on_sigterm() {
    let server = TestServer::start();
    let client = server.client().await;
    let mut agent = Command::new(env!("CARGO_BIN_EXE_mkc-node-agent"))
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .args([
            "--runtime",
            "simulated",
            "--node-name",
            "bin-1",
            "--cpu",
            "3",
            "--memory",
            "2Gi",
            "--pods",
            "20",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("start mkc-node-agent");
    let node = registered(&client, "bin-1").await;
    assert_eq!(
        node["status"]["capacity"],
        json!({"cpu": "3", "memory": "2Gi", "pods": "20"})
    );
    let pid = agent.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let status = tokio::task::spawn_blocking(move || agent.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "the agent exited with {status}");
}

#[test]
fn the_binary_says_what_is_wrong_in_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_mkc-node-agent"))
        .args([
            "--kubeconfig",
            "/nonexistent/kubeconfig",
            "--node-name",
            "n",
        ])
        .output()
        .expect("run mkc-node-agent");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: reading the kubeconfig /nonexistent/kubeconfig"),
        "{stderr}"
    );
    assert!(stderr.contains("admin.kubeconfig"), "{stderr}");

    let output = Command::new(env!("CARGO_BIN_EXE_mkc-node-agent"))
        .args(["--kubeconfig", "k", "--node-name", "n", "--memory", "8GB"])
        .output()
        .expect("run mkc-node-agent");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"8GB\" is not a quantity"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_stopped_while_starting_ends_promptly() {
    let server = TestServer::start();
    let client = server.client().await;
    for _ in 0..5 {
        let agent = RunningAgent::start(
            one_node("worker-1", false, Capacity::default()),
            client.clone(),
        );
        agent.stop().await;
    }
}
