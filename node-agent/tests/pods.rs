//! Pod sync against a real `mkc server`: a pod reaching Running with the status a kubelet
//! reports, pods waiting for their node's pod CIDR or for what their environment names,
//! graceful and forced deletion, and restarts of exited containers with back-off.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams};
use mkc_node_agent::{Capacity, ContainerRuntime, NodeConfig, NodeSetup, SimulatedRuntime};
use serde_json::json;

use common::{
    RunningAgent, TestServer, create_pod, is_running, kubectl, quick_settings, set_pod_cidr,
    wait_for,
};

const NODE: &str = "worker-1";

/// One node on a runtime the test can reach into, once the node is registered.
async fn agent(client: &kube::Client, runtime: &Arc<SimulatedRuntime>) -> RunningAgent {
    let node = NodeSetup {
        config: NodeConfig {
            name: NODE.into(),
            address: "10.1.2.3".parse().unwrap(),
            control_plane: false,
            capacity: Capacity::default(),
        },
        runtime: runtime.clone(),
    };
    let agent = RunningAgent::start_nodes(vec![node], quick_settings(), client.clone());
    wait_for(Api::<Node>::all(client.clone()), "the node", |nodes| {
        !nodes.is_empty()
    })
    .await;
    agent
}

fn pods(client: &kube::Client) -> Api<Pod> {
    Api::namespaced(client.clone(), "default")
}

/// Waits until pod `name` satisfies `check`, and returns it as JSON.
async fn pod_where(
    client: &kube::Client,
    name: &str,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let found = wait_for(pods(client), what, |pods| {
        pods.iter().any(|p| {
            p.metadata.name.as_deref() == Some(name)
                && check(&serde_json::to_value(p.as_ref()).unwrap())
        })
    })
    .await;
    let pod = found
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(name))
        .unwrap();
    serde_json::to_value(pod.as_ref()).unwrap()
}

/// Waits until the runtime holds exactly `count` pods.
async fn runtime_holds(runtime: &SimulatedRuntime, count: usize) {
    let deadline = Instant::now() + common::PATIENCE;
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    loop {
        ticks.tick().await;
        let held = runtime.list_pods().await.unwrap().len();
        if held == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the runtime holds {held} pods, not {count}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_runs_with_the_status_a_kubelet_reports() {
    let server = TestServer::start();
    let client = server.client().await;
    let runtime = Arc::new(SimulatedRuntime::new());
    let agent = agent(&client, &runtime).await;
    set_pod_cidr(&client, NODE, "10.244.1.0/24").await;
    let created = create_pod(
        &client,
        "web",
        NODE,
        json!({"initContainers": [{"name": "setup", "image": "busybox:1.36"}]}),
    )
    .await;

    let pod = pod_where(&client, "web", "web Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await;
    let status = &pod["status"];
    assert_eq!(status["podIP"], "10.244.1.2");
    assert_eq!(status["podIPs"], json!([{"ip": "10.244.1.2"}]));
    assert_eq!(status["hostIP"], "10.1.2.3");
    assert_eq!(status["hostIPs"], json!([{"ip": "10.1.2.3"}]));
    assert!(status["startTime"].is_string());
    assert_eq!(status["qosClass"], "BestEffort");
    let conditions: Vec<_> = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(c["lastTransitionTime"].is_string(), "{c}");
            (c["type"].as_str().unwrap(), c["status"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        conditions,
        [
            ("PodReadyToStartContainers", "True"),
            ("Initialized", "True"),
            ("Ready", "True"),
            ("ContainersReady", "True")
        ]
    );
    let nginx = &status["containerStatuses"][0];
    assert_eq!(nginx["name"], "nginx");
    assert_eq!(nginx["image"], "nginx:1.27");
    assert!(
        nginx["imageID"]
            .as_str()
            .unwrap()
            .starts_with("nginx@sha256:")
    );
    assert!(
        nginx["containerID"]
            .as_str()
            .unwrap()
            .starts_with("simulated://")
    );
    assert_eq!(
        (
            nginx["ready"].clone(),
            nginx["started"].clone(),
            nginx["restartCount"].clone()
        ),
        (json!(true), json!(true), json!(0))
    );
    assert!(nginx["state"]["running"]["startedAt"].is_string());
    let setup = &status["initContainerStatuses"][0];
    assert_eq!(setup["state"]["terminated"]["reason"], "Completed");
    assert_eq!(setup["state"]["terminated"]["exitCode"], 0);
    assert_eq!(setup["ready"], false);

    let key = mkc_node_agent::PodKey::of(&created).unwrap();
    let held = runtime.pod_status(&key).await.unwrap();
    assert_eq!(held.containers.len(), 2);

    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(&server.kubeconfig)
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["get", "pods", "--no-headers"])
        .output()
        .expect("kubectl");
    let listed = String::from_utf8_lossy(&output.stdout);
    let columns: Vec<_> = listed.split_whitespace().collect();
    assert_eq!(&columns[..4], ["web", "1/1", "Running", "0"], "{listed}");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_wait_for_their_node_pod_cidr() {
    let server = TestServer::start();
    let client = server.client().await;
    let runtime = Arc::new(SimulatedRuntime::new());
    let agent = agent(&client, &runtime).await;
    create_pod(&client, "early", NODE, json!({})).await;
    create_pod(&client, "host", NODE, json!({"hostNetwork": true})).await;

    let waiting = pod_where(&client, "early", "early reported as waiting", |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    })
    .await;
    assert_eq!(waiting["status"]["phase"], "Pending");
    assert_eq!(
        waiting["status"]["conditions"][0]["type"],
        "PodReadyToStartContainers"
    );
    assert_eq!(waiting["status"]["conditions"][0]["status"], "False");
    let host = pod_where(&client, "host", "the host-network pod Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await;
    assert_eq!(host["status"]["podIP"], "10.1.2.3");

    set_pod_cidr(&client, NODE, "10.244.9.0/24").await;
    let running = pod_where(&client, "early", "early Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await;
    assert_eq!(running["status"]["podIP"], "10.244.9.2");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_waits_for_the_config_map_its_environment_names() {
    let server = TestServer::start();
    let client = server.client().await;
    let runtime = Arc::new(SimulatedRuntime::new());
    let agent = agent(&client, &runtime).await;
    set_pod_cidr(&client, NODE, "10.244.1.0/24").await;
    let env = json!([{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}]);
    create_pod(
        &client,
        "configured",
        NODE,
        json!({"containers": [{"name": "nginx", "image": "nginx:1.27", "env": env}]}),
    )
    .await;

    let waiting = pod_where(&client, "configured", "a configuration error", |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            == "CreateContainerConfigError"
    })
    .await;
    assert_eq!(waiting["status"]["phase"], "Pending");
    assert_eq!(
        waiting["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "configmap \"settings\" not found"
    );
    let configs: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let settings = serde_json::from_value(json!({
        "metadata": {"name": "settings"}, "data": {"mode": "fast"},
    }))
    .unwrap();
    configs
        .create(&kube::api::PostParams::default(), &settings)
        .await
        .unwrap();
    pod_where(&client, "configured", "configured Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_deletion_stops_the_pod_and_confirms_with_grace_zero() {
    let server = TestServer::start();
    let client = server.client().await;
    let runtime = Arc::new(SimulatedRuntime::new());
    let agent = agent(&client, &runtime).await;
    set_pod_cidr(&client, NODE, "10.244.1.0/24").await;
    create_pod(
        &client,
        "web",
        NODE,
        json!({"terminationGracePeriodSeconds": 600}),
    )
    .await;
    pod_where(&client, "web", "web Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await;
    runtime_holds(&runtime, 1).await;

    let started = Instant::now();
    pods(&client)
        .delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    wait_for(pods(&client), "web gone", <[_]>::is_empty).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the 600 s grace period was not cut short"
    );
    runtime_holds(&runtime, 0).await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_deleted_pod_is_forgotten_by_the_runtime() {
    let server = TestServer::start();
    let client = server.client().await;
    let runtime = Arc::new(SimulatedRuntime::new());
    let agent = agent(&client, &runtime).await;
    set_pod_cidr(&client, NODE, "10.244.1.0/24").await;
    for name in ["a", "b"] {
        create_pod(&client, name, NODE, json!({})).await;
    }
    wait_for(pods(&client), "two pods Running", |pods| {
        pods.len() == 2 && pods.iter().all(|p| is_running(p))
    })
    .await;

    let force = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    pods(&client)
        .delete("a", &force)
        .await
        .expect("force delete");
    runtime_holds(&runtime, 1).await;
    let left = runtime.list_pods().await.unwrap();
    assert_eq!(left[0].name, "b");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exited_container_restarts_then_backs_off() {
    let server = TestServer::start();
    let client = server.client().await;
    let runtime = Arc::new(SimulatedRuntime::new());
    let agent = agent(&client, &runtime).await;
    set_pod_cidr(&client, NODE, "10.244.1.0/24").await;
    let created = create_pod(&client, "web", NODE, json!({})).await;
    let uid = created.metadata.uid.clone().unwrap();
    pod_where(&client, "web", "web Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await;

    runtime.exit_container(&uid, "nginx", 2).expect("exit");
    let restarted = pod_where(&client, "web", "a restart", |p| {
        p["status"]["containerStatuses"][0]["restartCount"] == 1
    })
    .await;
    let nginx = &restarted["status"]["containerStatuses"][0];
    assert!(nginx["state"]["running"].is_object(), "{nginx}");
    assert_eq!(nginx["lastState"]["terminated"]["exitCode"], 2);
    assert_eq!(nginx["lastState"]["terminated"]["reason"], "Error");

    runtime
        .exit_container(&uid, "nginx", 3)
        .expect("exit again");
    let backing_off = pod_where(&client, "web", "a back-off", |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    })
    .await;
    let nginx = &backing_off["status"]["containerStatuses"][0];
    assert_eq!(
        nginx["state"]["waiting"]["message"],
        format!("back-off 10s restarting failed container=nginx pod=web_default({uid})")
    );
    assert_eq!(nginx["lastState"]["terminated"]["exitCode"], 3);
    assert_eq!(nginx["ready"], false);
    assert_eq!(backing_off["status"]["phase"], "Running");
    assert_eq!(
        backing_off["status"]["conditions"][2]["reason"],
        "ContainersNotReady"
    );
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_never_restarts_ends_by_its_exit_codes() {
    let server = TestServer::start();
    let client = server.client().await;
    let runtime = Arc::new(SimulatedRuntime::new());
    let agent = agent(&client, &runtime).await;
    set_pod_cidr(&client, NODE, "10.244.1.0/24").await;
    let done = create_pod(&client, "done", NODE, json!({"restartPolicy": "Never"})).await;
    let failed = create_pod(&client, "failed", NODE, json!({"restartPolicy": "Never"})).await;
    wait_for(pods(&client), "two pods Running", |pods| {
        pods.iter().filter(|p| is_running(p)).count() == 2
    })
    .await;

    runtime
        .exit_container(done.metadata.uid.as_deref().unwrap(), "nginx", 0)
        .expect("exit");
    runtime
        .exit_container(failed.metadata.uid.as_deref().unwrap(), "nginx", 1)
        .expect("exit");
    let succeeded = pod_where(&client, "done", "Succeeded", |p| {
        p["status"]["phase"] == "Succeeded"
    })
    .await;
    assert_eq!(
        succeeded["status"]["conditions"][2]["reason"],
        "PodCompleted"
    );
    let failed = pod_where(&client, "failed", "Failed", |p| {
        p["status"]["phase"] == "Failed"
    })
    .await;
    assert_eq!(
        failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        1
    );
    agent.stop().await;
}
