//! Shared by the integration tests: an `mkc server` started from the built binary on a free
//! port in a temporary directory, and the real kubectl binaries found on this machine.

#![allow(dead_code)]

pub mod docker_cluster;
pub mod https;
pub mod images;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `mkc server`, stopped (SIGTERM) when dropped.
pub struct TestServer {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub addr: String,
    pub kubeconfig: PathBuf,
    extra_args: Vec<String>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Starts a server with extra `mkc server` flags.
    pub fn start_with(extra_args: &[&str]) -> TestServer {
        TestServer::start_with_bind("127.0.0.1:0", extra_args)
    }

    /// Starts a server bound to `bind` with extra flags.
    pub fn start_with_bind(bind: &str, extra_args: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut server = TestServer {
            child: None,
            kubeconfig: dir.path().join("admin.kubeconfig"),
            dir,
            addr: String::new(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn(bind);
        server
    }

    fn spawn(&mut self, bind: &str) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mkc"))
            .args(["server", "--data-dir"])
            .arg(self.dir.path())
            .args(["--bind", bind])
            .args(&self.extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start mkc server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("mkc server prints a ready line");
        let addr = line
            .split("https://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected ready line: {line}"));
        self.addr = addr.to_string();
        self.child = Some(child);
    }

    /// Starts the stopped server again on the same directory and port.
    pub fn start_again(&mut self) {
        let addr = self.addr.clone();
        self.spawn(&addr);
    }

    /// Stops the server (as SIGTERM would) and starts it again on the same directory and port.
    pub fn restart(&mut self) {
        let status = self.stop();
        assert!(status.success(), "server exited with {status}");
        self.start_again();
    }

    /// Sends SIGTERM and waits for the process to end.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        child.wait().expect("wait for server")
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Reads a file the server keeps in its data directory.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).expect("data directory file")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One real kubectl binary.
#[derive(Debug, Clone)]
pub struct Kubectl {
    pub version: String,
    pub path: PathBuf,
}

/// Every `kubectl.1.NN` beside the kubectl on PATH, oldest first. Panics when there is none:
/// the tests exist to run against the real binaries.
pub fn kubectls() -> Vec<Kubectl> {
    let on_path = Command::new("sh")
        .args(["-c", "readlink -f \"$(command -v kubectl)\""])
        .output()
        .expect("find kubectl");
    let resolved = PathBuf::from(String::from_utf8_lossy(&on_path.stdout).trim());
    let dir = resolved.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut found: Vec<Kubectl> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    let version = name.strip_prefix("kubectl.")?.to_string();
                    Some(Kubectl {
                        version,
                        path: e.path(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|k| {
        k.version
            .split('.')
            .nth(1)
            .and_then(|m| m.parse::<u32>().ok())
    });
    assert!(
        !found.is_empty(),
        "no kubectl.1.NN binaries beside {}",
        resolved.display()
    );
    found
}

/// The result of one kubectl run.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    /// Runs kubectl against `server` with a throwaway discovery cache.
    pub fn run(&self, server: &TestServer, args: &[&str]) -> Run {
        let cache = tempfile::tempdir().expect("cache directory");
        self.run_with_cache(server, cache.path(), args, None)
    }

    /// Runs kubectl feeding `stdin`.
    pub fn run_stdin(&self, server: &TestServer, args: &[&str], stdin: &str) -> Run {
        let cache = tempfile::tempdir().expect("cache directory");
        self.run_with_cache(server, cache.path(), args, Some(stdin))
    }

    pub fn run_with_cache(
        &self,
        server: &TestServer,
        cache: &Path,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Run {
        self.run_in(&server.kubeconfig, cache, args, stdin)
    }

    fn run_in(&self, kubeconfig: &Path, cache: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        use std::io::Write;
        let mut child = Command::new(&self.path)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(cache)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("kubectl output");
        Run {
            ok: status.success(),
            stdout: String::from_utf8_lossy(&stdout).to_string(),
            stderr: String::from_utf8_lossy(&stderr).to_string(),
        }
    }

    /// Runs kubectl and returns stdout, failing the test with kubectl's stderr if it fails.
    pub fn ok(&self, server: &TestServer, args: &[&str]) -> String {
        self.ok_with(&server.kubeconfig, args)
    }

    /// Runs kubectl with `kubeconfig` rather than a server's admin kubeconfig.
    pub fn run_with(&self, kubeconfig: &Path, args: &[&str]) -> Run {
        let cache = tempfile::tempdir().expect("cache directory");
        self.run_in(kubeconfig, cache.path(), args, None)
    }

    /// Like [`Kubectl::ok`], for a server known by its kubeconfig.
    pub fn ok_with(&self, kubeconfig: &Path, args: &[&str]) -> String {
        let cache = tempfile::tempdir().expect("cache directory");
        let run = self.run_in(kubeconfig, cache.path(), args, None);
        assert!(
            run.ok,
            "kubectl {} {:?} failed:\n{}{}",
            self.version, args, run.stdout, run.stderr
        );
        run.stdout
    }

    /// Runs kubectl feeding `stdin` and returns stdout, failing the test if it fails.
    pub fn ok_stdin(&self, server: &TestServer, args: &[&str], stdin: &str) -> String {
        let run = self.run_stdin(server, args, stdin);
        assert!(
            run.ok,
            "kubectl {} {:?} failed:\n{}{}",
            self.version, args, run.stdout, run.stderr
        );
        run.stdout
    }

    /// Runs kubectl feeding `stdin`, expecting failure, and returns stderr.
    pub fn fails_stdin(&self, server: &TestServer, args: &[&str], stdin: &str) -> String {
        let run = self.run_stdin(server, args, stdin);
        assert!(
            !run.ok,
            "kubectl {} {:?} should fail but printed:\n{}",
            self.version, args, run.stdout
        );
        run.stderr
    }

    /// Runs kubectl expecting failure and returns stderr.
    pub fn fails(&self, server: &TestServer, args: &[&str]) -> String {
        let run = self.run(server, args);
        assert!(
            !run.ok,
            "kubectl {} {:?} should fail but printed:\n{}",
            self.version, args, run.stdout
        );
        run.stderr
    }
}

/// Runs `check` with the oldest and the newest kubectl, each against a server of its own
/// started with `server_args`, in parallel; fails if either fails.
pub fn for_oldest_and_newest(server_args: &[&str], check: fn(&Kubectl, &TestServer)) {
    let all = kubectls();
    let ends = [all.first().cloned(), all.last().cloned()];
    let handles: Vec<_> = ends
        .into_iter()
        .flatten()
        .map(|kubectl| {
            let args: Vec<String> = server_args.iter().map(|a| a.to_string()).collect();
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let server = TestServer::start_with(&args);
                check(&kubectl, &server);
            })
        })
        .collect();
    let failures = handles.into_iter().filter_map(|h| h.join().err()).count();
    assert_eq!(
        failures, 0,
        "{failures} kubectl versions failed (see above)"
    );
}

/// A `kube` client for the server, over HTTPS with the admin's certificate.
pub async fn client(server: &TestServer) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(&server.kubeconfig).expect("kubeconfig");
    let options = kube::config::KubeConfigOptions::default();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("client config");
    kube::Client::try_from(config).expect("client")
}
