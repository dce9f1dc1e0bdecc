//! What the benchmarks of clusters on Docker share: the `mkc` and `docker` commands, and a
//! `kube` client from a cluster's kubeconfig.

use std::path::Path;
use std::process::{Command, Output};

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Runs `mkc` with `args` against `kubeconfig`, failing the benchmark if it fails.
pub fn mkc(args: &[&str], kubeconfig: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_mkc"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run mkc");
    assert!(
        output.status.success(),
        "mkc {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// What `docker` with `args` printed.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().expect("docker");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A client for the cluster whose context `kubeconfig` holds.
pub async fn client(kubeconfig: &Path) -> Client {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&text).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    Client::try_from(config).unwrap()
}
