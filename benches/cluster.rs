//! Cluster benchmarks, run with `cargo bench --bench cluster`: simulated nodes (1,000 and
//! 5,000) and 10,000 pods, as one Deployment and as 100 Deployments of 100. For each: pods
//! bound per second, the time until every pod is Running, and the server's resident memory.
//!
//! A real `mkc server` process runs its controllers and scheduler, and a real `mkc-node-agent`
//! process runs the simulated nodes over HTTPS like any node: everything goes through the API,
//! end to end. Build the workspace first (`cargo build --release --workspace`) so the agent
//! binary exists.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, PartialObjectMeta, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;
use support::Server;

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
            },
        },
    }))
    .expect("deployment")
}

/// Waits until `count` nodes are Ready.
async fn nodes_ready(client: &Client, count: usize) -> Duration {
    let started = Instant::now();
    let api: Api<Node> = Api::all(client.clone());
    let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()));
    let mut ready = std::collections::HashSet::new();
    while let Some(Ok(event)) = stream.next().await {
        if let watcher::Event::Apply(node) | watcher::Event::InitApply(node) = event {
            let is_ready = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            let has_cidr = node
                .spec
                .as_ref()
                .and_then(|s| s.pod_cidr.as_ref())
                .is_some();
            if is_ready && has_cidr {
                ready.insert(node.name_any());
            }
            if ready.len() == count {
                break;
            }
        }
    }
    started.elapsed()
}

/// How long a scenario may take before the cluster is taken to be stuck.
const GIVE_UP: Duration = Duration::from_secs(300);

/// Follows the pods of the benchmark through two metadata-only watches, one of pods bound to a
/// node and one of pods Running, and returns when each has seen `total` pods, measured from
/// `start`. Metadata watches keep the observer's own cost small beside the cluster's.
async fn follow(client: Client, total: usize, start: Instant) -> (Duration, Duration) {
    let bound = seen(client.clone(), "spec.nodeName!=", total, start);
    let running = seen(client, "status.phase=Running", total, start);
    tokio::join!(bound, running)
}

/// When a metadata watch of the pods matching `fields` has seen `total` of them.
async fn seen(client: Client, fields: &'static str, total: usize, start: Instant) -> Duration {
    let pods: Api<PartialObjectMeta<Pod>> = Api::namespaced(client, "default");
    let watch = watcher(pods, watcher::Config::default().fields(fields));
    let mut watch = std::pin::pin!(watch);
    let mut names = std::collections::HashSet::new();
    while names.len() < total {
        let event = tokio::time::timeout_at((start + GIVE_UP).into(), watch.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "after {GIVE_UP:?}: {} of {total} pods {fields}",
                    names.len()
                )
            });
        if let Some(Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod))) = event {
            names.insert(pod.name_any());
        }
    }
    start.elapsed()
}

/// The node agent fleet, as its own process like real nodes.
struct Fleet(Child);

impl Fleet {
    fn start(server: &Server, count: u32) -> Fleet {
        let binary =
            std::path::Path::new(env!("CARGO_BIN_EXE_mkc")).with_file_name("mkc-node-agent");
        assert!(
            binary.exists(),
            "{} is missing: run `cargo build --release --workspace` first",
            binary.display()
        );
        let child = Command::new(binary)
            .arg("--kubeconfig")
            .arg(&server.kubeconfig)
            .args(["--simulate", &count.to_string(), "--name-prefix", "sim"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the node agent");
        Fleet(child)
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn scenario(nodes: u32, deployments: usize, replicas: i32) {
    let server = Server::start(&["--cluster-cidr", "10.128.0.0/9"]);
    let client = server.client().await;
    let fleet = Fleet::start(&server, nodes);
    let registered = nodes_ready(&client, nodes as usize).await;
    let total = deployments * replicas as usize;
    let start = Instant::now();
    let followed = tokio::spawn(follow(client.clone(), total, start));
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    for i in 0..deployments {
        api.create(
            &PostParams::default(),
            &deployment(&format!("d{i:03}"), replicas),
        )
        .await
        .expect("deployment");
    }
    let (bound, running) = followed.await.expect("pods followed");
    let rate = total as f64 / bound.as_secs_f64();
    println!(
        "| {nodes} | {deployments} × {replicas} | {:.1} s | {rate:.0} pods/s | {:.1} s | {:.0} MiB |",
        registered.as_secs_f64(),
        running.as_secs_f64(),
        server.rss_mib()
    );
    drop(fleet);
}

fn main() {
    support::block_on(async {
        println!(
            "| nodes | deployments × replicas | nodes Ready | pods bound | all pods Running | server memory |"
        );
        println!("|---|---|---|---|---|---|");
        // MKC_BENCH_NODES=1000 runs one size only.
        let sizes: Vec<u32> = match std::env::var("MKC_BENCH_NODES") {
            Ok(n) => n.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
            Err(_) => vec![1000, 5000],
        };
        for nodes in sizes {
            scenario(nodes, 1, 10_000).await;
            scenario(nodes, 100, 100).await;
        }
    });
}
