//! Services and cluster DNS on a cluster on Docker, run with
//! `cargo bench --workspace --bench services` (Docker must answer): how long a new Service
//! takes to answer on its NodePort from the host, how long an endpoint change takes to reach
//! the rules (a Service's last endpoint removed until its port refuses, and put back until it
//! answers), cluster DNS queries per second and their latency from the host and from a pod (one
//! client at a time and 16 at once), and the rules and sync time for 1,000 Services × 10
//! endpoints.

#[path = "../tests/common/images.rs"]
mod images;
#[path = "support/docker.rs"]
mod support;

use support::{docker, mkc};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

const CLUSTER: &str = "bench-svc";
const SERVICES: usize = 1000;
const ENDPOINTS: usize = 10;
const QUERIES: usize = 5000;

/// Whether nginx answers an HTTP GET at `address` now.
fn answers(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut page = String::new();
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
        && stream.read_to_string(&mut page).is_ok()
        && page.contains("Welcome to nginx")
}

/// Polls `check` every 5 ms; how long until it held.
fn until(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} never happened"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

fn main() {
    // Inside a pod, this same binary asks cluster DNS (see `dns_from_a_pod`).
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--dns-client") {
        dns(
            args[at + 1].parse().unwrap(),
            "a pod, through the Service rules",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    images::node_image();
    images::nginx_image();
    mkc(&["up", "--name", CLUSTER, "--nodes", "2"], &kubeconfig);
    mkc(&["load", images::NGINX, "--name", CLUSTER], &kubeconfig);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(measure(&kubeconfig));
    mkc(&["down", "--name", CLUSTER], &kubeconfig);
}

async fn measure(kubeconfig: &Path) {
    let client = support::client(kubeconfig).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let worker = format!("mkc-{CLUSTER}-worker");
    let address = |name: &str| {
        let name = name.to_owned();
        let nodes = nodes.clone();
        async move {
            let node = nodes.get(&name).await.unwrap();
            let ip = node
                .status
                .unwrap()
                .addresses
                .unwrap()
                .into_iter()
                .find(|a| a.type_ == "InternalIP")
                .unwrap()
                .address;
            ip.parse::<std::net::IpAddr>().unwrap()
        }
    };
    let worker_ip = address(&worker).await;
    let control_plane_ip = address(&format!("mkc-{CLUSTER}-control-plane")).await;

    // The pods every Service below points at.
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), "default");
    let deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": images::NGINX}]}}},
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    wait_for_ready_pods(&client, 2).await;

    // A new Service until its NodePort answers on a worker's address.
    let mut creations = Vec::new();
    for (index, port) in (30100..30105).enumerate() {
        let service = serde_json::from_value(json!({
            "metadata": {"name": format!("fresh-{index}")},
            "spec": {"type": "NodePort", "selector": {"app": "web"},
                     "ports": [{"port": 80, "nodePort": port}]},
        }))
        .unwrap();
        let started = Instant::now();
        services
            .create(&PostParams::default(), &service)
            .await
            .unwrap();
        let target = SocketAddr::new(worker_ip, port);
        until("a new Service answering", || answers(target));
        creations.push(started.elapsed());
    }
    println!(
        "Service created until its NodePort answers from the host: {}",
        list(&creations)
    );

    // An endpoint removed until the port refuses, put back until it answers: a Service
    // without selector whose EndpointSlice the benchmark writes.
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client.clone(), "default")
        .list(&kube::api::ListParams::default().labels("app=web"))
        .await
        .unwrap();
    let pod_ip = pods.items[0]
        .status
        .as_ref()
        .unwrap()
        .pod_ip
        .clone()
        .unwrap();
    let manual = serde_json::from_value(json!({
        "metadata": {"name": "manual"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30200}]},
    }))
    .unwrap();
    services
        .create(&PostParams::default(), &manual)
        .await
        .unwrap();
    let slice = |endpoints: Vec<String>| {
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "manual", "labels": {"kubernetes.io/service-name": "manual"}},
            "addressType": "IPv4",
            "endpoints": endpoints.into_iter().map(|ip| json!({"addresses": [ip], "conditions": {"ready": true}})).collect::<Vec<_>>(),
            "ports": [{"port": 80, "protocol": "TCP"}],
        })
    };
    let apply = PatchParams::apply("bench").force();
    let target = SocketAddr::new(worker_ip, 30200);
    let (mut removed, mut restored) = (Vec::new(), Vec::new());
    slices
        .patch("manual", &apply, &Patch::Apply(slice(vec![pod_ip.clone()])))
        .await
        .unwrap();
    until("the manual Service answering", || answers(target));
    for _ in 0..5 {
        let started = Instant::now();
        slices
            .patch("manual", &apply, &Patch::Apply(slice(Vec::new())))
            .await
            .unwrap();
        until("the port refusing", || {
            TcpStream::connect_timeout(&target, Duration::from_millis(500)).is_err()
        });
        removed.push(started.elapsed());
        let started = Instant::now();
        slices
            .patch("manual", &apply, &Patch::Apply(slice(vec![pod_ip.clone()])))
            .await
            .unwrap();
        until("the port answering", || answers(target));
        restored.push(started.elapsed());
    }
    println!(
        "last endpoint removed until the port refuses: {}",
        list(&removed)
    );
    println!(
        "endpoint put back until the port answers: {}",
        list(&restored)
    );

    dns(SocketAddr::new(control_plane_ip, 53), "the host");
    dns_from_a_pod(kubeconfig, &worker).await;

    // 1,000 Services of 10 endpoints each: how long until a node's rules hold them all,
    // how many rules that is, and how long one endpoint change then takes to show.
    let started = Instant::now();
    let created = futures::stream::iter(0..SERVICES)
        .map(|index| {
            let (services, slices, apply) = (services.clone(), slices.clone(), apply.clone());
            async move {
                let name = format!("bulk-{index}");
                let service = serde_json::from_value(json!({
                    "metadata": {"name": name}, "spec": {"ports": [{"port": 80}]},
                }))
                .unwrap();
                services.create(&PostParams::default(), &service).await.unwrap();
                let endpoints: Vec<_> = (0..ENDPOINTS)
                    .map(|e| json!({"addresses": [format!("10.250.{e}.{}", index % 250 + 1)], "conditions": {"ready": true}}))
                    .collect();
                let slice = json!({
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": name, "labels": {"kubernetes.io/service-name": name}},
                    "addressType": "IPv4", "endpoints": endpoints,
                    "ports": [{"port": 80, "protocol": "TCP"}],
                });
                slices.patch(&name, &apply, &Patch::Apply(slice)).await.unwrap();
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>();
    created.await;
    let written = started.elapsed();
    let endpoint_chains = || {
        docker(&[
            "exec",
            &worker,
            "sh",
            "-c",
            "iptables-save -t nat | grep -c '^-A MKC-SEP-.*DNAT'",
        ])
        .trim()
        .parse::<usize>()
        .unwrap_or(0)
    };
    let all = SERVICES * ENDPOINTS;
    until("the bulk rules", || endpoint_chains() >= all);
    let in_rules = started.elapsed();
    let rules = docker(&[
        "exec",
        &worker,
        "sh",
        "-c",
        "iptables-save | grep -c '^-A MKC-'",
    ]);
    println!(
        "{SERVICES} Services × {ENDPOINTS} endpoints: written through the API in {:.1} s, in a node's rules {:.1} s after the first write; {} rules",
        written.as_secs_f64(),
        in_rules.as_secs_f64(),
        rules.trim()
    );
    let mut changes = Vec::new();
    for round in 0..3 {
        let started = Instant::now();
        let moved = format!("10.244.99.{}", round + 1);
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "bulk-0", "labels": {"kubernetes.io/service-name": "bulk-0"}},
            "addressType": "IPv4", "endpoints": [{"addresses": [moved.clone()], "conditions": {"ready": true}}],
            "ports": [{"port": 80, "protocol": "TCP"}],
        });
        slices
            .patch("bulk-0", &apply, &Patch::Apply(slice))
            .await
            .unwrap();
        until("the change in the rules", || {
            docker(&["exec", &worker, "iptables-save", "-t", "nat"])
                .contains(&format!("{moved}:80"))
        });
        changes.push(started.elapsed());
    }
    println!(
        "one endpoint changed among {SERVICES} Services until a node's rules show it: {}",
        list(&changes)
    );
}

async fn wait_for_ready_pods(client: &Client, count: usize) {
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client.clone(), "default");
    loop {
        let list = pods
            .list(&kube::api::ListParams::default().labels("app=web"))
            .await
            .unwrap();
        let ready = list
            .items
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        if ready == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs this benchmark's DNS client in a pod on `node`, against the `kube-dns` Service: the
/// binary (stripped when `strip` is there) goes into the node, and the pod mounts it.
async fn dns_from_a_pod(kubeconfig: &Path, node: &str) {
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("dnsbench");
    let me = std::env::current_exe().unwrap();
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&tool)
        .arg(&me)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(&me, &tool).unwrap();
    }
    docker(&["exec", node, "mkdir", "-p", "/var/lib/mkc-bench"]);
    docker(&[
        "cp",
        tool.to_str().unwrap(),
        &format!("{node}:/var/lib/mkc-bench/dnsbench"),
    ]);
    let pod = format!(
        r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "dns-client"}},
            "spec": {{"nodeName": "{node}", "terminationGracePeriodSeconds": 1,
                      "containers": [{{"name": "shell", "image": "{}", "command": ["sleep", "infinity"],
                                       "volumeMounts": [{{"name": "bench", "mountPath": "/bench"}}]}}],
                      "volumes": [{{"name": "bench", "hostPath": {{"path": "/var/lib/mkc-bench"}}}}]}}}}"#,
        images::NGINX
    );
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .output()
            .expect("run kubectl")
    };
    let created = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["create", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(pod.as_bytes())?;
            child.wait()
        })
        .expect("run kubectl");
    assert!(created.success());
    assert!(
        kubectl(&[
            "wait",
            "--for=condition=Ready",
            "pod/dns-client",
            "--timeout=60s"
        ])
        .status
        .success()
    );
    let run = kubectl(&[
        "exec",
        "dns-client",
        "--",
        "/bench/dnsbench",
        "--dns-client",
        "10.96.0.10:53",
    ]);
    print!("{}", String::from_utf8_lossy(&run.stdout));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Queries per second and latency of cluster DNS at `server`, asked from `place` for a
/// Service's name.
fn dns(server: SocketAddr, place: &str) {
    let question = |id: u16| {
        let mut query = Message::query();
        query.metadata.id = id;
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(
            Name::from_ascii("web.default.svc.cluster.local.").unwrap(),
            RecordType::A,
        ));
        query.to_vec().unwrap()
    };
    let ask = |socket: &UdpSocket, id: u16| -> Duration {
        let started = Instant::now();
        socket.send(&question(id)).unwrap();
        let mut buffer = [0u8; 512];
        let len = socket.recv(&mut buffer).unwrap();
        assert!(Message::from_vec(&buffer[..len]).is_ok());
        started.elapsed()
    };
    for clients in [1usize, 16] {
        let per_client = QUERIES / clients;
        let started = Instant::now();
        let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..clients)
                .map(|_| {
                    scope.spawn(move || {
                        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
                        socket.connect(server).unwrap();
                        socket
                            .set_read_timeout(Some(Duration::from_secs(2)))
                            .unwrap();
                        (0..per_client)
                            .map(|i| ask(&socket, i as u16))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let elapsed = started.elapsed();
        latencies.sort();
        let at =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "cluster DNS from {place}, {clients} client(s): {:.0} queries/s, p50 {:.2} ms, p99 {:.2} ms",
            latencies.len() as f64 / elapsed.as_secs_f64(),
            at(0.5).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0
        );
    }
}

fn list(durations: &[Duration]) -> String {
    durations
        .iter()
        .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
        .collect::<Vec<_>>()
        .join(", ")
}
