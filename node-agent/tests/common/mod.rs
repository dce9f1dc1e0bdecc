//! Shared by the node agent's integration tests: a real `mkc server` process on a free port in
//! a temporary directory, a kube client for it, agents run in process, and waits that follow
//! a watch instead of polling.

#![allow(dead_code)]

use std::fmt::Debug;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::pin::pin;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource};
use mkc_node_agent::{ContainerRuntime, Error, NodeSetup, Settings};
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The `mkc` binary: `MKC_SERVER_BIN`, or the one this workspace built beside the test
/// executable (`cargo test --workspace` builds it before running any test).
fn server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("MKC_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let test = std::env::current_exe().expect("test executable path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    profile.join("mkc")
}
/// How long any awaited state may take to arrive.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A running `mkc server`, killed when dropped, with only the controllers every pod relies on:
/// the `default` service account and the `kube-root-ca.crt` config map its API access volume
/// mounts.
pub struct TestServer {
    child: Child,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl TestServer {
    pub fn start() -> TestServer {
        // The agent's logs, shown for a failing test when RUST_LOG asks for them.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let binary = server_binary();
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut child = Command::new(&binary)
            .args(["server", "--data-dir"])
            .arg(dir.path())
            .args(["--bind", "127.0.0.1:0"])
            .args(["--controllers", "serviceaccount,root-ca-cert-publisher"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting {} (run `cargo test --workspace`, or set MKC_SERVER_BIN): {e}",
                    binary.display()
                )
            });
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server ready line");
        assert!(
            line.contains("ready at https://"),
            "unexpected ready line: {line}"
        );
        TestServer {
            child,
            kubeconfig: dir.path().join("admin.kubeconfig"),
            dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn client(&self) -> Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("client config");
        Client::try_from(config).expect("client")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Settings with a quick heartbeat, so lease renewals show within a test.
pub fn quick_settings() -> Settings {
    Settings {
        lease_renew_interval: Duration::from_millis(200),
        housekeeping_interval: Duration::from_secs(1),
        volume_refresh_interval: Duration::from_secs(1),
        ..Settings::default()
    }
}

/// An agent running in this process, stopped through its token.
pub struct RunningAgent {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), Error>>,
}

impl RunningAgent {
    pub fn start(config: mkc_node_agent::Config, client: Client) -> RunningAgent {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(mkc_node_agent::run(config, client, shutdown.clone()));
        RunningAgent { shutdown, task }
    }

    pub fn start_nodes<R: ContainerRuntime>(
        nodes: Vec<NodeSetup<R>>,
        settings: Settings,
        client: Client,
    ) -> RunningAgent {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(mkc_node_agent::run_nodes(
            nodes,
            settings,
            client,
            shutdown.clone(),
        ));
        RunningAgent { shutdown, task }
    }

    /// Cancels the agent and waits for it to end; it must end cleanly and promptly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let ended = tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the agent stops within 10 s");
        ended.expect("agent task").expect("agent result");
    }
}

/// Follows `api` with a watch until `done` holds for every object it lists, and returns them.
pub async fn wait_for<K>(api: Api<K>, what: &str, done: impl Fn(&[Arc<K>]) -> bool) -> Vec<Arc<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let wait = async {
        let mut events = pin!(
            watcher(api, watcher::Config::default())
                .default_backoff()
                .reflect(writer)
        );
        let mut listed = false;
        while let Some(event) = events.next().await {
            listed |= matches!(event, Ok(watcher::Event::InitDone));
            let state = reader.state();
            if listed && done(&state) {
                return state;
            }
        }
        panic!("the watch for {what} ended");
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "timed out waiting for {what} ({} objects listed)",
                reader.state().len()
            )
        })
}

/// Gives a node the pod CIDR the server's node IPAM controller would.
pub async fn set_pod_cidr(client: &Client, node: &str, cidr: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let patch = json!({"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}});
    nodes
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("set podCIDR");
}

/// Creates a pod already bound to `node`, with one nginx container unless `spec` says more.
pub async fn create_pod(client: &Client, name: &str, node: &str, spec: serde_json::Value) -> Pod {
    let mut pod_spec =
        json!({"nodeName": node, "containers": [{"name": "nginx", "image": "nginx:1.27"}]});
    if let (Some(base), Some(extra)) = (pod_spec.as_object_mut(), spec.as_object()) {
        base.extend(extra.clone());
    }
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": pod_spec,
    }))
    .expect("pod");
    Api::<Pod>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &pod)
        .await
        .expect("create pod")
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

pub fn is_running(pod: &Pod) -> bool {
    phase(pod) == "Running"
}

/// The real kubectl 1.33 beside the kubectl on PATH.
pub fn kubectl() -> PathBuf {
    let on_path = Command::new("sh")
        .args(["-c", "readlink -f \"$(command -v kubectl)\""])
        .output()
        .expect("find kubectl");
    let resolved = PathBuf::from(String::from_utf8_lossy(&on_path.stdout).trim());
    let path = resolved.with_file_name("kubectl.1.33");
    assert!(
        path.exists(),
        "no kubectl.1.33 beside {}",
        resolved.display()
    );
    path
}
