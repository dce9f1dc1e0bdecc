//! The API server's calls into the cluster: admission webhooks and aggregated APIs are
//! Services (or URLs) it sends requests to.
//!
//! A Service reference is resolved to one of its ready endpoints, as upstream's
//! `--enable-aggregator-routing` resolves it, rather than to its ClusterIP: the API server of
//! `mkc up` runs on the control-plane node, which routes to every pod, while `mkc server` runs
//! on a host that reaches endpoints but has no Service rules. The connection is HTTPS trusting
//! the caller's CA bundle (the system's roots when it gives none) and verifying the name
//! upstream verifies, `NAME.NAMESPACE.svc`, or, where upstream skips verification (an
//! APIService's `insecureSkipTLSVerify`, the aggregator's availability check), trusting any
//! certificate; aggregated APIs are called with the front proxy's client certificate.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use hyper::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::ApiError;
use super::storage::Objects;
use crate::pki::CertAndKey;
use crate::registry;

/// How long a connection may take to open, whatever the caller's own deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong calling into the cluster; the messages follow upstream's.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("service \"{name}\" not found")]
    ServiceNotFound { name: String },
    #[error("no service port {port} found for service \"{name}\"")]
    NoPort { port: i32, name: String },
    #[error("no endpoints available for service \"{name}\"")]
    NoEndpoints {
        name: String,
        /// The name of the Service's port, which the endpoints' ports must carry.
        port_name: String,
    },
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("invalid CA bundle: {0}")]
    CaBundle(String),
    #[error("the client certificate: {0}")]
    ClientCertificate(String),
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("dial tcp {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{0}")]
    Http(#[from] hyper::Error),
    #[error("the store: {0}")]
    Store(String),
}

impl From<ApiError> for CallError {
    fn from(error: ApiError) -> CallError {
        CallError::Store(error.to_string())
    }
}

/// A port of a Service, as webhooks' `clientConfig.service` and APIServices' `spec.service`
/// name one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceReference {
    pub namespace: String,
    pub name: String,
    /// The Service's port (not the pods'); upstream's default is 443.
    pub port: i32,
}

impl ServiceReference {
    /// Reads a reference from its JSON form (`namespace`, `name`, `port`).
    pub fn from_json(service: &Value) -> Option<ServiceReference> {
        Some(ServiceReference {
            namespace: service["namespace"].as_str()?.to_owned(),
            name: service["name"].as_str()?.to_owned(),
            port: service["port"]
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(443),
        })
    }

    /// The name the serving certificate must carry.
    pub fn server_name(&self) -> String {
        format!("{}.{}.svc", self.name, self.namespace)
    }
}

/// Where one request goes: an address to connect to and the name to verify there.
#[derive(Debug, Clone)]
pub struct Destination {
    pub addr: SocketAddr,
    pub server_name: String,
}

/// Picks one of the ready endpoints of `service`'s port: its Endpoints' address in the subset that
/// carries the port's name; an ExternalName Service is its DNS name.
pub async fn resolve(
    objects: &Objects,
    service: &ServiceReference,
) -> Result<Destination, CallError> {
    // Upstream's messages name the Service without its namespace.
    let named = service.name.clone();
    let services = registry::find("", "v1", "services").ok_or(CallError::ServiceNotFound {
        name: named.clone(),
    })?;
    let Some(found) = objects
        .find(services, Some(&service.namespace), &service.name)
        .await?
    else {
        return Err(CallError::ServiceNotFound { name: named });
    };
    let server_name = service.server_name();
    if found["spec"]["type"] == "ExternalName" {
        let host = found["spec"]["externalName"].as_str().unwrap_or_default();
        let addr = lookup(host, service.port).await?;
        return Ok(Destination { addr, server_name });
    }
    let port = found["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["port"].as_i64() == Some(i64::from(service.port)))
        .ok_or_else(|| CallError::NoPort {
            port: service.port,
            name: named.clone(),
        })?;
    let port_name = port["name"].as_str().unwrap_or_default();
    let no_endpoints = || CallError::NoEndpoints {
        name: named.clone(),
        port_name: port_name.to_owned(),
    };
    let endpoints = registry::find("", "v1", "endpoints").ok_or_else(no_endpoints)?;
    let subsets = objects
        .find(endpoints, Some(&service.namespace), &service.name)
        .await?
        .map(|e| e["subsets"].clone())
        .unwrap_or_default();
    let candidates: Vec<SocketAddr> = subsets
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|subset| {
            let port = subset["ports"]
                .as_array()?
                .iter()
                .find(|p| p["name"].as_str().unwrap_or_default() == port_name)?;
            let number = u16::try_from(port["port"].as_i64()?).ok()?;
            Some((subset, number))
        })
        .flat_map(|(subset, number)| {
            subset["addresses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |a| Some(SocketAddr::new(a["ip"].as_str()?.parse().ok()?, number)))
        })
        .collect();
    if candidates.is_empty() {
        return Err(no_endpoints());
    }
    // Calls take the endpoints in turn, as a Service's routing would spread them.
    static TURN: AtomicUsize = AtomicUsize::new(0);
    let addr = candidates[TURN.fetch_add(1, Ordering::Relaxed) % candidates.len()];
    Ok(Destination { addr, server_name })
}

/// The destination of an `https://HOST[:PORT]/...` URL, and the path and query to request.
pub async fn resolve_url(url: &str) -> Result<(Destination, String), CallError> {
    let invalid = |reason: &str| CallError::Url {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: hyper::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    if uri.scheme_str() != Some("https") {
        return Err(invalid("the scheme must be https"));
    }
    let host = uri.host().ok_or_else(|| invalid("no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(443);
    let addr = lookup(host, i32::from(port)).await?;
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    Ok((
        Destination {
            addr,
            server_name: host.to_owned(),
        },
        path,
    ))
}

async fn lookup(host: &str, port: i32) -> Result<SocketAddr, CallError> {
    let unreachable = |reason: String| CallError::Connect {
        addr: format!("{host}:{port}"),
        reason,
    };
    let port = u16::try_from(port).map_err(|_| unreachable("invalid port".into()))?;
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| unreachable(e.to_string()))?
        .next()
        .ok_or_else(|| unreachable("no address".into()))
}

/// Which servers a connection into the cluster accepts.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// Those whose certificate a CA of this bundle (PEM) signed, or one of the system's roots
    /// when the bundle is empty.
    Bundle(&'a [u8]),
    /// Any, unverified, where upstream does not verify either.
    Anything,
}

/// A TLS client accepting the servers `trust` names, presenting `identity` when given.
pub fn connector(
    trust: Trust<'_>,
    identity: Option<&CertAndKey>,
) -> Result<TlsConnector, CallError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match trust {
        Trust::Bundle(ca_bundle) => builder.with_root_certificates(roots(ca_bundle)?),
        Trust::Anything => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider))),
    };
    let config = match identity {
        Some(identity) => {
            let pem =
                |e: rustls::pki_types::pem::Error| CallError::ClientCertificate(e.to_string());
            let chain = CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(pem)?;
            let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(pem)?;
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The roots of `ca_bundle` (PEM), or the system's when it is empty.
fn roots(ca_bundle: &[u8]) -> Result<rustls::RootCertStore, CallError> {
    if ca_bundle.is_empty() {
        return Ok(system_roots().clone());
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_bundle) {
        roots.add(cert.map_err(|e| CallError::CaBundle(e.to_string()))?)?;
    }
    if roots.is_empty() {
        return Err(CallError::CaBundle("it holds no certificate".into()));
    }
    Ok(roots)
}

/// Accepts any server certificate; the handshake's signatures are still checked, so the
/// server holds the key of the certificate it shows.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The machine's trusted roots, read once.
fn system_roots() -> &'static rustls::RootCertStore {
    static ROOTS: OnceLock<rustls::RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        roots
    })
}

/// Sends `request` to `destination` over TLS. The connection lives as long as the response
/// is read, so a streamed answer (a watch) flows through.
pub async fn send(
    connector: &TlsConnector,
    destination: &Destination,
    request: hyper::Request<Body>,
) -> Result<Response<Incoming>, CallError> {
    let addr = destination.addr;
    let connect_error = |reason: String| CallError::Connect {
        addr: addr.to_string(),
        reason,
    };
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| connect_error("i/o timeout".into()))?
        .map_err(|e| connect_error(e.to_string()))?;
    let name = ServerName::try_from(destination.server_name.clone())
        .map_err(|e| connect_error(e.to_string()))?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| connect_error(format!("tls: {e}")))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(%error, "connection into the cluster ended");
        }
    });
    Ok(sender.send_request(request).await?)
}
