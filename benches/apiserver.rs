//! API server benchmarks, run with `cargo bench --bench apiserver`: durable creates per second
//! of 1 KiB pods at 1, 8 and 64 concurrent clients, the latency of one change reaching 100
//! watchers, what authorization costs a request (a user decided by RBAC against a member of
//! `system:masters`), how soon a new CRD's resource takes objects and how fast it takes them
//! against a built-in kind, and the server's resident memory idle and with 10,000 pods stored.
//!
//! Each figure comes from a real `mkc server` process driven over HTTPS by the `kube` client,
//! the way any client reaches it. The server runs without controllers so only the API is
//! measured.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::Client;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use support::Server;

/// A pod whose JSON is about 1 KiB.
fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "load"}, "annotations": {"padding": "x".repeat(480)}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                  "env": [{"name": "MODE", "value": "bench"}]}]},
    }))
    .expect("pod")
}

async fn namespace(client: &Client, name: &str) {
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
}

/// Creates `total` pods with `clients` concurrent clients and returns creates per second.
async fn create_pods(server: &Server, ns: &str, clients: usize, total: usize) -> f64 {
    let mut apis = Vec::new();
    for _ in 0..clients {
        apis.push(Api::<Pod>::namespaced(server.client().await, ns));
    }
    create_rate(apis, total, |i| pod(&format!("p{i:06}"))).await
}

/// Median and worst time for one change to reach every one of `count` watchers.
async fn watch_latency(server: &Server, count: usize, rounds: usize) -> (Duration, Duration) {
    let client = server.client().await;
    namespace(&client, "watched").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "watched");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "signal"}, "data": {"round": "0"}}))
            .unwrap();
    api.create(&PostParams::default(), &cm)
        .await
        .expect("configmap");
    let (seen, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    for _ in 0..count {
        let api = api.clone();
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()));
            while let Some(Ok(event)) = stream.next().await {
                if let watcher::Event::Apply(cm) = event {
                    let round = cm
                        .data
                        .and_then(|d| d.get("round")?.parse().ok())
                        .unwrap_or(0);
                    let _ = seen.send((round, Instant::now()));
                }
            }
        });
    }
    // Let every watcher list and start watching.
    tokio::time::sleep(Duration::from_secs(3)).await;
    while arrivals.try_recv().is_ok() {}
    let mut latencies = Vec::new();
    for round in 1..=rounds {
        let sent = Instant::now();
        let patch = Patch::Merge(json!({"data": {"round": round.to_string()}}));
        api.patch("signal", &PatchParams::default(), &patch)
            .await
            .expect("patch");
        let mut reached = 0;
        let mut last = sent;
        while reached < count {
            let (r, at) = arrivals.recv().await.expect("arrival");
            if r == round {
                reached += 1;
                last = at;
            }
        }
        latencies.push(last - sent);
    }
    latencies.sort();
    (
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
    )
}

/// The latencies of `rounds` sequential reads of one ConfigMap: median and 99th percentile.
async fn read_latency(client: &Client, rounds: usize) -> (Duration, Duration) {
    let api = Api::<ConfigMap>::namespaced(client.clone(), "bench");
    let mut latencies = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        api.get("settings").await.expect("get");
        latencies.push(started.elapsed());
    }
    latencies.sort();
    (latencies[rounds / 2], latencies[rounds * 99 / 100])
}

/// A read by an RBAC-decided user (bound to a role that allows it, behind every bootstrap
/// binding) against the same read by the admin, whom `system:masters` lets through at once.
async fn authorization_cost(server: &Server) {
    let admin = server.client().await;
    namespace(&admin, "bench").await;
    let settings: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "settings"}, "data": {"a": "1"}}))
            .expect("config map");
    Api::<ConfigMap>::namespaced(admin.clone(), "bench")
        .create(&PostParams::default(), &settings)
        .await
        .expect("config map");
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "reader", "namespace": "bench"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "reader", "namespace": "bench"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bench-user"}]});
    for (plural, object) in [("roles", role), ("rolebindings", binding)] {
        let resource = kube::api::ApiResource {
            group: "rbac.authorization.k8s.io".into(),
            version: "v1".into(),
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: object["kind"].as_str().unwrap_or_default().into(),
            plural: plural.into(),
        };
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(admin.clone(), "bench", &resource);
        let object = serde_json::from_value(object).expect("object");
        api.create(&PostParams::default(), &object)
            .await
            .expect("rbac object");
    }
    let user = server.client_as("bench-user", "bench").await;
    // Warm both connections before measuring.
    read_latency(&admin, 50).await;
    read_latency(&user, 50).await;
    let rounds = 2000;
    let (admin_median, admin_p99) = read_latency(&admin, rounds).await;
    let (user_median, user_p99) = read_latency(&user, rounds).await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| a ConfigMap read, {rounds} in a row: by `system:masters` / by a user RBAC allows | p50 {:.3} / {:.3} ms, p99 {:.3} / {:.3} ms |",
        ms(admin_median),
        ms(user_median),
        ms(admin_p99),
        ms(user_p99)
    );
}

/// A CRD of `group` whose schema validates, defaults and runs a CEL rule, as most do.
fn crd(group: &str) -> kube::api::DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"],
                        "x-kubernetes-validations": [{"rule": "self.size <= self.limit", "message": "too big"}],
                        "properties": {
                            "size": {"type": "integer", "minimum": 1},
                            "limit": {"type": "integer", "default": 100},
                            "note": {"type": "string", "maxLength": 1024},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]},
    }))
    .expect("crd")
}

fn widget(group: &str, name: &str) -> kube::api::DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"size": 3, "note": "x".repeat(700), "labels": {"tier": "load"}},
    }))
    .expect("widget")
}

fn widgets_resource(group: &str) -> kube::api::ApiResource {
    kube::api::ApiResource {
        group: group.into(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Widget".into(),
        plural: "widgets".into(),
    }
}

/// From a CRD's create to its first object accepted, over `rounds` new CRDs: median and worst.
async fn crd_to_first_object(server: &Server, rounds: usize) -> (Duration, Duration) {
    let client = server.client().await;
    let crds = Api::<kube::api::DynamicObject>::all_with(
        client.clone(),
        &kube::api::ApiResource {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            api_version: "apiextensions.k8s.io/v1".into(),
            kind: "CustomResourceDefinition".into(),
            plural: "customresourcedefinitions".into(),
        },
    );
    let mut latencies = Vec::new();
    for round in 0..rounds {
        let group = format!("round{round}.bench.example.com");
        let widgets = Api::<kube::api::DynamicObject>::namespaced_with(
            client.clone(),
            "bench",
            &widgets_resource(&group),
        );
        let started = Instant::now();
        crds.create(&PostParams::default(), &crd(&group))
            .await
            .expect("crd");
        while widgets
            .create(&PostParams::default(), &widget(&group, "first"))
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    (latencies[rounds / 2], latencies[rounds - 1])
}

/// Creates per second of `total` objects shared out among `apis`' clients, each object made
/// by `make`.
async fn create_rate<K>(
    apis: Vec<Api<K>>,
    total: usize,
    make: impl Fn(usize) -> K + Send + Sync + 'static,
) -> f64
where
    K: kube::Resource
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = apis
        .into_iter()
        .map(|api| {
            let (next, make) = (next.clone(), make.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total {
                        return;
                    }
                    api.create(&PostParams::default(), &make(i))
                        .await
                        .expect("create");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// A CRD's time to serve, then creates/s of its ~1 KiB objects against ~1 KiB ConfigMaps.
async fn custom_resources(server: &Server) {
    namespace(&server.client().await, "bench").await;
    let (median, worst) = crd_to_first_object(server, 10).await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| a new CRD's first object accepted, from the CRD's create (10 CRDs) | median {:.1} ms, worst {:.1} ms |",
        ms(median),
        ms(worst)
    );
    let group = "round0.bench.example.com";
    let total = 4000;
    let mut widgets = Vec::new();
    let mut maps = Vec::new();
    for _ in 0..8 {
        let client = server.client().await;
        widgets.push(Api::<kube::api::DynamicObject>::namespaced_with(
            client.clone(),
            "bench",
            &widgets_resource(group),
        ));
        maps.push(Api::<ConfigMap>::namespaced(client, "bench"));
    }
    let custom = create_rate(widgets, total, move |i| widget(group, &format!("w{i:06}"))).await;
    let built_in = create_rate(maps, total, |i| {
        serde_json::from_value(
            json!({"metadata": {"name": format!("c{i:06}"), "labels": {"app": "bench"}},
            "data": {"note": "x".repeat(700), "tier": "load"}}),
        )
        .expect("config map")
    })
    .await;
    println!(
        "| durable creates of ~1 KiB objects, 8 clients: a custom resource (schema, defaults, a CEL rule) / a ConfigMap | {custom:.0} / {built_in:.0} /s |"
    );
}

fn main() {
    support::block_on(async {
        println!("| benchmark | result |\n|---|---|");
        for clients in [1, 8, 64] {
            let server = Server::start(&["--controllers", ""]);
            namespace(&server.client().await, "bench").await;
            let total = if clients == 1 { 1000 } else { 4000 };
            let rate = create_pods(&server, "bench", clients, total).await;
            println!(
                "| durable creates of 1 KiB pods, {clients} concurrent client(s) | {rate:.0} /s |"
            );
        }

        let server = Server::start(&["--controllers", ""]);
        let (median, worst) = watch_latency(&server, 100, 20).await;
        println!(
            "| one change reaching 100 watchers (20 rounds) | median {:.1} ms, worst {:.1} ms |",
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3
        );
        drop(server);

        let server = Server::start(&["--controllers", ""]);
        authorization_cost(&server).await;
        drop(server);

        let server = Server::start(&["--controllers", ""]);
        custom_resources(&server).await;
        drop(server);

        let server = Server::start(&["--controllers", ""]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!("| resident memory, idle | {:.1} MiB |", server.rss_mib());
        namespace(&server.client().await, "bench").await;
        create_pods(&server, "bench", 64, 10_000).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "| resident memory, 10,000 pods stored | {:.1} MiB |",
            server.rss_mib()
        );
    });
}
