//! Clusters of real Docker containers, end to end: `mkc up`, workloads running in the nodes'
//! own Docker daemons, logs through the API server, pod traffic across nodes, `mkc down`.
//! They need a Docker engine (CI starts one) and make the images they need offline, with
//! debootstrap from the machine's Debian mirror.

mod common;

use common::docker_cluster::{Cluster, docker, eventually, labelled, mkc, ready};
use common::images::{NGINX, nginx_image, node_image};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

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

    // A second cluster beside it, in the same kubeconfig, is not touched by its removal.
    let beside = cluster.beside("t-beside", 0);
    assert_eq!(
        beside.kubectl(&["config", "current-context"]).trim(),
        "mkc-t-beside"
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
    assert!(config.contains("mkc-t-beside"), "{config}");
    let left = beside.json(&["get", "nodes"]);
    assert_eq!(
        left["items"][0]["metadata"]["name"],
        "mkc-t-beside-control-plane"
    );
    drop(beside);
    assert_eq!(labelled("t-beside"), "");
}

#[test]
fn nginx_runs_on_every_worker_answers_across_nodes_and_logs_through_the_api() {
    nginx_image();
    let cluster = Cluster::up("t-web", 2);
    let first = cluster.load(NGINX);
    assert!(first.contains(&format!("{NGINX} loaded into ")), "{first}");
    let again = cluster.load(NGINX);
    assert_eq!(
        again.trim(),
        format!(
            "{NGINX} already on {}, {}, {}",
            cluster.node("control-plane"),
            cluster.node("worker"),
            cluster.node("worker2")
        )
    );
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
    let created = cluster.run(&kubectl, &["create", "-f", "-"], &client);
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

    streams_work_with_every_kubectl(&cluster, target_name);
    streams_work_with_the_python_client(&cluster, target_name);

    // A container whose process ends is started again; its previous log stays readable.
    cluster.kubectl(&["exec", target_name, "--", "sh", "-c", "kill 1"]);
    eventually("the container to restart", Duration::from_secs(60), || {
        let pod = cluster.json(&["get", "pod", target_name]);
        let status = &pod["status"]["containerStatuses"][0];
        (status["restartCount"] == 1 && status["ready"] == true).then_some(())
    });
    let previous = cluster.kubectl(&["logs", target_name, "--previous"]);
    assert!(
        previous.contains(&format!("{client_ip} - - ")),
        "{previous}"
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

/// exec (output, exit code, stdin) and port-forward with the official Python client, which
/// streams over WebSockets only (tests/python/streams_test.py).
fn streams_work_with_the_python_client(cluster: &Cluster, pod: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/streams_test.py");
    let python = std::env::var("MKC_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(&python)
        .arg(script)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("MKC_POD", pod)
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client's streams:\n{report}"
    );
    assert!(report.contains("Ran 4 tests"), "{report}");
}

/// exec (output, exit code, stdin), cp, attach and port-forward through the API server, with
/// the oldest kubectl (SPDY) and the newest (exec over a WebSocket, port-forward over SPDY
/// after its WebSocket tunnel is refused).
fn streams_work_with_every_kubectl(cluster: &Cluster, pod: &str) {
    let kubectls = common::kubectls();
    for kubectl in [kubectls.first().unwrap(), kubectls.last().unwrap()] {
        let version = &kubectl.version;
        let hostname = cluster.run(kubectl, &["exec", pod, "--", "cat", "/etc/hostname"], "");
        assert!(hostname.status.success(), "{version}: {hostname:?}");
        assert_eq!(String::from_utf8_lossy(&hostname.stdout).trim(), pod);

        let failed = cluster.run(kubectl, &["exec", pod, "--", "sh", "-c", "exit 3"], "");
        assert_eq!(failed.status.code(), Some(3), "{version}: {failed:?}");

        let upper = cluster.run(
            kubectl,
            &["exec", "-i", pod, "--", "tr", "a-z", "A-Z"],
            "hello\n",
        );
        assert_eq!(
            String::from_utf8_lossy(&upper.stdout),
            "HELLO\n",
            "{version}"
        );

        let local = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(local.path(), format!("copied by {version}\n")).unwrap();
        let destination = format!("{pod}:/tmp/copied");
        let copied = cluster.run(
            kubectl,
            &["cp", local.path().to_str().unwrap(), &destination],
            "",
        );
        assert!(copied.status.success(), "{version}: {copied:?}");
        let read = cluster.run(kubectl, &["exec", pod, "--", "cat", "/tmp/copied"], "");
        assert_eq!(
            String::from_utf8_lossy(&read.stdout),
            format!("copied by {version}\n")
        );

        let name = format!("attach-{}", version.replace('.', "-"));
        let attached = cluster.run(
            kubectl,
            &[
                "run",
                "-i",
                "--rm",
                &name,
                "--image",
                NGINX,
                "--restart=Never",
                "--",
                "sh",
                "-c",
                "read x; echo got $x",
            ],
            "world\n",
        );
        assert!(
            String::from_utf8_lossy(&attached.stdout).contains("got world"),
            "{version}: {attached:?}"
        );

        assert!(
            port_forward_answers(cluster, kubectl, pod),
            "{version}: port-forward did not reach nginx"
        );
    }
}

/// Runs `kubectl port-forward POD :80` and asks nginx for its page through the local port.
fn port_forward_answers(cluster: &Cluster, kubectl: &common::Kubectl, pod: &str) -> bool {
    let cache = tempfile::tempdir().unwrap();
    let mut forward = Command::new(&kubectl.path)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["port-forward", pod, ":80"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl port-forward");
    // Kept open to the end: kubectl dies of a closed stdout when it reports a connection.
    let mut output = BufReader::new(forward.stdout.take().unwrap());
    let mut line = String::new();
    output.read_line(&mut line).unwrap();
    // "Forwarding from 127.0.0.1:PORT -> 80"
    let port = line
        .split_whitespace()
        .nth(2)
        .and_then(|address| address.rsplit(':').next())
        .and_then(|port| port.parse::<u16>().ok());
    let page = port.and_then(|port| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream
            .write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")
            .ok()?;
        let mut page = String::new();
        stream.read_to_string(&mut page).ok()?;
        Some(page)
    });
    let _ = forward.kill();
    let _ = forward.wait();
    page.is_some_and(|page| page.contains("Welcome to nginx"))
}

#[test]
fn a_failed_up_removes_what_it_made_and_says_why() {
    node_image();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    // No node can be Ready the moment it starts: the wait fails, and `up` undoes itself.
    let up = mkc(&["up", "--name", "t-fail", "--wait", "0s"], &kubeconfig);
    let said = String::from_utf8_lossy(&up.stderr);
    assert!(!up.status.success());
    assert!(said.contains("were not Ready within"), "{said}");
    assert!(said.contains("cleaning up"), "{said}");
    assert_eq!(labelled("t-fail"), "");
    let config = std::fs::read_to_string(&kubeconfig).unwrap_or_default();
    assert!(!config.contains("mkc-t-fail"), "{config}");

    let bad = mkc(&["up", "--name", "Not_A_Name"], &kubeconfig);
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("is not a cluster name"), "{said}");
}

#[test]
fn a_failing_readiness_probe_keeps_a_pod_out_of_ready_and_its_service() {
    nginx_image();
    let cluster = Cluster::up("t-ready", 1);
    cluster.load(NGINX);
    let deployment = format!(
        r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"gated"}},
           "spec":{{"replicas":1,"selector":{{"matchLabels":{{"app":"gated"}}}},
           "template":{{"metadata":{{"labels":{{"app":"gated"}}}},"spec":{{"containers":[{{
             "name":"web","image":"{NGINX}",
             "readinessProbe":{{"exec":{{"command":["cat","/tmp/ready"]}},"periodSeconds":1}}}}]}}}}}}}}"#
    );
    let kubectl = common::kubectls().pop().unwrap();
    let created = cluster.run(&kubectl, &["create", "-f", "-"], &deployment);
    assert!(created.status.success(), "{created:?}");
    cluster.kubectl(&["expose", "deployment", "gated", "--port", "80"]);
    let pod = eventually("the pod to run", Duration::from_secs(60), || {
        let pods = cluster.json(&["get", "pods", "-l", "app=gated"]);
        let pod = pods["items"].get(0)?.clone();
        (pod["status"]["containerStatuses"][0]["started"] == true).then_some(pod)
    });
    let name = pod["metadata"]["name"].as_str().unwrap().to_owned();
    // Running but not ready: the Service has no ready address.
    std::thread::sleep(Duration::from_secs(3));
    let pod = cluster.json(&["get", "pod", &name]);
    assert!(!ready(&pod), "{pod}");
    let endpoints = cluster.json(&["get", "endpoints", "gated"]);
    assert!(
        endpoints["subsets"][0]["addresses"].is_null(),
        "{endpoints}"
    );

    cluster.kubectl(&["exec", &name, "--", "touch", "/tmp/ready"]);
    let ip = eventually("the pod to be Ready", Duration::from_secs(30), || {
        let pod = cluster.json(&["get", "pod", &name]);
        ready(&pod).then(|| pod["status"]["podIP"].as_str().unwrap().to_owned())
    });
    eventually(
        "the Service to list the pod",
        Duration::from_secs(30),
        || {
            let endpoints = cluster.json(&["get", "endpoints", "gated"]);
            (endpoints["subsets"][0]["addresses"][0]["ip"] == ip.as_str()).then_some(())
        },
    );

    cluster.kubectl(&["exec", &name, "--", "rm", "/tmp/ready"]);
    eventually(
        "the pod to leave the Service",
        Duration::from_secs(30),
        || {
            let endpoints = cluster.json(&["get", "endpoints", "gated"]);
            endpoints["subsets"][0]["addresses"].is_null().then_some(())
        },
    );
}

#[test]
fn restarted_nodes_come_back_with_their_pods_and_objects() {
    nginx_image();
    let cluster = Cluster::up("t-restart", 1);
    cluster.load(NGINX);
    cluster.kubectl(&["create", "deployment", "web", "--image", NGINX]);
    let ready_pod = || {
        let pods = cluster.json(&["get", "pods", "-l", "app=web"]);
        let pod = pods["items"].get(0)?.clone();
        ready(&pod).then_some(pod)
    };
    let before = eventually("the pod to be Ready", Duration::from_secs(60), ready_pod);
    let name = before["metadata"]["name"].as_str().unwrap().to_owned();

    // The worker restarts: its engine finds the pod's containers stopped, the agent starts
    // the sandbox again and the container in it, and the pod answers at its address.
    let worker = cluster.node("worker");
    docker(&["restart", &worker]);
    let after = eventually(
        "the pod to run again after its node restarted",
        Duration::from_secs(90),
        || {
            let pod = ready_pod()?;
            let restarts = pod["status"]["containerStatuses"][0]["restartCount"].as_i64();
            (restarts >= Some(1)).then_some(pod)
        },
    );
    assert_eq!(after["metadata"]["name"], name.as_str(), "the same pod");
    let ip = after["status"]["podIP"].as_str().unwrap();
    let page = docker(&["exec", &worker, "curl", "-sS", &format!("http://{ip}/")]);
    assert!(page.contains("nginx"), "{page}");

    // The control plane restarts: every object is still there and the nodes come back Ready.
    docker(&["restart", &cluster.node("control-plane")]);
    let kubectl = common::kubectls().pop().unwrap();
    eventually(
        "the nodes Ready after the control plane restarted",
        Duration::from_secs(90),
        || {
            let nodes = cluster.run(&kubectl, &["get", "nodes", "-o", "json"], "");
            let nodes: Value = serde_json::from_slice(&nodes.stdout).ok()?;
            let items = nodes["items"].as_array()?;
            let all_ready = items.iter().all(|node| {
                node["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (items.len() == 2 && all_ready).then_some(())
        },
    );
    let deployment = cluster.json(&["get", "deployment", "web"]);
    assert_eq!(deployment["status"]["readyReplicas"], 1, "{deployment}");
    assert_eq!(
        cluster.json(&["get", "pod", &name])["metadata"]["name"],
        name.as_str()
    );
}
