//! The API server's rules, exercised through its router without a socket (as axum's examples
//! test a Router): every request goes through authentication, routing and the handlers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::auth::{CertificateUser, User};
use super::{ApiState, Tokens, bootstrap, router};
use crate::store::{Options, Store};

struct Harness {
    _dir: tempfile::TempDir,
    state: Arc<ApiState>,
    app: Router,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    /// The body as sent, for byte-for-byte comparisons.
    raw: bytes::Bytes,
}

/// Waits until the availability controller has written every local APIService's status
/// (its first writes after a start), so tests that count the store's revisions count only
/// their own writes.
async fn settle(state: &ApiState) {
    let apiservices = crate::registry::find("apiregistration.k8s.io", "v1", "apiservices").unwrap();
    for _ in 0..500 {
        let page = state
            .objects
            .list(apiservices, None, None, None)
            .await
            .unwrap();
        if page
            .items
            .iter()
            .all(|s| s["status"]["conditions"].is_array())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the local APIServices never became available");
}

impl Harness {
    async fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.redb"), Options::default()).unwrap();
        let tokens = Tokens::load_or_create(&dir.path().join("tokens.csv")).unwrap();
        let state = Arc::new(ApiState::new(
            store,
            tokens,
            super::TokenSigner::generate().unwrap(),
            "127.0.0.1:6443".into(),
            CancellationToken::new(),
        ));
        tokio::spawn(super::follow_store(state.clone(), CancellationToken::new()));
        bootstrap::run(&state, "127.0.0.1".parse().unwrap(), 6443)
            .await
            .unwrap();
        settle(&state).await;
        let app = router(state.clone());
        let harness = Harness {
            _dir: dir,
            state,
            app,
        };
        // What the service account controller would have made, and new pods run as.
        harness
            .create_ok(
                "/api/v1/namespaces/default/serviceaccounts",
                json!({"metadata": {"name": "default"}}),
            )
            .await;
        harness
    }

    fn admin() -> CertificateUser {
        CertificateUser(User {
            name: "kubernetes-admin".into(),
            groups: vec!["system:masters".into()],
        })
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply {
            status,
            headers,
            body,
            raw: bytes,
        }
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap();
        request.extensions_mut().insert(Harness::admin());
        self.send(request).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        self.raw(method, path, "application/json", bytes).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn create_ok(&self, path: &str, body: Value) -> Value {
        let reply = self.post(path, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}},
        },
    })
}

fn pod(name: &str, node: Option<&str>) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    });
    if let Some(node) = node {
        pod["spec"]["nodeName"] = json!(node);
    }
    pod
}

const CM: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments";
const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test]
async fn requests_without_credentials_get_401_except_health_and_version() {
    let h = Harness::new().await;
    let anonymous = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let reply = h.send(anonymous("/api/v1/namespaces")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["reason"], "Unauthorized");
    for path in ["/healthz", "/livez", "/readyz", "/version", "/version/"] {
        assert_eq!(
            h.send(anonymous(path)).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let token = h.state.tokens.admin_token().unwrap().to_owned();
    let with = |token: &str| {
        Request::get("/api/v1/namespaces")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(h.send(with(&token)).await.status, StatusCode::OK);
    assert_eq!(
        h.send(with("forged")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn discovery_lists_groups_resources_and_subresources() {
    let h = Harness::new().await;
    assert_eq!(h.get("/api").await.body["versions"], json!(["v1"]));
    let groups = h.get("/apis").await.body;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "apiregistration.k8s.io",
            "apps",
            "authentication.k8s.io",
            "authorization.k8s.io",
            "autoscaling",
            "batch",
            "certificates.k8s.io",
            "networking.k8s.io",
            "policy",
            "rbac.authorization.k8s.io",
            "storage.k8s.io",
            "admissionregistration.k8s.io",
            "apiextensions.k8s.io",
            "scheduling.k8s.io",
            "coordination.k8s.io",
            "node.k8s.io",
            "discovery.k8s.io",
            "flowcontrol.apiserver.k8s.io",
        ]
    );
    let core = h.get("/api/v1").await.body;
    let status = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods/status")
        .unwrap();
    assert_eq!(status["verbs"], json!(["get", "patch", "update"]));
    for sub in ["pods/log", "pods/exec", "pods/portforward", "pods/binding"] {
        assert!(
            core["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == sub),
            "{sub}"
        );
    }
    let mut request = Request::get("/apis")
        .header(
            header::ACCEPT,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(Harness::admin());
    let reply = h.send(request).await;
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let apps = &reply.body["items"][1];
    assert_eq!(apps["metadata"]["name"], "apps");
    let deployments = &apps["versions"][0]["resources"][0];
    assert_eq!(
        deployments["responseKind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert_eq!(
        deployments["subresources"][1]["responseKind"]["kind"],
        "Scale"
    );
}

#[tokio::test]
async fn create_fills_what_the_server_owns() {
    let h = Harness::new().await;
    let created = h.create_ok(DEPLOY, deployment("web", 2)).await;
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert_eq!(meta["generation"], 1);
    assert!(meta["uid"].as_str().unwrap().len() == 36);
    assert!(
        meta["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(
        created["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        "25%"
    );
    assert_eq!(
        created["spec"]["template"]["spec"]["restartPolicy"],
        "Always"
    );
    assert_eq!(created["status"], json!({}));

    let generated = h
        .create_ok(
            CM,
            json!({"metadata": {"generateName": "cfg-"}, "data": {}}),
        )
        .await;
    assert!(
        generated["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("cfg-")
    );

    let dry = h.post(&format!("{CM}?dryRun=All"), configmap("dry")).await;
    assert_eq!(dry.status, StatusCode::CREATED);
    assert_eq!(
        h.get(&format!("{CM}/dry")).await.status,
        StatusCode::NOT_FOUND
    );

    let again = h.post(DEPLOY, deployment("web", 2)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body["message"],
        "deployments.apps \"web\" already exists"
    );
    assert_eq!(again.body["reason"], "AlreadyExists");
    assert_eq!(
        again.body["details"],
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );

    let nowhere = h
        .post("/api/v1/namespaces/nowhere/configmaps", configmap("x"))
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.body["message"], "namespaces \"nowhere\" not found");
}

#[tokio::test]
async fn bad_input_is_refused_with_a_status_and_nothing_is_stored() {
    let h = Harness::new().await;
    let before = h.state.objects.store().revision();
    let malformed = h
        .raw(Method::POST, CM, "application/json", "{\"metadata\": ")
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.body["kind"], "Status");
    let yaml = h
        .raw(Method::POST, CM, "application/yaml", "metadata: [unclosed")
        .await;
    assert_eq!(yaml.status, StatusCode::BAD_REQUEST);
    let protobuf = h
        .raw(
            Method::POST,
            CM,
            "application/vnd.kubernetes.protobuf",
            b"k8s\0\x0a\xff".to_vec(),
        )
        .await;
    assert_eq!(protobuf.status, StatusCode::BAD_REQUEST);
    let unknown_type = h.raw(Method::POST, CM, "text/csv", "a,b").await;
    assert_eq!(unknown_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = serde_json::to_vec(
        &json!({"metadata": {"name": "big"}, "data": {"k": "x".repeat(4 << 20)}}),
    )
    .unwrap();
    let too_large = h.raw(Method::POST, CM, "application/json", huge).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.body["reason"], "RequestEntityTooLarge");
    assert_eq!(h.get("/api/v1/widgets").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.get("/apis/nope/v1/things").await.status,
        StatusCode::NOT_FOUND
    );

    let invalid = h.post(DEPLOY, deployment("Bad_Name", -1)).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["reason"], "Invalid");
    let fields: Vec<&str> = invalid.body["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"metadata.name") && fields.contains(&"spec.replicas"),
        "{fields:?}"
    );

    let typed_wrong = h
        .post(
            DEPLOY,
            json!({"metadata": {"name": "w"}, "spec": {"replicas": "three"}}),
        )
        .await;
    assert_eq!(typed_wrong.status, StatusCode::BAD_REQUEST);
    assert!(
        typed_wrong.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Deployment in version \"v1\" cannot be handled as a Deployment")
    );
    // The YAML one, written in YAML, goes through.
    let good_yaml = h
        .raw(
            Method::POST,
            CM,
            "application/yaml",
            "metadata:\n  name: from-yaml\ndata:\n  a: b\n",
        )
        .await;
    assert_eq!(good_yaml.status, StatusCode::CREATED);
    assert_eq!(
        h.state.objects.store().revision(),
        before + 1,
        "only the valid object was stored"
    );
}

#[tokio::test]
async fn unknown_fields_are_refused_when_strict_and_warned_about_otherwise() {
    let h = Harness::new().await;
    let mut object = configmap("extra");
    object["spec"] = json!({"surprise": 1});
    let strict = h
        .post(&format!("{CM}?fieldValidation=Strict"), object.clone())
        .await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        strict.body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"spec\""
    );
    let warned = h.post(CM, object).await;
    assert_eq!(warned.status, StatusCode::CREATED);
    assert_eq!(
        warned.headers["warning"],
        "299 - \"unknown field \\\"spec\\\"\""
    );
    assert!(warned.body.get("spec").is_none());
}

#[tokio::test]
async fn updates_check_resource_versions_and_keep_status_and_generation_honest() {
    let h = Harness::new().await;
    let created = h.create_ok(DEPLOY, deployment("web", 1)).await;
    let mut stale = created.clone();
    let mut changed = created.clone();
    changed["spec"]["replicas"] = json!(3);
    changed["status"] = json!({"replicas": 99});
    let updated = h
        .call(Method::PUT, &format!("{DEPLOY}/web"), Some(changed))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["metadata"]["generation"], 2);
    assert_eq!(
        updated.body["status"],
        json!({}),
        "the main resource ignores status"
    );

    stale["spec"]["replicas"] = json!(5);
    let conflict = h
        .call(Method::PUT, &format!("{DEPLOY}/web"), Some(stale))
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(
        conflict.body["message"],
        "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let mut status = updated.body.clone();
    status["status"] = json!({"replicas": 3, "observedGeneration": 2});
    status["spec"]["replicas"] = json!(7);
    let reply = h
        .call(Method::PUT, &format!("{DEPLOY}/web/status"), Some(status))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["status"]["replicas"], 3);
    assert_eq!(
        reply.body["spec"]["replicas"], 3,
        "the status subresource ignores the spec"
    );
    assert_eq!(reply.body["metadata"]["generation"], 2);

    let same = reply.body.clone();
    let noop = h
        .call(Method::PUT, &format!("{DEPLOY}/web"), Some(same.clone()))
        .await;
    assert_eq!(
        noop.body["metadata"]["resourceVersion"], same["metadata"]["resourceVersion"],
        "a no-op update writes nothing"
    );
}

#[tokio::test]
async fn every_patch_type_applies() {
    let h = Harness::new().await;
    h.create_ok(DEPLOY, deployment("web", 1)).await;
    let url = format!("{DEPLOY}/web");
    let patch = |content_type: &'static str, body: &'static str, _: &str| {
        h.raw(Method::PATCH, &url, content_type, body)
    };
    let merge = patch(
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"tier":"front"}}}"#,
        "",
    )
    .await;
    assert_eq!(merge.body["metadata"]["labels"]["tier"], "front");
    let json = patch(
        "application/json-patch+json",
        r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
        "",
    )
    .await;
    assert_eq!(json.body["spec"]["replicas"], 4);
    let strategic = patch(
        "application/strategic-merge-patch+json",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}}}"#,
        "",
    )
    .await;
    assert_eq!(
        strategic.body["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert_eq!(strategic.body["metadata"]["generation"], 3);
    let failed = patch(
        "application/json-patch+json",
        r#"[{"op":"test","path":"/spec/replicas","value":9}]"#,
        "",
    )
    .await;
    assert_eq!(failed.status, StatusCode::UNPROCESSABLE_ENTITY);

    let apply = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: b\n";
    let url = format!("{CM}/applied?fieldManager=tester");
    let created = h
        .raw(Method::PATCH, &url, "application/apply-patch+yaml", apply)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["metadata"]["managedFields"][0]["manager"],
        "tester"
    );
    assert_eq!(
        created.body["metadata"]["managedFields"][0]["operation"],
        "Apply"
    );
    let again = h
        .raw(Method::PATCH, &url, "application/apply-patch+yaml", apply)
        .await;
    assert_eq!(
        again.body["metadata"]["resourceVersion"],
        created.body["metadata"]["resourceVersion"]
    );
    let without_manager = h
        .raw(
            Method::PATCH,
            &format!("{CM}/applied"),
            "application/apply-patch+yaml",
            apply,
        )
        .await;
    assert_eq!(without_manager.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn finalizers_and_propagation_policies_hold_deleted_objects() {
    let h = Harness::new().await;
    let mut held = configmap("held");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    h.create_ok(CM, held).await;
    let deleted = h.call(Method::DELETE, &format!("{CM}/held"), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(deleted.body["metadata"]["deletionTimestamp"].is_string());
    assert!(h.get(&format!("{CM}/held")).await.body["metadata"]["deletionTimestamp"].is_string());
    let release = h
        .raw(
            Method::PATCH,
            &format!("{CM}/held"),
            "application/merge-patch+json",
            r#"{"metadata":{"finalizers":null}}"#,
        )
        .await;
    assert_eq!(release.status, StatusCode::OK);
    assert_eq!(
        h.get(&format!("{CM}/held")).await.status,
        StatusCode::NOT_FOUND,
        "the last finalizer gone, the object goes"
    );

    h.create_ok(CM, configmap("orphaned")).await;
    let orphan = h
        .raw(
            Method::DELETE,
            &format!("{CM}/orphaned"),
            "application/json",
            r#"{"propagationPolicy":"Orphan"}"#,
        )
        .await;
    assert_eq!(orphan.body["metadata"]["finalizers"], json!(["orphan"]));

    h.create_ok(CM, configmap("gone")).await;
    let gone = h.call(Method::DELETE, &format!("{CM}/gone"), None).await;
    assert_eq!(gone.body["status"], "Success");
    assert_eq!(gone.body["details"]["name"], "gone");
    let bad = h
        .raw(
            Method::DELETE,
            &format!("{CM}/orphaned"),
            "application/json",
            r#"{"propagationPolicy":"Sometimes"}"#,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pods_on_a_node_stay_terminating_until_the_node_confirms() {
    let h = Harness::new().await;
    h.create_ok(PODS, pod("bound", Some("node-1"))).await;
    let first = h.call(Method::DELETE, &format!("{PODS}/bound"), None).await;
    assert_eq!(first.body["metadata"]["deletionGracePeriodSeconds"], 30);
    assert_eq!(h.get(&format!("{PODS}/bound")).await.status, StatusCode::OK);
    let confirmed = h
        .call(
            Method::DELETE,
            &format!("{PODS}/bound?gracePeriodSeconds=0"),
            None,
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK);
    assert_eq!(
        confirmed.body["kind"], "Pod",
        "pods answer a delete with the pod"
    );
    assert_eq!(
        h.get(&format!("{PODS}/bound")).await.status,
        StatusCode::NOT_FOUND
    );

    h.create_ok(PODS, pod("unbound", None)).await;
    h.call(Method::DELETE, &format!("{PODS}/unbound"), None)
        .await;
    assert_eq!(
        h.get(&format!("{PODS}/unbound")).await.status,
        StatusCode::NOT_FOUND,
        "unbound pods go at once"
    );
}

#[tokio::test]
async fn binding_assigns_a_pod_once() {
    let h = Harness::new().await;
    let created = h.create_ok(PODS, pod("p", None)).await;
    assert_eq!(created["status"]["phase"], "Pending");
    assert_eq!(created["status"]["qosClass"], "BestEffort");
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "node-1"}});
    assert_eq!(
        h.post(&format!("{PODS}/p/binding"), binding.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    let bound = h.get(&format!("{PODS}/p")).await.body;
    assert_eq!(bound["spec"]["nodeName"], "node-1");
    assert_eq!(bound["status"]["conditions"][0]["type"], "PodScheduled");
    let twice = h.post(&format!("{PODS}/p/binding"), binding).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(
        twice.body["message"]
            .as_str()
            .unwrap()
            .contains("is already assigned to node \"node-1\"")
    );
}

#[tokio::test]
async fn the_scale_subresource_speaks_autoscaling_v1() {
    let h = Harness::new().await;
    h.create_ok(DEPLOY, deployment("web", 2)).await;
    let scale = h.get(&format!("{DEPLOY}/web/scale")).await.body;
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");
    let patched = h
        .raw(
            Method::PATCH,
            &format!("{DEPLOY}/web/scale"),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":5}}"#,
        )
        .await;
    assert_eq!(patched.body["kind"], "Scale");
    assert_eq!(patched.body["spec"]["replicas"], 5);
    assert_eq!(
        h.get(&format!("{DEPLOY}/web")).await.body["spec"]["replicas"],
        5
    );
}

#[tokio::test]
async fn lists_select_page_and_print_tables() {
    let h = Harness::new().await;
    for (name, tier) in [
        ("a", "front"),
        ("b", "back"),
        ("c", "front"),
        ("d", "front"),
    ] {
        let mut cm = configmap(name);
        cm["metadata"]["labels"] = json!({"tier": tier});
        h.create_ok(CM, cm).await;
    }
    let names = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let front = h
        .get(&format!("{CM}?labelSelector=tier%20in%20(front)"))
        .await
        .body;
    assert_eq!(names(&front), ["a", "c", "d"]);
    assert_eq!(front["kind"], "ConfigMapList");
    let by_name = h
        .get(&format!("{CM}?fieldSelector=metadata.name%3Db"))
        .await
        .body;
    assert_eq!(names(&by_name), ["b"]);
    let bad = h.get(&format!("{CM}?fieldSelector=spec.nothing%3D1")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let page1 = h
        .get(&format!("{CM}?labelSelector=tier%3Dfront&limit=2"))
        .await
        .body;
    assert_eq!(names(&page1), ["a", "c"]);
    let token = page1["metadata"]["continue"].as_str().unwrap();
    let page2 = h
        .get(&format!(
            "{CM}?labelSelector=tier%3Dfront&limit=2&continue={token}"
        ))
        .await
        .body;
    assert_eq!(names(&page2), ["d"]);
    assert!(page2["metadata"]["continue"].is_null());
    assert_eq!(
        page2["metadata"]["resourceVersion"],
        page1["metadata"]["resourceVersion"]
    );

    let all = h.get("/api/v1/configmaps").await.body;
    assert_eq!(names(&all).len(), 4);

    let mut request = Request::get(CM)
        .header(
            header::ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        )
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(Harness::admin());
    let table = h.send(request).await.body;
    assert_eq!(table["kind"], "Table");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "Data", "Age"]);
    assert_eq!(table["rows"][0]["cells"][0], "a");
    assert_eq!(table["rows"][0]["cells"][1], 1);
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");

    let collection = h
        .call(
            Method::DELETE,
            &format!("{CM}?labelSelector=tier%3Dfront"),
            None,
        )
        .await;
    assert_eq!(collection.status, StatusCode::OK);
    assert_eq!(names(&h.get(CM).await.body), ["b"]);
}

#[tokio::test]
async fn services_get_addresses_that_are_released_on_delete() {
    let h = Harness::new().await;
    let svc = |name: &str, kind: &str| json!({"metadata": {"name": name}, "spec": {"type": kind, "selector": {"app": "x"}, "ports": [{"port": 80}]}});
    const SVC: &str = "/api/v1/namespaces/default/services";
    let first = h.create_ok(SVC, svc("one", "NodePort")).await;
    assert_eq!(
        first["spec"]["clusterIP"], "10.96.0.2",
        "10.96.0.1 is the kubernetes Service's"
    );
    assert_eq!(first["spec"]["ports"][0]["nodePort"], 30000);
    assert_eq!(first["spec"]["ports"][0]["targetPort"], 80);
    let second = h.create_ok(SVC, svc("two", "NodePort")).await;
    assert_eq!(second["spec"]["clusterIP"], "10.96.0.3");
    assert_eq!(second["spec"]["ports"][0]["nodePort"], 30001);
    h.call(Method::DELETE, &format!("{SVC}/one"), None).await;
    let third = h.create_ok(SVC, svc("three", "NodePort")).await;
    assert_eq!(
        third["spec"]["clusterIP"], "10.96.0.2",
        "a deleted Service's address is free again"
    );
    assert_eq!(third["spec"]["ports"][0]["nodePort"], 30000);
    let mut clash = svc("four", "ClusterIP");
    clash["spec"]["clusterIP"] = json!("10.96.0.3");
    let refused = h.post(SVC, clash).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Reads watch lines until `count` arrived (or a timeout).
async fn watch_lines(h: &Harness, path: &str, count: usize) -> Vec<Value> {
    let mut request = Request::get(path).body(Body::empty()).unwrap();
    request.extensions_mut().insert(Harness::admin());
    let response = h.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut buffer = Vec::new();
    let mut lines = Vec::new();
    while lines.len() < count {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("watch event in time");
        let Some(Ok(frame)) = frame else { break };
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
        }
        while let Some(at) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=at).collect();
            lines.push(serde_json::from_slice(&line).unwrap());
        }
    }
    lines
}

#[tokio::test]
async fn watches_replay_from_a_revision_and_see_objects_leave_a_selector() {
    let h = Harness::new().await;
    let created = h.create_ok(CM, configmap("w")).await;
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    h.raw(
        Method::PATCH,
        &format!("{CM}/w"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"watched":"yes"}}}"#,
    )
    .await;
    h.raw(
        Method::PATCH,
        &format!("{CM}/w"),
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"watched":"no"}}}"#,
    )
    .await;
    h.call(Method::DELETE, &format!("{CM}/w"), None).await;

    let all = watch_lines(&h, &format!("{CM}?watch=true&resourceVersion={rv}"), 3).await;
    let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["MODIFIED", "MODIFIED", "DELETED"]);
    assert_eq!(all[0]["object"]["kind"], "ConfigMap");

    let selected = watch_lines(
        &h,
        &format!("{CM}?watch=true&resourceVersion={rv}&labelSelector=watched%3Dyes"),
        2,
    )
    .await;
    let types: Vec<&str> = selected
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ADDED", "DELETED"],
        "entering and leaving the selector"
    );

    let initial = watch_lines(&h, &format!("{PODS}?watch=1"), 0).await;
    assert!(initial.is_empty());
}

#[tokio::test]
async fn a_watch_from_a_compacted_revision_gets_410_in_the_stream() {
    let h = Harness::new().await;
    for i in 0..3 {
        h.create_ok(CM, configmap(&format!("c{i}"))).await;
    }
    let store = h.state.objects.store();
    store.compact(store.revision()).await.unwrap();
    let events = watch_lines(&h, &format!("{CM}?watch=true&resourceVersion=1"), 1).await;
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");
}

#[tokio::test]
async fn new_content_cannot_enter_a_terminating_namespace() {
    let h = Harness::new().await;
    h.create_ok(
        "/api/v1/namespaces",
        json!({"metadata": {"name": "leaving"}}),
    )
    .await;
    let deleting = h
        .call(Method::DELETE, "/api/v1/namespaces/leaving", None)
        .await;
    assert_eq!(deleting.body["status"]["phase"], "Terminating");
    let refused = h
        .post("/api/v1/namespaces/leaving/configmaps", configmap("late"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.body["message"],
        r#"configmaps "late" is forbidden: unable to create new content in namespace leaving because it is being terminated"#
    );
    let mut finalized = h.get("/api/v1/namespaces/leaving").await.body;
    finalized["spec"]["finalizers"] = json!([]);
    let done = h
        .call(
            Method::PUT,
            "/api/v1/namespaces/leaving/finalize",
            Some(finalized),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(
        h.get("/api/v1/namespaces/leaving").await.status,
        StatusCode::NOT_FOUND
    );
}

/// A namespace with `labels`, and the `default` ServiceAccount its pods run as.
async fn labelled_namespace(h: &Harness, name: &str, labels: Value) {
    h.create_ok(
        "/api/v1/namespaces",
        json!({"metadata": {"name": name, "labels": labels}}),
    )
    .await;
    h.create_ok(
        &format!("/api/v1/namespaces/{name}/serviceaccounts"),
        json!({"metadata": {"name": "default"}}),
    )
    .await;
}

/// The warnings a reply carries, unquoted from their `299 - "..."` headers.
fn warnings(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all(header::WARNING)
        .iter()
        .map(|value| {
            let quoted = value.to_str().unwrap().strip_prefix("299 - ").unwrap();
            serde_json::from_str(quoted).unwrap()
        })
        .collect()
}

/// What the restricted level finds wrong with `pod`'s (or `deployment`'s) container `c`.
const RESTRICTED_VIOLATIONS: &str = r#"allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#;

#[tokio::test]
async fn a_restricted_namespace_refuses_pods_that_violate_it_in_upstreams_words() {
    let h = Harness::new().await;
    let enforce = json!({"pod-security.kubernetes.io/enforce": "restricted"});
    labelled_namespace(&h, "strict", enforce).await;
    let refused = h
        .post("/api/v1/namespaces/strict/pods", pod("plain", None))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["reason"], "Forbidden");
    assert_eq!(
        refused.body["message"],
        format!(
            r#"pods "plain" is forbidden: violates PodSecurity "restricted:latest": {RESTRICTED_VIOLATIONS}"#
        )
    );
    let mut compliant = pod("compliant", None);
    compliant["spec"]["securityContext"] =
        json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
    compliant["spec"]["containers"][0]["securityContext"] =
        json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}});
    let accepted = h.post("/api/v1/namespaces/strict/pods", compliant).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    assert!(warnings(&accepted).is_empty());
}

#[tokio::test]
async fn a_warn_level_lets_a_violating_pod_in_with_a_warning() {
    let h = Harness::new().await;
    let warn = json!({"pod-security.kubernetes.io/warn": "baseline"});
    labelled_namespace(&h, "watched", warn).await;
    let mut privileged = pod("privileged", None);
    privileged["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    let accepted = h.post("/api/v1/namespaces/watched/pods", privileged).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    assert_eq!(
        warnings(&accepted),
        [
            r#"would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#
        ]
    );
}

#[tokio::test]
async fn a_workload_is_warned_about_its_pod_template() {
    let h = Harness::new().await;
    let warn = json!({"pod-security.kubernetes.io/warn": "restricted"});
    labelled_namespace(&h, "careful", warn).await;
    let created = h
        .post(
            "/apis/apps/v1/namespaces/careful/deployments",
            deployment("web", 1),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        warnings(&created),
        [format!(
            r#"would violate PodSecurity "restricted:latest": {RESTRICTED_VIOLATIONS}"#
        )]
    );
}

#[tokio::test]
async fn a_stricter_enforce_level_warns_about_the_pods_already_there() {
    let h = Harness::new().await;
    labelled_namespace(&h, "later", json!({})).await;
    for name in ["b", "a"] {
        h.create_ok("/api/v1/namespaces/later/pods", pod(name, None))
            .await;
    }
    let mut namespace = h.get("/api/v1/namespaces/later").await.body;
    namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!("restricted");
    let updated = h
        .call(Method::PUT, "/api/v1/namespaces/later", Some(namespace))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(
        warnings(&updated),
        [
            r#"existing pods in namespace "later" violate the new PodSecurity enforce level "restricted:latest""#,
            "a (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, \
             runAsNonRoot != true, seccompProfile",
        ]
    );
    let mut unreadable = updated.body.clone();
    unreadable["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!("strictest");
    let refused = h
        .call(Method::PUT, "/api/v1/namespaces/later", Some(unreadable))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["message"],
        r#"Namespace "later" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strictest": must be one of privileged, baseline, restricted"#
    );
}

#[tokio::test]
async fn openapi_v3_serves_real_schemas_with_their_kinds() {
    let h = Harness::new().await;
    let index = h.get("/openapi/v3").await.body;
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc = h.get(&url).await.body;
    let deployment = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"][0]["kind"],
        "Deployment"
    );
    assert!(
        doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["replicas"]
            .is_object()
    );
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
}

#[tokio::test]
async fn deletes_answer_as_upstream_does_per_resource() {
    let h = Harness::new().await;
    const SERVICES: &str = "/api/v1/namespaces/default/services";
    const ACCOUNTS: &str = "/api/v1/namespaces/default/serviceaccounts";
    let service = json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}});
    h.create_ok(SERVICES, service).await;
    h.create_ok(ACCOUNTS, json!({"metadata": {"name": "robot"}}))
        .await;
    h.create_ok(PODS, pod("unbound", None)).await;
    for (path, kind) in [
        (format!("{SERVICES}/web"), "Service"),
        (format!("{ACCOUNTS}/robot"), "ServiceAccount"),
        (format!("{PODS}/unbound"), "Pod"),
    ] {
        let gone = h.call(Method::DELETE, &path, None).await;
        assert_eq!(gone.status, StatusCode::OK, "{path}");
        assert_eq!(gone.body["kind"], kind, "{path}: {}", gone.body);
        assert_eq!(h.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }

    // Most kinds answer a Status naming what went, without the core group's empty name.
    let created = h.create_ok(CM, configmap("plain")).await;
    let gone = h.call(Method::DELETE, &format!("{CM}/plain"), None).await;
    let expected = format!(
        "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{{}},\"status\":\"Success\",\"details\":{{\"name\":\"plain\",\"kind\":\"configmaps\",\"uid\":{}}}}}\n",
        created["metadata"]["uid"]
    );
    assert_eq!(std::str::from_utf8(&gone.raw).unwrap(), expected);
    h.create_ok(DEPLOY, deployment("web", 1)).await;
    let gone = h.call(Method::DELETE, &format!("{DEPLOY}/web"), None).await;
    assert_eq!(gone.body["details"]["group"], "apps");

    // An object that stays is answered, 200, or 202 for orphanDependents=false.
    h.create_ok(DEPLOY, deployment("held", 1)).await;
    let held = h
        .call(
            Method::DELETE,
            &format!("{DEPLOY}/held"),
            Some(json!({"propagationPolicy": "Foreground"})),
        )
        .await;
    assert_eq!(held.status, StatusCode::OK);
    assert_eq!(held.body["kind"], "Deployment");
    let mut finalized = configmap("accepted");
    finalized["metadata"]["finalizers"] = json!(["example.com/hold"]);
    h.create_ok(CM, finalized).await;
    let accepted = h
        .call(
            Method::DELETE,
            &format!("{CM}/accepted"),
            Some(json!({"orphanDependents": false})),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    assert!(accepted.body["metadata"]["deletionTimestamp"].is_string());

    // deletecollection lists what it deleted.
    for name in ["a", "b"] {
        h.create_ok(CM, configmap(name)).await;
    }
    let swept = h
        .call(
            Method::DELETE,
            &format!("{CM}?fieldSelector=metadata.name%3Da"),
            None,
        )
        .await;
    assert_eq!(swept.status, StatusCode::OK);
    assert_eq!(swept.body["kind"], "ConfigMapList");
    let names: Vec<&str> = swept.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a"]);
    assert_eq!(h.get(&format!("{CM}/b")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn status_bodies_are_written_byte_for_byte_as_upstream_writes_them() {
    let h = Harness::new().await;
    h.create_ok(DEPLOY, deployment("triple-nginx", 1)).await;
    let again = h.post(DEPLOY, deployment("triple-nginx", 1)).await;
    assert_eq!(
        std::str::from_utf8(&again.raw).unwrap(),
        concat!(
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","#,
            r#""message":"deployments.apps \"triple-nginx\" already exists","reason":"AlreadyExists","#,
            r#""details":{"name":"triple-nginx","group":"apps","kind":"deployments"},"code":409}"#,
            "\n"
        )
    );
    let missing = h.get(&format!("{CM}/nope")).await;
    assert!(
        !std::str::from_utf8(&missing.raw)
            .unwrap()
            .contains(r#""group""#),
        "the core group is left out"
    );

    let pretty = h.get(&format!("{CM}/nope?pretty=true")).await;
    let text = std::str::from_utf8(&pretty.raw).unwrap();
    assert!(
        text.starts_with("{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\","),
        "{text}"
    );
    let object = h.get(&format!("{DEPLOY}/triple-nginx?pretty=true")).await;
    assert!(
        std::str::from_utf8(&object.raw)
            .unwrap()
            .contains("\n  \"kind\": \"Deployment\"")
    );
    let compact = h.get(&format!("{DEPLOY}/triple-nginx")).await;
    assert!(compact.raw.ends_with(b"}\n"));
    let mut from_curl = Request::get(format!("{DEPLOY}/triple-nginx"))
        .header(header::USER_AGENT, "curl/8.5.0")
        .body(Body::empty())
        .unwrap();
    from_curl.extensions_mut().insert(Harness::admin());
    assert!(
        h.send(from_curl).await.raw.starts_with(b"{\n  "),
        "curl is answered indented"
    );
    let asked_not = h.get(&format!("{DEPLOY}/triple-nginx?pretty=0")).await;
    assert!(asked_not.raw.starts_with(b"{\""));
}

#[tokio::test]
async fn numbers_too_large_for_time_arithmetic_are_answered_not_panicked_on() {
    let h = Harness::new().await;
    // The watch stays open, so only its head is awaited.
    let head = tokio::time::timeout(Duration::from_secs(5), async {
        let mut request = Request::get(format!("{CM}?watch=1&timeoutSeconds=18446744073709551615"))
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(Harness::admin());
        h.app.clone().oneshot(request).await.unwrap().status()
    })
    .await
    .unwrap();
    assert_eq!(head, StatusCode::OK);

    h.create_ok(PODS, pod("bound", Some("node-1"))).await;
    let deleting = h
        .call(
            Method::DELETE,
            &format!("{PODS}/bound?gracePeriodSeconds=9223372036854775807"),
            None,
        )
        .await;
    assert_eq!(deleting.status, StatusCode::OK, "{}", deleting.body);
    let deadline = deleting.body["metadata"]["deletionTimestamp"]
        .as_str()
        .unwrap();
    assert!(
        deadline.starts_with("9999-"),
        "saturated at the last time: {deadline}"
    );
}

#[tokio::test]
async fn a_panicking_handler_is_answered_500_with_a_status() {
    let app = Router::new()
        .route(
            "/boom",
            axum::routing::get(|| async {
                let huge: Option<u64> = None;
                huge.expect("a handler bug");
            }),
        )
        .layer(axum::middleware::from_fn(super::answer_panics));
    let response = app
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "InternalError");
    assert_eq!(
        body["message"],
        "This request caused apiserver to panic. Look in the logs for details."
    );
}

#[tokio::test]
async fn exec_and_logs_say_the_nodes_runtime_does_not_serve_them() {
    let h = Harness::new().await;
    let node = json!({"metadata": {"name": "node-1"}, "status": {"nodeInfo": {
        "containerRuntimeVersion": "simulated://1.0", "architecture": "amd64",
        "bootID": "", "kernelVersion": "", "kubeProxyVersion": "", "kubeletVersion": "",
        "machineID": "", "operatingSystem": "linux", "osImage": "", "systemUUID": ""}}});
    h.create_ok("/api/v1/nodes", node).await;
    h.create_ok(PODS, pod("p", Some("node-1"))).await;
    for path in [
        "exec?command=true&stdout=true",
        "portforward?ports=80",
        "log",
    ] {
        let reply = h.get(&format!("{PODS}/p/{path}")).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        let message = reply.body["message"].as_str().unwrap();
        assert!(
            message.contains(r#"container runtime, "simulated://1.0", does not serve"#),
            "{path}: {message}"
        );
        assert!(!message.contains("cannot be reached"), "{message}");
    }
}

/// A request as `name` (in `system:authenticated` only), with extra headers.
fn as_user(
    name: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    for (key, value) in headers {
        builder = builder.header(*key, *value);
    }
    let body = body
        .map(|b| serde_json::to_vec(&b).unwrap())
        .unwrap_or_default();
    let mut request = builder.body(Body::from(body)).unwrap();
    request.extensions_mut().insert(CertificateUser(User {
        name: name.into(),
        groups: vec![],
    }));
    request
}

#[tokio::test]
async fn users_outside_system_masters_are_held_to_rbac() {
    let h = Harness::new().await;
    let denied = h.send(as_user("alice", Method::GET, PODS, None, &[])).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.body["reason"], "Forbidden");
    assert_eq!(denied.body["details"]["kind"], "pods");
    assert_eq!(
        denied.body["message"],
        "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    // Discovery and health are every authenticated user's (system:discovery, system:public-info-viewer).
    for path in ["/api", "/apis/apps/v1", "/healthz", "/version"] {
        let reply = h.send(as_user("alice", Method::GET, path, None, &[])).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
    }
    let impersonating = h
        .send(as_user(
            "alice",
            Method::GET,
            PODS,
            None,
            &[("Impersonate-User", "bob")],
        ))
        .await;
    assert_eq!(impersonating.status, StatusCode::FORBIDDEN);
    assert_eq!(
        impersonating.body["message"],
        "users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
    let review = |verb: &str, resource: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
               "spec": {"resourceAttributes": {"verb": verb, "resource": resource, "group": "authorization.k8s.io"}}})
    };
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let allowed = h
        .send(as_user(
            "alice",
            Method::POST,
            path,
            Some(review("create", "selfsubjectaccessreviews")),
            &[],
        ))
        .await;
    assert_eq!(allowed.status, StatusCode::CREATED);
    assert_eq!(allowed.body["status"]["allowed"], true);
    let refused = h
        .send(as_user(
            "alice",
            Method::POST,
            path,
            Some(review("delete", "subjectaccessreviews")),
            &[],
        ))
        .await;
    assert_eq!(refused.body["status"]["allowed"], false);
    // Reviews are only ever created; even one who may do anything cannot list them.
    assert_eq!(h.get(path).await.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_bootstrap_policy_and_system_priority_classes_exist_from_the_first_start() {
    let h = Harness::new().await;
    let admin = h
        .get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cluster-admin")
        .await;
    assert_eq!(admin.body["subjects"][0]["name"], "system:masters");
    let classes = h
        .get("/apis/scheduling.k8s.io/v1/priorityclasses")
        .await
        .body;
    let names: Vec<&str> = classes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["system-cluster-critical", "system-node-critical"]);
}

#[tokio::test]
async fn a_new_pod_runs_as_the_default_service_account_unless_it_names_one() {
    let h = Harness::new().await;
    let created = h.create_ok(PODS, pod("plain", None)).await;
    assert_eq!(created["spec"]["serviceAccountName"], "default");
    assert_eq!(created["spec"]["serviceAccount"], "default");
    let mut named = pod("named", None);
    named["spec"]["serviceAccountName"] = json!("ci");
    let refused = h.post(PODS, named.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.body["message"],
        r#"pods "named" is forbidden: error looking up service account default/ci: serviceaccount "ci" not found"#
    );
    h.create_ok(
        "/api/v1/namespaces/default/serviceaccounts",
        json!({"metadata": {"name": "ci"}}),
    )
    .await;
    let created = h.create_ok(PODS, named).await;
    assert_eq!(created["spec"]["serviceAccountName"], "ci");
    assert_eq!(created["spec"]["serviceAccount"], "ci");
}

#[tokio::test]
async fn a_new_pod_mounts_its_api_access_unless_it_or_its_account_says_not_to() {
    let h = Harness::new().await;
    let mount_path = "/var/run/secrets/kubernetes.io/serviceaccount";
    let mut init = pod("mounted", None);
    init["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}]);
    let created = h.create_ok(PODS, init).await;
    let volume = &created["spec"]["volumes"][0];
    let name = volume["name"].as_str().unwrap();
    assert!(
        name.starts_with("kube-api-access-") && name.len() == 21,
        "{name}"
    );
    let sources = &volume["projected"]["sources"];
    assert_eq!(sources[0]["serviceAccountToken"]["expirationSeconds"], 3607);
    assert_eq!(sources[1]["configMap"]["name"], "kube-root-ca.crt");
    assert_eq!(
        sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    for list in ["initContainers", "containers"] {
        let mount = &created["spec"][list][0]["volumeMounts"][0];
        assert_eq!(
            mount,
            &json!({"name": name, "readOnly": true, "mountPath": mount_path})
        );
    }

    // A container with a mount of its own there keeps it, and no volume is added for nobody.
    let mut own = pod("own", None);
    own["spec"]["volumes"] = json!([{"name": "mine", "emptyDir": {}}]);
    own["spec"]["containers"][0]["volumeMounts"] =
        json!([{"name": "mine", "mountPath": mount_path}]);
    let created = h.create_ok(PODS, own).await;
    assert_eq!(created["spec"]["volumes"].as_array().unwrap().len(), 1);

    let mut off = pod("off", None);
    off["spec"]["automountServiceAccountToken"] = json!(false);
    let created = h.create_ok(PODS, off).await;
    assert_eq!(created["spec"].get("volumes"), None);

    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "quiet"}, "automountServiceAccountToken": false});
    h.create_ok("/api/v1/namespaces/default/serviceaccounts", account)
        .await;
    let mut quiet = pod("quiet", None);
    quiet["spec"]["serviceAccountName"] = json!("quiet");
    let created = h.create_ok(PODS, quiet.clone()).await;
    assert_eq!(created["spec"].get("volumes"), None);
    // The pod's own word wins over its account's.
    quiet["metadata"]["name"] = json!("loud");
    quiet["spec"]["automountServiceAccountToken"] = json!(true);
    let created = h.create_ok(PODS, quiet).await;
    assert_eq!(created["spec"]["volumes"].as_array().unwrap().len(), 1);
}

const APISERVICES: &str = "/apis/apiregistration.k8s.io/v1/apiservices";

/// Reads `path` until `ready` holds of its body, for what the server's own controllers write
/// a moment later.
async fn eventually(h: &Harness, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let body = h.get(path).await.body;
        if ready(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never became ready");
}

fn available_reason(service: &Value) -> Option<&str> {
    service["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Available")?["reason"]
        .as_str()
}

#[tokio::test]
async fn built_in_group_versions_have_local_apiservices_that_are_available() {
    let h = Harness::new().await;
    let apps = eventually(&h, &format!("{APISERVICES}/v1.apps"), |s| {
        available_reason(s) == Some("Local")
    })
    .await;
    assert_eq!(apps["spec"]["groupPriorityMinimum"], 17800);
    assert_eq!(apps["spec"]["versionPriority"], 15);
    assert!(apps["spec"].get("service").is_none());
    assert_eq!(
        apps["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"],
        "onstart"
    );
    let core = h.get(&format!("{APISERVICES}/v1.")).await;
    assert_eq!(core.status, StatusCode::OK);
    let own = h
        .get(&format!("{APISERVICES}/v1.apiregistration.k8s.io"))
        .await;
    assert_eq!(own.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_apiservice_with_a_service_is_listed_and_answers_503_until_it_is_available() {
    let h = Harness::new().await;
    let registration = |name: &str| {
        json!({
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": name},
            "spec": {"group": "example.com", "version": "v1", "groupPriorityMinimum": 1000,
                "versionPriority": 15, "insecureSkipTLSVerify": true,
                "service": {"namespace": "default", "name": "example-api"}},
        })
    };
    let misnamed = h.post(APISERVICES, registration("v2.example.com")).await;
    assert_eq!(misnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let created = h
        .create_ok(APISERVICES, registration("v1.example.com"))
        .await;
    assert_eq!(created["spec"]["service"]["port"], 443);
    let path = format!("{APISERVICES}/v1.example.com");
    let checked = eventually(&h, &path, |s| available_reason(s).is_some()).await;
    assert_eq!(available_reason(&checked), Some("ServiceNotFound"));
    let condition = &checked["status"]["conditions"][0];
    assert_eq!(condition["status"], "False");
    assert_eq!(
        condition["message"],
        "service/example-api in \"default\" is not present"
    );
    let groups = h.get("/apis").await.body;
    let example = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "example.com")
        .unwrap();
    assert_eq!(
        example["preferredVersion"]["groupVersion"],
        "example.com/v1"
    );
    let group = h.get("/apis/example.com").await;
    assert_eq!(group.body["versions"][0]["version"], "v1");
    for path in ["/apis/example.com/v1", "/apis/example.com/v1/widgets"] {
        let answer = h.get(path).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(answer.body["reason"], "ServiceUnavailable");
        assert_eq!(
            answer.body["message"],
            "the server is currently unable to handle the request"
        );
    }
}

const POLICIES: &str = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
const POLICY_BINDINGS: &str =
    "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";

/// A ValidatingAdmissionPolicy on the creates and updates of ConfigMaps, with `spec` merged in.
fn admission_policy(name: &str, spec: Value) -> Value {
    let mut policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"]}]}},
    });
    for (field, value) in spec.as_object().unwrap() {
        policy["spec"][field] = value.clone();
    }
    policy
}

fn policy_binding(name: &str, policy: &str, spec: Value) -> Value {
    let mut binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": policy},
    });
    for (field, value) in spec.as_object().unwrap() {
        binding["spec"][field] = value.clone();
    }
    binding
}

/// A ConfigMap in `default` with `keys` keys.
fn configmap_keys(name: &str, keys: usize) -> Value {
    let data: serde_json::Map<String, Value> =
        (0..keys).map(|i| (format!("k{i}"), json!("v"))).collect();
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

fn at_most_two_keys() -> Value {
    json!({"validations": [
        {"expression": "object.data.size() <= 2", "message": "at most two keys"},
        {"expression": "!object.metadata.name.startsWith('x-')", "reason": "Forbidden",
         "messageExpression": "'no x- names: ' + object.metadata.name"},
    ]})
}

#[tokio::test]
async fn validating_admission_policies_refuse_through_deny_bindings() {
    let h = Harness::new().await;
    let created = h
        .create_ok(POLICIES, admission_policy("max-keys", at_most_two_keys()))
        .await;
    assert_eq!(created["spec"]["failurePolicy"], "Fail");
    let constraints = &created["spec"]["matchConstraints"];
    assert_eq!(constraints["matchPolicy"], "Equivalent");
    assert_eq!(constraints["namespaceSelector"], json!({}));
    assert_eq!(constraints["resourceRules"][0]["scope"], "*");
    let deny = json!({"validationActions": ["Deny"]});
    h.create_ok(
        POLICY_BINDINGS,
        policy_binding("max-keys", "max-keys", deny),
    )
    .await;
    h.create_ok(CM, configmap_keys("small", 2)).await;
    let big = h.post(CM, configmap_keys("big", 3)).await;
    assert_eq!(big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(big.body["reason"], "Invalid");
    let denied = "ValidatingAdmissionPolicy 'max-keys' with binding 'max-keys' denied request: at most two keys";
    assert_eq!(
        big.body["message"],
        format!("configmaps \"big\" is forbidden: {denied}")
    );
    assert_eq!(big.body["details"]["causes"][0]["message"], denied);
    let named = h.post(CM, configmap_keys("x-small", 1)).await;
    assert_eq!(named.status, StatusCode::FORBIDDEN);
    assert_eq!(
        named.body["message"],
        "configmaps \"x-small\" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding \
         'max-keys' denied request: no x- names: x-small"
    );
    let mut grown = h.get(&format!("{CM}/small")).await.body;
    grown["data"]["k2"] = json!("v");
    let update = h
        .call(Method::PUT, &format!("{CM}/small"), Some(grown))
        .await;
    assert_eq!(update.status, StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = h.call(Method::DELETE, &format!("{CM}/small"), None).await;
    assert_eq!(deleted.status, StatusCode::OK, "deletes are not covered");
}

#[tokio::test]
async fn a_warn_binding_lets_the_request_through_with_a_warning() {
    let h = Harness::new().await;
    h.create_ok(POLICIES, admission_policy("max-keys", at_most_two_keys()))
        .await;
    let warn = json!({"validationActions": ["Warn"]});
    h.create_ok(
        POLICY_BINDINGS,
        policy_binding("max-keys-warn", "max-keys", warn),
    )
    .await;
    let big = h.post(CM, configmap_keys("big", 3)).await;
    assert_eq!(big.status, StatusCode::CREATED, "{}", big.body);
    assert_eq!(
        big.headers["warning"],
        "299 - \"Validation failed for ValidatingAdmissionPolicy 'max-keys' with binding \
         'max-keys-warn': at most two keys\""
    );
}

#[tokio::test]
async fn a_policy_reads_the_params_its_binding_names() {
    let h = Harness::new().await;
    let mut limits = configmap("limits");
    limits["data"] = json!({"max": "1"});
    h.create_ok(CM, limits).await;
    let spec = json!({
        "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
        "validations": [{"expression": "object.data.size() <= int(params.data.max)",
                         "messageExpression": "'at most ' + params.data.max + ' keys'"}],
    });
    h.create_ok(POLICIES, admission_policy("max-keys", spec))
        .await;
    let binding = json!({
        "validationActions": ["Deny"],
        "paramRef": {"name": "limits", "namespace": "default", "parameterNotFoundAction": "Deny"},
    });
    h.create_ok(
        POLICY_BINDINGS,
        policy_binding("max-keys", "max-keys", binding),
    )
    .await;
    h.create_ok(CM, configmap_keys("one", 1)).await;
    let two = h.post(CM, configmap_keys("two", 2)).await;
    assert_eq!(two.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        two.body["message"],
        "configmaps \"two\" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding \
         'max-keys' denied request: at most 1 keys"
    );
    let deleted = h.call(Method::DELETE, &format!("{CM}/limits"), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let unparameterized = h.post(CM, configmap_keys("another", 1)).await;
    assert_eq!(unparameterized.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unparameterized.body["message"],
        "configmaps \"another\" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding \
         'max-keys' denied request: failed to configure binding: no params found for policy \
         binding with `Deny` parameterNotFoundAction"
    );
}

#[tokio::test]
async fn a_binding_narrows_its_policy_to_the_namespaces_it_selects() {
    let h = Harness::new().await;
    for (name, labels) in [("policed", json!({"policed": "true"})), ("free", json!({}))] {
        h.create_ok(
            "/api/v1/namespaces",
            json!({"metadata": {"name": name, "labels": labels}}),
        )
        .await;
    }
    h.create_ok(POLICIES, admission_policy("max-keys", at_most_two_keys()))
        .await;
    let binding = json!({
        "validationActions": ["Deny"],
        "matchResources": {"namespaceSelector": {"matchLabels": {"policed": "true"}}},
    });
    let created = h
        .create_ok(
            POLICY_BINDINGS,
            policy_binding("policed", "max-keys", binding),
        )
        .await;
    assert_eq!(
        created["spec"]["matchResources"]["matchPolicy"],
        "Equivalent"
    );
    let policed = h
        .post(
            "/api/v1/namespaces/policed/configmaps",
            configmap_keys("big", 3),
        )
        .await;
    assert_eq!(policed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let free = h
        .post(
            "/api/v1/namespaces/free/configmaps",
            configmap_keys("big", 3),
        )
        .await;
    assert_eq!(free.status, StatusCode::CREATED, "{}", free.body);
}

#[tokio::test]
async fn a_policy_whose_cel_does_not_compile_is_refused() {
    let h = Harness::new().await;
    let spec = json!({"validations": [{"expression": "object.data.size() <="}]});
    let refused = h.post(POLICIES, admission_policy("broken", spec)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "ValidatingAdmissionPolicy.admissionregistration.k8s.io \"broken\" is invalid: \
             spec.validations[0].expression: Invalid value: \"object.data.size() <=\": \
             compilation failed: ERROR: <input>:1:"
        ),
        "{message}"
    );
    assert_eq!(
        refused.body["details"]["causes"][0]["field"],
        "spec.validations[0].expression"
    );
}
