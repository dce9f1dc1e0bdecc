//! How a simulated fleet scales, measured against a real `mkc server`: the agent binary runs
//! `--simulate NODES` in its own process; this test gives the nodes pod CIDRs, creates PODS
//! pods spread over them, deletes them, and reports the times, the agent's CPU time and its
//! memory. Ignored by default; run with
//! `MKC_SCALE_NODES=1000 MKC_SCALE_PODS=2000 cargo test --release -p mkc-node-agent --test scale -- --ignored --nocapture`.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams};

use common::{TestServer, create_pod, is_running, set_pod_cidr, wait_for};

const CONCURRENCY: usize = 32;

fn count(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A process's CPU time so far and its resident memory in MiB.
fn usage(pid: u32) -> (Duration, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime, the 14th and 15th fields, in clock ticks of 1/100 s.
    let cpu = Duration::from_millis((ticks(11) + ticks(12)) * 10);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, rss_kib / 1024.0)
}

fn report(what: &str, started: Instant, agent: &Child) {
    let (cpu, rss) = usage(agent.id());
    println!(
        "{what}: {:.1} s (agent CPU so far {:.1} s, RSS {rss:.1} MiB)",
        started.elapsed().as_secs_f64(),
        cpu.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, minutes long at full size"]
async fn a_simulated_fleet_registers_and_runs_pods() {
    let nodes = count("MKC_SCALE_NODES", 1000);
    let pods = count("MKC_SCALE_PODS", 2000);
    let server = TestServer::start();
    let client = server.client().await;
    let started = Instant::now();
    let mut agent = Command::new(env!("CARGO_BIN_EXE_mkc-node-agent"))
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .args(["--simulate", &nodes.to_string(), "--name-prefix", "sim"])
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mkc-node-agent");

    wait_for(
        Api::<Node>::all(client.clone()),
        "every node registered",
        |listed| {
            listed.len() == nodes as usize
                && listed
                    .iter()
                    .all(|n| n.status.as_ref().is_some_and(|s| s.conditions.is_some()))
        },
    )
    .await;
    report(&format!("{nodes} nodes registered"), started, &agent);

    let started = Instant::now();
    stream::iter(1..=nodes)
        .map(|i| {
            let client = client.clone();
            async move {
                let cidr = format!("10.{}.{}.0/24", 64 + i / 256, i % 256);
                set_pod_cidr(&client, &format!("sim-{i}"), &cidr).await;
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<()>()
        .await;
    report("pod CIDRs assigned", started, &agent);

    let started = Instant::now();
    let watch = tokio::spawn(wait_for(
        Api::<Pod>::namespaced(client.clone(), "default"),
        "every pod Running",
        move |listed| listed.len() == pods as usize && listed.iter().all(|p| is_running(p)),
    ));
    stream::iter(0..pods)
        .map(|i| {
            let client = client.clone();
            async move {
                create_pod(
                    &client,
                    &format!("pod-{i}"),
                    &format!("sim-{}", i % nodes + 1),
                    serde_json::json!({}),
                )
                .await;
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<()>()
        .await;
    report(&format!("{pods} pods created"), started, &agent);
    watch.await.expect("watch");
    report(&format!("{pods} pods Running"), started, &agent);

    let ((agent_from, _), (server_from, _)) = (usage(agent.id()), usage(server.pid()));
    tokio::time::sleep(Duration::from_secs(20)).await;
    let ((agent_to, rss), (server_to, _)) = (usage(agent.id()), usage(server.pid()));
    let share = |from: Duration, to: Duration| to.saturating_sub(from).as_secs_f64() / 20.0 * 100.0;
    println!(
        "steady state over 20 s (lease renewals): agent CPU {:.1} % of one core, server CPU {:.1} %, agent RSS {rss:.1} MiB",
        share(agent_from, agent_to),
        share(server_from, server_to),
    );

    let started = Instant::now();
    let api = Api::<Pod>::namespaced(client.clone(), "default");
    api.delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .expect("delete pods");
    wait_for(api, "every pod gone", <[_]>::is_empty).await;
    report(
        &format!("{pods} pods deleted gracefully and confirmed"),
        started,
        &agent,
    );

    let pid = agent.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let status = agent.wait().expect("wait");
    assert!(status.success(), "the agent exited with {status}");
}
