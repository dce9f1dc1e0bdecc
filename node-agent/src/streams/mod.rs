//! The streaming protocols kubectl speaks to a node for `exec`, `attach`, `cp` and
//! `port-forward`: SPDY/3.1 after an HTTP upgrade, carrying the remotecommand
//! (`v4.channel.k8s.io` and older) or `portforward.k8s.io` protocols. Independent of the
//! container runtime and of the HTTP server: the server calls [`negotiate`] on the request,
//! answers with the result, and runs [`exec::ExecStreams`] or [`portforward::serve`] on the
//! upgraded connection.

pub mod connection;
pub mod exec;
pub mod frame;
pub mod headers;
pub mod portforward;
mod upgrade;

pub use connection::{Session, SessionError, Stream, StreamReader, StreamWriter};
pub use upgrade::{Protocol, Refusal, Upgrade, UpgradeKind, negotiate};

/// The first frame kubectl 1.27 sent for `kubectl exec -i p -- echo hi`: SYN_STREAM 1 opening
/// the `error` stream, its header block the first of the connection.
#[cfg(test)]
const KUBECTL_SYN_STREAM: &[u8] = &[
    0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x62, 0x60, 0x60, 0x60, 0x04, 0xa7, 0xb3, 0x92,
    0xa2, 0xd4, 0xc4, 0x5c, 0x68, 0x51, 0xc2, 0x9a, 0x0a, 0x0a, 0x68, 0x00, 0x00, 0x00, 0x00, 0xff,
    0xff,
];
