//! The real kubectl, every version on this machine, against `mkc server`: each version runs the
//! everyday workflow on its own server, and the output is checked as a user would read it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Kubectl, TestServer, kubectls};

/// Runs `check` for every kubectl version at once, each on its own server, and reports every
/// version that failed.
fn for_every_kubectl(check: fn(&Kubectl, &TestServer)) {
    let handles: Vec<_> = kubectls()
        .into_iter()
        .map(|kubectl| {
            std::thread::spawn(move || {
                // The API alone, with the two controllers deletes rely on; workloads stay as
                // created so the output is the same at every run.
                let server =
                    TestServer::start_with(&["--controllers", "garbage-collector,namespace"]);
                check(&kubectl, &server);
            })
        })
        .collect();
    let failures = handles.into_iter().filter_map(|h| h.join().err()).count();
    assert_eq!(
        failures, 0,
        "{failures} kubectl versions failed (see their panics above)"
    );
}

fn lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

const NS: &str = "work";

#[test]
fn create_get_and_describe() {
    for_every_kubectl(|k, s| {
        assert_eq!(
            k.ok(s, &["create", "namespace", NS]).trim(),
            "namespace/work created"
        );
        let out = k.ok(
            s,
            &[
                "create",
                "deployment",
                "web",
                "--image=nginx",
                "--replicas=3",
                "-n",
                NS,
            ],
        );
        assert_eq!(out.trim(), "deployment.apps/web created");

        let table = lines(&k.ok(s, &["get", "deployments", "-n", NS]));
        assert_eq!(
            table[0],
            ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        );
        assert_eq!(table[1][..4], ["web", "0/3", "0", "0"]);

        let wide = lines(&k.ok(s, &["get", "deploy", "web", "-o", "wide", "-n", NS]));
        assert_eq!(
            wide[0],
            [
                "NAME",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "AGE",
                "CONTAINERS",
                "IMAGES",
                "SELECTOR"
            ]
        );
        assert_eq!(wide[1][5..], ["nginx", "nginx", "app=web"]);

        let json: serde_json::Value =
            serde_json::from_str(&k.ok(s, &["get", "deployment", "web", "-o", "json", "-n", NS]))
                .unwrap();
        assert_eq!(json["spec"]["replicas"], 3);
        assert_eq!(json["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(
            json["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "Always"
        );
        assert_eq!(json["metadata"]["generation"], 1);

        let yaml = k.ok(s, &["get", "deployment", "web", "-o", "yaml", "-n", NS]);
        assert!(
            yaml.contains("apiVersion: apps/v1") && yaml.contains("name: web"),
            "{yaml}"
        );

        let labels = lines(&k.ok(s, &["get", "deploy", "--show-labels", "-n", NS]));
        assert_eq!(labels[0].last().map(String::as_str), Some("LABELS"));
        assert_eq!(labels[1].last().map(String::as_str), Some("app=web"));

        let all = lines(&k.ok(s, &["get", "deployments", "-A"]));
        assert_eq!(all[0][0], "NAMESPACE");
        assert_eq!(all[1][..2], ["work", "web"]);

        let namespaces = k.ok(s, &["get", "namespaces"]);
        for ns in [
            "default",
            "kube-system",
            "kube-public",
            "kube-node-lease",
            NS,
        ] {
            assert!(namespaces.contains(ns), "{namespaces}");
        }
        let services = lines(&k.ok(s, &["get", "svc", "-n", "default"]));
        assert_eq!(
            services[1][..5],
            ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"]
        );

        let describe = k.ok(s, &["describe", "deployment", "web", "-n", NS]);
        for expected in [
            "Name:",
            "web",
            "Selector:",
            "app=web",
            "StrategyType:",
            "RollingUpdate",
            "nginx",
        ] {
            assert!(
                describe.contains(expected),
                "describe lacks {expected}:\n{describe}"
            );
        }
    });
}

#[test]
fn change_with_scale_label_annotate_set_image_and_patch() {
    for_every_kubectl(|k, s| {
        k.ok(s, &["create", "namespace", NS]);
        k.ok(
            s,
            &["create", "deployment", "web", "--image=nginx", "-n", NS],
        );
        assert_eq!(
            k.ok(s, &["scale", "deployment/web", "--replicas=4", "-n", NS])
                .trim(),
            "deployment.apps/web scaled"
        );
        assert_eq!(
            k.ok(s, &["label", "deployment", "web", "tier=front", "-n", NS])
                .trim(),
            "deployment.apps/web labeled"
        );
        // kubectl 1.27 itself prints "annotate" where later versions print "annotated".
        let annotated = k.ok(
            s,
            &["annotate", "deployment", "web", "note=hello", "-n", NS],
        );
        let verb = if k.version == "1.27" {
            "annotate"
        } else {
            "annotated"
        };
        assert_eq!(annotated.trim(), format!("deployment.apps/web {verb}"));
        assert_eq!(
            k.ok(
                s,
                &[
                    "set",
                    "image",
                    "deployment/web",
                    "nginx=nginx:1.25",
                    "-n",
                    NS
                ]
            )
            .trim(),
            "deployment.apps/web image updated"
        );
        let jsonpath = "-o=jsonpath={.spec.replicas} {.metadata.labels.tier} {.metadata.annotations.note} {.spec.template.spec.containers[0].image} {.metadata.generation}";
        assert_eq!(
            k.ok(s, &["get", "deployment", "web", jsonpath, "-n", NS]),
            "4 front hello nginx:1.25 3"
        );

        let merge = k.ok(
            s,
            &[
                "patch",
                "deployment",
                "web",
                "--type=merge",
                "-p",
                r#"{"spec":{"paused":true}}"#,
                "-n",
                NS,
            ],
        );
        assert_eq!(merge.trim(), "deployment.apps/web patched");
        let json = k.ok(
            s,
            &[
                "patch",
                "deployment",
                "web",
                "--type=json",
                "-p",
                r#"[{"op":"replace","path":"/spec/replicas","value":2}]"#,
                "-n",
                NS,
            ],
        );
        assert_eq!(json.trim(), "deployment.apps/web patched");
        let spec = k.ok(
            s,
            &[
                "get",
                "deployment",
                "web",
                "-o=jsonpath={.spec.paused} {.spec.replicas}",
                "-n",
                NS,
            ],
        );
        assert_eq!(spec, "true 2");
        let unchanged = k.ok(
            s,
            &[
                "patch",
                "deployment",
                "web",
                "--type=merge",
                "-p",
                r#"{"spec":{"paused":true}}"#,
                "-n",
                NS,
            ],
        );
        assert_eq!(unchanged.trim(), "deployment.apps/web patched (no change)");
    });
}

const MANIFEST: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: work
  labels: {app: api}
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: fast
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: work
data:
  colour: blue
"#;

#[test]
fn apply_client_side_and_server_side_twice() {
    for_every_kubectl(|k, s| {
        k.ok(s, &["create", "namespace", NS]);
        let first = k.run_stdin(s, &["apply", "-f", "-"], MANIFEST);
        assert!(first.ok, "{}", first.stderr);
        assert_eq!(
            first.stdout.trim(),
            "deployment.apps/api created\nconfigmap/settings created"
        );
        let second = k.run_stdin(s, &["apply", "-f", "-"], MANIFEST);
        assert!(second.ok, "{}", second.stderr);
        assert_eq!(
            second.stdout.trim(),
            "deployment.apps/api unchanged\nconfigmap/settings unchanged"
        );

        let changed = MANIFEST
            .replace("colour: blue", "colour: green")
            .replace("value: fast", "value: slow");
        let third = k.run_stdin(s, &["apply", "-f", "-"], &changed);
        assert!(third.ok, "{}", third.stderr);
        assert_eq!(
            third.stdout.trim(),
            "deployment.apps/api configured\nconfigmap/settings configured"
        );
        let env = k.ok(
            s,
            &[
                "get",
                "deploy",
                "api",
                "-n",
                NS,
                "-o=jsonpath={.spec.template.spec.containers[0].env[0].value}",
            ],
        );
        assert_eq!(env, "slow");

        let server_side = MANIFEST
            .replace("name: api", "name: ssa")
            .replace("name: settings", "name: ssa-settings");
        let rv = |k: &Kubectl| {
            k.ok(
                s,
                &[
                    "get",
                    "configmap",
                    "ssa-settings",
                    "-n",
                    NS,
                    "-o=jsonpath={.metadata.resourceVersion}",
                ],
            )
        };
        for round in 0..2 {
            let run = k.run_stdin(s, &["apply", "--server-side", "-f", "-"], &server_side);
            assert!(run.ok, "round {round}: {}", run.stderr);
            assert_eq!(
                run.stdout.trim(),
                "deployment.apps/ssa serverside-applied\nconfigmap/ssa-settings serverside-applied"
            );
        }
        let before = rv(k);
        let again = k.run_stdin(s, &["apply", "--server-side", "-f", "-"], &server_side);
        assert!(again.ok, "{}", again.stderr);
        assert_eq!(
            rv(k),
            before,
            "an unchanged server-side apply writes nothing"
        );
        let managers = k.ok(
            s,
            &[
                "get",
                "configmap",
                "ssa-settings",
                "-n",
                NS,
                "--show-managed-fields",
                "-o=jsonpath={.metadata.managedFields[*].manager}",
            ],
        );
        assert_eq!(managers, "kubectl");
    });
}

#[test]
fn watch_wait_and_delete_with_each_cascade() {
    for_every_kubectl(|k, s| {
        k.ok(s, &["create", "namespace", NS]);
        k.ok(
            s,
            &[
                "create",
                "configmap",
                "seen",
                "--from-literal=a=1",
                "-n",
                NS,
            ],
        );
        let cache = tempfile::tempdir().unwrap();
        let mut watch = Command::new(&k.path)
            .arg("--kubeconfig")
            .arg(&s.kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["get", "configmaps", "-w", "-n", NS])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(watch.stdout.take().unwrap()).lines();
        let header = out.next().unwrap().unwrap();
        assert!(header.starts_with("NAME"), "{header}");
        assert!(out.next().unwrap().unwrap().starts_with("seen"));
        k.ok(
            s,
            &[
                "create",
                "configmap",
                "later",
                "--from-literal=b=2",
                "-n",
                NS,
            ],
        );
        let started = Instant::now();
        let mut saw_later = false;
        while started.elapsed() < Duration::from_secs(20) {
            let line = out.next().unwrap().unwrap();
            assert!(!line.starts_with("NAME"), "headers printed again: {line}");
            if line.starts_with("later") {
                saw_later = true;
                break;
            }
        }
        let _ = watch.kill();
        assert!(saw_later, "kubectl get -w did not show the new configmap");

        let waiter = {
            let (path, kubeconfig) = (k.path.clone(), s.kubeconfig.clone());
            std::thread::spawn(move || {
                let cache = tempfile::tempdir().unwrap();
                Command::new(path)
                    .arg("--kubeconfig")
                    .arg(kubeconfig)
                    .arg("--cache-dir")
                    .arg(cache.path())
                    .args([
                        "wait",
                        "--for=delete",
                        "configmap/seen",
                        "--timeout=60s",
                        "-n",
                        NS,
                    ])
                    .output()
                    .unwrap()
            })
        };
        std::thread::sleep(Duration::from_millis(500));
        k.ok(s, &["delete", "configmap", "seen", "-n", NS]);
        let waited = waiter.join().unwrap();
        assert!(
            waited.status.success(),
            "{}",
            String::from_utf8_lossy(&waited.stderr)
        );

        for cascade in ["background", "orphan", "foreground"] {
            let name = format!("gone-{cascade}");
            k.ok(
                s,
                &["create", "deployment", &name, "--image=nginx", "-n", NS],
            );
            let out = k.ok(
                s,
                &[
                    "delete",
                    "deployment",
                    &name,
                    &format!("--cascade={cascade}"),
                    "-n",
                    NS,
                    "--timeout=60s",
                ],
            );
            assert_eq!(out.trim(), format!("deployment.apps \"{name}\" deleted"));
            let err = k.fails(s, &["get", "deployment", &name, "-n", NS]);
            assert!(err.contains("not found"), "{err}");
        }
    });
}

#[test]
fn errors_read_as_upstream_words_them() {
    for_every_kubectl(|k, s| {
        k.ok(s, &["create", "namespace", NS]);
        let exists = k.fails(s, &["create", "namespace", NS]);
        assert_eq!(
            exists.trim(),
            "Error from server (AlreadyExists): namespaces \"work\" already exists"
        );
        let missing = k.fails(s, &["get", "deployment", "nope", "-n", NS]);
        assert_eq!(
            missing.trim(),
            "Error from server (NotFound): deployments.apps \"nope\" not found"
        );

        let invalid = MANIFEST
            .split("---")
            .next()
            .unwrap()
            .replace("replicas: 2", "replicas: -1");
        let run = k.run_stdin(s, &["apply", "-f", "-"], &invalid);
        assert!(!run.ok);
        assert_eq!(
            run.stderr.trim(),
            "The Deployment \"api\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );

        k.ok(
            s,
            &["create", "configmap", "cm", "--from-literal=a=1", "-n", NS],
        );
        let stale = k.ok(s, &["get", "configmap", "cm", "-n", NS, "-o", "json"]);
        k.ok(s, &["label", "configmap", "cm", "x=y", "-n", NS]);
        let run = k.run_stdin(s, &["replace", "-f", "-"], &stale);
        assert!(!run.ok);
        assert_eq!(
            run.stderr.trim(),
            "Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be fulfilled on configmaps \"cm\": the object has been modified; please apply your changes to the latest version and try again"
        );
    });
}
