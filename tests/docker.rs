//! Clusters of real Docker containers, end to end: `mkc up`, workloads running in the nodes'
//! own Docker daemons, logs through the API server, pod traffic across nodes, `mkc down`.
//! They need a Docker engine (CI starts one) and make the images they need offline, with
//! debootstrap from the machine's Debian mirror.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The image the workload tests run: Debian's nginx-light (with curl, to call other pods),
/// logging to stdout and stderr as the official image does.
const NGINX: &str = "mkc.local/test-nginx:1";

fn mkc(args: &[&str], kubeconfig: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mkc"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run mkc")
}

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Everything Docker holds with the cluster's label.
fn labelled(name: &str) -> String {
    let filter = format!("label=io.mkc.cluster={name}");
    [
        docker(&["ps", "-aq", "--filter", &filter]),
        docker(&["volume", "ls", "-q", "--filter", &filter]),
        docker(&["network", "ls", "-q", "--filter", &filter]),
    ]
    .concat()
}

/// Builds the node image once per test run, so parallel tests do not build it twice.
fn node_image() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let scratch = tempfile::tempdir().unwrap();
        let built = mkc(&["build", "node-image"], &scratch.path().join("config"));
        assert!(
            built.status.success(),
            "mkc build node-image: {}",
            String::from_utf8_lossy(&built.stderr)
        );
    });
}

/// Makes the test nginx image once, offline.
fn nginx_image() {
    static MADE: OnceLock<()> = OnceLock::new();
    MADE.get_or_init(|| {
        let present = |image: &str| {
            Command::new("docker")
                .args(["image", "inspect", image])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if present(NGINX) {
            return;
        }
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            if present("mkc.local/test-nginx-rootfs:1") {
                return;
            }
            let docker = bollard::Docker::connect_with_defaults()
                .unwrap()
                .negotiate_version()
                .await
                .unwrap();
            mkc::cluster::debian_image(&docker, "mkc.local/test-nginx-rootfs:1", "nginx-light,curl")
                .await
                .expect("debootstrap nginx");
        });
        // The official image's shape: logs on stdout and stderr, nginx in the foreground.
        let dockerfile = "FROM mkc.local/test-nginx-rootfs:1\n\
            RUN ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log\n\
            CMD [\"nginx\", \"-g\", \"daemon off;\"]\n";
        let context = tempfile::tempdir().unwrap();
        std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
        let built = Command::new("/usr/bin/docker")
            .args(["build", "-q", "-t", NGINX])
            .arg(context.path())
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("docker build");
        assert!(
            built.status.success(),
            "docker build: {}",
            String::from_utf8_lossy(&built.stderr)
        );
    });
}

/// A cluster made by `mkc up`, with its own kubeconfig file; `mkc down` when dropped.
struct Cluster {
    name: String,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Cluster {
    fn up(name: &str, workers: u32) -> Cluster {
        node_image();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("config");
        let up = mkc(
            &[
                "up",
                "--name",
                name,
                "--nodes",
                &workers.to_string(),
                "--wait",
                "90s",
            ],
            &kubeconfig,
        );
        let cluster = Cluster {
            name: name.to_owned(),
            _dir: dir,
            kubeconfig,
        };
        assert!(
            up.status.success(),
            "mkc up --name {name}: {}{}",
            String::from_utf8_lossy(&up.stdout),
            String::from_utf8_lossy(&up.stderr)
        );
        cluster
    }

    fn kubectl(&self, args: &[&str]) -> String {
        let kubectl = common::kubectls().pop().unwrap();
        kubectl.ok_with(&self.kubeconfig, args)
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        serde_json::from_str(&self.kubectl(&args)).unwrap()
    }

    fn node(&self, suffix: &str) -> String {
        format!("mkc-{}-{suffix}", self.name)
    }

    /// Runs `docker` inside a node, against the node's own engine.
    fn docker_in(&self, node: &str, args: &[&str]) -> String {
        let mut all = vec!["exec", node, "docker"];
        all.extend(args);
        docker(&all)
    }

    fn load(&self, image: &str) {
        let loaded = mkc(&["load", image, "--name", &self.name], &self.kubeconfig);
        assert!(
            loaded.status.success(),
            "mkc load: {}",
            String::from_utf8_lossy(&loaded.stderr)
        );
    }

    fn down(&self) -> Output {
        mkc(&["down", "--name", &self.name], &self.kubeconfig)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.down();
    }
}

/// Polls `check` every 250 ms until it answers, failing after `timeout`.
fn eventually<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

#[test]
fn up_makes_ready_nodes_with_a_context_and_down_leaves_nothing() {
    let cluster = Cluster::up("t-up", 2);
    let nodes = cluster.json(&["get", "nodes"]);
    let items = nodes["items"].as_array().unwrap();
    let mut names: Vec<&str> = items
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "mkc-t-up-control-plane",
            "mkc-t-up-worker",
            "mkc-t-up-worker2"
        ]
    );
    let control_plane = &items
        .iter()
        .find(|n| n["metadata"]["name"] == "mkc-t-up-control-plane")
        .unwrap();
    assert_eq!(
        control_plane["spec"]["taints"][0]["key"],
        "node-role.kubernetes.io/control-plane"
    );
    for node in items {
        let runtime = node["status"]["nodeInfo"]["containerRuntimeVersion"]
            .as_str()
            .unwrap();
        assert!(runtime.starts_with("docker://"), "{runtime}");
    }
    let contexts = cluster.kubectl(&["config", "current-context"]);
    assert_eq!(contexts.trim(), "mkc-t-up");

    // A second `up` under the same name is refused and touches nothing.
    let again = mkc(&["up", "--name", "t-up"], &cluster.kubeconfig);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("mkc down --name t-up"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        cluster.json(&["get", "nodes"])["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let down = cluster.down();
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert_eq!(labelled("t-up"), "");
    let config = std::fs::read_to_string(&cluster.kubeconfig).unwrap();
    assert!(!config.contains("mkc-t-up"), "{config}");
}

#[test]
fn nginx_runs_on_every_worker_answers_across_nodes_and_logs_through_the_api() {
    nginx_image();
    let cluster = Cluster::up("t-web", 2);
    cluster.load(NGINX);
    cluster.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image",
        NGINX,
        "--replicas=2",
    ]);
    let pods = eventually(
        "two web pods Running and Ready",
        Duration::from_secs(90),
        || {
            let pods = cluster.json(&["get", "pods", "-l", "app=web"]);
            let items = pods["items"].as_array()?.clone();
            (items.len() == 2 && items.iter().all(ready)).then_some(items)
        },
    );
    let mut nodes: Vec<&str> = pods
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap())
        .collect();
    nodes.sort();
    assert_eq!(nodes, [cluster.node("worker"), cluster.node("worker2")]);
    for pod in &pods {
        let ip = pod["status"]["podIP"].as_str().unwrap();
        assert!(ip.starts_with("10.244."), "{ip}");
        assert_eq!(pod["status"]["containerStatuses"][0]["ready"], true);
    }

    // From a pod on the first worker, every nginx answers at its pod IP.
    let target = &pods[1];
    let target_ip = target["status"]["podIP"].as_str().unwrap();
    let other_node = pods[0]["spec"]["nodeName"].as_str().unwrap();
    let client = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"client"}},
           "spec":{{"nodeName":"{other_node}","restartPolicy":"Never",
           "containers":[{{"name":"curl","image":"{NGINX}",
           "command":["curl","-sS","--max-time","10","http://{target_ip}/"]}}]}}}}"#
    );
    let kubectl = common::kubectls().pop().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let created = Command::new(&kubectl.path)
        .args(["--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .args(["--cache-dir"])
        .arg(cache.path())
        .args(["create", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(client.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(created.status.success());
    eventually("the client pod to finish", Duration::from_secs(60), || {
        let pod = cluster.json(&["get", "pod", "client"]);
        (pod["status"]["phase"] == "Succeeded").then_some(())
    });
    let page = cluster.kubectl(&["logs", "client"]);
    assert!(page.contains("Welcome to nginx"), "{page}");

    // The request is in the target's access log, read through the API server, with the
    // client pod's own address (pod traffic is not masqueraded between nodes).
    let client_ip = cluster.json(&["get", "pod", "client"])["status"]["podIP"]
        .as_str()
        .unwrap()
        .to_owned();
    let target_name = target["metadata"]["name"].as_str().unwrap();
    let access = cluster.kubectl(&["logs", target_name, "--tail=5"]);
    assert!(
        access.contains(&format!("{client_ip} - - ")) && access.contains("\"GET / HTTP/1.1\" 200"),
        "{access}"
    );

    // Deleting the deployment removes every container from every node.
    cluster.kubectl(&["delete", "deployment", "web", "--wait=true"]);
    cluster.kubectl(&["delete", "pod", "client"]);
    for worker in ["worker", "worker2"] {
        let node = cluster.node(worker);
        eventually(
            "the node's pod containers to be removed",
            Duration::from_secs(60),
            || {
                cluster
                    .docker_in(
                        &node,
                        &["ps", "-aq", "--filter", "label=io.mkc.pod.namespace"],
                    )
                    .trim()
                    .is_empty()
                    .then_some(())
            },
        );
    }
}
