//! Admission webhooks as their users meet them: a test process serves a validating webhook
//! (by URL) and two mutating ones (through a Service whose endpoint is the host), and real
//! kubectl drives writes through them: denials with the webhook's message, patches, a
//! reinvocation, selectors, warnings, deletes, failure policies and dry runs.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::https::{HttpsServer, host_address};
use common::{Kubectl, TestServer, kubectls};
use hyper::StatusCode;
use serde_json::{Value, json};

/// What the test's webhooks saw, by path.
#[derive(Default)]
struct Seen {
    /// Path, query and review of every call.
    reviews: Vec<(String, String, Value)>,
    /// Calls of `/count` per review uid.
    counts: HashMap<String, usize>,
}

/// The webhooks: `/deny` refuses ConfigMaps holding a `forbidden` key and the delete of one
/// named `keep`, and warns on everything else; `/count` records how often it saw a review in
/// an annotation; `/label` labels what it sees; `/expire` gives TokenRequests a set life.
fn answer(seen: &Mutex<Seen>, path: &str, query: &str, review: &Value) -> Value {
    let request = &review["request"];
    let uid = request["uid"].clone();
    let mut seen = seen.lock().unwrap();
    seen.reviews
        .push((path.to_owned(), query.to_owned(), review.clone()));
    let patch = |ops: Value| STANDARD.encode(ops.to_string());
    let response = match path {
        "/deny" if request["object"]["data"].get("forbidden").is_some() => json!({
            "allowed": false,
            "status": {"code": 403, "reason": "Forbidden", "message": "the key forbidden is not allowed"},
        }),
        "/deny" if request["operation"] == "CONNECT" => json!({
            "allowed": false,
            "status": {"code": 403, "message": "no exec here"},
        }),
        "/deny"
            if request["subResource"] == "scale"
                && request["object"]["spec"]["replicas"].as_i64() > Some(5) =>
        {
            json!({
                "allowed": false,
                "status": {"message": format!("{} replicas are too many for a {}", request["object"]["spec"]["replicas"], request["object"]["kind"].as_str().unwrap_or_default())},
            })
        }
        "/deny" if request["subResource"] == "binding" => json!({
            "allowed": false,
            "status": {"message": format!("not onto {}", request["object"]["target"]["name"].as_str().unwrap_or_default())},
        }),
        "/deny" if request["operation"] == "DELETE" && request["name"] == "keep" => json!({
            "allowed": false,
            "status": {"message": "keep stays"},
        }),
        "/deny" => json!({"allowed": true, "warnings": ["looked at by the test webhook"]}),
        "/count" => {
            let calls = seen
                .counts
                .entry(uid.as_str().unwrap_or_default().to_owned())
                .or_default();
            *calls += 1;
            let mut ops = Vec::new();
            if request["object"]["metadata"]["annotations"].is_null() {
                ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": {}}));
            }
            ops.push(json!({"op": "add", "path": "/metadata/annotations/count-calls", "value": calls.to_string()}));
            json!({"allowed": true, "patchType": "JSONPatch", "patch": patch(json!(ops))})
        }
        "/label" => {
            let mut ops = Vec::new();
            if request["object"]["metadata"]["labels"].is_null() {
                ops.push(json!({"op": "add", "path": "/metadata/labels", "value": {}}));
            }
            ops.push(json!({"op": "add", "path": "/metadata/labels/webhooked", "value": "yes"}));
            json!({"allowed": true, "patchType": "JSONPatch", "patch": patch(json!(ops))})
        }
        "/expire" => {
            let ops = json!([{"op": "replace", "path": "/spec/expirationSeconds", "value": EXPIRE_SECONDS}]);
            json!({"allowed": true, "patchType": "JSONPatch", "patch": patch(ops), "warnings": ["expiry set"]})
        }
        _ => json!({"allowed": false}),
    };
    let mut response = response;
    response["uid"] = uid;
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
}

/// The life `/expire` gives every token asked for.
const EXPIRE_SECONDS: u64 = 1234;

fn webhook_server() -> (HttpsServer, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let recorded = seen.clone();
    let host = host_address().to_string();
    let server = HttpsServer::start(
        &["webhook.hooks.svc", &host],
        Arc::new(move |call| {
            let review: Value = serde_json::from_slice(call.body).unwrap_or_default();
            let uri = &call.parts.uri;
            let query = uri.query().unwrap_or_default();
            (
                StatusCode::OK,
                answer(&recorded, uri.path(), query, &review),
            )
        }),
    );
    (server, seen)
}

/// The namespaces, the Service in front of the test process, and the configurations.
fn setup(server: &HttpsServer) -> String {
    let ca = STANDARD.encode(&server.ca_pem);
    let host = host_address();
    let port = server.port;
    let url = server.url();
    format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: hooks}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: guarded, labels: {{webhooks: "on"}}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: open}}
---
apiVersion: v1
kind: Service
metadata: {{name: webhook, namespace: hooks}}
spec:
  ports: [{{port: 443, targetPort: {port}}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: webhook, namespace: hooks}}
subsets:
- addresses: [{{ip: "{host}"}}]
  ports: [{{port: {port}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: missing, namespace: hooks}}
spec:
  ports: [{{port: 443}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: deny}}
webhooks:
- name: deny.mkc.test
  clientConfig: {{url: "{url}/deny", caBundle: {ca}}}
  rules:
  - {{operations: [CREATE, UPDATE, DELETE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}}
  namespaceSelector: {{matchLabels: {{webhooks: "on"}}}}
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: subresources}}
webhooks:
- name: subresources.mkc.test
  clientConfig: {{url: "{url}/deny", caBundle: {ca}}}
  rules:
  - {{operations: [CONNECT], apiGroups: [""], apiVersions: [v1], resources: [pods/exec]}}
  - {{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods/binding]}}
  - {{operations: [UPDATE], apiGroups: [apps], apiVersions: [v1], resources: [deployments/scale]}}
  namespaceSelector: {{matchLabels: {{webhooks: "on"}}}}
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: a-count}}
webhooks:
- name: count.mkc.test
  clientConfig: {{service: {{namespace: hooks, name: webhook, path: /count}}, caBundle: {ca}}}
  rules:
  - {{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}}
  namespaceSelector: {{matchLabels: {{webhooks: "on"}}}}
  reinvocationPolicy: IfNeeded
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: b-label}}
webhooks:
- name: label.mkc.test
  clientConfig: {{service: {{namespace: hooks, name: webhook, path: /label}}, caBundle: {ca}}}
  rules:
  - {{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}}
  namespaceSelector: {{matchLabels: {{webhooks: "on"}}}}
  objectSelector: {{matchExpressions: [{{key: skip-label, operator: DoesNotExist}}]}}
  sideEffects: NoneOnDryRun
  admissionReviewVersions: [v1beta1, v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: c-expire}}
webhooks:
- name: expire.mkc.test
  clientConfig: {{url: "{url}/expire", caBundle: {ca}}}
  rules:
  - {{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [serviceaccounts/token]}}
  namespaceSelector: {{matchLabels: {{webhooks: "on"}}}}
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: unreachable}}
webhooks:
- name: unreachable.mkc.test
  clientConfig: {{service: {{namespace: hooks, name: missing}}}}
  rules:
  - {{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [secrets]}}
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
"#
    )
}

fn newest() -> Kubectl {
    kubectls().pop().expect("a kubectl")
}

#[test]
fn webhooks_deny_mutate_and_fail_as_configured() {
    let (webhook, seen) = webhook_server();
    let server = TestServer::start();
    let kubectl = newest();
    kubectl.ok_stdin(&server, &["apply", "-f", "-"], &setup(&webhook));

    // A denial carries the webhook's message and code.
    let refused = kubectl.fails(
        &server,
        &[
            "create",
            "configmap",
            "bad",
            "-n",
            "guarded",
            "--from-literal=forbidden=1",
        ],
    );
    assert!(
        refused.contains(
            r#"admission webhook "deny.mkc.test" denied the request: the key forbidden is not allowed"#
        ),
        "{refused}"
    );
    let status = kubectl.run(
        &server,
        &["get", "--raw", "/api/v1/namespaces/guarded/configmaps/bad"],
    );
    assert!(!status.ok, "a denied create stores nothing");

    // Outside the selected namespaces the webhooks are not asked.
    kubectl.ok(
        &server,
        &[
            "create",
            "configmap",
            "bad",
            "-n",
            "open",
            "--from-literal=forbidden=1",
        ],
    );
    let asked_in_open = seen
        .lock()
        .unwrap()
        .reviews
        .iter()
        .filter(|(_, _, r)| r["request"]["namespace"] == "open")
        .count();
    assert_eq!(asked_in_open, 0);

    // Patches from both mutating webhooks are applied; the counting one is called again
    // because the labelling one changed the object after it.
    let created = kubectl.run(
        &server,
        &[
            "create",
            "configmap",
            "good",
            "-n",
            "guarded",
            "--from-literal=a=1",
        ],
    );
    assert!(created.ok, "{}", created.stderr);
    assert!(
        created
            .stderr
            .contains("Warning: looked at by the test webhook"),
        "the webhook's warning reaches kubectl: {}",
        created.stderr
    );
    let good: Value = serde_json::from_str(&kubectl.ok(
        &server,
        &["get", "configmap", "good", "-n", "guarded", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(good["metadata"]["labels"]["webhooked"], "yes");
    assert_eq!(good["metadata"]["annotations"]["count-calls"], "2");

    // With the labelling webhook excluded by its object selector, nothing changes after the
    // counting webhook, which is called once.
    kubectl.ok_stdin(
        &server,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped, namespace: guarded, labels: {skip-label: '1'}}\n",
    );
    let skipped: Value = serde_json::from_str(&kubectl.ok(
        &server,
        &["get", "configmap", "skipped", "-n", "guarded", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(skipped["metadata"]["annotations"]["count-calls"], "1");
    assert!(skipped["metadata"]["labels"]["webhooked"].is_null());

    // The reviews say who asked what.
    {
        let seen = seen.lock().unwrap();
        let (_, _, review) = seen
            .reviews
            .iter()
            .find(|(path, _, r)| path == "/deny" && r["request"]["name"] == "good")
            .expect("the validating webhook saw the create");
        let request = &review["request"];
        assert_eq!(request["operation"], "CREATE");
        assert_eq!(request["namespace"], "guarded");
        assert_eq!(
            request["kind"],
            json!({"group": "", "version": "v1", "kind": "ConfigMap"})
        );
        assert_eq!(request["userInfo"]["username"], "kubernetes-admin");
        assert_eq!(request["dryRun"], false);
        assert_eq!(
            request["object"]["metadata"]["labels"]["webhooked"], "yes",
            "validating webhooks see the mutated object"
        );
        assert!(
            seen.reviews
                .iter()
                .all(|(_, query, _)| query == "timeout=10s"),
            "every call names the webhook's timeout"
        );
        let (_, _, labelled) = seen
            .reviews
            .iter()
            .find(|(path, _, _)| path == "/label")
            .expect("the labelling webhook was called");
        assert_eq!(
            labelled["apiVersion"], "admission.k8s.io/v1beta1",
            "the first review version the webhook accepts"
        );
    }

    // Deletes are reviewed with the object that goes.
    kubectl.ok(&server, &["create", "configmap", "keep", "-n", "guarded"]);
    let kept = kubectl.fails(&server, &["delete", "configmap", "keep", "-n", "guarded"]);
    assert!(
        kept.contains(r#"admission webhook "deny.mkc.test" denied the request: keep stays"#),
        "{kept}"
    );
    kubectl.ok(&server, &["get", "configmap", "keep", "-n", "guarded"]);

    // Connects are reviewed with their options, before the pod's node is asked anything.
    kubectl.ok(
        &server,
        &[
            "run",
            "shell",
            "-n",
            "guarded",
            "--image=busybox",
            "--restart=Never",
        ],
    );
    let exec = kubectl.fails(
        &server,
        &["exec", "-n", "guarded", "shell", "--", "ls", "/"],
    );
    assert!(
        exec.contains(
            r#"admission webhook "subresources.mkc.test" denied the request: no exec here"#
        ),
        "{exec}"
    );
    {
        let seen = seen.lock().unwrap();
        let (_, _, review) = seen
            .reviews
            .iter()
            .find(|(_, _, r)| r["request"]["operation"] == "CONNECT")
            .expect("the connect was reviewed");
        let request = &review["request"];
        assert_eq!(request["name"], "shell");
        assert_eq!(request["subResource"], "exec");
        assert_eq!(request["object"]["kind"], "PodExecOptions");
        assert_eq!(request["object"]["command"], json!(["ls", "/"]));
        assert!(
            request["options"].is_null(),
            "a connect has no options of its own"
        );
    }
    // So are the objects posted to a subresource: a Binding here.
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "shell"},
                         "target": {"kind": "Node", "name": "elsewhere"}});
    let bound = kubectl.fails_stdin(
        &server,
        &[
            "create",
            "--raw",
            "/api/v1/namespaces/guarded/pods/shell/binding",
            "-f",
            "-",
        ],
        &binding.to_string(),
    );
    assert!(
        bound.contains(
            r#"admission webhook "subresources.mkc.test" denied the request: not onto elsewhere"#
        ),
        "{bound}"
    );

    // A scale write is reviewed as the Scale it is.
    let in_guarded = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["-n", "guarded"]);
        kubectl.run(&server, &args)
    };
    assert!(in_guarded(&["create", "deployment", "web", "--image=nginx"]).ok);
    assert!(in_guarded(&["scale", "deployment/web", "--replicas=3"]).ok);
    let scaled = in_guarded(&["scale", "deployment/web", "--replicas=9"]);
    assert!(
        scaled.stderr.contains(
            r#"admission webhook "subresources.mkc.test" denied the request: 9 replicas are too many for a Scale"#
        ),
        "{}",
        scaled.stderr
    );
    let replicas = in_guarded(&["get", "deployment/web", "-o", "jsonpath={.spec.replicas}"]);
    assert_eq!(replicas.stdout, "3");

    // A mutating webhook's change to a posted object is what the request goes on with: the
    // token lives as long as the webhook said, not the hour asked for.
    kubectl.ok(
        &server,
        &["create", "serviceaccount", "robot", "-n", "guarded"],
    );
    let token = kubectl.ok(
        &server,
        &["create", "token", "robot", "-n", "guarded", "--duration=1h"],
    );
    let claims = token.trim().split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64url claims"))
            .expect("JSON claims");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        EXPIRE_SECONDS,
        "{claims}"
    );

    // A webhook that cannot be reached refuses the write, unless told to be ignored.
    let unreachable = kubectl.fails(&server, &["create", "secret", "generic", "s1"]);
    assert!(
        unreachable.contains(r#"failed calling webhook "unreachable.mkc.test""#)
            && unreachable.contains(r#"no endpoints available for service "missing""#),
        "{unreachable}"
    );
    kubectl.ok(
        &server,
        &[
            "patch",
            "validatingwebhookconfiguration",
            "unreachable",
            "--type=json",
            "-p",
            r#"[{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Ignore"}]"#,
        ],
    );
    kubectl.ok(&server, &["create", "secret", "generic", "s1"]);

    // A dry run is reviewed as one (every webhook v1 registers is free of side effects on
    // dry runs) and stores nothing.
    kubectl.ok(
        &server,
        &[
            "create",
            "configmap",
            "dry",
            "-n",
            "guarded",
            "--dry-run=server",
        ],
    );
    let dry = seen
        .lock()
        .unwrap()
        .reviews
        .iter()
        .filter(|(_, _, r)| r["request"]["name"] == "dry")
        .map(|(_, _, r)| r["request"]["dryRun"].clone())
        .collect::<Vec<_>>();
    assert_eq!(
        dry,
        vec![Value::Bool(true); 4],
        "four calls (one a reinvocation), each a dry run"
    );
    assert!(
        !kubectl
            .run(&server, &["get", "configmap", "dry", "-n", "guarded"])
            .ok
    );
}
