//! What one probe does, as upstream's prober does it: an HTTP GET answered with a status from
//! 200 to 399, a TCP connection made within the timeout, or a command run in the container
//! that exits 0. The failure messages read as upstream's do, since they end up in `Unhealthy`
//! events. HTTPS and gRPC probes are not run (see [`Action::of`]).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::worker::{Check, Outcome};
use crate::runtime::{ContainerRuntime, PodKey, ProcessRequest};

/// The most of a command's output (or of a response's head) a probe reads, upstream's bound.
const MAX_OUTPUT: usize = 10 * 1024;
/// The User-Agent upstream's probes send.
const USER_AGENT: &str = "kube-probe/1.33";

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
    Tcp { host: String, port: u16 },
    Exec(Vec<String>),
}

/// An HTTP GET, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpGet {
    pub host: String,
    pub port: u16,
    /// The request target: a path, perhaps with a query.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Action {
    /// The action of `probe` on `container` of a pod at `pod_ip` (where HTTP and TCP probes
    /// connect unless they name a host). `None` for a probe this agent does not run (gRPC,
    /// HTTPS, none at all): the container is treated as not having it. An error for one that
    /// cannot run as given, which then errors each time, as upstream's does.
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
        let get = probe.http_get.as_ref()?;
        if get
            .scheme
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case("HTTP"))
        {
            return None;
        }
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
fn authority(host: &str, port: u16) -> String {
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
    let address = authority(&get.host, get.port);
    let url = format!("http://{address}{}", get.path);
    match tokio::time::timeout(timeout, status_of(get, &address)).await {
        Err(_) => Outcome::Failure(format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
        Ok(Err(error)) => Outcome::Failure(format!("Get {url:?}: {error}")),
        Ok(Ok(code)) if (200..400).contains(&code) => Outcome::Success,
        Ok(Ok(code)) => Outcome::Failure(format!("HTTP probe failed with statuscode: {code}")),
    }
}

/// Sends the request and reads the status code from the response's first line.
async fn status_of(get: &HttpGet, address: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect((get.host.as_str(), get.port))
        .await
        .map_err(|e| format!("dial tcp {address}: {e}"))?;
    stream
        .write_all(request(get, address).as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buffer = [0; 1024];
    while !head.contains(&b'\n') && head.len() < MAX_OUTPUT {
        let read = stream.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    status_code(&head).ok_or_else(|| "malformed HTTP response".to_owned())
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
        assert_eq!(
            of(json!({"httpGet": {"port": 443, "scheme": "HTTPS"}})),
            None
        );
        assert_eq!(of(json!({"grpc": {"port": 9000}})), None);
        assert_eq!(of(json!({})), None);
    }

    #[test]
    fn requests_carry_upstream_headers_unless_the_probe_names_its_own() {
        let get = HttpGet {
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
            host: "127.0.0.1".into(),
            port,
            path: "/healthz".into(),
            headers: Vec::new(),
        }
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
