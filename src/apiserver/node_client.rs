//! The API server's client for the nodes' own ports (a kubelet's 10250): TLS to the node's
//! serving certificate from the cluster CA, with a client certificate naming the API server,
//! the only client a node lets in. Each request is one connection, which is what long streams
//! (logs, and upgraded exec or port-forward sessions) need anyway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::pki::{Authority, CertAndKey, PkiError};

/// The common name nodes let in (upstream's name for this certificate).
pub const CLIENT_NAME: &str = "kube-apiserver-kubelet-client";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong reaching a node.
#[derive(Debug, thiserror::Error)]
pub enum NodeClientError {
    #[error("certificate: {0}")]
    Pki(#[from] PkiError),
    #[error("invalid PEM: {0}")]
    Pem(String),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("request to {addr} failed: {source}")]
    Http {
        addr: SocketAddr,
        source: hyper::Error,
    },
}

/// Reaches nodes' ports as the API server.
#[derive(Clone)]
pub struct NodeClient {
    connector: TlsConnector,
}

impl NodeClient {
    /// A client with a certificate issued now by `ca`, trusting what `ca` signed.
    pub fn issue(ca: &Authority) -> Result<NodeClient, NodeClientError> {
        let credentials = ca.issue_client(CLIENT_NAME, "system:masters")?;
        NodeClient::new(ca.cert_pem(), &credentials)
    }

    pub fn new(ca_pem: &str, credentials: &CertAndKey) -> Result<NodeClient, NodeClientError> {
        let pem = |e: rustls::pki_types::pem::Error| NodeClientError::Pem(e.to_string());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert.map_err(pem)?)?;
        }
        let chain = CertificateDer::pem_slice_iter(credentials.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(pem)?;
        let key = PrivateKeyDer::from_pem_slice(credentials.key_pem.as_bytes()).map_err(pem)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)?;
        Ok(NodeClient {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Sends `request` to the node at `addr`, whose certificate must name its address. The
    /// connection is kept open, with upgrades, for as long as the response is read.
    pub async fn send(
        &self,
        addr: SocketAddr,
        request: hyper::Request<Body>,
    ) -> Result<Response<Incoming>, NodeClientError> {
        let connect_error = |reason: String| NodeClientError::Connect { addr, reason };
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| connect_error("timed out".into()))?
            .map_err(|e| connect_error(e.to_string()))?;
        let tls = self
            .connector
            .connect(ServerName::IpAddress(addr.ip().into()), tcp)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|source| NodeClientError::Http { addr, source })?;
        tokio::spawn(async move {
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(%error, "node connection ended");
            }
        });
        sender
            .send_request(request)
            .await
            .map_err(|source| NodeClientError::Http { addr, source })
    }
}
