//! API aggregation as its users meet it: an extension API server (here, in the test process:
//! HTTPS with a certificate for its Service's name, letting in only the front proxy's client
//! certificate) behind a selectorless Service and Endpoints, registered by an APIService;
//! kubectl then sees it available, lists its resources and reads them through the API
//! server, which asserts the user; and the APIService is marked unavailable, its requests
//! answered 503, once its endpoints are gone. The local APIServices of the built-in
//! group-versions and the `extension-apiserver-authentication` ConfigMap are there too.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hyper::StatusCode;
use serde_json::{Value, json};

use common::docker_cluster::eventually;
use common::https::{Call, HttpsServer, host_address};
use common::{Kubectl, TestServer};

const GROUP_VERSION: &str = "example.mkc.io/v1";
const WIDGETS: &str = "/apis/example.mkc.io/v1/namespaces/default/widgets";

#[test]
fn an_aggregated_api_is_served_through_the_api_server_to_the_oldest_and_newest_kubectl() {
    common::for_oldest_and_newest(&["--controllers", "namespace"], an_aggregated_api_is_served);
}

fn an_aggregated_api_is_served(k: &Kubectl, s: &TestServer) {
    // What extension API servers read to know whom to trust.
    let authentication = json_of(
        k,
        s,
        &[
            "get",
            "configmap",
            "-n",
            "kube-system",
            "extension-apiserver-authentication",
        ],
    );
    let data = &authentication["data"];
    assert_eq!(
        data["requestheader-allowed-names"],
        r#"["front-proxy-client"]"#
    );
    assert_eq!(
        data["requestheader-username-headers"],
        r#"["X-Remote-User"]"#
    );
    assert_eq!(data["requestheader-group-headers"], r#"["X-Remote-Group"]"#);
    assert_eq!(
        data["requestheader-extra-headers-prefix"],
        r#"["X-Remote-Extra-"]"#
    );
    assert!(
        data["client-ca-file"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    let front_proxy_ca = data["requestheader-client-ca-file"].as_str().unwrap();
    assert_ne!(front_proxy_ca, data["client-ca-file"].as_str().unwrap());

    // The extension server, reached on this machine's own address: Endpoints may not hold
    // loopback addresses.
    let server = HttpsServer::start_verifying(
        &["widgets-api.default.svc"],
        Some(front_proxy_ca),
        Arc::new(answer),
    );
    let port = server.port;

    let backend = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "widgets-api", "namespace": "default"},
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port}]}},
        {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "widgets-api", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": host_address().to_string()}],
                "ports": [{"name": "https", "port": port}]}]},
    ]});
    k.ok_stdin(s, &["apply", "-f", "-"], &backend.to_string());
    let ca_bundle = base64::engine::general_purpose::STANDARD.encode(&server.ca_pem);
    let registration = json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1.example.mkc.io"},
        "spec": {"group": "example.mkc.io", "version": "v1", "groupPriorityMinimum": 1000,
            "versionPriority": 15, "caBundle": ca_bundle,
            "service": {"namespace": "default", "name": "widgets-api", "port": 443}},
    });
    k.ok_stdin(s, &["apply", "-f", "-"], &registration.to_string());

    let row = availability(k, s, "True");
    assert!(row.contains("default/widgets-api"), "{row}");

    // Discovery lists the extension server's resources among the server's own.
    let resources = k.ok(s, &["api-resources", "--api-group", "example.mkc.io"]);
    assert!(
        resources.lines().any(|line| {
            line.split_whitespace().next() == Some("widgets") && line.contains(GROUP_VERSION)
        }),
        "{resources}"
    );

    // Reads go through the API server, which tells the extension server who asks.
    let listed = json_of(k, s, &["get", "widgets", "-A"]);
    let seen = &listed["items"][0]["spec"];
    assert_eq!(seen["user"], "kubernetes-admin", "{listed}");
    let groups = seen["groups"].as_array().unwrap();
    assert!(groups.contains(&json!("system:masters")), "{listed}");
    assert!(groups.contains(&json!("system:authenticated")), "{listed}");
    let raw = k.ok(
        s,
        &["get", "--raw", WIDGETS, "--token", "not-for-the-extension"],
    );
    let raw: Value = serde_json::from_str(&raw).expect("the extension server's list");
    assert_eq!(raw["items"][0]["spec"]["user"], "kubernetes-admin");
    assert_eq!(raw["items"][0]["spec"]["authorization"], false, "{raw}");
    let impersonated = k.ok(
        s,
        &[
            "get",
            "--raw",
            WIDGETS,
            "--as",
            "alice",
            "--as-group",
            "devs",
            "--as-group",
            "system:masters",
        ],
    );
    let impersonated: Value = serde_json::from_str(&impersonated).unwrap();
    let spec = &impersonated["items"][0]["spec"];
    assert_eq!(spec["user"], "alice", "{impersonated}");
    assert!(spec["groups"].as_array().unwrap().contains(&json!("devs")));
    assert_eq!(spec["impersonation"], false, "{impersonated}");

    // The built-in group-versions are served here, and say so.
    let all = k.ok(s, &["get", "apiservices"]);
    let apps = all
        .lines()
        .find(|line| line.split_whitespace().next() == Some("v1.apps"))
        .unwrap_or_else(|| panic!("no v1.apps in:\n{all}"));
    let cells: Vec<&str> = apps.split_whitespace().collect();
    assert_eq!(&cells[1..3], ["Local", "True"], "{all}");

    // Without endpoints the APIService is unavailable, and its requests are refused.
    k.ok(s, &["delete", "endpoints", "widgets-api"]);
    availability(k, s, "False (MissingEndpoints)");
    let refused = k.fails(s, &["get", "--raw", WIDGETS]);
    assert!(
        refused.contains("the server is currently unable to handle the request"),
        "{refused}"
    );
}

/// The APIService's row once its AVAILABLE column reads `wanted`.
fn availability(k: &Kubectl, s: &TestServer, wanted: &str) -> String {
    let what = format!("v1.example.mkc.io to be {wanted}");
    eventually(&what, Duration::from_secs(30), || {
        let table = k.ok(s, &["get", "apiservice", "v1.example.mkc.io"]);
        let row = table.lines().nth(1)?.to_owned();
        let cells: Vec<&str> = row.split_whitespace().collect();
        // NAME, SERVICE, AVAILABLE (which may be two words), AGE.
        let available = cells.get(2..cells.len().saturating_sub(1))?.join(" ");
        (available == wanted).then_some(row)
    })
}

fn json_of(k: &Kubectl, s: &TestServer, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    serde_json::from_str(&k.ok(s, &args)).expect("kubectl -o json")
}

/// The extension server's API: one group-version with one namespaced resource, whose list
/// tells what the request said about its user.
fn answer(call: &Call) -> (StatusCode, Value) {
    if call.client.as_deref() != Some("front-proxy-client") {
        return (
            StatusCode::UNAUTHORIZED,
            json!({"kind": "Status", "code": 401}),
        );
    }
    let headers = &call.parts.headers;
    let values = |name: &str| -> Vec<String> {
        let values = headers.get_all(name).iter();
        values
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    };
    let user = values("x-remote-user")
        .into_iter()
        .next()
        .unwrap_or_default();
    let impersonation = headers
        .keys()
        .any(|name| name.as_str().starts_with("impersonate-"));
    match call.parts.uri.path() {
        "/apis/example.mkc.io/v1" => (
            StatusCode::OK,
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION,
                "resources": [{"name": "widgets", "singularName": "widget", "namespaced": true,
                    "kind": "Widget", "verbs": ["get", "list"]}]}),
        ),
        "/apis/example.mkc.io/v1/widgets" | WIDGETS => (
            StatusCode::OK,
            json!({"apiVersion": GROUP_VERSION, "kind": "WidgetList",
                "metadata": {"resourceVersion": "1"},
                "items": [{"apiVersion": GROUP_VERSION, "kind": "Widget",
                    "metadata": {"name": "seen", "namespace": "default",
                        "creationTimestamp": "2026-01-01T00:00:00Z"},
                    "spec": {"user": user, "groups": values("x-remote-group"),
                        "authorization": headers.contains_key("authorization"),
                        "impersonation": impersonation}}]}),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            json!({"kind": "Status", "code": 404}),
        ),
    }
}
