//! Services and cluster DNS on a cluster of Docker containers: pods find each other by name
//! and reach each other through Service addresses; the host reaches NodePorts and
//! LoadBalancer addresses; pods reach the API server as `kubernetes.default.svc`.
//! They need a Docker engine (CI starts one) and make their images offline.

mod common;

use common::docker_cluster::{Cluster, docker, eventually, ready};
use common::images::{NGINX, nginx_image};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// The web tier and its Services: a Deployment of nginx, a NodePort Service `web`, a headless
/// one, a LoadBalancer, and an ExternalName that points at a node container's name (which the
/// host-side resolver knows).
fn web_manifests(node: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: nginx
        image: {NGINX}
        ports: [{{name: http, containerPort: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http, nodePort: 30080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web-headless}}
spec:
  clusterIP: None
  selector: {{app: web}}
  ports: [{{name: http, port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web-lb}}
spec:
  type: LoadBalancer
  selector: {{app: web}}
  ports: [{{port: 8080, targetPort: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: outside}}
spec:
  type: ExternalName
  externalName: {node}
"#
    )
}

/// The second tier: a key-value store (nginx taking PUTs of `/kv/KEY` into an emptyDir, as
/// WebDAV) and a frontend that passes `/api/` on to the store by its Service's name.
const TWO_TIERS: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: store-conf}
data:
  default.conf: |
    server {
      listen 80;
      location / { root /data; dav_methods PUT DELETE; create_full_put_path on; }
    }
---
apiVersion: v1
kind: ConfigMap
metadata: {name: frontend-conf}
data:
  default.conf: |
    server {
      listen 80;
      location /api/ { proxy_pass http://store.default.svc.cluster.local/; }
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: store}
spec:
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec:
      containers:
      - name: nginx
        image: IMAGE
        volumeMounts:
        - {name: conf, mountPath: /etc/nginx/sites-enabled}
        - {name: data, mountPath: /data}
      volumes:
      - {name: conf, configMap: {name: store-conf}}
      - {name: data, emptyDir: {}}
---
apiVersion: v1
kind: Service
metadata: {name: store}
spec:
  selector: {app: store}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
      - name: nginx
        image: IMAGE
        volumeMounts: [{name: conf, mountPath: /etc/nginx/sites-enabled}]
      volumes: [{name: conf, configMap: {name: frontend-conf}}]
---
apiVersion: v1
kind: Service
metadata: {name: frontend}
spec:
  selector: {app: frontend}
  ports: [{port: 80}]
"#;

/// The web pods again, behind a Service that keeps each client with one of them.
const STICKY: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: web-sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{port: 80}]
"#;

/// A Service made while a node's agent restarts.
const AFTER_RESTART: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: after-restart}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: 30081}]
"#;

/// The store on a NodePort that only nodes running it answer.
const LOCAL_ONLY: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: store-local}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: store}
  ports: [{port: 80, nodePort: 30082}]
"#;

/// A pod that stays up to run commands in: with the cluster's CA mounted, one on the pod
/// network and one on the node's.
fn client_pod(name: &str, host_network: bool) -> String {
    let dns_policy = if host_network {
        "ClusterFirstWithHostNet"
    } else {
        "ClusterFirst"
    };
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  hostNetwork: {host_network}
  dnsPolicy: {dns_policy}
  terminationGracePeriodSeconds: 1
  containers:
  - name: shell
    image: {NGINX}
    command: [sleep, infinity]
    volumeMounts: [{{name: ca, mountPath: /ca}}]
  volumes: [{{name: ca, configMap: {{name: kube-root-ca.crt}}}}]
"#
    )
}

fn apply(cluster: &Cluster, manifests: &str) {
    let kubectl = common::kubectls().pop().unwrap();
    let applied = cluster.run(&kubectl, &["apply", "-f", "-"], manifests);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
}

/// Runs `script` with `sh -c` in the pod; its exit status and what it printed.
fn sh(cluster: &Cluster, pod: &str, script: &str) -> (bool, String) {
    let kubectl = common::kubectls().pop().unwrap();
    let out = cluster.run(&kubectl, &["exec", pod, "--", "sh", "-c", script], "");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn wait_ready(cluster: &Cluster, selector: &[&str], count: usize) -> Vec<Value> {
    eventually("pods Running and Ready", Duration::from_secs(90), || {
        let mut args = vec!["get", "pods"];
        args.extend(selector);
        let items = cluster.json(&args)["items"].as_array()?.clone();
        (items.len() == count && items.iter().all(ready)).then_some(items)
    })
}

/// An HTTP GET from the host; the body, if anything answered.
fn http_get(address: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&address.parse().ok()?, Duration::from_secs(3)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET / HTTP/1.0\r\nHost: test\r\n\r\n").ok()?;
    let mut page = String::new();
    stream.read_to_string(&mut page).ok()?;
    Some(page)
}

/// A node's InternalIP.
fn address(node: &Value) -> String {
    node["status"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "InternalIP")
        .unwrap()["address"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn services_route_and_names_resolve_for_pods_and_the_host() {
    nginx_image();
    let cluster = Cluster::up("t-svc", 2);
    cluster.load(NGINX);
    let outside = cluster.node("control-plane");
    apply(&cluster, &web_manifests(&outside));
    let web = wait_ready(&cluster, &["-l", "app=web"], 3);
    apply(&cluster, &client_pod("client", false));
    apply(&cluster, &client_pod("host-client", true));
    wait_ready(&cluster, &["client", "host-client"], 2);
    let web_ip = cluster.json(&["get", "service", "web"])["spec"]["clusterIP"]
        .as_str()
        .unwrap()
        .to_owned();

    // The pod's resolver and environment, as a kubelet gives them.
    let (_, resolv) = sh(&cluster, "client", "cat /etc/resolv.conf");
    assert!(resolv.contains("nameserver 10.96.0.10"), "{resolv}");
    assert!(
        resolv.contains("search default.svc.cluster.local svc.cluster.local cluster.local"),
        "{resolv}"
    );
    assert!(resolv.contains("options ndots:5"), "{resolv}");
    let (_, env) = sh(
        &cluster,
        "client",
        "echo $WEB_SERVICE_HOST $WEB_SERVICE_PORT_HTTP $KUBERNETES_SERVICE_HOST",
    );
    assert_eq!(env.trim(), format!("{web_ip} 80 10.96.0.1"));

    // By short name and by full name, the Service spreads requests over every pod.
    let (ok, answers) = sh(
        &cluster,
        "client",
        "for i in $(seq 1 30); do curl -sS --max-time 5 http://web/ | grep -q 'Welcome to nginx' && echo ok; done; \
         curl -sS --max-time 5 http://web.default.svc.cluster.local/ | grep -q 'Welcome to nginx' && echo ok",
    );
    assert!(ok, "{answers}");
    assert_eq!(
        answers.split_whitespace().filter(|l| *l == "ok").count(),
        31,
        "{answers}"
    );
    let client_ip = cluster.json(&["get", "pod", "client"])["status"]["podIP"]
        .as_str()
        .unwrap()
        .to_owned();
    for pod in &web {
        let name = pod["metadata"]["name"].as_str().unwrap();
        let log = cluster.kubectl(&["logs", name]);
        assert!(
            log.contains(&format!("{client_ip} - - ")),
            "{name} got no request from the client: {log}"
        );
    }

    // Names: the headless Service answers with its pods, a reverse lookup names the
    // Service, an ExternalName is followed through the host's resolver, and so is any
    // name outside the cluster.
    let pod_ips: Vec<String> = web
        .iter()
        .map(|p| p["status"]["podIP"].as_str().unwrap().to_owned())
        .collect();
    let (_, headless) = sh(
        &cluster,
        "client",
        "getent ahostsv4 web-headless.default.svc.cluster.local | awk '{print $1}' | sort -u",
    );
    assert_eq!(lines(&headless), lines(&pod_ips.join(" ")));
    let (_, reverse) = sh(&cluster, "client", &format!("getent hosts {web_ip}"));
    assert!(
        reverse.contains("web.default.svc.cluster.local"),
        "{reverse}"
    );
    let node_ip = address(&cluster.json(&["get", "node", &outside]));
    let (_, external) = sh(&cluster, "client", "getent hosts outside");
    assert!(external.starts_with(&node_ip), "{external}");
    let (_, forwarded) = sh(&cluster, "client", &format!("getent hosts {outside}"));
    assert!(forwarded.starts_with(&node_ip), "{forwarded}");

    // The API server from inside, its certificate valid for its in-cluster name, from the
    // pod network and from the node's.
    for pod in ["client", "host-client"] {
        let (ok, version) = sh(
            &cluster,
            pod,
            "curl -sS --max-time 5 --cacert /ca/ca.crt https://kubernetes.default.svc/version",
        );
        assert!(ok && version.contains("\"gitVersion\""), "{pod}: {version}");
    }
    // In-cluster configuration as client libraries read it: the pod's mounted token is its
    // service account's, which RBAC lets list nothing here.
    let (_, refused) = sh(
        &cluster,
        "client",
        "d=/var/run/secrets/kubernetes.io/serviceaccount; \
         curl -sS --max-time 5 --cacert $d/ca.crt -H \"Authorization: Bearer $(cat $d/token)\" \
         https://kubernetes.default.svc/api/v1/namespaces/$(cat $d/namespace)/pods",
    );
    assert!(
        refused.contains(
            r#"pods is forbidden: User \"system:serviceaccount:default:default\" cannot list resource \"pods\""#
        ),
        "{refused}"
    );

    // From the host: the NodePort on every node's address, the LoadBalancer's address.
    let nodes = cluster.json(&["get", "nodes"]);
    for node in nodes["items"].as_array().unwrap() {
        let address = address(node);
        let page = http_get(&format!("{address}:30080"));
        assert!(
            page.as_deref()
                .is_some_and(|p| p.contains("Welcome to nginx")),
            "NodePort on {address}: {page:?}"
        );
    }
    let lb = eventually("a load-balancer address", Duration::from_secs(30), || {
        let svc = cluster.json(&["get", "service", "web-lb"]);
        svc["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .map(str::to_owned)
    });
    let page = http_get(&format!("{lb}:8080"));
    assert!(
        page.as_deref()
            .is_some_and(|p| p.contains("Welcome to nginx")),
        "LoadBalancer {lb}: {page:?}"
    );

    // Session affinity: one client's connections stay with one pod.
    apply(&cluster, STICKY);
    eventually(
        "the sticky Service answering",
        Duration::from_secs(10),
        || {
            let (ok, out) = sh(
                &cluster,
                "client",
                "curl -sS --max-time 5 http://web-sticky/",
            );
            (ok && out.contains("Welcome to nginx")).then_some(())
        },
    );
    let (ok, out) = sh(
        &cluster,
        "client",
        "for i in $(seq 1 10); do curl -s -o /dev/null --max-time 5 http://web-sticky/sticky; done",
    );
    assert!(ok, "{out}");
    let sticky: Vec<usize> = web
        .iter()
        .map(|pod| {
            let log = cluster.kubectl(&["logs", pod["metadata"]["name"].as_str().unwrap()]);
            log.matches("GET /sticky ").count()
        })
        .collect();
    let mut counts = sticky.clone();
    counts.sort();
    assert_eq!(counts, [0, 0, 10], "{sticky:?}");

    // A restarted agent rebuilds its rules: afterwards it routes a new Service, and once that
    // is gone the node holds the same rules as before, none doubled.
    let worker = cluster.node("worker");
    let worker_ip = address(&cluster.json(&["get", "node", &worker]));
    let ours = || {
        let saved = docker(&["exec", &worker, "iptables-save"]);
        let mut rules: Vec<String> = saved
            .lines()
            .filter(|l| l.starts_with("-A") && l.contains("MKC-"))
            .map(str::to_owned)
            .collect();
        rules.sort();
        rules
    };
    let before = ours();
    assert!(
        before
            .iter()
            .any(|r| r.starts_with("-A PREROUTING -j MKC-SERVICES"))
    );
    docker(&["exec", &worker, "pkill", "-x", "mkc-node-agent"]);
    apply(&cluster, AFTER_RESTART);
    let fresh = format!("{worker_ip}:30081");
    eventually(
        "the new Service answering on the restarted node",
        Duration::from_secs(30),
        || {
            http_get(&fresh)
                .is_some_and(|p| p.contains("Welcome to nginx"))
                .then_some(())
        },
    );
    cluster.kubectl(&["delete", "service", "after-restart"]);
    eventually(
        "the node's rules as they were",
        Duration::from_secs(10),
        || (ours() == before).then_some(()),
    );

    // No endpoints: refused at once (curl's exit 7, not a timeout); back when pods are.
    cluster.kubectl(&["scale", "deployment", "web", "--replicas=0"]);
    eventually("web without endpoints", Duration::from_secs(60), || {
        let pods = cluster.json(&["get", "pods", "-l", "app=web"]);
        pods["items"].as_array()?.is_empty().then_some(())
    });
    let refused = eventually("the connection refused", Duration::from_secs(10), || {
        let (_, out) = sh(
            &cluster,
            "client",
            "curl -sS --max-time 5 http://web/; echo exit=$?",
        );
        out.contains("exit=7").then_some(out)
    });
    assert!(refused.contains("Failed to connect"), "{refused}");
    cluster.kubectl(&["scale", "deployment", "web", "--replicas=2"]);
    wait_ready(&cluster, &["-l", "app=web"], 2);
    eventually("web answering again", Duration::from_secs(10), || {
        let (ok, out) = sh(&cluster, "client", "curl -sS --max-time 5 http://web/");
        (ok && out.contains("Welcome to nginx")).then_some(())
    });

    // Two tiers by Service names: a value written through the frontend is kept by the store
    // (nginx's workers, not root, write it into an emptyDir) and read back the same way.
    apply(&cluster, &TWO_TIERS.replace("IMAGE", NGINX));
    wait_ready(&cluster, &["-l", "app in (store,frontend)"], 2);
    // Ready pods reach the nodes' rules a moment later, as with kube-proxy: until both
    // Services route, the write is refused (or the frontend answers 502) and nothing is kept.
    eventually(
        "the write through both tiers",
        Duration::from_secs(10),
        || {
            let (ok, stored) = sh(
                &cluster,
                "client",
                "curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X PUT \
             --data-binary 'hello from the store' http://frontend/api/kv/greeting",
            );
            (ok && stored.trim() == "201").then_some(())
        },
    );
    let (ok, greeting) = sh(
        &cluster,
        "client",
        "curl -sS --max-time 5 http://frontend/api/kv/greeting",
    );
    assert!(
        ok && greeting.trim() == "hello from the store",
        "{greeting}"
    );

    // externalTrafficPolicy: Local: only the node running the store answers on the
    // NodePort, and the store sees the host's own address, not a node's.
    apply(&cluster, LOCAL_ONLY);
    let store = &cluster.json(&["get", "pods", "-l", "app=store"])["items"][0];
    let store_node = store["spec"]["nodeName"].as_str().unwrap().to_owned();
    let node_ips: Vec<(String, String)> = cluster.json(&["get", "nodes"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["metadata"]["name"].as_str().unwrap().to_owned(),
                address(n),
            )
        })
        .collect();
    let (_, store_ip) = node_ips
        .iter()
        .find(|(name, _)| *name == store_node)
        .unwrap();
    eventually(
        "the store's node answering",
        Duration::from_secs(10),
        || {
            http_get(&format!("{store_ip}:30082"))
                .is_some_and(|p| p.contains("Server: nginx"))
                .then_some(())
        },
    );
    for (name, ip) in &node_ips {
        if *name != store_node {
            assert_eq!(http_get(&format!("{ip}:30082")), None, "{name} answered");
        }
    }
    let log = cluster.kubectl(&["logs", store["metadata"]["name"].as_str().unwrap()]);
    let last = log
        .lines()
        .filter(|l| l.contains("GET / "))
        .last()
        .unwrap_or_default();
    let source = last.split_whitespace().next().unwrap_or_default();
    assert!(
        !source.is_empty()
            && !source.starts_with("10.244.")
            && node_ips.iter().all(|(_, ip)| ip != source),
        "{last}"
    );
}
