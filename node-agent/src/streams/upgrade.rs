//! The answer to an upgrade request for exec, attach or port-forward: which streaming protocol
//! to speak, or why none. Only SPDY/3.1 is served. kubectl 1.30 and later first ask for a
//! WebSocket; refusing that with a plain 400 makes them fall back to SPDY.

use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, UPGRADE};
use hyper::{Response, StatusCode};

/// The header the client lists its protocols in and the server names its choice in.
pub const PROTOCOL_HEADER: &str = "x-stream-protocol-version";
/// The header a refusal lists the protocols this side speaks in.
const ACCEPTED_HEADER: &str = "x-accepted-stream-protocol-versions";
const SPDY: &str = "SPDY/3.1";

/// Which endpoint was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeKind {
    /// `exec` and `attach`: the remotecommand protocols.
    Exec,
    PortForward,
}

/// A streaming protocol spoken over SPDY, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
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
    const EXEC: [Protocol; 4] = [Protocol::V4, Protocol::V3, Protocol::V2, Protocol::V1];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::V4 => "v4.channel.k8s.io",
            Protocol::V3 => "v3.channel.k8s.io",
            Protocol::V2 => "v2.channel.k8s.io",
            Protocol::V1 => "channel.k8s.io",
            Protocol::PortForward => "portforward.k8s.io",
        }
    }

    fn oldest(kind: UpgradeKind) -> Protocol {
        match kind {
            UpgradeKind::Exec => Protocol::V1,
            UpgradeKind::PortForward => Protocol::PortForward,
        }
    }

    fn served(kind: UpgradeKind) -> &'static [Protocol] {
        match kind {
            UpgradeKind::Exec => &Self::EXEC,
            UpgradeKind::PortForward => &[Protocol::PortForward],
        }
    }
}

/// An accepted upgrade: answer with [`Upgrade::response`], then speak SPDY with `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgrade {
    pub protocol: Protocol,
}

impl Upgrade {
    /// The 101 Switching Protocols answer.
    pub fn response<B>(&self, body: B) -> Response<B> {
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static(SPDY));
        headers.insert(
            HeaderName::from_static(PROTOCOL_HEADER),
            HeaderValue::from_static(self.protocol.name()),
        );
        response
    }
}

/// Why an upgrade is refused. Every refusal is a 400: to kubectl's WebSocket dialer any answer
/// but 101 is an upgrade failure, the signal to fall back to SPDY.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("unable to upgrade: WebSocket streaming is not supported, use SPDY/3.1")]
    WebSocket,
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

/// Picks the protocol for an upgrade request from its headers: the first the client lists
/// that this side serves. A client listing none gets the oldest, as a kubelet does.
pub fn negotiate(kind: UpgradeKind, headers: &HeaderMap) -> Result<Upgrade, Refusal> {
    if has_token(headers, &UPGRADE, "websocket") {
        return Err(Refusal::WebSocket);
    }
    if !has_token(headers, &UPGRADE, SPDY) || !has_token(headers, &CONNECTION, "upgrade") {
        return Err(Refusal::NotAnUpgrade);
    }
    let served = Protocol::served(kind);
    let offered = tokens(headers, &HeaderName::from_static(PROTOCOL_HEADER));
    if offered.is_empty() {
        return Ok(Upgrade {
            protocol: Protocol::oldest(kind),
        });
    }
    offered
        .iter()
        .find_map(|name| served.iter().find(|p| p.name() == name).copied())
        .map(|protocol| Upgrade { protocol })
        .ok_or_else(|| Refusal::NoCommonProtocol {
            served: served.iter().map(|p| p.name()).collect(),
            offered,
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
        assert_eq!(upgrade.protocol, Protocol::V4);
        let response = upgrade.response(());
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(response.headers()["connection"], "Upgrade");
        assert_eq!(response.headers()["upgrade"], "SPDY/3.1");
        assert_eq!(response.headers()[PROTOCOL_HEADER], "v4.channel.k8s.io");

        let mut pairs = SPDY_UPGRADE.to_vec();
        pairs.push((PROTOCOL_HEADER, "v2.channel.k8s.io, channel.k8s.io"));
        let upgrade = negotiate(UpgradeKind::Exec, &request(&pairs)).unwrap();
        assert_eq!(upgrade.protocol, Protocol::V2);
    }

    #[test]
    fn port_forward_and_legacy_clients() {
        let mut pairs = SPDY_UPGRADE.to_vec();
        pairs.push((PROTOCOL_HEADER, "portforward.k8s.io"));
        let upgrade = negotiate(UpgradeKind::PortForward, &request(&pairs)).unwrap();
        assert_eq!(upgrade.protocol, Protocol::PortForward);
        let legacy = request(&SPDY_UPGRADE);
        assert_eq!(
            negotiate(UpgradeKind::Exec, &legacy).map(|u| u.protocol),
            Ok(Protocol::V1)
        );
        assert_eq!(
            negotiate(UpgradeKind::PortForward, &legacy).map(|u| u.protocol),
            Ok(Protocol::PortForward)
        );
    }

    #[test]
    fn refuses_websockets_with_a_plain_400() {
        let headers = request(&[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-protocol", "v5.channel.k8s.io"),
        ]);
        let refusal = negotiate(UpgradeKind::Exec, &headers).unwrap_err();
        assert_eq!(refusal, Refusal::WebSocket);
        let response: Response<String> = refusal.response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.body().contains("WebSocket"));
    }

    #[test]
    fn refuses_requests_that_are_not_spdy_upgrades_or_share_no_protocol() {
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
