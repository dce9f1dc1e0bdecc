//! Exec, attach and port-forward sessions on the node's port: the request asks to upgrade the
//! connection; once it has switched to SPDY or a WebSocket, the session runs between the
//! client (through the API server) and a process in the pod's container, or the pod's ports.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{Body, text};
use crate::runtime::{ContainerRuntime, PodKey, ProcessRequest, Stdio};
use crate::streams::exec::{self, ExecOptions, ExecStreams, Output, Process, TerminalSize};
use crate::streams::{self, Connection, Upgrade, UpgradeKind, portforward};

/// `exec` and `attach` of `container` in `pod`: switches protocols, then runs the process.
pub fn process<R: ContainerRuntime>(
    request: Request<Incoming>,
    runtime: Arc<R>,
    pod: PodKey,
    container: String,
    attach: bool,
) -> Response<Body> {
    let upgrade = match streams::negotiate(UpgradeKind::Exec, request.headers()) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return text(refusal.status(), &format!("{refusal}\n")),
    };
    let query = request.uri().query().unwrap_or_default().to_owned();
    let mut options = match ExecOptions::from_query(&query) {
        Ok(options) => options,
        Err(error) => return text(StatusCode::BAD_REQUEST, &format!("{error}\n")),
    };
    if attach {
        options.command.clear();
    } else if options.command.is_empty() {
        return text(StatusCode::BAD_REQUEST, "you must specify a command\n");
    }
    let response = upgrade.response(Body::default());
    tokio::spawn(async move {
        let Some(connection) = switch(request, &upgrade, exec::WEBSOCKET_CHANNELS).await else {
            return;
        };
        let streams = match ExecStreams::accept(connection, upgrade.protocol(), &options).await {
            Ok(streams) => streams,
            Err(error) => {
                tracing::debug!(%error, "an exec client did not open its streams");
                return;
            }
        };
        let asked = ProcessRequest {
            command: &options.command,
            stdin: options.stdin,
            tty: options.tty,
        };
        match runtime.process(&pod, &container, asked).await {
            Ok(io) => {
                let mut resize = io.resize;
                streams
                    .run(Process {
                        stdin: io.stdin,
                        output: io.output.map(|(channel, bytes): (Stdio, Bytes)| {
                            let channel = match channel {
                                Stdio::Stdout => Output::Stdout,
                                Stdio::Stderr => Output::Stderr,
                            };
                            (channel, bytes)
                        }),
                        resize: move |size: TerminalSize| resize(size.width, size.height),
                        exit: io.exit,
                    })
                    .await;
            }
            Err(error) => streams.fail(error).await,
        }
    });
    response
}

/// `portforward` to `pod`: switches protocols, then connects each forwarded port to the pod's
/// address (the node's own for a pod on the host network).
pub fn port_forward<R: ContainerRuntime>(
    request: Request<Incoming>,
    runtime: Arc<R>,
    pod: PodKey,
) -> Response<Body> {
    let upgrade = match streams::negotiate(UpgradeKind::PortForward, request.headers()) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return text(refusal.status(), &format!("{refusal}\n")),
    };
    let ports = match &upgrade {
        Upgrade::Spdy { .. } => Vec::new(),
        Upgrade::WebSocket { .. } => {
            match portforward::ports_from_query(request.uri().query().unwrap_or_default()) {
                Ok(ports) => ports,
                Err(error) => return text(StatusCode::BAD_REQUEST, &format!("{error}\n")),
            }
        }
    };
    let response = upgrade.response(Body::default());
    tokio::spawn(async move {
        let address = match runtime.pod_status(&pod).await {
            Ok(found) => found.sandbox.ip,
            Err(error) => {
                tracing::debug!(%error, pod = %pod, "port-forward to a pod without a sandbox");
                return;
            }
        };
        let host = address.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let channels = portforward::websocket_channels(&ports);
        let Some(connection) = switch(request, &upgrade, channels).await else {
            return;
        };
        portforward::serve(connection, &ports, move |port| {
            TcpStream::connect(SocketAddr::new(host, port))
        })
        .await;
    });
    response
}

/// The upgraded connection, speaking what was negotiated.
async fn switch(request: Request<Incoming>, upgrade: &Upgrade, channels: u8) -> Option<Connection> {
    let upgraded = match hyper::upgrade::on(request).await {
        Ok(upgraded) => upgraded,
        Err(error) => {
            tracing::debug!(%error, "the connection was not upgraded");
            return None;
        }
    };
    match upgrade.connect(TokioIo::new(upgraded), channels).await {
        Ok(connection) => Some(connection),
        Err(error) => {
            tracing::debug!(%error, "starting a SPDY session failed");
            None
        }
    }
}
