//! What every benchmark needs: a real `mkc server` process in a temporary directory, its
//! resident memory, and a `kube` client that reaches it over HTTPS as any client would.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Runs a benchmark's body on a multi-threaded runtime, as the clients it stands for would run.
pub fn block_on<F: Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(body)
}

/// An `mkc server` process, killed and its directory removed when dropped.
pub struct Server {
    child: Child,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server on a free port with `args` added to its command line, and waits for
    /// the line that says it is ready.
    pub fn start(args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mkc"))
            .args(["server", "--bind", "127.0.0.1:0"])
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mkc server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("ready line");
        assert!(line.contains("ready"), "{line}");
        Server {
            child,
            kubeconfig: dir.path().join("admin.kubeconfig"),
            _dir: dir,
        }
    }

    /// Resident memory of the server process, in MiB.
    pub fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }

    pub async fn client(&self) -> Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("config");
        Client::try_from(config).expect("client")
    }

    /// A client of a user other than the admin: `user` in `group`, with a client certificate
    /// the cluster's CA issues, so RBAC (not `system:masters`) decides its requests.
    #[allow(dead_code)] // Each benchmark compiles this module; only the API server's reads as another user.
    pub async fn client_as(&self, user: &str, group: &str) -> Client {
        use base64::Engine as _;
        let ca = mkc::pki::Authority::load_or_create(&self._dir.path().join("pki")).expect("CA");
        let issued = ca.issue_client(user, group).expect("client certificate");
        let mut kubeconfig = Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let encode = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
        for named in &mut kubeconfig.auth_infos {
            if let Some(auth) = named.auth_info.as_mut() {
                auth.client_certificate_data = Some(encode(&issued.cert_pem));
                auth.client_key_data = Some(encode(&issued.key_pem).into());
            }
        }
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("config");
        Client::try_from(config).expect("client")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
