//! gRPC probes, as upstream's prober runs them: the standard health service's `Check` call
//! (`grpc.health.v1.Health`) over HTTP/2 without TLS, succeeding when the answer is SERVING.
//! The two messages are one optional field each, so they are encoded here by hand rather than
//! with a protobuf code generator.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use super::worker::Outcome;
use crate::status::go_duration;

const PATH: &str = "/grpc.health.v1.Health/Check";
/// `HealthCheckResponse.ServingStatus.SERVING`.
const SERVING: u64 = 1;
/// `codes.Unimplemented`: the server has no health service.
const UNIMPLEMENTED: u32 = 12;

/// Asks `host:port` whether `service` (the server as a whole when empty) is serving.
pub async fn check(host: &str, port: u16, service: &str, timeout: Duration) -> Outcome {
    let address = super::check::authority(host, port);
    let connected = tokio::time::timeout(timeout, TcpStream::connect((host, port))).await;
    let stream = match connected {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return unreachable(&address, timeout, &error.to_string()),
        Err(_) => return unreachable(&address, timeout, "context deadline exceeded"),
    };
    match tokio::time::timeout(timeout, call(stream, &address, service)).await {
        Err(_) => Outcome::Failure(format!(
            "timeout: health rpc did not complete within {}",
            go_duration(timeout)
        )),
        Ok(Err(failure)) => Outcome::Failure(failure),
        Ok(Ok(SERVING)) => Outcome::Success,
        Ok(Ok(status)) => Outcome::Failure(format!(
            "service unhealthy (responded with {:?})",
            status_name(status)
        )),
    }
}

fn unreachable(address: &str, timeout: Duration, why: &str) -> Outcome {
    Outcome::Failure(format!(
        "timeout: failed to connect service {address:?} within {}: {why}",
        go_duration(timeout)
    ))
}

/// The call on a new HTTP/2 connection: the serving status the server answered, or why there
/// is none, worded as upstream's prober words it.
async fn call(stream: TcpStream, address: &str, service: &str) -> Result<u64, String> {
    let failed = |e: hyper::Error| format!("health rpc probe failed: {e}");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .map_err(failed)?;
    tokio::spawn(connection);
    let request = Request::post(format!("http://{address}{PATH}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("user-agent", super::check::USER_AGENT)
        .body(Full::new(framed(&request_message(service))))
        .map_err(|e| format!("health rpc probe failed: {e}"))?;
    let response = sender.send_request(request).await.map_err(failed)?;
    let (head, body) = response.into_parts();
    let collected = body.collect().await.map_err(failed)?;
    // A call that fails at once answers with its status in the headers alone.
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let field = |name: &str| {
        trailers
            .get(name)
            .or_else(|| head.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let code = field("grpc-status").and_then(|c| c.parse::<u32>().ok());
    match code {
        Some(0) => response_status(&collected.to_bytes())
            .ok_or_else(|| "health rpc probe failed: malformed response".to_owned()),
        Some(UNIMPLEMENTED) => Err(format!(
            "this server does not implement the grpc health protocol (grpc.health.v1.Health): {}",
            field("grpc-message").unwrap_or_default()
        )),
        Some(code) => Err(format!(
            "health rpc probe failed: rpc error: code = {code} desc = {}",
            field("grpc-message").unwrap_or_default()
        )),
        None => Err(format!(
            "health rpc probe failed: HTTP status {} without a grpc-status",
            head.status.as_u16()
        )),
    }
}

/// `HealthCheckRequest { service }`: field 1, length-delimited, left out when empty.
fn request_message(service: &str) -> Vec<u8> {
    let mut message = Vec::new();
    if !service.is_empty() {
        message.push(0x0a);
        varint(&mut message, service.len() as u64);
        message.extend_from_slice(service.as_bytes());
    }
    message
}

/// A message as gRPC frames it: not compressed, its length, then it.
fn framed(message: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(message.len() as u32);
    frame.put_slice(message);
    frame.freeze()
}

/// The `status` (field 1, a varint) of the framed `HealthCheckResponse` in `body`; absent is
/// 0, UNKNOWN. Other fields are skipped.
fn response_status(body: &[u8]) -> Option<u64> {
    let (&compressed, rest) = body.split_first()?;
    let length = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    if compressed != 0 {
        return None;
    }
    let mut message = rest.get(4..4 + length)?;
    let mut status = 0;
    while !message.is_empty() {
        let key = read_varint(&mut message)?;
        match (key >> 3, key & 7) {
            (1, 0) => status = read_varint(&mut message)?,
            (_, 0) => drop(read_varint(&mut message)?),
            (_, 2) => {
                let skip = usize::try_from(read_varint(&mut message)?).ok()?;
                message = message.get(skip..)?;
            }
            (_, 1) => message = message.get(8..)?,
            (_, 5) => message = message.get(4..)?,
            _ => return None,
        }
    }
    Some(status)
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The name upstream prints for a serving status.
fn status_name(status: u64) -> String {
    match status {
        0 => "UNKNOWN".to_owned(),
        1 => "SERVING".to_owned(),
        2 => "NOT_SERVING".to_owned(),
        3 => "SERVICE_UNKNOWN".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    use http_body_util::StreamBody;
    use hyper::body::{Frame, Incoming};
    use hyper::service::service_fn;
    use hyper::{HeaderMap, Response};
    use tokio::net::TcpListener;

    #[test]
    fn messages_are_encoded_and_read_as_protobuf() {
        assert_eq!(request_message(""), b"");
        assert_eq!(request_message("db"), b"\x0a\x02db");
        assert_eq!(&framed(b"\x0a\x02db")[..], b"\0\0\0\0\x04\x0a\x02db");
        assert_eq!(response_status(&framed(b"\x08\x01")), Some(1));
        assert_eq!(response_status(&framed(b"")), Some(0));
        // An unknown length-delimited field first is skipped.
        assert_eq!(response_status(&framed(b"\x12\x01x\x08\x02")), Some(2));
        assert_eq!(response_status(b"\0\0\0\0\x09\x08"), None);
        let mut long = Vec::new();
        varint(&mut long, 300);
        assert_eq!(read_varint(&mut long.as_slice()), Some(300));
    }

    /// A gRPC server on a local port answering every Check with `status` for the service
    /// named "ok", and Unimplemented when asked with the path of another service.
    async fn health_server(status: u8) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = service_fn(move |request: Request<Incoming>| async move {
                    let asked = request.into_body().collect().await.unwrap().to_bytes();
                    let mut trailers = HeaderMap::new();
                    let message = if asked[5..] == *b"\x0a\x02ok" {
                        trailers.insert("grpc-status", "0".parse().unwrap());
                        framed(&[0x08, status])
                    } else {
                        trailers.insert("grpc-status", "5".parse().unwrap());
                        trailers.insert("grpc-message", "unknown service".parse().unwrap());
                        Bytes::new()
                    };
                    let frames = vec![
                        Ok::<_, Infallible>(Frame::data(message)),
                        Ok(Frame::trailers(trailers)),
                    ];
                    let body = StreamBody::new(futures::stream::iter(frames));
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "application/grpc")
                            .body(body)
                            .unwrap(),
                    )
                });
                tokio::spawn(
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        port
    }

    #[tokio::test]
    async fn serving_succeeds_and_anything_else_fails_with_upstreams_words() {
        let second = Duration::from_secs(1);
        let serving = health_server(1).await;
        assert_eq!(
            check("127.0.0.1", serving, "ok", second).await,
            Outcome::Success
        );
        assert_eq!(
            check("127.0.0.1", serving, "other", second).await,
            Outcome::Failure(
                "health rpc probe failed: rpc error: code = 5 desc = unknown service".into()
            )
        );
        let not_serving = health_server(2).await;
        assert_eq!(
            check("127.0.0.1", not_serving, "ok", second).await,
            Outcome::Failure("service unhealthy (responded with \"NOT_SERVING\")".into())
        );
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let Outcome::Failure(message) = check("127.0.0.1", closed, "", second).await else {
            panic!("a closed port answered");
        };
        assert!(
            message.starts_with(&format!(
                "timeout: failed to connect service \"127.0.0.1:{closed}\" within 1s: "
            )),
            "{message}"
        );
    }
}
