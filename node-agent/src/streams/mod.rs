//! The streaming protocols kubectl and client libraries speak to a node for `exec`, `attach`,
//! `cp` and `port-forward`, after an HTTP upgrade: SPDY/3.1 carrying the remotecommand
//! (`v4.channel.k8s.io` and older) or `portforward.k8s.io` protocols, or a WebSocket carrying
//! the channel protocols (`v5.channel.k8s.io` and older). Independent of the container runtime
//! and of the HTTP server: the server calls [`negotiate`] on the request, answers with the
//! result, [`Upgrade::connect`]s the upgraded connection, and runs [`exec::ExecStreams`] or
//! [`portforward::serve`] on it.

pub mod connection;
pub mod exec;
pub mod frame;
pub mod headers;
pub mod portforward;
mod upgrade;
pub mod websocket;

pub use connection::{Session, SessionError, Stream, StreamReader, StreamWriter};
pub use upgrade::{Connection, Protocol, Refusal, Upgrade, UpgradeKind, negotiate};

/// The first frame kubectl 1.27 sent for `kubectl exec -i p -- echo hi`: SYN_STREAM 1 opening
/// the `error` stream, its header block the first of the connection.
#[cfg(test)]
const KUBECTL_SYN_STREAM: &[u8] = &[
    0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x62, 0x60, 0x60, 0x60, 0x04, 0xa7, 0xb3, 0x92,
    0xa2, 0xd4, 0xc4, 0x5c, 0x68, 0x51, 0xc2, 0x9a, 0x0a, 0x0a, 0x68, 0x00, 0x00, 0x00, 0x00, 0xff,
    0xff,
];
