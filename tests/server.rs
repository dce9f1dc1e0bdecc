//! `mkc server` as a process: what it leaves in its data directory, HTTPS with client
//! certificates or issued tokens (401 otherwise), a clean stop on SIGTERM, and a restart that
//! serves every object with the same resourceVersion.

mod common;

use std::process::Command;

use common::{TestServer, kubectls};

/// Runs curl against the server, trusting its CA, and returns (HTTP code, body).
fn curl(server: &TestServer, path: &str, extra: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "--cacert"])
        .arg(server.dir.path().join("pki/ca.crt"))
        .args(extra)
        .arg(format!("{}{path}", server.url()))
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.parse().unwrap_or(0), body.to_string())
}

#[test]
fn the_data_directory_holds_certificates_kubeconfig_tokens_and_store() {
    let mut server = TestServer::start();
    for file in [
        "pki/ca.crt",
        "pki/ca.key",
        "pki/admin.crt",
        "pki/admin.key",
        "pki/sa.key",
        "admin.kubeconfig",
        "tokens.csv",
        "store.redb",
    ] {
        assert!(server.dir.path().join(file).exists(), "{file} missing");
    }
    let kubeconfig = server.read("admin.kubeconfig");
    assert!(
        kubeconfig.contains(&format!("server: {}", server.url())),
        "{kubeconfig}"
    );
    let status = server.stop();
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status}"
    );
}

#[test]
fn only_https_with_a_certificate_or_an_issued_token_gets_in() {
    let server = TestServer::start();
    let (code, body) = curl(&server, "/api/v1/namespaces", &[]);
    assert_eq!(code, 401);
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status["kind"].as_str(), status["reason"].as_str()),
        (Some("Status"), Some("Unauthorized"))
    );

    let token = server
        .read("tokens.csv")
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let (code, body) = curl(
        &server,
        "/api/v1/namespaces",
        &["-H", &format!("Authorization: Bearer {token}")],
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("kube-node-lease"));
    let (code, _) = curl(
        &server,
        "/api/v1/namespaces",
        &["-H", "Authorization: Bearer not-issued"],
    );
    assert_eq!(code, 401);

    let cert = server.dir.path().join("pki/admin.crt");
    let key = server.dir.path().join("pki/admin.key");
    let (code, _) = curl(
        &server,
        "/apis/apps/v1/deployments",
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 200);

    assert_eq!(curl(&server, "/healthz", &[]), (200, "ok".to_string()));
    assert_eq!(curl(&server, "/readyz", &[]).0, 200);
    let (code, version) = curl(&server, "/version", &[]);
    assert_eq!(code, 200);
    assert_eq!(curl(&server, "/version/", &[]), (200, version.clone()));
    assert!(
        version.contains("\"gitVersion\":\"v1.33.0+mkc\""),
        "{version}"
    );

    let plain = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://{}/healthz", server.addr),
        ])
        .output()
        .unwrap();
    assert_ne!(
        String::from_utf8_lossy(&plain.stdout),
        "200",
        "plain HTTP is not served"
    );
}

/// A refusal made before the body is read still reaches an HTTP/2 client that sends one:
/// unauthenticated (401) and for a resource that does not exist (404), every time.
#[test]
fn refusals_reach_http2_clients_that_send_a_body() {
    let server = TestServer::start_with(&["--controllers", ""]);
    let token = server
        .read("tokens.csv")
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let auth = format!("Authorization: Bearer {token}");
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#;
    let post = [
        "--http2",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        body,
    ];
    for _ in 0..10 {
        let (code, _) = curl(&server, "/api/v1/namespaces/default/configmaps", &post);
        assert_eq!(code, 401);
        let with_token = [&post[..], &["-H", &auth]].concat();
        let (code, answer) = curl(&server, "/api/v1/namespaces/default/nopes", &with_token);
        assert_eq!(code, 404, "{answer}");
    }
}

#[test]
fn a_restart_serves_every_object_with_its_resource_version() {
    let mut server = TestServer::start();
    let kubectl = kubectls().pop().unwrap();
    kubectl.ok(&server, &["create", "deployment", "web", "--image=nginx"]);
    kubectl.ok(
        &server,
        &["create", "configmap", "settings", "--from-literal=a=1"],
    );
    kubectl.ok(&server, &["delete", "configmap", "settings"]);
    let before = kubectl.ok(
        &server,
        &["get", "deployments,namespaces,services", "-A", "-o", "json"],
    );
    server.restart();
    let after = kubectl.ok(
        &server,
        &["get", "deployments,namespaces,services", "-A", "-o", "json"],
    );
    assert_eq!(before, after);
    let missing = kubectl.fails(&server, &["get", "configmap", "settings"]);
    assert!(missing.contains("not found"), "{missing}");
    // Writes go on from where the history left off.
    let next = kubectl.ok(
        &server,
        &[
            "create",
            "configmap",
            "next",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ],
    );
    let before: serde_json::Value = serde_json::from_str(&before).unwrap();
    let highest = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| {
            i["metadata"]["resourceVersion"]
                .as_str()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap();
    assert!(next.parse::<u64>().unwrap() > highest);
}

#[test]
fn the_serving_certificate_names_the_advertise_address() {
    let server = TestServer::start_with_bind("0.0.0.0:0", &["--advertise-address", "127.0.0.2"]);
    assert!(
        server
            .read("admin.kubeconfig")
            .contains("https://127.0.0.2:")
    );
    let kubectl = kubectls().pop().unwrap();
    let namespaces = kubectl.ok(&server, &["get", "namespaces", "-o", "name"]);
    assert!(namespaces.contains("namespace/default"), "{namespaces}");
}

#[test]
fn a_bad_flag_is_one_plain_line_with_the_fix() {
    let output = Command::new(env!("CARGO_BIN_EXE_mkc"))
        .args([
            "server",
            "--data-dir",
            "/tmp/unused",
            "--controllers",
            "*,-bogus",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown controller \"bogus\"; known controllers are"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_mkc"))
        .arg("server")
        .arg("--data-dir")
        .arg(&blocker)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
}

/// The permission bits of a file in the server's data directory.
fn mode(server: &TestServer, name: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let path = server.dir.path().join(name);
    std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn keys_tokens_and_the_store_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let private = [
        "pki/ca.key",
        "pki/admin.key",
        "pki/sa.key",
        "admin.kubeconfig",
        "tokens.csv",
        "store.redb",
    ];
    let mut server = TestServer::start();
    let check = |server: &TestServer| {
        assert_eq!(mode(server, "."), 0o700, "the data directory");
        assert_eq!(mode(server, "pki"), 0o700);
        for file in private {
            assert_eq!(mode(server, file), 0o600, "{file}");
        }
    };
    check(&server);

    // A data directory left readable by an older mkc is narrowed on the next start.
    let stop = server.stop();
    assert!(stop.success());
    let widen = |name: &str, bits: u32| {
        let path = server.dir.path().join(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bits)).unwrap();
    };
    widen(".", 0o755);
    widen("pki", 0o755);
    for file in private {
        widen(file, 0o644);
    }
    server.start_again();
    check(&server);
    assert!(server.stop().success());
}

#[test]
fn every_namespace_gets_a_default_service_account_and_the_cluster_ca_at_once() {
    let server = TestServer::start();
    let kubectl = kubectls().pop().unwrap();
    kubectl.ok(&server, &["create", "namespace", "fresh"]);
    let in_fresh = |args: &[&str]| kubectl.run(&server, &[args, &["-n", "fresh"]].concat());
    let account = || in_fresh(&["get", "serviceaccount", "default"]).ok;
    let ca = || {
        let data = in_fresh(&[
            "get",
            "configmap",
            "kube-root-ca.crt",
            "-o",
            "jsonpath={.data}",
        ]);
        serde_json::from_str::<serde_json::Value>(&data.stdout).unwrap_or_default()
    };
    let only_the_ca = serde_json::json!({"ca.crt": server.read("pki/ca.crt")});
    assert!(eventually(account), "no default ServiceAccount");
    assert!(
        eventually(|| ca() == only_the_ca),
        "no kube-root-ca.crt holding the CA"
    );

    // Deleted or altered, they are put back.
    assert!(in_fresh(&["delete", "serviceaccount", "default"]).ok);
    let forged = r#"{"data":{"ca.crt":"forged","extra":"x"}}"#;
    let patch = [
        "patch",
        "configmap",
        "kube-root-ca.crt",
        "--type=merge",
        "-p",
        forged,
    ];
    assert!(in_fresh(&patch).ok);
    assert!(
        eventually(account),
        "the default ServiceAccount is not made again"
    );
    assert!(
        eventually(|| ca() == only_the_ca),
        "kube-root-ca.crt holds the CA again, and only it"
    );
}

/// Whether `check` holds within five seconds, trying every 100 ms.
fn eventually(check: impl Fn() -> bool) -> bool {
    (0..50).any(|_| {
        let held = check();
        if !held {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        held
    })
}

#[test]
fn a_duration_flag_too_long_to_wait_is_refused_in_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_mkc"))
        .args([
            "server",
            "--data-dir",
            "/tmp/unused",
            "--node-monitor-grace-period",
            "99999999999999999999999h",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "refused, not panicked");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("longer than any duration mkc can wait"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
