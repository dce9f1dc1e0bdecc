//! An HTTPS server in the test process, standing in for the servers the API server calls into
//! the cluster: admission webhooks, aggregated APIs. It listens on every address, so the API
//! server reaches it through a Service's endpoint at the host's own address.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener as StdListener, UdpSocket};
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use mkc::pki::Authority;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use serde_json::Value;
use tokio_rustls::TlsAcceptor;

/// One request as the server's handler sees it.
pub struct Call<'a> {
    pub parts: &'a Parts,
    pub body: &'a [u8],
    /// The common name of the client's certificate, when the server asks for one.
    pub client: Option<String>,
}

/// What the server answers a request with.
pub type Handler = dyn Fn(&Call) -> (StatusCode, Value) + Send + Sync;

/// A running server; it serves until the test process ends.
pub struct HttpsServer {
    pub port: u16,
    /// The CA that signed its certificate, PEM encoded.
    pub ca_pem: String,
}

impl HttpsServer {
    /// Serves `handler` over HTTPS with a certificate for `names` (host names and addresses).
    pub fn start(names: &[&str], handler: Arc<Handler>) -> HttpsServer {
        HttpsServer::start_verifying(names, None, handler)
    }

    /// Like [`HttpsServer::start`], letting in only clients whose certificate `client_ca`
    /// (PEM) signed, when given.
    pub fn start_verifying(
        names: &[&str],
        client_ca: Option<&str>,
        handler: Arc<Handler>,
    ) -> HttpsServer {
        let ca = Authority::generate().expect("a CA");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let serving = ca
            .issue_server("test-server", &names)
            .expect("a certificate");
        let chain = CertificateDer::pem_slice_iter(serving.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(serving.key_pem.as_bytes()).expect("key PEM");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("TLS versions");
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    roots.add(cert.expect("client CA PEM")).expect("client CA");
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .expect("a client verifier");
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(chain, key)
            .expect("TLS configuration");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = StdListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("listen");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(serve(listener, acceptor, handler));
        });
        HttpsServer {
            port,
            ca_pem: ca.cert_pem().to_owned(),
        }
    }

    /// `https://ADDRESS:PORT` at the host's own address.
    pub fn url(&self) -> String {
        format!("https://{}:{}", host_address(), self.port)
    }
}

async fn serve(listener: StdListener, acceptor: TlsAcceptor, handler: Arc<Handler>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, handler) = (acceptor.clone(), handler.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let client = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(common_name);
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (handler, client) = (handler.clone(), client.clone());
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let call = Call {
                        parts: &parts,
                        body: &body,
                        client,
                    };
                    let (status, answer) = handler(&call);
                    let mut response = Response::new(Full::new(Bytes::from(answer.to_string())));
                    *response.status_mut() = status;
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert).ok()?;
    let name = cert.subject().iter_common_name().next()?;
    name.as_str().ok().map(str::to_owned)
}

/// The host's address on its default route: what a Service's endpoint may name (loopback may
/// not be one) and the API server can reach. No packet is sent to find it.
pub fn host_address() -> IpAddr {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("a UDP socket");
    socket
        .connect(SocketAddr::from(([10, 255, 255, 255], 9)))
        .expect("a default route");
    socket.local_addr().expect("the local address").ip()
}
