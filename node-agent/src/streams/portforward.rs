//! Port forwarding, server side. Over SPDY (`portforward.k8s.io`), for each connection to a
//! forwarded local port the client opens an `error` and a `data` stream sharing a `requestid`
//! and a `port`. Over a WebSocket (`v4.channel.k8s.io`), the ports are named in the request's
//! query and each has a data and an error channel (2N and 2N+1), each first sending the port;
//! one connection carries one connection per port. Either way this side connects to the port
//! in the pod, copies bytes both ways on the data stream, and writes on the error stream why,
//! if the connection failed.

use std::collections::HashMap;
use std::fmt::Display;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::connection::{Session, Stream};
use super::upgrade::Connection;
use super::websocket::Channels;

/// How long a stream waits for its partner, as a kubelet allows.
const PAIR_TIMEOUT: Duration = Duration::from_secs(30);
/// The most ports one WebSocket connection forwards: two channels each, numbered in a byte.
const MAX_WEBSOCKET_PORTS: usize = 127;

/// Why a WebSocket port-forward request cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortsError {
    #[error("at least one port must be specified")]
    None,
    #[error("unable to parse {0:?} as a port")]
    Invalid(String),
    #[error("at most {MAX_WEBSOCKET_PORTS} ports can be forwarded at once")]
    TooMany,
}

/// The ports a WebSocket client forwards, from the query's `port` (a kubelet's name) or
/// `ports` (the API's, which the API server passes on) parameters, each a comma-separated list.
pub fn ports_from_query(query: &str) -> Result<Vec<u16>, PortsError> {
    let mut ports = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "port" && name != "ports" {
            continue;
        }
        for port in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match port.parse::<u16>() {
                Ok(port @ 1..) => ports.push(port),
                _ => return Err(PortsError::Invalid(port.to_owned())),
            }
        }
    }
    match ports.len() {
        0 => Err(PortsError::None),
        n if n > MAX_WEBSOCKET_PORTS => Err(PortsError::TooMany),
        _ => Ok(ports),
    }
}

/// How many channels a WebSocket forwarding `ports` ports has.
pub fn websocket_channels(ports: &[u16]) -> u8 {
    u8::try_from(ports.len().min(MAX_WEBSOCKET_PORTS) * 2).unwrap_or(u8::MAX)
}

/// Serves port forwarding on `connection` until the client closes it. `ports` are the ports a
/// WebSocket client named in its query (a SPDY client names a port per stream). `connect`
/// opens a connection to a port of the pod; its error is what the client is told.
pub async fn serve<C, F, S, E>(connection: Connection, ports: &[u16], connect: C)
where
    C: Fn(u16) -> F,
    F: Future<Output = Result<S, E>> + Send + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
    E: Display + 'static,
{
    match connection {
        Connection::Spdy(session) => serve_spdy(session, connect).await,
        Connection::WebSocket(channels) => serve_websocket(channels, ports, connect).await,
    }
}

/// One connection to each port, each on its pair of channels, then the end.
async fn serve_websocket<C, F, S, E>(mut channels: Channels, ports: &[u16], connect: C)
where
    C: Fn(u16) -> F,
    F: Future<Output = Result<S, E>> + Send + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
    E: Display + 'static,
{
    let mut forwards = JoinSet::new();
    for (pair, &port) in (0..websocket_channels(ports)).step_by(2).zip(ports) {
        let (data, error) = (pair, pair + 1);
        for channel in [data, error] {
            channels.announce(channel, &port.to_le_bytes()).await;
        }
        let (Some(data), Some(error)) = (channels.take(data), channels.take(error)) else {
            continue;
        };
        let (from_client, to_client) = tokio::io::split(data);
        forwards.spawn(forward(port, connect(port), error, from_client, to_client));
    }
    while forwards.join_next().await.is_some() {}
    channels.close().await;
}

/// Serves the port-forward requests on `session` until the client closes it.
async fn serve_spdy<C, F, S, E>(mut session: Session, connect: C)
where
    C: Fn(u16) -> F,
    F: Future<Output = Result<S, E>> + Send + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
    E: Display + 'static,
{
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut forwards = JoinSet::new();
    loop {
        let stream = tokio::select! {
            stream = session.accept() => stream,
            Some(_) = forwards.join_next(), if !forwards.is_empty() => continue,
        };
        let Some(stream) = stream else { break };
        pending.retain(|id, p| {
            let fresh = p.since.elapsed() < PAIR_TIMEOUT;
            if !fresh {
                warn!(request = %id, "port-forward stream never got its partner");
            }
            fresh
        });
        let Some((request, kind, port)) = classify(&stream) else {
            stream.refuse();
            continue;
        };
        let entry = pending.entry(request.clone()).or_insert_with(|| Pending {
            port,
            error: None,
            data: None,
            since: Instant::now(),
        });
        let slot = match kind {
            Kind::Error => &mut entry.error,
            Kind::Data => &mut entry.data,
        };
        if slot.is_some() || entry.port != port {
            warn!(request = %request, "refusing a repeated or mismatched port-forward stream");
            stream.refuse();
            continue;
        }
        *slot = Some(stream);
        if entry.error.is_none() || entry.data.is_none() {
            debug!(request = %request, port, "port-forward stream waits for its partner");
            continue;
        }
        if let Some(Pending {
            error: Some(error),
            data: Some(data),
            ..
        }) = pending.remove(&request)
        {
            forwards.spawn(forward(
                port,
                connect(port),
                error.writer,
                data.reader,
                data.writer,
            ));
        }
    }
    forwards.shutdown().await;
    session.close().await;
}

/// A request whose two streams have not both arrived.
struct Pending {
    port: u16,
    error: Option<Stream>,
    data: Option<Stream>,
    since: Instant,
}

enum Kind {
    Error,
    Data,
}

/// A stream's request id, type and port, or `None` if its headers do not make sense. Clients
/// too old to send a request id pair the streams by id, as a kubelet pairs them: the data
/// stream follows its error stream.
fn classify(stream: &Stream) -> Option<(String, Kind, u16)> {
    let kind = match stream.headers.get("streamtype") {
        Some("error") => Kind::Error,
        Some("data") => Kind::Data,
        other => {
            warn!(stream_type = ?other, "refusing a port-forward stream of unknown type");
            return None;
        }
    };
    let port = stream
        .headers
        .get("port")
        .and_then(|p| p.parse::<u16>().ok());
    let Some(port @ 1..) = port else {
        warn!(port = ?stream.headers.get("port"), "refusing a port-forward stream without a valid port");
        return None;
    };
    let request = match (stream.headers.get("requestid"), &kind) {
        (Some(id), _) => id.to_owned(),
        (None, Kind::Error) => stream.id.to_string(),
        (None, Kind::Data) => stream.id.saturating_sub(2).to_string(),
    };
    Some((request, kind, port))
}

/// Connects one request to the pod's port and copies until both directions are done, or the
/// client gives up on it; writes on `report` why the connection failed.
async fn forward<F, S, E>(
    port: u16,
    connection: F,
    mut report: impl AsyncWrite + Unpin,
    mut from_client: impl AsyncRead + Unpin,
    mut to_client: impl AsyncWrite + Unpin,
) where
    F: Future<Output = Result<S, E>>,
    S: AsyncRead + AsyncWrite,
    E: Display,
{
    let connected = connection
        .await
        .map_err(|e| format!("error forwarding port {port} to pod: {e}"));
    match connected {
        Err(message) => {
            debug!(%message);
            let _ = report.write_all(message.as_bytes()).await;
        }
        Ok(target) => {
            let (mut from_pod, mut to_pod) = tokio::io::split(target);
            let upstream = async {
                let copied = tokio::io::copy(&mut from_client, &mut to_pod).await;
                let _ = to_pod.shutdown().await;
                copied
            };
            let downstream = async {
                if let Err(e) = tokio::io::copy(&mut from_pod, &mut to_client).await {
                    debug!(port, error = %e, "port-forward copy to the client ended");
                }
            };
            tokio::pin!(upstream, downstream);
            tokio::select! {
                copied = &mut upstream => match copied {
                    // The client finished sending: the pod may still answer.
                    Ok(_) => downstream.await,
                    Err(e) => debug!(port, error = %e, "port-forward client gave up on the connection"),
                },
                () = &mut downstream => {}
            }
        }
    }
    let _ = to_client.shutdown().await;
    let _ = report.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_ports_come_from_either_query_name() {
        assert_eq!(ports_from_query("ports=80,8080"), Ok(vec![80, 8080]));
        assert_eq!(ports_from_query("port=80&port=443"), Ok(vec![80, 443]));
        assert_eq!(ports_from_query("container=c"), Err(PortsError::None));
        assert_eq!(
            ports_from_query("ports=80,http"),
            Err(PortsError::Invalid("http".into()))
        );
        assert_eq!(
            ports_from_query("ports=0"),
            Err(PortsError::Invalid("0".into()))
        );
        let many: Vec<String> = (1..=200).map(|p| p.to_string()).collect();
        assert_eq!(
            ports_from_query(&format!("ports={}", many.join(","))),
            Err(PortsError::TooMany)
        );
        assert_eq!(websocket_channels(&[80, 443]), 4);
    }
}
