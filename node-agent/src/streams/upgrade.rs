//! The answer to an upgrade request for exec, attach or port-forward: which streaming protocol
//! to speak, over which transport, or why none. SPDY/3.1 carries the remotecommand protocols
//! up to v4 and `portforward.k8s.io`; a WebSocket carries the channel protocols up to v5
//! (what kubectl 1.30 and later, and the Python client, ask for first). A client refused the
//! WebSocket it asked for (kubectl's port-forward tunnelling SPDY inside one) falls back to
//! SPDY.

use hyper::header::{
    CONNECTION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, SEC_WEBSOCKET_ACCEPT,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::connection::{Session, SessionError};
use super::websocket::{Channels, Encoding, Framing};

/// The header the client lists its protocols in and the server names its choice in.
pub const PROTOCOL_HEADER: &str = "x-stream-protocol-version";
/// The header a refusal lists the protocols this side speaks in.
const ACCEPTED_HEADER: &str = "x-accepted-stream-protocol-versions";
const SPDY: &str = "SPDY/3.1";
const WEBSOCKET: &str = "websocket";

/// Which endpoint was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeKind {
    /// `exec` and `attach`: the remotecommand protocols.
    Exec,
    PortForward,
}

/// A streaming protocol, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// `v5.channel.k8s.io`, WebSocket only: v4, and the client can end its stdin.
    V5,
    /// `v4.channel.k8s.io`: exit status as a JSON Status on the error stream.
    V4,
    /// `v3.channel.k8s.io`: adds the resize stream.
    V3,
    /// `v2.channel.k8s.io`: stdin handled properly.
    V2,
    /// `channel.k8s.io`: the original.
    V1,
    /// `portforward.k8s.io`.
    PortForward,
}

impl Protocol {
    const SPDY_EXEC: [Protocol; 4] = [Protocol::V4, Protocol::V3, Protocol::V2, Protocol::V1];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::V5 => "v5.channel.k8s.io",
            Protocol::V4 => "v4.channel.k8s.io",
            Protocol::V3 => "v3.channel.k8s.io",
            Protocol::V2 => "v2.channel.k8s.io",
            Protocol::V1 => "channel.k8s.io",
            Protocol::PortForward => "portforward.k8s.io",
        }
    }

    /// Whether the error stream carries a JSON Status rather than a bare message.
    pub fn reports_status(self) -> bool {
        matches!(self, Protocol::V5 | Protocol::V4)
    }

    fn oldest(kind: UpgradeKind) -> Protocol {
        match kind {
            UpgradeKind::Exec => Protocol::V1,
            UpgradeKind::PortForward => Protocol::PortForward,
        }
    }

    fn spdy(kind: UpgradeKind) -> &'static [Protocol] {
        match kind {
            UpgradeKind::Exec => &Self::SPDY_EXEC,
            UpgradeKind::PortForward => &[Protocol::PortForward],
        }
    }
}

/// A WebSocket subprotocol a kubelet serves: its name, the protocol its channels carry, and
/// how they are framed.
struct Subprotocol {
    name: &'static str,
    protocol: Protocol,
    framing: Framing,
}

const fn subprotocol(name: &'static str, protocol: Protocol, encoding: Encoding) -> Subprotocol {
    Subprotocol {
        name,
        protocol,
        framing: Framing {
            encoding,
            closable: matches!(protocol, Protocol::V5),
        },
    }
}

/// The WebSocket subprotocols served, as a kubelet lists them; the first is spoken to a
/// client that names none.
const WEBSOCKET_EXEC: [Subprotocol; 5] = [
    subprotocol("channel.k8s.io", Protocol::V1, Encoding::Binary),
    subprotocol("v5.channel.k8s.io", Protocol::V5, Encoding::Binary),
    subprotocol("v4.channel.k8s.io", Protocol::V4, Encoding::Binary),
    subprotocol("v4.base64.channel.k8s.io", Protocol::V4, Encoding::Base64),
    subprotocol("base64.channel.k8s.io", Protocol::V1, Encoding::Base64),
];
const WEBSOCKET_PORT_FORWARD: [Subprotocol; 2] = [
    subprotocol("v4.channel.k8s.io", Protocol::PortForward, Encoding::Binary),
    subprotocol(
        "v4.base64.channel.k8s.io",
        Protocol::PortForward,
        Encoding::Base64,
    ),
];

fn websocket_served(kind: UpgradeKind) -> &'static [Subprotocol] {
    match kind {
        UpgradeKind::Exec => &WEBSOCKET_EXEC,
        UpgradeKind::PortForward => &WEBSOCKET_PORT_FORWARD,
    }
}

/// An accepted upgrade: answer with [`Upgrade::response`], then [`Upgrade::connect`] the
/// upgraded connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upgrade {
    Spdy {
        protocol: Protocol,
    },
    WebSocket {
        protocol: Protocol,
        /// The subprotocol named back to the client; none if it asked for none.
        subprotocol: Option<&'static str>,
        framing: Framing,
        /// `Sec-WebSocket-Accept`, from the client's key.
        accept: String,
    },
}

impl Upgrade {
    /// The protocol the connection carries.
    pub fn protocol(&self) -> Protocol {
        match self {
            Upgrade::Spdy { protocol } | Upgrade::WebSocket { protocol, .. } => *protocol,
        }
    }

    /// The 101 Switching Protocols answer.
    pub fn response<B>(&self, body: B) -> Response<B> {
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        match self {
            Upgrade::Spdy { protocol } => {
                headers.insert(UPGRADE, HeaderValue::from_static(SPDY));
                headers.insert(
                    HeaderName::from_static(PROTOCOL_HEADER),
                    HeaderValue::from_static(protocol.name()),
                );
            }
            Upgrade::WebSocket {
                subprotocol,
                accept,
                ..
            } => {
                headers.insert(UPGRADE, HeaderValue::from_static(WEBSOCKET));
                if let Ok(accept) = HeaderValue::from_str(accept) {
                    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
                }
                if let Some(name) = subprotocol {
                    headers.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(name));
                }
            }
        }
        response
    }

    /// Starts the transport on `io`, the connection once upgraded; a WebSocket gets
    /// `channels` channels.
    pub async fn connect<T>(&self, io: T, channels: u8) -> Result<Connection, SessionError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        Ok(match self {
            Upgrade::Spdy { .. } => Connection::Spdy(Session::new(io)?),
            Upgrade::WebSocket { framing, .. } => {
                Connection::WebSocket(Channels::open(io, *framing, channels).await)
            }
        })
    }
}

/// An upgraded connection, speaking its transport.
pub enum Connection {
    /// The client opens a stream per channel.
    Spdy(Session),
    /// Every channel is there from the start.
    WebSocket(Channels),
}

/// Why an upgrade is refused. Every refusal is a 400: to kubectl's WebSocket dialer any answer
/// but 101 is an upgrade failure, the signal to fall back to SPDY.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unable to upgrade: missing upgrade headers in request")]
    NotAnUpgrade,
    #[error(
        "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server accepts {served:?}"
    )]
    NoCommonProtocol {
        offered: Vec<String>,
        served: Vec<&'static str>,
    },
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    /// The plain-text answer, listing the protocols served when that was the problem.
    pub fn response<B: From<String>>(&self) -> Response<B> {
        let mut response = Response::new(B::from(format!("{self}\n")));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let Refusal::NoCommonProtocol { served, .. } = self {
            for name in served {
                headers.append(
                    HeaderName::from_static(ACCEPTED_HEADER),
                    HeaderValue::from_static(name),
                );
            }
        }
        response
    }
}

/// Picks the transport and protocol for an upgrade request from its headers: the first
/// protocol the client lists that this side serves over the transport it asked for. A client
/// listing none gets the oldest, as a kubelet does.
pub fn negotiate(kind: UpgradeKind, headers: &HeaderMap) -> Result<Upgrade, Refusal> {
    if !has_token(headers, &CONNECTION, "upgrade") {
        return Err(Refusal::NotAnUpgrade);
    }
    if has_token(headers, &UPGRADE, WEBSOCKET) {
        return negotiate_websocket(kind, headers);
    }
    if !has_token(headers, &UPGRADE, SPDY) {
        return Err(Refusal::NotAnUpgrade);
    }
    let served = Protocol::spdy(kind);
    let offered = tokens(headers, &HeaderName::from_static(PROTOCOL_HEADER));
    if offered.is_empty() {
        return Ok(Upgrade::Spdy {
            protocol: Protocol::oldest(kind),
        });
    }
    offered
        .iter()
        .find_map(|name| served.iter().find(|p| p.name() == name).copied())
        .map(|protocol| Upgrade::Spdy { protocol })
        .ok_or_else(|| Refusal::NoCommonProtocol {
            served: served.iter().map(|p| p.name()).collect(),
            offered,
        })
}

fn negotiate_websocket(kind: UpgradeKind, headers: &HeaderMap) -> Result<Upgrade, Refusal> {
    let key = headers.get(SEC_WEBSOCKET_KEY);
    let version = headers.get(SEC_WEBSOCKET_VERSION);
    let (Some(key), Some(b"13")) = (key, version.map(HeaderValue::as_bytes)) else {
        return Err(Refusal::NotAnUpgrade);
    };
    let served = websocket_served(kind);
    let offered = tokens(headers, &SEC_WEBSOCKET_PROTOCOL);
    let chosen = if offered.is_empty() {
        &served[0]
    } else {
        offered
            .iter()
            .find_map(|name| served.iter().find(|s| s.name == name))
            .ok_or_else(|| Refusal::NoCommonProtocol {
                served: served.iter().map(|s| s.name).collect(),
                offered: offered.clone(),
            })?
    };
    Ok(Upgrade::WebSocket {
        protocol: chosen.protocol,
        subprotocol: (!offered.is_empty()).then_some(chosen.name),
        framing: chosen.framing,
        accept: derive_accept_key(key.as_bytes()),
    })
}

/// The comma-separated values of every `name` header, trimmed.
fn tokens(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    tokens(headers, name)
        .iter()
        .any(|t| t.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (n, v) in pairs {
            headers.append(*n, HeaderValue::from_static(v));
        }
        headers
    }

    const SPDY_UPGRADE: [(&str, &str); 2] = [("connection", "Upgrade"), ("upgrade", "SPDY/3.1")];
    /// RFC 6455's example key, and the answer it gives.
    const WEBSOCKET_UPGRADE: [(&str, &str); 4] = [
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn picks_the_clients_first_served_protocol() {
        // kubectl 1.33's SPDY fallback lists v5 first, which is WebSocket-only.
        let mut pairs = SPDY_UPGRADE.to_vec();
        for v in [
            "v5.channel.k8s.io",
            "v4.channel.k8s.io",
            "v3.channel.k8s.io",
        ] {
            pairs.push((PROTOCOL_HEADER, v));
        }
        let upgrade = negotiate(UpgradeKind::Exec, &request(&pairs)).unwrap();
        assert_eq!(upgrade.protocol(), Protocol::V4);
        let response = upgrade.response(());
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(response.headers()["connection"], "Upgrade");
        assert_eq!(response.headers()["upgrade"], "SPDY/3.1");
        assert_eq!(response.headers()[PROTOCOL_HEADER], "v4.channel.k8s.io");

        let mut pairs = SPDY_UPGRADE.to_vec();
        pairs.push((PROTOCOL_HEADER, "v2.channel.k8s.io, channel.k8s.io"));
        let upgrade = negotiate(UpgradeKind::Exec, &request(&pairs)).unwrap();
        assert_eq!(upgrade.protocol(), Protocol::V2);
    }

    #[test]
    fn port_forward_and_legacy_clients() {
        let mut pairs = SPDY_UPGRADE.to_vec();
        pairs.push((PROTOCOL_HEADER, "portforward.k8s.io"));
        let upgrade = negotiate(UpgradeKind::PortForward, &request(&pairs)).unwrap();
        assert_eq!(upgrade.protocol(), Protocol::PortForward);
        let legacy = request(&SPDY_UPGRADE);
        assert_eq!(
            negotiate(UpgradeKind::Exec, &legacy).map(|u| u.protocol()),
            Ok(Protocol::V1)
        );
        assert_eq!(
            negotiate(UpgradeKind::PortForward, &legacy).map(|u| u.protocol()),
            Ok(Protocol::PortForward)
        );
    }

    #[test]
    fn websockets_get_the_first_channel_protocol_served() {
        let mut pairs = WEBSOCKET_UPGRADE.to_vec();
        pairs.push((
            "sec-websocket-protocol",
            "v6.channel.k8s.io, v5.channel.k8s.io, v4.channel.k8s.io",
        ));
        let upgrade = negotiate(UpgradeKind::Exec, &request(&pairs)).unwrap();
        assert_eq!(upgrade.protocol(), Protocol::V5);
        let response = upgrade.response(());
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(response.headers()["upgrade"], "websocket");
        assert_eq!(
            response.headers()["sec-websocket-accept"],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "v5.channel.k8s.io"
        );

        let mut pairs = WEBSOCKET_UPGRADE.to_vec();
        pairs.push(("sec-websocket-protocol", "v4.base64.channel.k8s.io"));
        let upgrade = negotiate(UpgradeKind::PortForward, &request(&pairs)).unwrap();
        assert!(matches!(
            upgrade,
            Upgrade::WebSocket {
                protocol: Protocol::PortForward,
                framing: Framing {
                    encoding: Encoding::Base64,
                    closable: false
                },
                ..
            }
        ));

        // Named no subprotocol: the original, and none named back.
        let upgrade = negotiate(UpgradeKind::Exec, &request(&WEBSOCKET_UPGRADE)).unwrap();
        assert_eq!(upgrade.protocol(), Protocol::V1);
        assert!(
            !upgrade
                .response(())
                .headers()
                .contains_key("sec-websocket-protocol")
        );
    }

    #[test]
    fn refuses_websockets_it_cannot_serve_so_kubectl_falls_back() {
        // kubectl 1.31 and later tunnel SPDY port-forwarding through a WebSocket.
        let mut pairs = WEBSOCKET_UPGRADE.to_vec();
        pairs.push(("sec-websocket-protocol", "SPDY/3.1+portforward.k8s.io"));
        let refusal = negotiate(UpgradeKind::PortForward, &request(&pairs)).unwrap_err();
        let response: Response<String> = refusal.response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.body().contains("SPDY/3.1+portforward.k8s.io"));

        let keyless = &WEBSOCKET_UPGRADE[..3];
        assert_eq!(
            negotiate(UpgradeKind::Exec, &request(keyless)),
            Err(Refusal::NotAnUpgrade)
        );
    }

    #[test]
    fn refuses_requests_that_are_not_upgrades_or_share_no_protocol() {
        assert_eq!(
            negotiate(UpgradeKind::Exec, &request(&[("upgrade", "SPDY/3.1")])),
            Err(Refusal::NotAnUpgrade)
        );
        let mut pairs = SPDY_UPGRADE.to_vec();
        pairs.push((PROTOCOL_HEADER, "v9.channel.k8s.io"));
        let refusal = negotiate(UpgradeKind::PortForward, &request(&pairs)).unwrap_err();
        let response: Response<String> = refusal.response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[ACCEPTED_HEADER], "portforward.k8s.io");
        assert!(
            response.body().contains("v9.channel.k8s.io"),
            "{}",
            response.body()
        );
    }
}
