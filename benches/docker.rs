//! Clusters on Docker, run with `cargo bench --workspace --bench docker` (Docker must answer):
//! how long `mkc up --nodes 3` takes until every node is Ready (with the node image built;
//! with `MKC_BENCH_FIRST_BUILD=1` also the first build, base image included), how long 30 pods
//! take from create to Running and Ready with their image on the nodes (p50 and p99, against
//! the Kubernetes SLO of p99 ≤ 5 s), how long `mkc down` takes, and the resident memory of the
//! API server, each node agent and each node's dockerd.

#[path = "../tests/common/images.rs"]
mod images;
#[path = "support/docker.rs"]
mod support;

use support::{docker, mkc};

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::json;

const CLUSTER: &str = "bench";
const PODS: usize = 30;
const ROUNDS: usize = 3;

fn timed(what: impl FnOnce()) -> Duration {
    let started = Instant::now();
    what();
    started.elapsed()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    if std::env::var_os("MKC_BENCH_FIRST_BUILD").is_some() {
        for image in [
            mkc::cluster::default_image().as_str(),
            "mkc.local/node-base:bookworm",
        ] {
            docker(&["rmi", "-f", image]);
        }
        let first = timed(|| {
            mkc(&["build", "node-image"], &kubeconfig);
        });
        println!(
            "first node image build (base included): {:.1} s",
            first.as_secs_f64()
        );
    }
    images::node_image();
    images::nginx_image();

    let mut ups = Vec::new();
    let mut downs = Vec::new();
    for _ in 0..ROUNDS {
        ups.push(timed(|| {
            mkc(&["up", "--name", CLUSTER, "--nodes", "3"], &kubeconfig);
        }));
        downs.push(timed(|| {
            mkc(&["down", "--name", CLUSTER], &kubeconfig);
        }));
    }
    let seconds = |d: &Vec<Duration>| {
        d.iter()
            .map(|d| format!("{:.2} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "mkc up --nodes 3 until every node is Ready: {}",
        seconds(&ups)
    );
    println!("mkc down: {}", seconds(&downs));

    mkc(&["up", "--name", CLUSTER, "--nodes", "3"], &kubeconfig);
    mkc(&["load", images::NGINX, "--name", CLUSTER], &kubeconfig);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let latencies = runtime.block_on(pod_startup(&kubeconfig));
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64()
    };
    println!(
        "{PODS} pods from create to Running and Ready: p50 {:.2} s, p99 {:.2} s, slowest {:.2} s",
        percentile(0.5),
        percentile(0.99),
        latencies.last().unwrap().as_secs_f64()
    );
    memory();
    mkc(&["down", "--name", CLUSTER], &kubeconfig);
}

/// Creates the pods at once and watches each until it is Running and Ready; the latencies,
/// sorted.
async fn pod_startup(kubeconfig: &Path) -> Vec<Duration> {
    let client = support::client(kubeconfig).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut watch = std::pin::pin!(watcher(pods.clone(), watcher::Config::default()));
    let mut created = HashMap::new();
    for index in 0..PODS {
        let name = format!("startup-{index}");
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "web", "image": images::NGINX,
                                      "imagePullPolicy": "IfNotPresent"}]},
        }))
        .unwrap();
        created.insert(name, Instant::now());
        pods.create(&PostParams::default(), &pod).await.unwrap();
    }
    let mut latencies = HashMap::new();
    while latencies.len() < PODS {
        let Some(Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod))) =
            watch.next().await
        else {
            continue;
        };
        let ready = pod.status.as_ref().is_some_and(|status| {
            status.phase.as_deref() == Some("Running")
                && status
                    .conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        let name = pod.name_any();
        if let (true, Some(start)) = (ready, created.get(&name)) {
            latencies.entry(name).or_insert_with(|| start.elapsed());
        }
    }
    let mut sorted: Vec<Duration> = latencies.into_values().collect();
    sorted.sort();
    sorted
}

/// Resident memory of the processes in each node container.
fn memory() {
    let nodes = docker(&[
        "ps",
        "--filter",
        &format!("label=io.mkc.cluster={CLUSTER}"),
        "--format",
        "{{.Names}}",
    ]);
    for node in nodes.lines() {
        let rss = docker(&[
            "exec",
            node,
            "ps",
            "-o",
            "rss=,comm=",
            "-C",
            "mkc,mkc-node-agent,dockerd,containerd",
        ]);
        let described: Vec<String> = rss
            .lines()
            .filter_map(|line| {
                let (kib, name) = line.trim().split_once(' ')?;
                Some(format!(
                    "{} {:.1} MiB",
                    name.trim(),
                    kib.parse::<f64>().ok()? / 1024.0
                ))
            })
            .collect();
        println!("{node}: {}", described.join(", "));
    }
}
