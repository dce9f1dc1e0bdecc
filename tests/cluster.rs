//! The classic story end to end: `mkc server` with its controllers and scheduler, simulated
//! nodes from the node agent, and the real kubectl driving and observing every step.

mod common;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use mkc_node_agent::{Capacity, Config, NodeConfig, Nodes, RuntimeKind, Settings};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use common::{Kubectl, TestServer, kubectls};

/// Simulated nodes running in this process against the test server.
struct Agent {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Agent {
    async fn start(server: &TestServer, nodes: Nodes) -> Agent {
        let client = common::client(server).await;
        let settings = Settings {
            lease_renew_interval: Duration::from_secs(1),
            ..Settings::default()
        };
        let config = Config {
            nodes,
            runtime: RuntimeKind::Simulated,
            settings,
        };
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            if let Err(err) = mkc_node_agent::run(config, client, token).await {
                panic!("node agent failed: {err}");
            }
        });
        Agent { stop, task }
    }

    /// Stops the agent as a node would stop: no more heartbeats, no more status.
    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

fn node(name: &str, control_plane: bool, cpu: &str) -> Nodes {
    Nodes::One(NodeConfig {
        name: name.into(),
        address: "127.0.0.1".parse().unwrap(),
        control_plane,
        capacity: Capacity {
            cpu: k8s_openapi::apimachinery::pkg::api::resource::Quantity(cpu.into()),
            ..Capacity::default()
        },
    })
}

fn workers(count: u32) -> Nodes {
    Nodes::Fleet {
        count,
        prefix: "worker".into(),
        capacity: Capacity::default(),
    }
}

fn kubectl() -> Kubectl {
    kubectls().pop().expect("a kubectl")
}

/// Runs kubectl on a blocking thread so the agents in this process keep running.
async fn run(k: &Kubectl, s: &TestServer, args: &[&str]) -> String {
    let (k, kubeconfig, args) = (
        k.clone(),
        s.kubeconfig.clone(),
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    );
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        k.ok_with(&kubeconfig, &refs)
    })
    .await
    .expect("kubectl thread")
}

/// The pods of `app` as (name, node, phase, ready) from `kubectl get -o jsonpath`.
async fn pods(k: &Kubectl, s: &TestServer, app: &str) -> Vec<(String, String, String, String)> {
    let template = "{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.status.conditions[?(@.type==\"Ready\")].status} {.metadata.deletionTimestamp}{\"\\n\"}{end}";
    let out = run(
        k,
        s,
        &[
            "get",
            "pods",
            "-l",
            &format!("app={app}"),
            "-o",
            &format!("jsonpath={template}"),
        ],
    )
    .await;
    out.lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|f| f.len() == 4)
        .map(|f| (f[0].clone(), f[1].clone(), f[2].clone(), f[3].clone()))
        .collect()
}

async fn cluster(server_args: &[&str], worker_count: u32) -> (TestServer, Vec<Agent>, Kubectl) {
    let server = TestServer::start_with(server_args);
    let control_plane = Agent::start(&server, node("control-plane", true, "4")).await;
    let workers = Agent::start(&server, workers(worker_count)).await;
    let k = kubectl();
    let nodes = (worker_count + 1).to_string();
    run(
        &k,
        &server,
        &[
            "wait",
            "--for=condition=Ready",
            "nodes",
            "--all",
            "--timeout=60s",
        ],
    )
    .await;
    let listed = run(&k, &server, &["get", "nodes", "-o", "name"]).await;
    assert_eq!(listed.lines().count().to_string(), nodes, "{listed}");
    (server, vec![control_plane, workers], k)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_classic_story_runs_one_pod_per_worker_and_none_on_the_control_plane() {
    let (s, agents, k) = cluster(&[], 3).await;
    let roles = run(
        &k,
        &s,
        &[
            "get",
            "nodes",
            "control-plane",
            "-o",
            "jsonpath={.spec.taints[0].key} {.spec.podCIDR}",
        ],
    )
    .await;
    assert!(
        roles.starts_with("node-role.kubernetes.io/control-plane 10.244."),
        "{roles}"
    );

    assert_eq!(
        run(
            &k,
            &s,
            &[
                "create",
                "deployment",
                "web",
                "--image=nginx",
                "--replicas=3"
            ]
        )
        .await
        .trim(),
        "deployment.apps/web created"
    );
    let status = run(
        &k,
        &s,
        &["rollout", "status", "deployment/web", "--timeout=60s"],
    )
    .await;
    assert!(status.contains("successfully rolled out"), "{status}");
    run(
        &k,
        &s,
        &[
            "wait",
            "--for=condition=Available",
            "deployment/web",
            "--timeout=60s",
        ],
    )
    .await;

    let pods = pods(&k, &s, "web").await;
    assert_eq!(pods.len(), 3, "{pods:?}");
    let mut nodes: Vec<&str> = pods.iter().map(|p| p.1.as_str()).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        ["worker-1", "worker-2", "worker-3"],
        "one pod per worker, none on the control plane"
    );
    assert!(
        pods.iter().all(|p| p.2 == "Running" && p.3 == "True"),
        "{pods:?}"
    );

    let table = run(&k, &s, &["get", "pods", "-o", "wide"]).await;
    assert_eq!(
        table
            .lines()
            .filter(|l| l.contains("1/1") && l.contains("Running") && l.contains("10.244."))
            .count(),
        3,
        "{table}"
    );
    let deployment = run(&k, &s, &["get", "deployment", "web"]).await;
    assert!(
        deployment
            .lines()
            .nth(1)
            .is_some_and(|l| l.split_whitespace().collect::<Vec<_>>()[1..4] == ["3/3", "3", "3"]),
        "{deployment}"
    );

    let events = run(
        &k,
        &s,
        &[
            "get",
            "events",
            "-o",
            "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}",
        ],
    )
    .await;
    for reason in ["ScalingReplicaSet", "SuccessfulCreate", "Scheduled"] {
        assert!(
            events.lines().any(|r| r == reason),
            "no {reason} event in:\n{events}"
        );
    }
    let pod = &pods[0].0;
    let described = run(&k, &s, &["describe", "pod", pod]).await;
    assert!(
        described.contains("Successfully assigned default/")
            && described
                .lines()
                .any(|l| l.starts_with("Status:") && l.split_whitespace().last() == Some("Running")),
        "{described}"
    );

    run(&k, &s, &["expose", "deployment", "web", "--port=80"]).await;
    let ready = run(
        &k,
        &s,
        &[
            "wait",
            "--for=jsonpath={.subsets[0].addresses[2].ip}",
            "endpoints/web",
            "--timeout=30s",
        ],
    )
    .await;
    assert!(ready.contains("condition met"), "{ready}");
    let ips = run(
        &k,
        &s,
        &[
            "get",
            "endpoints",
            "web",
            "-o",
            "jsonpath={.subsets[0].addresses[*].ip}",
        ],
    )
    .await;
    assert_eq!(
        ips.split_whitespace()
            .filter(|ip| ip.starts_with("10.244."))
            .count(),
        3,
        "{ips}"
    );
    for agent in agents {
        agent.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_image_rolls_within_surge_and_unavailability_and_undo_goes_back() {
    let (s, agents, k) = cluster(&[], 3).await;
    run(
        &k,
        &s,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.25",
            "--replicas=3",
        ],
    )
    .await;
    run(
        &k,
        &s,
        &["rollout", "status", "deployment/web", "--timeout=60s"],
    )
    .await;

    // Watch the pods while the new image rolls out: never more than replicas + maxSurge (1)
    // pods, never fewer than replicas - maxUnavailable (0) ready ones.
    let client = common::client(&s).await;
    let observer = tokio::spawn(observe_rollout(client, 3));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        run(
            &k,
            &s,
            &["set", "image", "deployment/web", "nginx=nginx:1.27"]
        )
        .await
        .trim(),
        "deployment.apps/web image updated"
    );
    run(
        &k,
        &s,
        &["rollout", "status", "deployment/web", "--timeout=60s"],
    )
    .await;
    let (most, fewest_ready) = observer.await.expect("observer");
    assert!(most <= 4, "{most} pods at once");
    assert!(fewest_ready >= 3, "only {fewest_ready} ready at one point");

    let images = run(
        &k,
        &s,
        &[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].spec.containers[0].image}",
        ],
    )
    .await;
    assert!(
        images.split_whitespace().all(|i| i == "nginx:1.27"),
        "{images}"
    );
    let history = run(&k, &s, &["rollout", "history", "deployment/web"]).await;
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["1", "2"], "{history}");

    run(&k, &s, &["rollout", "undo", "deployment/web"]).await;
    run(
        &k,
        &s,
        &["rollout", "status", "deployment/web", "--timeout=60s"],
    )
    .await;
    let image = run(
        &k,
        &s,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    )
    .await;
    assert_eq!(image, "nginx:1.25");
    let history = run(&k, &s, &["rollout", "history", "deployment/web"]).await;
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["2", "3"], "{history}");
    let replica_sets = run(
        &k,
        &s,
        &[
            "get",
            "rs",
            "-o",
            "jsonpath={range .items[*]}{.spec.replicas} {end}",
        ],
    )
    .await;
    let mut counts: Vec<&str> = replica_sets.split_whitespace().collect();
    counts.sort();
    assert_eq!(counts, ["0", "3"]);
    for agent in agents {
        agent.stop().await;
    }
}

/// Follows the pods of a rollout until it settles and returns the most pods seen at once
/// and the fewest ready, counted once all `replicas` were first ready.
async fn observe_rollout(client: Client, replicas: usize) -> (usize, usize) {
    let api: Api<Pod> = Api::namespaced(client, "default");
    let mut stream = std::pin::pin!(watcher(api, watcher::Config::default().labels("app=web")));
    let mut pods = std::collections::BTreeMap::new();
    let (mut most, mut fewest_ready) = (0, usize::MAX);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut changed = false;
    while let Ok(Some(Ok(event))) = tokio::time::timeout_at(deadline, stream.next()).await {
        match event {
            watcher::Event::InitApply(pod) => {
                pods.insert(pod.name_any(), pod);
                continue;
            }
            watcher::Event::Apply(pod) => {
                pods.insert(pod.name_any(), pod);
            }
            watcher::Event::Delete(pod) => {
                pods.remove(&pod.name_any());
            }
            // Counting starts once the initial listing is complete.
            watcher::Event::InitDone => {}
            watcher::Event::Init => continue,
        }
        let live: Vec<&Pod> = pods
            .values()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        let ready = live.iter().filter(|p| is_ready(p)).count();
        most = most.max(live.len());
        fewest_ready = fewest_ready.min(ready);
        let images: std::collections::BTreeSet<String> = live
            .iter()
            .filter_map(|p| p.spec.as_ref()?.containers.first()?.image.clone())
            .collect();
        changed |= images.len() > 1;
        if changed
            && images.len() == 1
            && ready == replicas
            && live.len() == replicas
            && pods.len() == replicas
        {
            break;
        }
    }
    assert!(changed, "the rollout was never observed");
    (most, fewest_ready)
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Waits until `app` has exactly `count` running, ready pods and no others.
async fn wait_for_pods(
    k: &Kubectl,
    s: &TestServer,
    app: &str,
    count: usize,
) -> Vec<(String, String, String, String)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let pods = pods(k, s, app).await;
        if pods.len() == count && pods.iter().all(|p| p.2 == "Running" && p.3 == "True") {
            return pods;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never {count} ready pods of {app}: {pods:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_deleting_with_each_cascade_and_deleting_a_namespace() {
    let (s, agents, k) = cluster(&[], 3).await;
    run(
        &k,
        &s,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=3",
        ],
    )
    .await;
    wait_for_pods(&k, &s, "web", 3).await;
    for replicas in [0, 10, 3] {
        run(
            &k,
            &s,
            &["scale", "deployment/web", &format!("--replicas={replicas}")],
        )
        .await;
        let pods = wait_for_pods(&k, &s, "web", replicas).await;
        if replicas == 10 {
            let per_node: Vec<usize> = ["worker-1", "worker-2", "worker-3"]
                .iter()
                .map(|n| pods.iter().filter(|p| p.1 == *n).count())
                .collect();
            assert!(
                per_node.iter().all(|c| (3..=4).contains(c)),
                "ten pods spread over three workers: {per_node:?}"
            );
        }
    }

    // Orphan: the Deployment goes, its ReplicaSet and pods stay, released.
    run(&k, &s, &["delete", "deployment", "web", "--cascade=orphan"]).await;
    let owners = run(
        &k,
        &s,
        &[
            "get",
            "rs",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].metadata.ownerReferences}",
        ],
    )
    .await;
    assert_eq!(owners, "", "the orphaned ReplicaSet has no owner");
    assert_eq!(wait_for_pods(&k, &s, "web", 3).await.len(), 3);
    // Background: the ReplicaSet goes and the garbage collector takes its pods.
    run(
        &k,
        &s,
        &["delete", "rs", "-l", "app=web", "--cascade=background"],
    )
    .await;
    wait_for_pods(&k, &s, "web", 0).await;

    // Foreground: the pods go first, then the Deployment.
    run(
        &k,
        &s,
        &[
            "create",
            "deployment",
            "api",
            "--image=nginx",
            "--replicas=2",
        ],
    )
    .await;
    wait_for_pods(&k, &s, "api", 2).await;
    run(
        &k,
        &s,
        &[
            "delete",
            "deployment",
            "api",
            "--cascade=foreground",
            "--timeout=60s",
        ],
    )
    .await;
    assert_eq!(pods(&k, &s, "api").await.len(), 0);

    run(&k, &s, &["create", "namespace", "team"]).await;
    run(
        &k,
        &s,
        &[
            "create",
            "deployment",
            "db",
            "--image=postgres",
            "--replicas=2",
            "-n",
            "team",
        ],
    )
    .await;
    run(
        &k,
        &s,
        &[
            "rollout",
            "status",
            "deployment/db",
            "-n",
            "team",
            "--timeout=60s",
        ],
    )
    .await;
    let out = run(&k, &s, &["delete", "namespace", "team", "--timeout=60s"]).await;
    assert_eq!(out.trim(), "namespace \"team\" deleted");
    let left = run(&k, &s, &["get", "pods,rs,deployments", "-A", "-o", "name"]).await;
    assert!(!left.contains("db-"), "{left}");
    for agent in agents {
        agent.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_goes_not_ready_and_its_pods_come_back_on_the_others() {
    let server = TestServer::start_with(&[
        "--node-monitor-grace-period",
        "3s",
        "--default-toleration-seconds",
        "2",
    ]);
    let k = kubectl();
    let mut agents = Vec::new();
    for name in ["w1", "w2", "w3"] {
        agents.push(Agent::start(&server, node(name, false, "4")).await);
    }
    let s = &server;
    run(
        &k,
        s,
        &[
            "wait",
            "--for=condition=Ready",
            "nodes",
            "--all",
            "--timeout=60s",
        ],
    )
    .await;
    run(
        &k,
        s,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=3",
        ],
    )
    .await;
    let before = wait_for_pods(&k, s, "web", 3).await;
    assert!(before.iter().any(|p| p.1 == "w3"), "{before:?}");

    agents.pop().expect("w3").stop().await;
    let status = run(
        &k,
        s,
        &[
            "wait",
            "--for=jsonpath={.status.conditions[?(@.type==\"Ready\")].status}=Unknown",
            "node/w3",
            "--timeout=30s",
        ],
    )
    .await;
    assert!(status.contains("condition met"));
    let table = run(&k, s, &["get", "node", "w3"]).await;
    assert!(table.contains("NotReady"), "{table}");
    let taints = run(
        &k,
        s,
        &["get", "node", "w3", "-o", "jsonpath={.spec.taints[*].key}"],
    )
    .await;
    assert!(
        taints.contains("node.kubernetes.io/unreachable"),
        "{taints}"
    );

    let after = wait_for_pods_off(&k, s, "web", "w3").await;
    assert_eq!(after.len(), 3);
    assert!(
        after.iter().all(|p| p.1 == "w1" || p.1 == "w2"),
        "{after:?}"
    );
    for agent in agents {
        agent.stop().await;
    }
}

/// Waits until `app` has three running, ready pods, none of them on `node` or terminating.
async fn wait_for_pods_off(
    k: &Kubectl,
    s: &TestServer,
    app: &str,
    node: &str,
) -> Vec<(String, String, String, String)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let live: Vec<_> = pods(k, s, app)
            .await
            .into_iter()
            .filter(|p| p.1 != node)
            .collect();
        if live.len() == 3 && live.iter().all(|p| p.2 == "Running" && p.3 == "True") {
            return live;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pods never moved off {node}: {live:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

const BIG_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: big, labels: {app: big}}
spec:
  containers:
  - name: app
    image: nginx
    resources: {requests: {cpu: "6"}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pods_wait_for_a_node_that_fits_and_selectors_and_tolerations_hold() {
    let (s, mut agents, k) = cluster(&[], 2).await;
    let created = k.run_stdin(&s, &["apply", "-f", "-"], BIG_POD);
    assert!(created.ok, "{}", created.stderr);
    let reason = run(
        &k,
        &s,
        &[
            "wait",
            "--for=jsonpath={.status.conditions[0].reason}=Unschedulable",
            "pod/big",
            "--timeout=30s",
        ],
    )
    .await;
    assert!(reason.contains("condition met"));
    let events = run(
        &k,
        &s,
        &[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=big,reason=FailedScheduling",
            "-o",
            "jsonpath={.items[0].message}",
        ],
    )
    .await;
    assert_eq!(
        events,
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );

    agents.push(Agent::start(&s, node("large", false, "8")).await);
    run(
        &k,
        &s,
        &["wait", "--for=condition=Ready", "pod/big", "--timeout=60s"],
    )
    .await;
    assert_eq!(
        run(
            &k,
            &s,
            &["get", "pod", "big", "-o", "jsonpath={.spec.nodeName}"]
        )
        .await,
        "large"
    );

    // A node selector waits for a matching label.
    run(
        &k,
        &s,
        &[
            "run",
            "picky",
            "--image=nginx",
            "--labels=app=picky",
            "--overrides",
            r#"{"spec":{"nodeSelector":{"disk":"ssd"}}}"#,
        ],
    )
    .await;
    run(
        &k,
        &s,
        &[
            "wait",
            "--for=jsonpath={.status.conditions[0].reason}=Unschedulable",
            "pod/picky",
            "--timeout=30s",
        ],
    )
    .await;
    run(&k, &s, &["label", "node", "worker-2", "disk=ssd"]).await;
    run(
        &k,
        &s,
        &[
            "wait",
            "--for=condition=Ready",
            "pod/picky",
            "--timeout=60s",
        ],
    )
    .await;
    assert_eq!(
        run(
            &k,
            &s,
            &["get", "pod", "picky", "-o", "jsonpath={.spec.nodeName}"]
        )
        .await,
        "worker-2"
    );

    // A taint keeps everything off a node except pods that tolerate it.
    for node in ["worker-1", "worker-2", "large"] {
        run(&k, &s, &["taint", "node", node, "dedicated=gpu:NoSchedule"]).await;
    }
    run(
        &k,
        &s,
        &["run", "plain", "--image=nginx", "--labels=app=plain"],
    )
    .await;
    let overrides = r#"{"spec":{"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]}}"#;
    run(
        &k,
        &s,
        &[
            "run",
            "tolerant",
            "--image=nginx",
            "--labels=app=tolerant",
            "--overrides",
            overrides,
        ],
    )
    .await;
    run(
        &k,
        &s,
        &[
            "wait",
            "--for=condition=Ready",
            "pod/tolerant",
            "--timeout=60s",
        ],
    )
    .await;
    run(
        &k,
        &s,
        &[
            "wait",
            "--for=jsonpath={.status.conditions[0].reason}=Unschedulable",
            "pod/plain",
            "--timeout=30s",
        ],
    )
    .await;
    for agent in agents {
        agent.stop().await;
    }
}

/// What CI pipelines do: a Deployment deleted at once and created again under the same name.
/// Its new ReplicaSet, named as the old one was, must start clean and get its pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_deleted_at_once_and_created_again_gets_its_pods() {
    let (s, agents, k) = cluster(&[], 2).await;
    let create = [
        "create",
        "deployment",
        "stuck",
        "--image=nginx",
        "--replicas=1",
    ];
    for round in 0..5 {
        run(&k, &s, &create).await;
        run(&k, &s, &["delete", "deployment", "stuck"]).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = run(&k, &s, &["get", "rs,pods", "-l", "app=stuck", "-o", "name"]).await;
            if left.trim().is_empty() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: the garbage collector left {left}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        run(&k, &s, &create).await;
        wait_for_pods(&k, &s, "stuck", 1).await;
        run(&k, &s, &["delete", "deployment", "stuck"]).await;
    }
    for agent in agents {
        agent.stop().await;
    }
}
