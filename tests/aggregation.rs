//! API aggregation as its users meet it: an extension API server (here, in the test process:
//! HTTPS with a certificate for its Service's name, letting in only the front proxy's client
//! certificate) behind a selectorless Service and Endpoints, registered by an APIService;
//! kubectl then sees it available, lists its resources and reads them through the API
//! server, which asserts the user; and the APIService is marked unavailable, its requests
//! answered 503, once its endpoints are gone. The local APIServices of the built-in
//! group-versions and the `extension-apiserver-authentication` ConfigMap are there too.

mod common;

use std::convert::Infallible;
use std::net::{IpAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mkc::pki::{Authority, CertAndKey};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use common::docker_cluster::eventually;
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
    let authority = Authority::generate().expect("a CA for the extension server");
    let serving = authority
        .issue_server("widgets-api", &["widgets-api.default.svc".to_string()])
        .expect("its serving certificate");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the extension server");
    let listener = runtime
        .block_on(TcpListener::bind("0.0.0.0:0"))
        .expect("a port for the extension server");
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(serve(listener, acceptor(&serving, front_proxy_ca)));

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
    let ca_bundle = base64::engine::general_purpose::STANDARD.encode(authority.cert_pem());
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

/// This machine's address on its default route.
fn host_address() -> IpAddr {
    let socket = UdpSocket::bind("0.0.0.0:0").expect("a UDP socket");
    socket
        .connect("10.255.255.255:9")
        .expect("a route off this machine");
    socket.local_addr().expect("the socket's address").ip()
}

/// TLS with `serving`'s certificate, requiring a client certificate the front proxy's CA
/// signed, as an extension server configured from the ConfigMap would.
fn acceptor(serving: &CertAndKey, front_proxy_ca: &str) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(front_proxy_ca.as_bytes()) {
        roots.add(cert.expect("the front proxy's CA")).unwrap();
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("a client verifier");
    let chain = CertificateDer::pem_slice_iter(serving.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(serving.key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .expect("the extension server's TLS configuration");
    TlsAcceptor::from(Arc::new(config))
}

/// Serves every connection whose client certificate the acceptor let in.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let client = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(common_name)
                .unwrap_or_default();
            let service = hyper::service::service_fn(move |request| {
                let reply = answer(&client, &request);
                async move { Ok::<_, Infallible>(reply) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service);
            let _ = connection.await;
        });
    }
}

fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert).ok()?;
    let name = cert.subject().iter_common_name().next()?;
    name.as_str().ok().map(str::to_owned)
}

/// The extension server's API: one group-version with one namespaced resource, whose list
/// tells what the request said about its user.
fn answer(client: &str, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if client != "front-proxy-client" {
        return respond(
            StatusCode::UNAUTHORIZED,
            json!({"kind": "Status", "code": 401}),
        );
    }
    let headers = request.headers();
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
    match request.uri().path() {
        "/apis/example.mkc.io/v1" => respond(
            StatusCode::OK,
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION,
                "resources": [{"name": "widgets", "singularName": "widget", "namespaced": true,
                    "kind": "Widget", "verbs": ["get", "list"]}]}),
        ),
        "/apis/example.mkc.io/v1/widgets" | WIDGETS => respond(
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
        _ => respond(
            StatusCode::NOT_FOUND,
            json!({"kind": "Status", "code": 404}),
        ),
    }
}

fn respond(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
