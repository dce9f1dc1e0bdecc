//! Clusters of Docker containers made by `mkc up` for a test, with their own kubeconfig,
//! removed by `mkc down` when dropped; and the checks the cluster tests share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::images::node_image;

pub fn mkc(args: &[&str], kubeconfig: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mkc"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run mkc")
}

pub fn docker(args: &[&str]) -> String {
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
pub fn labelled(name: &str) -> String {
    let filter = format!("label=io.mkc.cluster={name}");
    [
        docker(&["ps", "-aq", "--filter", &filter]),
        docker(&["volume", "ls", "-q", "--filter", &filter]),
        docker(&["network", "ls", "-q", "--filter", &filter]),
    ]
    .concat()
}

/// A cluster made by `mkc up`, with its own kubeconfig file; `mkc down` when dropped.
pub struct Cluster {
    pub name: String,
    _dir: Option<tempfile::TempDir>,
    pub kubeconfig: PathBuf,
}

impl Cluster {
    pub fn up(name: &str, workers: u32) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("config");
        Cluster::up_in(name, workers, kubeconfig, Some(dir))
    }

    /// Another cluster whose context goes into this one's kubeconfig.
    pub fn beside(&self, name: &str, workers: u32) -> Cluster {
        Cluster::up_in(name, workers, self.kubeconfig.clone(), None)
    }

    fn up_in(
        name: &str,
        workers: u32,
        kubeconfig: PathBuf,
        dir: Option<tempfile::TempDir>,
    ) -> Cluster {
        node_image();
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

    pub fn kubectl(&self, args: &[&str]) -> String {
        let kubectl = super::kubectls().pop().unwrap();
        kubectl.ok_with(&self.kubeconfig, args)
    }

    /// Runs a kubectl binary against the cluster with `stdin`, returning its output.
    pub fn run(&self, kubectl: &super::Kubectl, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let cache = tempfile::tempdir().unwrap();
        let mut child = Command::new(&kubectl.path)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        serde_json::from_str(&self.kubectl(&args)).unwrap()
    }

    pub fn node(&self, suffix: &str) -> String {
        format!("mkc-{}-{suffix}", self.name)
    }

    /// Runs `docker` inside a node, against the node's own engine.
    pub fn docker_in(&self, node: &str, args: &[&str]) -> String {
        let mut all = vec!["exec", node, "docker"];
        all.extend(args);
        docker(&all)
    }

    /// Loads `image` into every node; what `mkc load` said.
    pub fn load(&self, image: &str) -> String {
        let loaded = mkc(&["load", image, "--name", &self.name], &self.kubeconfig);
        assert!(
            loaded.status.success(),
            "mkc load: {}",
            String::from_utf8_lossy(&loaded.stderr)
        );
        String::from_utf8_lossy(&loaded.stdout).into_owned()
    }

    pub fn down(&self) -> Output {
        mkc(&["down", "--name", &self.name], &self.kubeconfig)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.down();
    }
}

/// Polls `check` every 250 ms until it answers, failing after `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub fn ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}
