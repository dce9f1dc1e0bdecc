//! Many simulated nodes in one process against a real `mkc server`: fifty nodes registering
//! and running pods spread over them, and agent restarts that resync without duplicating
//! anything, whether the runtimes survive the restart or start empty.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use mkc_node_agent::{
    Capacity, Config, ContainerRuntime, LEASE_NAMESPACE, NodeSetup, Nodes, RuntimeKind,
    SimulatedRuntime,
};
use serde_json::json;

use common::{
    RunningAgent, TestServer, create_pod, is_running, quick_settings, set_pod_cidr, wait_for,
};

fn ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Gives node `PREFIX-i` the pod CIDR 10.244.i.0/24.
async fn assign_cidrs(client: &kube::Client, prefix: &str, count: u32) {
    for i in 1..=count {
        set_pod_cidr(
            client,
            &format!("{prefix}-{i}"),
            &format!("10.244.{i}.0/24"),
        )
        .await;
    }
}

/// Creates `count` pods, spread round-robin over the nodes.
async fn spread_pods(client: &kube::Client, prefix: &str, nodes: u32, count: u32) {
    for i in 0..count {
        create_pod(
            client,
            &format!("pod-{i}"),
            &format!("{prefix}-{}", i % nodes + 1),
            json!({}),
        )
        .await;
    }
}

/// Each pod's node, IP and container ID, by pod name.
fn placements(pods: &[Arc<Pod>]) -> BTreeMap<String, (String, String, String)> {
    pods.iter()
        .map(|pod| {
            let status = pod.status.clone().unwrap_or_default();
            let container = status.container_statuses.unwrap_or_default().remove(0);
            (
                pod.metadata.name.clone().unwrap(),
                (
                    pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap(),
                    status.pod_ip.unwrap_or_default(),
                    container.container_id.unwrap_or_default(),
                ),
            )
        })
        .collect()
}

/// Checks every pod's address lies in its node's CIDR and no two pods share one.
fn check_addresses(placements: &BTreeMap<String, (String, String, String)>) {
    let mut seen = HashSet::new();
    for (name, (node, ip, _)) in placements {
        let index = node.rsplit('-').next().unwrap();
        assert!(
            ip.starts_with(&format!("10.244.{index}.")),
            "{name} on {node} has {ip}"
        );
        assert!(seen.insert(ip.clone()), "{ip} is used twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_nodes_register_and_run_pods_spread_over_them() {
    let server = TestServer::start();
    let client = server.client().await;
    let config = Config {
        nodes: Nodes::Fleet {
            count: 50,
            prefix: "sim".into(),
            capacity: Capacity::default(),
        },
        runtime: RuntimeKind::Simulated,
        settings: quick_settings(),
    };
    let agent = RunningAgent::start(config.clone(), client.clone());
    let nodes = wait_for(
        Api::<Node>::all(client.clone()),
        "50 Ready nodes",
        |nodes| nodes.len() == 50 && nodes.iter().all(|n| ready(n)),
    )
    .await;
    let addresses: HashSet<_> = nodes
        .iter()
        .map(|n| {
            n.status.as_ref().unwrap().addresses.as_ref().unwrap()[0]
                .address
                .clone()
        })
        .collect();
    assert_eq!(addresses.len(), 50, "every node has its own InternalIP");
    wait_for(
        Api::<Lease>::namespaced(client.clone(), LEASE_NAMESPACE),
        "50 leases",
        |l| l.len() == 50,
    )
    .await;

    assign_cidrs(&client, "sim", 50).await;
    spread_pods(&client, "sim", 50, 150).await;
    let pods_api = Api::<Pod>::namespaced(client.clone(), "default");
    let running = wait_for(pods_api.clone(), "150 pods Running", |pods| {
        pods.len() == 150 && pods.iter().all(|p| is_running(p))
    })
    .await;
    let before = placements(&running);
    check_addresses(&before);
    for pod in &running {
        let host = pod.status.as_ref().unwrap().host_ip.clone().unwrap();
        let node = nodes
            .iter()
            .find(|n| n.metadata.name == pod.spec.as_ref().unwrap().node_name)
            .unwrap();
        assert_eq!(
            host,
            node.status.as_ref().unwrap().addresses.as_ref().unwrap()[0].address
        );
    }

    // A new process starts with empty runtimes: every pod runs again, as after a reboot.
    agent.stop().await;
    let agent = RunningAgent::start(config, client.clone());
    let rerun = wait_for(pods_api, "150 pods running again", |pods| {
        let now = placements(pods);
        pods.len() == 150
            && pods.iter().all(|p| is_running(p))
            && now.iter().all(|(name, (_, _, id))| before[name].2 != *id)
    })
    .await;
    check_addresses(&placements(&rerun));
    assert_eq!(
        Api::<Node>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        50
    );
    let leases = Api::<Lease>::namespaced(client.clone(), LEASE_NAMESPACE);
    assert_eq!(
        leases
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        50
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_over_surviving_runtimes_changes_nothing() {
    let server = TestServer::start();
    let client = server.client().await;
    let setups: Vec<_> = mkc_node_agent::fleet(5, "keep", &Capacity::default())
        .into_iter()
        .map(|config| NodeSetup {
            config,
            runtime: Arc::new(SimulatedRuntime::new()),
        })
        .collect();
    let agent = RunningAgent::start_nodes(setups.clone(), quick_settings(), client.clone());
    wait_for(Api::<Node>::all(client.clone()), "5 nodes", |n| {
        n.len() == 5 && n.iter().all(|n| ready(n))
    })
    .await;
    assign_cidrs(&client, "keep", 5).await;
    spread_pods(&client, "keep", 5, 20).await;
    let pods_api = Api::<Pod>::namespaced(client.clone(), "default");
    let before = wait_for(pods_api.clone(), "20 pods Running", |pods| {
        pods.len() == 20 && pods.iter().all(|p| is_running(p))
    })
    .await;
    agent.stop().await;

    let agent = RunningAgent::start_nodes(setups.clone(), quick_settings(), client.clone());
    create_pod(&client, "after", "keep-1", json!({})).await;
    let after = wait_for(pods_api, "the new pod Running", |pods| {
        pods.iter()
            .any(|p| p.metadata.name.as_deref() == Some("after") && is_running(p))
    })
    .await;
    let versions = |pods: &[Arc<Pod>]| -> BTreeMap<_, _> {
        pods.iter()
            .filter(|p| p.metadata.name.as_deref() != Some("after"))
            .map(|p| {
                (
                    p.metadata.name.clone().unwrap(),
                    p.metadata.resource_version.clone().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        versions(&after),
        versions(&before),
        "resyncing rewrote no pod"
    );
    let mut held = 0;
    for setup in &setups {
        held += setup.runtime.list_pods().await.unwrap().len();
    }
    assert_eq!(held, 21, "one sandbox per pod");
    assert_eq!(
        Api::<Node>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        5
    );
    agent.stop().await;
}
