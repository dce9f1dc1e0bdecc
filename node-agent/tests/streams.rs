//! `kubectl exec` and `kubectl port-forward`, every kubectl from 1.27 to 1.33, against the
//! agent's streaming module behind a small plain-HTTP API stand-in: it answers discovery and
//! the pod, and serves `exec` with an in-memory process and `port-forward` with a local TCP
//! echo server. kubectl 1.30 and later exec over a WebSocket; kubectl 1.31 and later ask to
//! tunnel port-forwarding's SPDY through one, which the stand-in refuses as the agent does,
//! and the tests check they fell back to plain SPDY. A WebSocket client of the tests' own
//! forwards ports as the Python client does.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mkc_node_agent::streams::exec::{self, ExecOptions, Output, Process};
use mkc_node_agent::streams::{Upgrade, UpgradeKind, negotiate, portforward};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const KUBECTL_TIMEOUT: Duration = Duration::from_secs(60);
/// The pod port the stand-in forwards to its echo server; any other port is refused.
const ECHO_PORT: u16 = 80;

/// Every `kubectl.1.NN` beside the kubectl on PATH, oldest first; 1.27 and 1.33 must be there.
fn kubectls() -> Vec<(String, PathBuf)> {
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("kubectl"))
        .find(|p| p.is_file())
        .expect("kubectl on PATH");
    let dir = std::fs::canonicalize(&on_path)
        .expect("kubectl resolves")
        .with_file_name("");
    let found: Vec<_> = (27..=40)
        .map(|minor| (format!("1.{minor}"), dir.join(format!("kubectl.1.{minor}"))))
        .filter(|(_, path)| path.is_file())
        .collect();
    for needed in ["1.27", "1.33"] {
        assert!(
            found.iter().any(|(v, _)| v == needed),
            "no kubectl.{needed} in {}",
            dir.display()
        );
    }
    found
}

/// What the stand-in saw: one line per request, `METHOD path upgrade -> status`.
#[derive(Default)]
struct Log(Mutex<Vec<String>>);

impl Log {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

struct StandIn {
    log: Arc<Log>,
    dir: tempfile::TempDir,
}

impl StandIn {
    async fn start() -> Self {
        // Shown with a failing test's output only.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("mkc_node_agent::streams=debug")
            .with_test_writer()
            .try_init();
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(echo_server(echo));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Log::default());
        tokio::spawn(serve(listener, log.clone(), echo_addr));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kubeconfig"),
            format!(
                "apiVersion: v1\nkind: Config\n\
                 clusters: [{{name: c, cluster: {{server: \"http://{addr}\"}}}}]\n\
                 users: [{{name: u, user: {{}}}}]\n\
                 contexts: [{{name: x, context: {{cluster: c, user: u, namespace: default}}}}]\n\
                 current-context: x\n"
            ),
        )
        .unwrap();
        Self { log, dir }
    }

    fn command(&self, kubectl: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(kubectl);
        command
            .arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs kubectl to its end with `stdin`, on a blocking thread.
    async fn kubectl(&self, kubectl: &Path, args: &[&str], stdin: &[u8]) -> Ran {
        let child = self.command(kubectl, args).spawn().unwrap();
        let stdin = stdin.to_vec();
        tokio::task::spawn_blocking(move || Ran::collect(child, stdin))
            .await
            .unwrap()
    }
}

/// A finished kubectl.
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn collect(mut child: Child, stdin: Vec<u8>) -> Self {
        let mut input = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = input.write_all(&stdin);
        });
        let out = drain(child.stdout.take().unwrap());
        let err = drain(child.stderr.take().unwrap());
        let deadline = Instant::now() + KUBECTL_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("kubectl ran past {KUBECTL_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Self {
            status,
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    }

    fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

fn drain(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = from.read_to_string(&mut text);
        text
    })
}

async fn echo_server(listener: TcpListener) {
    while let Ok((mut conn, _)) = listener.accept().await {
        tokio::spawn(async move {
            let (mut r, mut w) = conn.split();
            let _ = tokio::io::copy(&mut r, &mut w).await;
            let _ = w.shutdown().await;
        });
    }
}

async fn serve(listener: TcpListener, log: Arc<Log>, echo: SocketAddr) {
    while let Ok((tcp, _)) = listener.accept().await {
        let log = log.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let log = log.clone();
                async move { Ok::<_, Infallible>(answer(req, &log, echo)) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
        });
    }
}

fn answer(req: Request<Incoming>, log: &Log, echo: SocketAddr) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let upgrade = req
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let response = route(req, &path, echo);
    log.push(format!(
        "{path} {upgrade} -> {}",
        response.status().as_u16()
    ));
    response
}

fn route(req: Request<Incoming>, path: &str, echo: SocketAddr) -> Response<Full<Bytes>> {
    let kind = match path {
        "/api/v1/namespaces/default/pods/p/exec" => UpgradeKind::Exec,
        "/api/v1/namespaces/default/pods/p/portforward" => UpgradeKind::PortForward,
        _ => return discovery(path),
    };
    let upgrade = match negotiate(kind, req.headers()) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refusal.response(),
    };
    let query = req.uri().query().unwrap_or_default().to_owned();
    let ports = match (&upgrade, kind) {
        (Upgrade::WebSocket { .. }, UpgradeKind::PortForward) => {
            portforward::ports_from_query(&query).unwrap()
        }
        _ => Vec::new(),
    };
    let channels = match kind {
        UpgradeKind::Exec => exec::WEBSOCKET_CHANNELS,
        UpgradeKind::PortForward => portforward::websocket_channels(&ports),
    };
    let response = upgrade.response(Full::default());
    tokio::spawn(async move {
        let upgraded = hyper::upgrade::on(req).await.unwrap();
        let connection = upgrade
            .connect(TokioIo::new(upgraded), channels)
            .await
            .unwrap();
        match kind {
            UpgradeKind::Exec => {
                let options = ExecOptions::from_query(&query).unwrap();
                let process = fake_process(&options);
                exec::ExecStreams::accept(connection, upgrade.protocol(), &options)
                    .await
                    .unwrap()
                    .run(process)
                    .await;
            }
            UpgradeKind::PortForward => {
                let connect = move |port: u16| async move {
                    if port != ECHO_PORT {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionRefused,
                            format!("nothing listens on port {port}"),
                        ));
                    }
                    TcpStream::connect(echo).await
                };
                portforward::serve(connection, &ports, connect).await;
            }
        }
    });
    response
}

fn json_response(value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::from(value.to_string()));
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response
}

/// Just enough of an API server for kubectl to find pod `p`.
fn discovery(path: &str) -> Response<Full<Bytes>> {
    match path {
        "/api" => json_response(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        })),
        "/apis" => json_response(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})),
        "/api/v1" => json_response(json!({
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [{
                "name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
                "verbs": ["get", "list"], "shortNames": ["po"],
            }],
        })),
        "/api/v1/namespaces/default/pods/p" => json_response(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "uid": "u"},
            "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]},
            "status": {"phase": "Running"},
        })),
        _ => {
            let mut response = Response::new(Full::from("not found"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}

type FakeProcess = Process<
    tokio::io::DuplexStream,
    mpsc::UnboundedReceiver<(Output, Bytes)>,
    Box<dyn FnMut(exec::TerminalSize) + Send>,
    std::pin::Pin<Box<dyn Future<Output = Result<i64, String>> + Send>>,
>;

/// A process in memory, by its command: `echo WORDS…` prints them; `fail N` complains on
/// stderr and exits with N; `upper` copies stdin to stdout uppercased.
fn fake_process(options: &ExecOptions) -> FakeProcess {
    let (stdin, mut input) = tokio::io::duplex(64 * 1024);
    let (output, outputs) = mpsc::unbounded();
    let (exited, exit) = oneshot::channel();
    let command = options.command.clone();
    tokio::spawn(async move {
        let send = |which, text: String| output.unbounded_send((which, Bytes::from(text)));
        let code = match command.first().map(String::as_str) {
            Some("echo") => {
                let _ = send(Output::Stdout, format!("{}\n", command[1..].join(" ")));
                0
            }
            Some("fail") => {
                let code = command.get(1).and_then(|c| c.parse().ok()).unwrap_or(1);
                let _ = send(Output::Stderr, format!("failing with {code}\n"));
                code
            }
            Some("upper") => {
                let mut buf = vec![0; 8192];
                while let Ok(n @ 1..) = input.read(&mut buf).await {
                    let _ = send(
                        Output::Stdout,
                        String::from_utf8_lossy(&buf[..n]).to_uppercase(),
                    );
                }
                0
            }
            _ => 127,
        };
        drop(output);
        let _ = exited.send(code);
    });
    Process {
        stdin: Some(stdin),
        output: outputs,
        resize: Box::new(|_| {}),
        exit: Box::pin(async move { exit.await.map_err(|e| e.to_string()) }),
    }
}

/// Checks the stand-in saw `sessions` streaming requests at `endpoint` from kubectl
/// `version`, over the transport that kubectl speaks: exec over a WebSocket from 1.30;
/// port-forward over SPDY, from 1.31 after a refused WebSocket tunnel.
fn assert_streamed(log: &Log, version: &str, endpoint: &str, sessions: usize) {
    let lines = log.take();
    let streaming: Vec<_> = lines.iter().filter(|l| l.contains(endpoint)).collect();
    let count = |suffix: &str| streaming.iter().filter(|l| l.ends_with(suffix)).count();
    let (spdy, websocket, refused) = (
        count("SPDY/3.1 -> 101"),
        count("websocket -> 101"),
        count("websocket -> 400"),
    );
    let expected = match endpoint {
        "/exec" if version >= "1.30" => (0, sessions, 0),
        "/portforward" if version >= "1.31" => (sessions, 0, sessions),
        _ => (sessions, 0, 0),
    };
    assert_eq!(
        (spdy, websocket, refused),
        expected,
        "kubectl {version}: {lines:#?}"
    );
    assert_eq!(
        streaming.len(),
        spdy + websocket + refused,
        "kubectl {version}: {lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_reports_output_and_exit_codes_to_every_kubectl() {
    let stand_in = StandIn::start().await;
    for (version, kubectl) in kubectls() {
        let ran = stand_in
            .kubectl(
                &kubectl,
                &["exec", "p", "--", "echo", "hello", "world"],
                b"",
            )
            .await;
        assert_eq!(
            (ran.code(), ran.stdout.as_str()),
            (Some(0), "hello world\n"),
            "kubectl {version}: {}",
            ran.stderr
        );
        assert_eq!(ran.stderr, "", "kubectl {version}");

        let ran = stand_in
            .kubectl(&kubectl, &["exec", "p", "--", "fail", "3"], b"")
            .await;
        assert_eq!(ran.code(), Some(3), "kubectl {version}: {}", ran.stderr);
        assert_eq!(ran.stdout, "", "kubectl {version}");
        assert!(
            ran.stderr.contains("failing with 3\n")
                && ran.stderr.contains("command terminated with exit code 3"),
            "kubectl {version}: {}",
            ran.stderr
        );
        assert_streamed(&stand_in.log, &version, "/exec", 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_passes_stdin_through_to_its_end() {
    let stand_in = StandIn::start().await;
    let input = "first line\nsecond line\n".repeat(2000);
    for (version, kubectl) in kubectls() {
        let ran = stand_in
            .kubectl(
                &kubectl,
                &["exec", "-i", "p", "--", "upper"],
                input.as_bytes(),
            )
            .await;
        assert_eq!(ran.code(), Some(0), "kubectl {version}: {}", ran.stderr);
        assert!(
            ran.stdout == input.to_uppercase(),
            "kubectl {version}: {} bytes back of {}: {}",
            ran.stdout.len(),
            input.len(),
            ran.stderr
        );
        assert_streamed(&stand_in.log, &version, "/exec", 1);
    }
}

/// A running `kubectl port-forward`, killed when dropped.
struct Forwarding(Child);

impl Forwarding {
    /// Waits a little for kubectl to exit by itself, stops it, and returns its stderr.
    async fn stop(mut self) -> String {
        for _ in 0..100 {
            if self.0.try_wait().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.0.kill();
        let mut stderr = String::new();
        let _ = self.0.stderr.take().unwrap().read_to_string(&mut stderr);
        stderr
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `kubectl port-forward p LOCAL:POD_PORT` and waits until it listens.
async fn port_forward(
    stand_in: &StandIn,
    kubectl: &Path,
    version: &str,
    pod_port: u16,
) -> (Forwarding, u16) {
    let local = free_port();
    let mapping = format!("{local}:{pod_port}");
    let args = ["port-forward", "--address", "127.0.0.1", "p", &mapping];
    let mut child = Forwarding(stand_in.command(kubectl, &args).spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let found = lines.any(|l| l.is_ok_and(|l| l.starts_with("Forwarding from")));
        // Keep draining so kubectl never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        found
    });
    let ready = tokio::time::timeout(KUBECTL_TIMEOUT, ready).await;
    assert!(
        matches!(ready, Ok(Ok(true))),
        "kubectl {version} port-forward never listened"
    );
    (child, local)
}

/// Sends `payload` through the forwarded port, ends its half, and returns what came back.
async fn round_trip(local: u16, payload: &[u8]) -> Vec<u8> {
    let mut conn = TcpStream::connect(("127.0.0.1", local)).await.unwrap();
    let (mut r, mut w) = conn.split();
    let send = async {
        w.write_all(payload).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut back = Vec::new();
    let receive = r.read_to_end(&mut back);
    let (_, received) =
        tokio::time::timeout(KUBECTL_TIMEOUT, async { futures::join!(send, receive) })
            .await
            .expect("the round trip ends");
    received.unwrap();
    back
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_carries_tcp_both_ways_for_every_kubectl() {
    let stand_in = StandIn::start().await;
    // Past SPDY's initial 64 KiB window, which kubectl never updates.
    let large: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    for (version, kubectl) in kubectls() {
        let (_forwarding, local) = port_forward(&stand_in, &kubectl, &version, ECHO_PORT).await;
        assert_eq!(
            round_trip(local, b"ping\n").await,
            b"ping\n",
            "kubectl {version}"
        );
        assert!(
            round_trip(local, &large).await == large,
            "kubectl {version}: the 1 MiB round trip differs"
        );
        assert_eq!(
            round_trip(local, b"again").await,
            b"again",
            "kubectl {version}"
        );
        assert_streamed(&stand_in.log, &version, "/portforward", 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_reports_a_failed_connection_to_every_kubectl() {
    let stand_in = StandIn::start().await;
    for (version, kubectl) in kubectls() {
        let (forwarding, local) = port_forward(&stand_in, &kubectl, &version, 81).await;
        let mut conn = TcpStream::connect(("127.0.0.1", local)).await.unwrap();
        // The far end closes without a byte; how abruptly depends on the kubectl.
        let _ = conn.write_all(b"hello").await;
        let mut back = Vec::new();
        let read = tokio::time::timeout(KUBECTL_TIMEOUT, conn.read_to_end(&mut back)).await;
        assert!(read.is_ok(), "kubectl {version} kept the connection open");
        assert!(back.is_empty(), "kubectl {version}: {back:?}");
        let stderr = forwarding.stop().await;
        assert!(
            stderr.contains("error forwarding port 81 to pod: nothing listens on port 81"),
            "kubectl {version}: {stderr}"
        );
        stand_in.log.take();
    }
}

/// A WebSocket client of the port-forward protocol as the Python client speaks it: the ports
/// in the query, a data and an error channel for each, each announcing its port first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_forward_over_a_websocket_carries_each_port_on_its_channels() {
    let stand_in = StandIn::start().await;
    let server = std::fs::read_to_string(stand_in.dir.path().join("kubeconfig")).unwrap();
    let addr = server
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let url = format!("ws://{addr}/api/v1/namespaces/default/pods/p/portforward?ports=80,81");
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "v4.channel.k8s.io".parse().unwrap(),
    );
    let tcp = TcpStream::connect(&addr).await.unwrap();
    let (mut socket, response) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "v4.channel.k8s.io"
    );

    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut next = async || loop {
        match tokio::time::timeout(KUBECTL_TIMEOUT, socket.next()).await {
            Ok(Some(Ok(Message::Binary(data)))) => return Some(data.to_vec()),
            Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return None,
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("no message within {KUBECTL_TIMEOUT:?}"),
        }
    };
    // Each channel first says which port it serves, little-endian.
    for _ in 0..4 {
        got.push(next().await.unwrap());
    }
    got.sort();
    assert_eq!(
        got,
        [
            vec![0, 80, 0],
            vec![1, 80, 0],
            vec![2, 81, 0],
            vec![3, 81, 0]
        ]
    );
    // Nothing listens on 81: its error channel says so.
    let refused = String::from_utf8(next().await.unwrap()).unwrap();
    assert!(
        refused.starts_with("\u{3}error forwarding port 81 to pod: nothing listens on port 81"),
        "{refused:?}"
    );
    drop(next);
    socket
        .send(Message::Binary(b"\0echo me".to_vec().into()))
        .await
        .unwrap();
    let mut echoed = Vec::new();
    while echoed.len() < b"echo me".len() {
        let Some(Ok(Message::Binary(data))) = socket.next().await else {
            panic!("the connection ended before the echo");
        };
        assert_eq!(data[0], 0, "data comes back on port 80's data channel");
        echoed.extend_from_slice(&data[1..]);
    }
    assert_eq!(echoed, b"echo me");
    socket.close(None).await.unwrap();
    let lines = stand_in.log.take();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("/portforward websocket -> 101")),
        "{lines:#?}"
    );
}
