//! The `portforward.k8s.io` protocol, server side, over a SPDY session: for each connection
//! to a forwarded local port the client opens an `error` and a `data` stream sharing a
//! `requestid` and a `port`; this side connects to that port in the pod, copies bytes both
//! ways on the data stream, and writes on the error stream why, if the connection failed.

use std::collections::HashMap;
use std::fmt::Display;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::connection::{Session, Stream};

/// How long a stream waits for its partner, as a kubelet allows.
const PAIR_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves the port-forward requests on `session` until the client closes it. `connect` opens
/// a connection to a port of the pod; its error is what the client is told.
pub async fn serve<C, F, S, E>(mut session: Session, connect: C)
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
            forwards.spawn(forward(port, connect(port), error, data));
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
/// client gives up on it.
async fn forward<F, S, E>(port: u16, connection: F, error: Stream, data: Stream)
where
    F: Future<Output = Result<S, E>>,
    S: AsyncRead + AsyncWrite,
    E: Display,
{
    let mut report = error.writer;
    let Stream {
        reader: mut from_client,
        writer: mut to_client,
        ..
    } = data;
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
