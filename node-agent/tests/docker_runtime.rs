//! The Docker runtime against the machine's real engine: sandboxes on the pod network,
//! containers joining them, exits announced as they happen, restarts that keep the previous
//! run, stops that kill after the grace period, removal, adoption by a new runtime object, and
//! images that cannot be pulled, containers stopped one at a time; and the agent running pods
//! through it for a real `mkc server`, with their probes and events.
//!
//! Needs Docker at /var/run/docker.sock. Without it the tests say so and pass, unless `CI` is
//! set, where they fail. The engine needs no images: pods run the agent's own pause image, and
//! a shell borrowed from the host through hostPath volumes. Each test serves its own node name
//! and pod CIDR, and removes what it made when it ends, even by failing.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Container, Event, Node, Pod, PodSpec, Secret};
use kube::api::{Api, DeleteParams, PostParams};
use mkc_node_agent::{
    Capacity, ContainerConfig, ContainerRole, ContainerRuntime, ContainerState, DockerConfig,
    DockerRuntime, ImageOutcome, LogOptions, NodeConfig, NodeSetup, PodKey, Prepared, RuntimeError,
    SandboxConfig, Termination,
};
use serde_json::json;

use common::{RunningAgent, TestServer, create_pod, quick_settings, set_pod_cidr, wait_for};

const SOCKET: &str = "/var/run/docker.sock";
/// How long an engine event may take to arrive.
const EVENT_WAIT: Duration = Duration::from_secs(30);

/// One test's node: its runtime, and what to remove when the test ends.
struct TestNode {
    runtime: DockerRuntime,
    config: DockerConfig,
    cidr: String,
    _pods_dir: tempfile::TempDir,
}

/// A node for `test` serving pod CIDR `10.251.SUBNET.0/24`, or `None` (with the reason
/// printed) when there is no engine and this is not CI.
async fn node(test: &str, subnet: u8) -> Option<TestNode> {
    if !Path::new(SOCKET).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but there is no Docker engine at {SOCKET}"
        );
        eprintln!("skipping {test}: no Docker engine at {SOCKET}");
        return None;
    }
    let pid = std::process::id();
    let pods_dir = tempfile::tempdir().expect("a temporary directory");
    let config = DockerConfig {
        host: format!("unix://{SOCKET}"),
        pods_dir: pods_dir.path().to_owned(),
        network: format!("mkc-test-{pid}-{subnet}"),
        bridge: format!("mkct{}x{subnet}", pid % 100_000),
        ..DockerConfig::new(
            &format!("mkc-test-{test}-{pid}"),
            "127.0.0.1".parse().unwrap(),
        )
    };
    let runtime = DockerRuntime::connect(config.clone())
        .await
        .expect("connecting to the engine");
    Some(TestNode {
        runtime,
        config,
        cidr: format!("10.251.{subnet}.0/24"),
        _pods_dir: pods_dir,
    })
}

impl TestNode {
    /// Another runtime object on the same node, as an agent restart makes.
    async fn restarted(&self) -> DockerRuntime {
        DockerRuntime::connect(self.config.clone())
            .await
            .expect("connecting to the engine")
    }

    /// The node's containers, as `docker ps -a` lists them.
    async fn containers(&self) -> Vec<String> {
        let filters = HashMap::from([(
            "label",
            vec![format!("io.mkc.node={}", self.config.node_name)],
        )]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let docker = engine().await;
        let listed = docker.list_containers(Some(options)).await.unwrap();
        listed
            .into_iter()
            .flat_map(|c| c.names.unwrap_or_default())
            .collect()
    }
}

impl Drop for TestNode {
    /// Removes the node's containers and network, in a thread of its own: the test's runtime
    /// may be gone or busy unwinding.
    fn drop(&mut self) {
        let (node, network) = (self.config.node_name.clone(), self.config.network.clone());
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for cleaning up");
            runtime.block_on(async {
                let docker = engine().await;
                let filters = HashMap::from([("label", vec![format!("io.mkc.node={node}")])]);
                let options = ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build();
                for container in docker
                    .list_containers(Some(options))
                    .await
                    .unwrap_or_default()
                {
                    let remove = RemoveContainerOptionsBuilder::default().force(true).build();
                    let id = container.id.unwrap_or_default();
                    let _ = docker.remove_container(&id, Some(remove)).await;
                }
                let _ = docker.remove_network(&network).await;
            });
        });
        let _ = cleanup.join();
    }
}

async fn engine() -> Docker {
    Docker::connect_with_unix_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap()
}

static UIDS: AtomicU32 = AtomicU32::new(0);

fn pod_key(name: &str) -> PodKey {
    let n = UIDS.fetch_add(1, Ordering::Relaxed);
    PodKey {
        uid: format!("{:08x}-test-{}-{n}", std::process::id(), name),
        namespace: "default".into(),
        name: name.into(),
    }
}

fn sandbox(pod: &PodKey) -> SandboxConfig {
    SandboxConfig::of(pod.clone(), &PodSpec::default(), None)
}

/// A pod whose containers can run the host's shell: the host's system directories mounted
/// read-only where the shell and its libraries expect them.
fn shell_pod() -> PodSpec {
    let volumes: Vec<_> = host_dirs()
        .map(|dir| json!({"name": volume(dir), "hostPath": {"path": dir}}))
        .collect();
    serde_json::from_value(json!({"containers": [], "volumes": volumes})).unwrap()
}

fn host_dirs() -> impl Iterator<Item = &'static str> {
    ["/bin", "/lib", "/lib64", "/usr"]
        .into_iter()
        .filter(|dir| Path::new(dir).exists())
}

fn volume(dir: &str) -> String {
    format!("host{}", dir.replace('/', "-"))
}

/// A container of the pause image running `script` in the host's shell.
fn shell(name: &str, script: &str) -> Container {
    let mounts: Vec<_> = host_dirs()
        .map(|dir| json!({"name": volume(dir), "mountPath": dir, "readOnly": true}))
        .collect();
    serde_json::from_value(json!({
        "name": name,
        "image": pause_image(),
        "command": ["/bin/sh", "-c", script],
        "env": [
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GREETING", "value": "hello $(POD)"},
        ],
        "volumeMounts": mounts,
    }))
    .unwrap()
}

/// A container running the pause program itself: it runs until stopped.
fn pause(name: &str) -> Container {
    serde_json::from_value(json!({
        "name": name, "image": pause_image(), "command": ["/pause"],
        "resources": {"limits": {"cpu": "100m", "memory": "16Mi"}},
    }))
    .unwrap()
}

fn pause_image() -> String {
    format!("mkc.local/pause:{}", env!("CARGO_PKG_VERSION"))
}

fn start<'a>(spec: &'a Container, pod: &'a PodSpec, attempt: u32) -> ContainerConfig<'a> {
    ContainerConfig {
        spec,
        pod,
        role: ContainerRole::Main,
        attempt,
    }
}

/// What the agent would prepare for `spec` without reading the API: its command and the
/// plain values of its environment, as written.
fn plain(spec: &Container) -> Prepared {
    let env = spec.env.iter().flatten();
    Prepared {
        command: spec.command.clone(),
        args: spec
            .args
            .clone()
            .or_else(|| spec.command.as_ref().map(|_| vec![])),
        env: env
            .filter_map(|v| Some((v.name.clone(), v.value.clone()?)))
            .collect(),
        ..Prepared::default()
    }
}

/// Waits for `pod` to come out of `changes`.
async fn changed(changes: &mut (impl Stream<Item = PodKey> + Unpin), pod: &PodKey) {
    let wait = async {
        while let Some(changed) = changes.next().await {
            if &changed == pod {
                return;
            }
        }
        panic!("the change stream ended");
    };
    tokio::time::timeout(EVENT_WAIT, wait)
        .await
        .expect("no change announced for the pod");
}

async fn state(
    runtime: &DockerRuntime,
    pod: &PodKey,
    name: &str,
) -> (u32, ContainerState, Option<Termination>) {
    let observed = runtime.pod_status(pod).await.unwrap();
    let container = observed.container(name).expect("the container").clone();
    (
        container.attempt,
        container.state,
        container.last_termination,
    )
}

fn exit_code(state: &ContainerState) -> Option<i32> {
    match state {
        ContainerState::Exited(termination) => Some(termination.exit_code),
        ContainerState::Running { .. } => None,
    }
}

#[tokio::test]
async fn a_pod_runs_in_its_sandbox_on_the_pod_network_until_stopped_and_removed() {
    let Some(node) = node("lifecycle", 1).await else {
        return;
    };
    let runtime = &node.runtime;
    let pod = pod_key("web");
    assert!(runtime.version().await.unwrap().starts_with("docker://"));
    assert!(matches!(
        runtime.ensure_sandbox(&sandbox(&pod)).await,
        Err(RuntimeError::NetworkNotReady(_))
    ));
    runtime.set_pod_cidr(&node.cidr).await.unwrap();
    runtime.set_pod_cidr(&node.cidr).await.unwrap();

    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let published: PodSpec = serde_json::from_value(json!({"containers": [{
        "name": "web", "ports": [{"containerPort": 80, "hostPort": free_port}],
    }]}))
    .unwrap();
    let created = runtime
        .ensure_sandbox(&SandboxConfig::of(pod.clone(), &published, None))
        .await
        .unwrap();
    let ip = created.ip.expect("a pod address").to_string();
    assert!(ip.starts_with("10.251.1.") && ip != "10.251.1.1", "{ip}");
    assert_eq!(
        runtime.ensure_sandbox(&sandbox(&pod)).await.unwrap(),
        created
    );
    let docker = engine().await;
    let pause_name = format!("k8s_POD_web_default_{}_0", pod.uid);
    let paused = docker.inspect_container(&pause_name, None).await.unwrap();
    assert_eq!(paused.config.unwrap().hostname.as_deref(), Some("web"));
    let bindings = paused.host_config.unwrap().port_bindings.unwrap();
    let binding = &bindings["80/tcp"].as_ref().unwrap()[0];
    assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(binding.host_port, Some(free_port.to_string()));
    assert_eq!(
        runtime.list_pods().await.unwrap(),
        std::slice::from_ref(&pod)
    );

    let spec = shell_pod();
    let (web, sidecar) = (
        pause("web"),
        shell("env", "echo \"$GREETING\"; exec /pause"),
    );
    runtime
        .start_container(&pod, start(&web, &spec, 0), &plain(&web))
        .await
        .unwrap();
    runtime
        .start_container(&pod, start(&sidecar, &spec, 0), &plain(&sidecar))
        .await
        .unwrap();
    assert!(matches!(
        runtime
            .start_container(&pod, start(&web, &spec, 0), &plain(&web))
            .await,
        Err(RuntimeError::AlreadyExists(_))
    ));
    let observed = runtime.pod_status(&pod).await.unwrap();
    assert_eq!(observed.sandbox, created);
    let running = observed.container("web").unwrap();
    assert!(running.id.starts_with("docker://"), "{}", running.id);
    assert!(
        running.image_id.starts_with("docker://sha256:"),
        "{}",
        running.image_id
    );
    assert_eq!(running.image, pause_image());
    assert!(matches!(running.state, ContainerState::Running { .. }));

    let id = running.id.trim_start_matches("docker://");
    let inspected = docker.inspect_container(id, None).await.unwrap();
    let host = inspected.host_config.unwrap();
    assert_eq!(host.nano_cpus, Some(100_000_000));
    assert_eq!(host.memory, Some(16 * 1024 * 1024));
    let sidecar_id = observed.container("env").unwrap().id.clone();
    let sidecar_env = docker
        .inspect_container(sidecar_id.trim_start_matches("docker://"), None)
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(
        // The runtime expands nothing: that is the agent's work.
        sidecar_env.contains(&"GREETING=hello $(POD)".to_owned()),
        "{sidecar_env:?}"
    );

    // Both the pause program and the shell's exec of it end at once on SIGTERM.
    let began = Instant::now();
    runtime
        .stop_pod(&pod, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    let (_, stopped, _) = state(runtime, &pod, "web").await;
    assert_eq!(exit_code(&stopped), Some(0));
    runtime.stop_pod(&pod, Duration::ZERO).await.unwrap();

    runtime.remove_pod(&pod).await.unwrap();
    assert!(node.containers().await.is_empty());
    assert!(runtime.list_pods().await.unwrap().is_empty());
    assert!(matches!(
        runtime.remove_pod(&pod).await,
        Err(RuntimeError::NotFound(_))
    ));
    assert!(matches!(
        runtime.pod_status(&pod).await,
        Err(RuntimeError::NotFound(_))
    ));
}

#[tokio::test]
async fn exits_are_announced_and_restarts_keep_the_previous_run() {
    let Some(node) = node("restarts", 2).await else {
        return;
    };
    let runtime = &node.runtime;
    let mut changes = Box::pin(runtime.changes());
    runtime.set_pod_cidr(&node.cidr).await.unwrap();
    let pod = pod_key("crasher");
    runtime.ensure_sandbox(&sandbox(&pod)).await.unwrap();
    let spec = shell_pod();
    let first = shell("app", "exit 3");
    runtime
        .start_container(&pod, start(&first, &spec, 0), &plain(&first))
        .await
        .unwrap();
    changed(&mut changes, &pod).await;
    let (attempt, exited, last) = state(runtime, &pod, "app").await;
    assert_eq!((attempt, exit_code(&exited), last), (0, Some(3), None));
    let ContainerState::Exited(termination) = exited else {
        unreachable!()
    };
    assert_eq!(termination.reason, "Error");
    assert!(termination.finished_at >= termination.started_at);

    let second = shell("app", "exit 0");
    runtime
        .start_container(&pod, start(&second, &spec, 1), &plain(&second))
        .await
        .unwrap();
    changed(&mut changes, &pod).await;
    let (attempt, exited, last) = state(runtime, &pod, "app").await;
    assert_eq!((attempt, exit_code(&exited)), (1, Some(0)));
    let last = last.expect("the first run's termination");
    assert_eq!(last.exit_code, 3);
    assert_eq!(last.container_id, termination.container_id);

    assert!(matches!(
        runtime
            .start_container(&pod, start(&second, &spec, 1), &plain(&second))
            .await,
        Err(RuntimeError::AlreadyExists(_))
    ));
    // A third run keeps the second for its logs and removes the first.
    let third = shell("app", "exec /pause");
    runtime
        .start_container(&pod, start(&third, &spec, 2), &plain(&third))
        .await
        .unwrap();
    let (attempt, running, last) = state(runtime, &pod, "app").await;
    assert_eq!((attempt, exit_code(&running)), (2, None));
    assert_eq!(last.map(|t| t.exit_code), Some(0));
    let names = node.containers().await;
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with("_0") && n.contains("_app_"))
    );
}

#[tokio::test]
async fn a_stop_kills_what_ignores_sigterm_after_the_grace_period() {
    let Some(node) = node("grace", 3).await else {
        return;
    };
    let runtime = &node.runtime;
    runtime.set_pod_cidr(&node.cidr).await.unwrap();
    let pod = pod_key("stubborn");
    runtime.ensure_sandbox(&sandbox(&pod)).await.unwrap();
    let spec = shell_pod();
    let stubborn = shell("app", "trap '' TERM; while :; do /bin/sleep 0.1; done");
    runtime
        .start_container(&pod, start(&stubborn, &spec, 0), &plain(&stubborn))
        .await
        .unwrap();
    let began = Instant::now();
    runtime
        .stop_pod(&pod, Duration::from_secs(1))
        .await
        .unwrap();
    let took = began.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(8),
        "{took:?}"
    );
    let (_, killed, _) = state(runtime, &pod, "app").await;
    assert_eq!(exit_code(&killed), Some(137));
}

#[tokio::test]
async fn a_new_runtime_object_finds_every_pod_again() {
    let Some(node) = node("adoption", 4).await else {
        return;
    };
    let pod = pod_key("kept");
    let spec = shell_pod();
    let web = pause("web");
    let sandbox_before = {
        let runtime = &node.runtime;
        runtime.set_pod_cidr(&node.cidr).await.unwrap();
        let created = runtime.ensure_sandbox(&sandbox(&pod)).await.unwrap();
        runtime
            .start_container(&pod, start(&web, &spec, 0), &plain(&web))
            .await
            .unwrap();
        created
    };
    let again = node.restarted().await;
    assert_eq!(again.list_pods().await.unwrap(), std::slice::from_ref(&pod));
    let observed = again.pod_status(&pod).await.unwrap();
    assert_eq!(observed.sandbox, sandbox_before);
    assert!(matches!(
        observed.container("web").map(|c| &c.state),
        Some(ContainerState::Running { .. })
    ));
    again.set_pod_cidr(&node.cidr).await.unwrap();
    assert_eq!(
        again.ensure_sandbox(&sandbox(&pod)).await.unwrap(),
        sandbox_before
    );
    assert!(matches!(
        again
            .start_container(&pod, start(&web, &spec, 0), &plain(&web))
            .await,
        Err(RuntimeError::AlreadyExists(_))
    ));
    assert_eq!(node.containers().await.len(), 2);
    // The network serves running pods: it cannot move to another CIDR under them.
    assert!(matches!(
        node.restarted().await.set_pod_cidr("10.251.5.0/24").await,
        Err(RuntimeError::PodCidr { .. })
    ));
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_is_an_image_pull_error() {
    let Some(node) = node("pull", 6).await else {
        return;
    };
    let runtime = &node.runtime;
    runtime.set_pod_cidr(&node.cidr).await.unwrap();
    let pod = pod_key("missing");
    runtime.ensure_sandbox(&sandbox(&pod)).await.unwrap();
    let spec = PodSpec::default();
    let missing: Container = serde_json::from_value(json!({
        "name": "app", "image": "mkc.invalid/nothing:1",
    }))
    .unwrap();
    match runtime
        .start_container(&pod, start(&missing, &spec, 0), &plain(&missing))
        .await
    {
        Err(RuntimeError::ImagePull { image, message }) => {
            assert_eq!(image, "mkc.invalid/nothing:1");
            assert!(!message.is_empty());
        }
        other => panic!("expected an ImagePull error, got {other:?}"),
    }
    assert!(
        runtime
            .pod_status(&pod)
            .await
            .unwrap()
            .containers
            .is_empty()
    );
}

#[tokio::test]
async fn the_agent_runs_pods_on_docker_and_reports_images_it_cannot_pull() {
    let Some(node) = node("agent", 7).await else {
        return;
    };
    let server = TestServer::start();
    let client = server.client().await;
    let name = node.config.node_name.clone();
    let runtime = Arc::new(node.restarted().await);
    let setup = NodeSetup {
        config: NodeConfig {
            name: name.clone(),
            address: node.config.node_address,
            control_plane: false,
            capacity: Capacity::default(),
        },
        runtime,
    };
    let agent = RunningAgent::start_nodes(vec![setup], quick_settings(), client.clone());
    let nodes = Api::<Node>::all(client.clone());
    wait_for(nodes, "the node", |nodes| !nodes.is_empty()).await;
    set_pod_cidr(&client, &name, &node.cidr).await;

    let web =
        json!({"containers": [{"name": "web", "image": pause_image(), "command": ["/pause"]}]});
    create_pod(&client, "web", &name, web).await;
    let missing = json!({"containers": [{"name": "app", "image": "mkc.invalid/nothing:1"}]});
    create_pod(&client, "missing", &name, missing).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let waiting = |pod: &Pod| {
        let status = serde_json::to_value(pod).unwrap();
        status["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let seen = wait_for(pods.clone(), "web running, missing backing off", |pods| {
        let named = |n: &str| pods.iter().find(|p| p.metadata.name.as_deref() == Some(n));
        let running = named("web").is_some_and(|p| common::is_running(p));
        let backing_off = named("missing").is_some_and(|p| waiting(p) == "ImagePullBackOff");
        running && backing_off
    })
    .await;
    let web = seen
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("web"))
        .unwrap();
    let pod_ip = web.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap();
    assert!(pod_ip.starts_with("10.251.7."), "{pod_ip}");
    let container_id = web
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0]
        .container_id
        .clone()
        .unwrap();
    assert!(container_id.starts_with("docker://"), "{container_id}");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    wait_for(events, "the pull's events", |events| {
        let image = "\"mkc.invalid/nothing:1\"";
        has_event(
            events,
            "missing",
            "Pulling",
            &format!("Pulling image {image}"),
            1,
        ) && has_event(
            events,
            "missing",
            "Failed",
            &format!("Failed to pull image {image}: "),
            1,
        ) && has_event(events, "missing", "Failed", "Error: ErrImagePull", 1)
            && has_event(
                events,
                "missing",
                "BackOff",
                &format!("Back-off pulling image {image}"),
                1,
            )
            && has_event(events, "missing", "Failed", "Error: ImagePullBackOff", 1)
            && has_event(events, "web", "Started", "Started container web", 1)
    })
    .await;

    for name in ["web", "missing"] {
        pods.delete(name, &DeleteParams::default()).await.unwrap();
    }
    wait_for(pods, "the pods gone", |pods| pods.is_empty()).await;
    agent.stop().await;
    assert!(node.containers().await.is_empty());
}

#[tokio::test]
async fn one_container_stops_alone_and_a_start_says_how_its_image_came() {
    let Some(node) = node("stop-one", 9).await else {
        return;
    };
    let runtime = &node.runtime;
    runtime.set_pod_cidr(&node.cidr).await.unwrap();
    let pod = pod_key("pair");
    runtime.ensure_sandbox(&sandbox(&pod)).await.unwrap();
    let spec = shell_pod();
    let (web, log) = (pause("web"), pause("log"));
    assert_eq!(
        runtime
            .start_container(&pod, start(&web, &spec, 0), &plain(&web))
            .await
            .unwrap(),
        ImageOutcome::Present
    );
    runtime
        .start_container(&pod, start(&log, &spec, 0), &plain(&log))
        .await
        .unwrap();
    runtime
        .stop_container(&pod, "web", Duration::from_secs(5))
        .await
        .unwrap();
    let (_, stopped, _) = state(runtime, &pod, "web").await;
    assert_eq!(exit_code(&stopped), Some(0));
    let (_, other, _) = state(runtime, &pod, "log").await;
    assert_eq!(exit_code(&other), None);
    runtime
        .stop_container(&pod, "web", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(matches!(
        runtime
            .stop_container(&pod, "nothing", Duration::ZERO)
            .await,
        Err(RuntimeError::NotFound(_))
    ));
    // The pod's network stays: the stopped container starts again in it.
    runtime
        .start_container(&pod, start(&web, &spec, 1), &plain(&web))
        .await
        .unwrap();
    let (attempt, running, last) = state(runtime, &pod, "web").await;
    assert_eq!((attempt, exit_code(&running)), (1, None));
    assert_eq!(last.map(|t| t.exit_code), Some(0));
}

/// The pod's condition `kind`, `True` or `False`.
fn condition(pod: &Pod, kind: &str) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == kind))
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

fn container_status(pod: &Pod) -> serde_json::Value {
    serde_json::to_value(pod).unwrap()["status"]["containerStatuses"][0].clone()
}

/// Whether the events hold one about `pod` with `reason` whose message contains `text` and
/// whose count is at least `count`.
fn has_event(events: &[Arc<Event>], pod: &str, reason: &str, text: &str, count: i32) -> bool {
    events.iter().any(|e| {
        e.involved_object.name.as_deref() == Some(pod)
            && e.reason.as_deref() == Some(reason)
            && e.message.as_deref().is_some_and(|m| m.contains(text))
            && e.count.unwrap_or_default() >= count
    })
}

#[tokio::test]
async fn probes_decide_readiness_and_restart_what_fails_liveness_with_the_events_a_kubelet_records()
{
    let Some(node) = node("probes", 8).await else {
        return;
    };
    let server = TestServer::start();
    let client = server.client().await;
    let name = node.config.node_name.clone();
    let setup = NodeSetup {
        config: NodeConfig {
            name: name.clone(),
            address: node.config.node_address,
            control_plane: false,
            capacity: Capacity::default(),
        },
        runtime: Arc::new(node.restarted().await),
    };
    let agent = RunningAgent::start_nodes(vec![setup], quick_settings(), client.clone());
    let nodes = Api::<Node>::all(client.clone());
    wait_for(nodes, "the node", |nodes| !nodes.is_empty()).await;
    set_pod_cidr(&client, &name, &node.cidr).await;

    // Ready only once /ready exists, which the test makes.
    let mut waiting = serde_json::to_value(shell("app", "exec /pause")).unwrap();
    waiting["readinessProbe"] = json!({
        "exec": {"command": ["/bin/sh", "-c", "test -f /ready"]},
        "periodSeconds": 1, "failureThreshold": 1,
    });
    let volumes = serde_json::to_value(shell_pod().volumes).unwrap();
    create_pod(
        &client,
        "waiting",
        &name,
        json!({"containers": [waiting], "volumes": volumes}),
    )
    .await;
    // Nothing listens on 8080: killed and restarted.
    let dying = json!({
        "name": "app", "image": pause_image(), "command": ["/pause"],
        "livenessProbe": {
            "httpGet": {"port": 8080, "path": "/healthz"},
            "periodSeconds": 1, "failureThreshold": 2, "terminationGracePeriodSeconds": 2,
        },
    });
    create_pod(&client, "dying", &name, json!({"containers": [dying]})).await;

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let seen = wait_for(pods.clone(), "waiting running but not ready", |pods| {
        pods.iter().any(|p| {
            p.metadata.name.as_deref() == Some("waiting")
                && common::is_running(p)
                && condition(p, "Ready") == "False"
        })
    })
    .await;
    let waiting_pod = seen
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("waiting"))
        .unwrap();
    let status = container_status(waiting_pod);
    assert_eq!(
        (&status["started"], &status["ready"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(condition(waiting_pod, "ContainersReady"), "False");
    // Failed runs are counted on one Event, not written anew.
    wait_for(events.clone(), "readiness failures counted", |events| {
        has_event(events, "waiting", "Unhealthy", "Readiness probe failed", 2)
    })
    .await;
    let current = pods.get("waiting").await.unwrap();
    assert_eq!(condition(&current, "Ready"), "False");

    let container_id = container_status(&current)["containerID"]
        .as_str()
        .unwrap()
        .trim_start_matches("docker://")
        .to_owned();
    let docker = engine().await;
    let touch = docker
        .create_exec(
            &container_id,
            bollard::exec::CreateExecOptions::<String> {
                cmd: Some(vec!["/bin/touch".into(), "/ready".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    docker.start_exec(&touch.id, None).await.unwrap();
    let seen = wait_for(pods.clone(), "waiting ready, dying restarted", |pods| {
        let named = |n: &str| pods.iter().find(|p| p.metadata.name.as_deref() == Some(n));
        let ready = named("waiting").is_some_and(|p| condition(p, "Ready") == "True");
        let restarted = named("dying").is_some_and(|p| {
            let status = container_status(p);
            status["restartCount"].as_i64().unwrap_or_default() >= 1
                && status["lastState"]["terminated"].is_object()
        });
        ready && restarted
    })
    .await;
    let waiting_pod = seen
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("waiting"))
        .unwrap();
    assert_eq!(condition(waiting_pod, "ContainersReady"), "True");
    assert_eq!(container_status(waiting_pod)["ready"], true);
    let dying_pod = seen
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("dying"))
        .unwrap();
    let terminated = &container_status(dying_pod)["lastState"]["terminated"];
    assert!(
        terminated["containerID"]
            .as_str()
            .is_some_and(|id| id.starts_with("docker://")),
        "{terminated}"
    );
    assert!(terminated["exitCode"].is_number(), "{terminated}");

    let recorded = wait_for(events, "the kubelet's events", |events| {
        has_event(events, "dying", "Created", "Created container app", 1)
            && has_event(events, "dying", "Started", "Started container app", 1)
            && has_event(events, "dying", "Pulled", "already present on machine", 1)
            && has_event(
                events,
                "dying",
                "Unhealthy",
                "Liveness probe failed: Get",
                1,
            )
            && has_event(
                events,
                "dying",
                "Killing",
                "Container app failed liveness probe, will be restarted",
                1,
            )
    })
    .await;
    let killing = recorded
        .iter()
        .find(|e| e.reason.as_deref() == Some("Killing"))
        .unwrap();
    let source = killing.source.as_ref().unwrap();
    assert_eq!(source.component.as_deref(), Some("kubelet"));
    assert_eq!(source.host.as_deref(), Some(name.as_str()));
    assert_eq!(killing.reporting_instance.as_deref(), Some(name.as_str()));
    assert_eq!(killing.type_.as_deref(), Some("Normal"));
    assert_eq!(
        killing.involved_object.field_path.as_deref(),
        Some("spec.containers{app}")
    );
    let unhealthy = recorded
        .iter()
        .find(|e| {
            e.reason.as_deref() == Some("Unhealthy")
                && e.involved_object.name.as_deref() == Some("dying")
        })
        .unwrap();
    assert_eq!(unhealthy.type_.as_deref(), Some("Warning"));

    for name in ["waiting", "dying"] {
        pods.delete(name, &DeleteParams::default()).await.unwrap();
    }
    wait_for(pods, "the pods gone", |pods| pods.is_empty()).await;
    agent.stop().await;
    assert!(node.containers().await.is_empty());
}

/// What `container` of `pod` wrote, read through the runtime.
async fn log_of(runtime: &DockerRuntime, pod: &Pod, container: &str) -> String {
    let key = PodKey::of(pod).expect("a stored pod");
    let stream = runtime
        .logs(&key, container, &LogOptions::default())
        .await
        .expect("the container's log");
    let chunks: Vec<_> = stream.collect().await;
    let bytes: Vec<u8> = chunks
        .into_iter()
        .flat_map(|chunk| chunk.expect("a log chunk").to_vec())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn pods_read_config_maps_and_secrets_and_wait_for_a_missing_secret() {
    let Some(node) = node("config", 10).await else {
        return;
    };
    let server = TestServer::start();
    let client = server.client().await;
    let name = node.config.node_name.clone();
    let setup = NodeSetup {
        config: NodeConfig {
            name: name.clone(),
            address: node.config.node_address,
            control_plane: false,
            capacity: Capacity::default(),
        },
        runtime: Arc::new(node.restarted().await),
    };
    let agent = RunningAgent::start_nodes(vec![setup], quick_settings(), client.clone());
    wait_for(Api::<Node>::all(client.clone()), "the node", |nodes| {
        !nodes.is_empty()
    })
    .await;
    set_pod_cidr(&client, &name, &node.cidr).await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let settings = json!({"metadata": {"name": "settings"},
        "data": {"greeting": "hello from a map", "MODE": "fast", "1st": "not a variable name"}});
    maps.create(
        &PostParams::default(),
        &serde_json::from_value(settings).unwrap(),
    )
    .await
    .unwrap();
    let creds = json!({"metadata": {"name": "creds"}, "stringData": {"password": "s3cret", "user": "admin"}});
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(creds).unwrap(),
        )
        .await
        .unwrap();

    // Host directories for the shell, and the volumes under test.
    let with_volumes = |extra: serde_json::Value| {
        let mut volumes = serde_json::to_value(shell_pod().volumes).unwrap();
        volumes
            .as_array_mut()
            .unwrap()
            .extend(extra.as_array().unwrap().clone());
        volumes
    };
    let mut reader = serde_json::to_value(shell(
        "app",
        "cat /config/greeting; echo; cat /info/labels; echo; \
         echo \"PASS=$PASS USER=$DB_user MODE=$MODE LINE=$LINE\"; ls -l /config/",
    ))
    .unwrap();
    reader["env"] = json!([
        {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
        {"name": "LINE", "value": "$(MODE)/$(DB_password)"},
    ]);
    reader["envFrom"] = json!([
        {"configMapRef": {"name": "settings"}},
        {"secretRef": {"name": "creds"}, "prefix": "DB_"},
    ]);
    let mounts = reader["volumeMounts"].as_array_mut().unwrap();
    mounts.push(json!({"name": "config", "mountPath": "/config"}));
    mounts.push(json!({"name": "info", "mountPath": "/info"}));
    let volumes = with_volumes(json!([
        {"name": "config", "configMap": {"name": "settings",
            "items": [{"key": "greeting", "path": "greeting", "mode": 0o600}]}},
        {"name": "info", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
    ]));
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut pod = json!({"nodeName": name, "restartPolicy": "Never",
        "containers": [reader], "volumes": volumes});
    let labelled =
        json!({"metadata": {"name": "reader", "labels": {"app": "reader"}}, "spec": pod});
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(labelled).unwrap(),
    )
    .await
    .unwrap();

    // The same shell, waiting for a Secret that does not exist yet, as a file and a variable.
    let mut late =
        serde_json::to_value(shell("app", "cat /late/token; echo \" TOKEN=$TOKEN\"")).unwrap();
    late["env"] = json!([
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "late", "key": "token"}}},
    ]);
    late["volumeMounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "late", "mountPath": "/late"}));
    pod["containers"] = json!([late]);
    pod["volumes"] = with_volumes(json!([{"name": "late", "secret": {"secretName": "late"}}]));
    create_pod(&client, "late", &name, pod.clone()).await;

    let phase = |pods: &[Arc<Pod>], name: &str| {
        pods.iter()
            .find(|p| p.metadata.name.as_deref() == Some(name))
            .and_then(|p| p.status.as_ref()?.phase.clone())
            .unwrap_or_default()
    };
    let seen = wait_for(pods.clone(), "reader done, late waiting", |pods| {
        let late_waiting = pods.iter().any(|p| {
            p.metadata.name.as_deref() == Some("late")
                && container_status(p)["state"]["waiting"]["reason"] == "ContainerCreating"
        });
        phase(pods, "reader") == "Succeeded" && late_waiting
    })
    .await;
    let done = seen
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("reader"))
        .unwrap();
    assert_eq!(container_status(done)["state"]["terminated"]["exitCode"], 0);
    let log = log_of(&node.runtime, done, "app").await;
    assert!(
        log.starts_with("hello from a map\napp=\"reader\"\n"),
        "{log}"
    );
    assert!(
        log.contains("PASS=s3cret USER=admin MODE=fast LINE=fast/s3cret"),
        "{log}"
    );
    // The key is a link through ..data, swapped as a whole on updates.
    assert!(log.contains("greeting -> ..data/greeting"), "{log}");

    // Past a few retries the pod still waits, and nothing of it ran.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let still = pods.get("late").await.unwrap();
    assert_eq!(phase(&[Arc::new(still.clone())], "late"), "Pending");
    assert_eq!(
        container_status(&still)["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    let ran = node.containers().await;
    assert!(!ran.iter().any(|c| c.contains("_app_late_")), "{ran:?}");

    let token = json!({"metadata": {"name": "late"}, "stringData": {"token": "at last"}});
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(token).unwrap(),
        )
        .await
        .unwrap();
    let seen = wait_for(pods.clone(), "late done", |pods| {
        phase(pods, "late") == "Succeeded"
    })
    .await;
    let late = seen
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("late"))
        .unwrap();
    let log = log_of(&node.runtime, late, "app").await;
    assert_eq!(log, "at last TOKEN=at last\n");

    // A running pod sees the ConfigMap change in its volume (the tests refresh every second),
    // through the same `..data` link.
    let mut watcher = serde_json::to_value(shell(
        "app",
        "while :; do cat /config/greeting; echo; sleep 0.2; done",
    ))
    .unwrap();
    watcher["volumeMounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "config", "mountPath": "/config"}));
    pod["containers"] = json!([watcher]);
    pod["restartPolicy"] = json!("Always");
    pod["volumes"] = with_volumes(json!([
        {"name": "config", "configMap": {"name": "settings"}},
    ]));
    create_pod(&client, "watcher", &name, pod).await;
    let seen = wait_for(pods.clone(), "watcher running", |pods| {
        phase(pods, "watcher") == "Running"
    })
    .await;
    let running = seen
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("watcher"))
        .unwrap()
        .clone();
    let changed = json!({"data": {"greeting": "changed while running"}});
    maps.patch(
        "settings",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&changed),
    )
    .await
    .unwrap();
    let began = Instant::now();
    loop {
        let log = log_of(&node.runtime, &running, "app").await;
        if log.contains("changed while running") {
            assert!(log.starts_with("hello from a map\n"), "{log}");
            break;
        }
        assert!(
            began.elapsed() < common::PATIENCE,
            "the volume never changed: {log}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Finished pods go at once, and so does the watcher, deleted without a grace period;
    // housekeeping then removes what the engine holds of them.
    for name in ["reader", "late"] {
        pods.delete(name, &DeleteParams::default()).await.unwrap();
    }
    let now = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    pods.delete("watcher", &now).await.unwrap();
    wait_for(pods, "the pods gone", |pods| pods.is_empty()).await;
    let began = Instant::now();
    while !node.containers().await.is_empty() {
        assert!(
            began.elapsed() < common::PATIENCE,
            "the pods' containers stayed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    agent.stop().await;
}
