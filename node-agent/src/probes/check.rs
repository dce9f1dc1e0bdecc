//! What one probe does, as upstream's prober does it: an HTTP or HTTPS GET answered with a
//! status from 200 to 399 (redirects to the same host followed), a TCP connection made within
//! the timeout, a gRPC health check answered SERVING, or a command run in the container that
//! exits 0. The failure messages read as upstream's do, since they end up in `Unhealthy`
//! events.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::worker::{Check, Outcome};
use super::{grpc, https};
use crate::runtime::{ContainerRuntime, PodKey, ProcessRequest};

/// The most of a command's output (or of a response's head) a probe reads, upstream's bound.
const MAX_OUTPUT: usize = 10 * 1024;
/// The User-Agent upstream's probes send.
pub(super) const USER_AGENT: &str = "kube-probe/1.33";
/// The redirects a probe follows, Go's HTTP client's limit.
const MAX_REDIRECTS: usize = 10;

/// Why a probe could not be run at all; upstream counts such a run as neither success nor
/// failure, and records that the probe errored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    #[error("port {0:?} is not one of the container's ports")]
    NoSuchPort(String),
    #[error("port {0} is out of range")]
    BadPort(i32),
    #[error("the pod has no address yet")]
    NoAddress,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Runtime(String),
}

/// A probe's action, resolved against its container and pod.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Http(HttpGet),
    Tcp {
        host: String,
        port: u16,
    },
    /// The standard gRPC health check of `service` (the server's own when empty).
    Grpc {
        host: String,
        port: u16,
        service: String,
    },
    Exec(Vec<String>),
}

/// An HTTP GET, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpGet {
    /// HTTPS rather than HTTP.
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// The request target: a path, perhaps with a query.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Action {
    /// The action of `probe` on `container` of a pod at `pod_ip` (where HTTP and TCP probes
    /// connect unless they name a host; gRPC probes always connect there). `None` for a probe
    /// with no action: the container is treated as not having it. An error for one that cannot
    /// run as given, which then errors each time, as upstream's does.
    pub fn of(
        probe: &Probe,
        container: &Container,
        pod_ip: Option<IpAddr>,
    ) -> Option<Result<Action, ProbeError>> {
        let host = |named: Option<&String>| match named.filter(|h| !h.is_empty()) {
            Some(host) => Ok(host.clone()),
            None => pod_ip.map(|ip| ip.to_string()).ok_or(ProbeError::NoAddress),
        };
        if let Some(exec) = &probe.exec {
            return Some(Ok(Action::Exec(exec.command.clone().unwrap_or_default())));
        }
        if let Some(tcp) = &probe.tcp_socket {
            let action = host(tcp.host.as_ref()).and_then(|host| {
                let port = port(&tcp.port, container)?;
                Ok(Action::Tcp { host, port })
            });
            return Some(action);
        }
        if let Some(check) = &probe.grpc {
            let action = host(None).and_then(|host| {
                let port = port(&IntOrString::Int(check.port), container)?;
                let service = check.service.clone().unwrap_or_default();
                Ok(Action::Grpc {
                    host,
                    port,
                    service,
                })
            });
            return Some(action);
        }
        let get = probe.http_get.as_ref()?;
        let action = host(get.host.as_ref()).and_then(|host| {
            let port = port(&get.port, container)?;
            http_get(get, host, port).map(Action::Http)
        });
        Some(action)
    }
}

/// A port by number, or by the name of one of the container's ports.
fn port(port: &IntOrString, container: &Container) -> Result<u16, ProbeError> {
    let number = match port {
        IntOrString::Int(number) => *number,
        IntOrString::String(text) => match text.parse::<i32>() {
            Ok(number) => number,
            Err(_) => container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(text.as_str()))
                .map(|p| p.container_port)
                .ok_or_else(|| ProbeError::NoSuchPort(text.clone()))?,
        },
    };
    u16::try_from(number)
        .ok()
        .filter(|n| *n > 0)
        .ok_or(ProbeError::BadPort(number))
}

/// Checks what goes on the request line and in headers, so nothing a spec says can split the
/// request.
fn http_get(get: &HTTPGetAction, host: String, port: u16) -> Result<HttpGet, ProbeError> {
    let tls = match get.scheme.as_deref() {
        None => false,
        Some(scheme) if scheme.eq_ignore_ascii_case("HTTP") => false,
        Some(scheme) if scheme.eq_ignore_ascii_case("HTTPS") => true,
        Some(other) => {
            return Err(ProbeError::BadRequest(format!(
                "unsupported scheme {other:?}"
            )));
        }
    };
    let path = get.path.clone().unwrap_or_default();
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ProbeError::BadRequest(format!("invalid path {path:?}")));
    }
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let headers = get
        .http_headers
        .iter()
        .flatten()
        .map(|h| {
            if h.name.is_empty() || !h.name.chars().all(token) || h.value.contains(['\r', '\n']) {
                Err(ProbeError::BadRequest(format!(
                    "invalid header {:?}",
                    h.name
                )))
            } else {
                Ok((h.name.clone(), h.value.clone()))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(HttpGet {
        tls,
        host,
        port,
        path,
        headers,
    })
}

/// A probe of one container of a pod, run through its runtime (exec) or over the pod network.
pub struct ContainerCheck<R> {
    pub runtime: Arc<R>,
    pub pod: PodKey,
    pub container: String,
    pub action: Result<Action, ProbeError>,
}

impl<R: ContainerRuntime> Check for ContainerCheck<R> {
    async fn run(&self, timeout: Duration) -> Outcome {
        match &self.action {
            Err(error) => Outcome::Error(error.clone()),
            Ok(Action::Http(get)) => http(get, timeout).await,
            Ok(Action::Tcp { host, port }) => tcp(host, *port, timeout).await,
            Ok(Action::Grpc {
                host,
                port,
                service,
            }) => grpc::check(host, *port, service, timeout).await,
            Ok(Action::Exec(command)) => self.exec(command, timeout).await,
        }
    }
}

impl<R: ContainerRuntime> ContainerCheck<R> {
    /// Runs `command` in the container: success when it exits 0, else a failure with its
    /// output, stdout and stderr together.
    async fn exec(&self, command: &[String], timeout: Duration) -> Outcome {
        let run = async {
            let request = ProcessRequest {
                command,
                stdin: false,
                tty: false,
            };
            let process = self
                .runtime
                .process(&self.pod, &self.container, request)
                .await
                .map_err(|e| ProbeError::Runtime(e.to_string()))?;
            let mut output = Vec::new();
            let mut chunks = process.output;
            while let Some((_, chunk)) = chunks.next().await {
                let room = MAX_OUTPUT.saturating_sub(output.len());
                output.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            let code = process
                .exit
                .await
                .map_err(|e| ProbeError::Runtime(e.to_string()))?;
            Ok::<_, ProbeError>((code, output))
        };
        match tokio::time::timeout(timeout, run).await {
            Err(_) => Outcome::Failure(format!("command {:?} timed out", command.join(" "))),
            Ok(Err(error)) => Outcome::Error(error),
            Ok(Ok((0, _))) => Outcome::Success,
            Ok(Ok((_, output))) => Outcome::Failure(String::from_utf8_lossy(&output).into_owned()),
        }
    }
}

/// `host:port`, with an IPv6 address in brackets.
pub(super) fn authority(host: &str, port: u16) -> String {
    match host.parse::<Ipv6Addr>() {
        Ok(_) => format!("[{host}]:{port}"),
        Err(_) => format!("{host}:{port}"),
    }
}

async fn tcp(host: &str, port: u16, timeout: Duration) -> Outcome {
    let address = authority(host, port);
    match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Err(_) => Outcome::Failure(format!("dial tcp {address}: i/o timeout")),
        Ok(Err(error)) => Outcome::Failure(format!("dial tcp {address}: {error}")),
        Ok(Ok(_)) => Outcome::Success,
    }
}

async fn http(get: &HttpGet, timeout: Duration) -> Outcome {
    let url = url(get);
    match tokio::time::timeout(timeout, follow(get.clone())).await {
        Err(_) => Outcome::Failure(format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
        Ok(Err(error)) => Outcome::Failure(format!("Get {url:?}: {error}")),
        Ok(Ok(code)) if (200..400).contains(&code) => Outcome::Success,
        Ok(Ok(code)) => Outcome::Failure(format!("HTTP probe failed with statuscode: {code}")),
    }
}

fn url(get: &HttpGet) -> String {
    let scheme = if get.tls { "https" } else { "http" };
    format!("{scheme}://{}{}", authority(&get.host, get.port), get.path)
}

/// Sends the request, following redirects to the same host; the last status. A redirect
/// elsewhere ends the probe with the redirect's status, which upstream counts a success.
async fn follow(mut get: HttpGet) -> Result<u16, String> {
    for _ in 0..=MAX_REDIRECTS {
        let head = send(&get).await?;
        let location = head.location.filter(|_| (300..400).contains(&head.code));
        let Some(next) = location.and_then(|to| redirect(&get, &to)) else {
            return Ok(head.code);
        };
        get = next;
    }
    Err(format!("stopped after {MAX_REDIRECTS} redirects"))
}

/// Where a redirect to `location` leads from `get`, if that is the same host.
fn redirect(get: &HttpGet, location: &str) -> Option<HttpGet> {
    let (tls, rest) = match location.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
        Some(_) => return None,
        None => {
            let path = match location.starts_with('/') {
                true => location.to_owned(),
                false => {
                    let base = get.path.split('?').next().unwrap_or_default();
                    let dir = base.rsplit_once('/').map_or("", |(dir, _)| dir);
                    format!("{dir}/{location}")
                }
            };
            return Some(HttpGet {
                path,
                ..get.clone()
            });
        }
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host == get.host).then(|| HttpGet {
        tls,
        port,
        path: path.to_owned(),
        ..get.clone()
    })
}

/// The parts of a response's head a probe reads.
struct Head {
    code: u16,
    location: Option<String>,
}

/// One request and the head of its response.
async fn send(get: &HttpGet) -> Result<Head, String> {
    let address = authority(&get.host, get.port);
    let stream = TcpStream::connect((get.host.as_str(), get.port))
        .await
        .map_err(|e| format!("dial tcp {address}: {e}"))?;
    let request = request(get, &address);
    if get.tls {
        exchange(https::connect(&get.host, stream).await?, &request).await
    } else {
        exchange(stream, &request).await
    }
}

/// Writes `request` and reads the response's head.
async fn exchange<S>(mut stream: S, request: &str) -> Result<Head, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buffer = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_OUTPUT {
        let read = stream.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let code = status_code(&head).ok_or_else(|| "malformed HTTP response".to_owned())?;
    Ok(Head {
        code,
        location: header(&head, "location"),
    })
}

/// The value of header `name` in a response's head.
fn header(head: &[u8], name: &str) -> Option<String> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
}

/// The request as upstream's prober sends it; the probe's own Host, User-Agent and Accept
/// headers replace the defaults.
fn request(get: &HttpGet, address: &str) -> String {
    let named = |name: &str| {
        get.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    let mut text = format!("GET {} HTTP/1.1\r\n", get.path);
    let defaults = [
        ("Host", address),
        ("User-Agent", USER_AGENT),
        ("Accept", "*/*"),
    ];
    for (name, value) in defaults.into_iter().filter(|(name, _)| !named(name)) {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    for (name, value) in &get.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("Connection: close\r\n\r\n");
    text
}

/// The code of a status line, `HTTP/1.1 200 OK`.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.trim_end().splitn(3, ' ');
    parts
        .next()
        .filter(|version| version.starts_with("HTTP/"))?;
    parts
        .next()?
        .parse()
        .ok()
        .filter(|code| (100..1000).contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tokio::net::TcpListener;

    fn probe(value: serde_json::Value) -> Probe {
        serde_json::from_value(value).unwrap()
    }

    fn container() -> Container {
        serde_json::from_value(json!({
            "name": "web", "ports": [{"name": "http", "containerPort": 8080}],
        }))
        .unwrap()
    }

    const POD_IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 244, 1, 2)));

    #[test]
    fn actions_resolve_ports_hosts_and_paths() {
        let get = probe(json!({"httpGet": {"port": "http", "path": "healthz",
            "httpHeaders": [{"name": "X-Probe", "value": "1"}]}}));
        assert_eq!(
            Action::of(&get, &container(), POD_IP),
            Some(Ok(Action::Http(HttpGet {
                tls: false,
                host: "10.244.1.2".into(),
                port: 8080,
                path: "/healthz".into(),
                headers: vec![("X-Probe".into(), "1".into())],
            })))
        );
        let tcp = probe(json!({"tcpSocket": {"port": 5432, "host": "db"}}));
        assert_eq!(
            Action::of(&tcp, &container(), None),
            Some(Ok(Action::Tcp {
                host: "db".into(),
                port: 5432
            }))
        );
        let exec = probe(json!({"exec": {"command": ["cat", "/ready"]}}));
        assert_eq!(
            Action::of(&exec, &container(), None),
            Some(Ok(Action::Exec(vec!["cat".into(), "/ready".into()])))
        );
    }

    #[test]
    fn probes_that_cannot_run_error_and_unsupported_ones_are_left_out() {
        let of = |value| Action::of(&probe(value), &container(), POD_IP);
        assert_eq!(
            of(json!({"tcpSocket": {"port": "metrics"}})),
            Some(Err(ProbeError::NoSuchPort("metrics".into())))
        );
        assert_eq!(
            of(json!({"tcpSocket": {"port": 70000}})),
            Some(Err(ProbeError::BadPort(70000)))
        );
        assert_eq!(
            Action::of(
                &probe(json!({"tcpSocket": {"port": 80}})),
                &container(),
                None
            ),
            Some(Err(ProbeError::NoAddress))
        );
        assert!(matches!(
            of(json!({"httpGet": {"port": 80, "path": "/a b"}})),
            Some(Err(ProbeError::BadRequest(_)))
        ));
        assert!(matches!(
            of(
                json!({"httpGet": {"port": 80, "httpHeaders": [{"name": "X", "value": "a\r\nB: c"}]}})
            ),
            Some(Err(ProbeError::BadRequest(_)))
        ));
        assert!(matches!(
            of(json!({"httpGet": {"port": 443, "scheme": "HTTPS"}})),
            Some(Ok(Action::Http(HttpGet { tls: true, .. })))
        ));
        assert!(matches!(
            of(json!({"httpGet": {"port": 21, "scheme": "FTP"}})),
            Some(Err(ProbeError::BadRequest(_)))
        ));
        assert_eq!(
            of(json!({"grpc": {"port": 9000, "service": "db"}})),
            Some(Ok(Action::Grpc {
                host: "10.244.1.2".into(),
                port: 9000,
                service: "db".into()
            }))
        );
        assert_eq!(of(json!({})), None);
    }

    #[test]
    fn requests_carry_upstream_headers_unless_the_probe_names_its_own() {
        let get = HttpGet {
            tls: false,
            host: "10.244.1.2".into(),
            port: 80,
            path: "/healthz?full=1".into(),
            headers: vec![("host".into(), "example.com".into())],
        };
        assert_eq!(
            request(&get, "10.244.1.2:80"),
            "GET /healthz?full=1 HTTP/1.1\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\n\
             host: example.com\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_code(b"HTTP/1.0 500\r\n"), Some(500));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(authority("fd00::1", 80), "[fd00::1]:80");
    }

    /// Answers one request on a local port with `status`, and says what the request was.
    async fn answering(status: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0; 4096];
            let read = stream.read(&mut buffer).await.unwrap();
            let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&buffer[..read]).into_owned()
        });
        (port, served)
    }

    fn local(port: u16) -> HttpGet {
        HttpGet {
            tls: false,
            host: "127.0.0.1".into(),
            port,
            path: "/healthz".into(),
            headers: Vec::new(),
        }
    }

    #[test]
    fn redirects_stay_on_the_probed_host() {
        let from = HttpGet {
            path: "/app/healthz?x=1".into(),
            ..local(8080)
        };
        let to = |location| redirect(&from, location).map(|g| (g.tls, g.port, g.path));
        assert_eq!(to("/ready"), Some((false, 8080, "/ready".into())));
        assert_eq!(to("ready"), Some((false, 8080, "/app/ready".into())));
        assert_eq!(
            to("https://127.0.0.1:8443/secure"),
            Some((true, 8443, "/secure".into()))
        );
        assert_eq!(to("http://127.0.0.1"), Some((false, 80, "/".into())));
        assert_eq!(to("http://example.com/healthz"), None);
        assert_eq!(to("ftp://127.0.0.1/file"), None);
        assert_eq!(
            header(b"HTTP/1.1 302 Found\r\nLocation: /next\r\n\r\n", "location"),
            Some("/next".into())
        );
    }

    /// Answers each request on a local port from `answers` in turn, and says what the
    /// requests were.
    async fn answering_each(answers: Vec<String>) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = tokio::spawn(async move {
            let mut requests = Vec::new();
            for answer in answers {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buffer = vec![0; 4096];
                let read = stream.read(&mut buffer).await.unwrap();
                stream.write_all(answer.as_bytes()).await.unwrap();
                requests.push(String::from_utf8_lossy(&buffer[..read]).into_owned());
            }
            requests
        });
        (port, served)
    }

    #[tokio::test]
    async fn redirects_on_the_same_host_are_followed_to_their_end() {
        let second = Duration::from_secs(1);
        let (port, served) = answering_each(vec![
            "HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\n\r\n".into(),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
        ])
        .await;
        assert_eq!(
            http(&local(port), second).await,
            Outcome::Failure("HTTP probe failed with statuscode: 404".into())
        );
        let requests = served.await.unwrap();
        assert!(
            requests[1].starts_with("GET /moved HTTP/1.1\r\n"),
            "{requests:?}"
        );

        let (port, _) = answering_each(vec![
            "HTTP/1.1 301 Moved\r\nLocation: http://example.com/\r\n\r\n".into(),
        ])
        .await;
        assert_eq!(http(&local(port), second).await, Outcome::Success);
    }

    /// A local HTTPS server with a self-signed certificate, answering one request with 200.
    async fn answering_over_tls() -> u16 {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let Ok(mut stream) = acceptor.accept(stream).await else {
                return;
            };
            let mut buffer = vec![0; 4096];
            let _ = stream.read(&mut buffer).await.unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            let _ = stream.shutdown().await;
        });
        port
    }

    #[tokio::test]
    async fn https_probes_accept_a_self_signed_certificate() {
        let second = Duration::from_secs(1);
        let port = answering_over_tls().await;
        let get = HttpGet {
            tls: true,
            ..local(port)
        };
        assert_eq!(http(&get, second).await, Outcome::Success);
        // Plain HTTP on the TLS port gets no HTTP answer.
        let port = answering_over_tls().await;
        assert!(matches!(
            http(&local(port), second).await,
            Outcome::Failure(_)
        ));
    }

    #[tokio::test]
    async fn http_probes_succeed_from_200_to_399() {
        let second = Duration::from_secs(1);
        let (port, served) = answering("302 Found").await;
        assert_eq!(http(&local(port), second).await, Outcome::Success);
        assert!(
            served
                .await
                .unwrap()
                .starts_with("GET /healthz HTTP/1.1\r\n")
        );
        let (port, _) = answering("503 Service Unavailable").await;
        assert_eq!(
            http(&local(port), second).await,
            Outcome::Failure("HTTP probe failed with statuscode: 503".into())
        );
    }

    #[tokio::test]
    async fn connections_nothing_accepts_fail() {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let second = Duration::from_secs(1);
        let Outcome::Failure(message) = tcp("127.0.0.1", closed, second).await else {
            panic!("a closed port accepted a connection");
        };
        assert!(
            message.starts_with(&format!("dial tcp 127.0.0.1:{closed}: ")),
            "{message}"
        );
        let Outcome::Failure(message) = http(&local(closed), second).await else {
            panic!("a closed port answered");
        };
        assert!(
            message.starts_with(&format!(
                "Get \"http://127.0.0.1:{closed}/healthz\": dial tcp"
            )),
            "{message}"
        );
        let open = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = open.local_addr().unwrap().port();
        assert_eq!(tcp("127.0.0.1", port, second).await, Outcome::Success);
    }
}
