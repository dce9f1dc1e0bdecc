//! The agent's own HTTPS port (10250, as a kubelet's): what the API server proxies to the node
//! a pod runs on: container logs, and exec, attach and port-forward sessions. TLS with the node's serving certificate from the
//! cluster CA; a client must present a certificate from that CA naming the API server
//! (`kube-apiserver-kubelet-client`): a node's port answers no one else, not even other nodes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::reflector::{ObjectRef, Store};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::runtime::{ContainerRuntime, LogOptions, PodKey, RuntimeError};

mod sessions;

/// The common name of the one client this port serves.
pub const API_SERVER_CLIENT: &str = "kube-apiserver-kubelet-client";
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the port listens and the files it serves with.
#[derive(Debug, Clone)]
pub struct Serving {
    pub bind: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
}

/// What can go wrong setting up the port.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no usable {what}")]
    Pem { path: PathBuf, what: &'static str },
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Binds the port now (so a taken port is an error at start) and returns the task serving it
/// until `shutdown`.
pub async fn bind<R: ContainerRuntime>(
    serving: &Serving,
    runtime: Arc<R>,
    pods: Store<Pod>,
    shutdown: CancellationToken,
) -> Result<impl Future<Output = ()> + Send + 'static, ServerError> {
    let tls = tls_config(serving)?;
    let listener = TcpListener::bind(serving.bind)
        .await
        .map_err(|source| ServerError::Bind {
            addr: serving.bind,
            source,
        })?;
    Ok(serve(listener, tls, runtime, pods, shutdown))
}

fn tls_config(serving: &Serving) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&read(&serving.client_ca)?) {
        let cert = cert.map_err(|_| pem_error(&serving.client_ca, "CA certificate"))?;
        roots.add(cert)?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()?;
    let chain = CertificateDer::pem_slice_iter(&read(&serving.cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| pem_error(&serving.cert, "certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&serving.key)?)
        .map_err(|_| pem_error(&serving.key, "private key"))?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, ServerError> {
    std::fs::read(path).map_err(|source| ServerError::Read {
        path: path.to_owned(),
        source,
    })
}

fn pem_error(path: &Path, what: &'static str) -> ServerError {
    ServerError::Pem {
        path: path.to_owned(),
        what,
    }
}

async fn serve<R: ContainerRuntime>(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    runtime: Arc<R>,
    pods: Store<Pod>,
    shutdown: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let acceptor = acceptor.clone();
        let runtime = runtime.clone();
        let pods = pods.clone();
        let stop = shutdown.clone();
        connections.spawn(async move {
            let stream =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(error)) => {
                        tracing::debug!(%peer, %error, "TLS handshake refused");
                        return;
                    }
                    Err(_) => return,
                };
            let allowed = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .is_some_and(|cert| common_name(cert).as_deref() == Some(API_SERVER_CLIENT));
            let service = hyper::service::service_fn(move |request| {
                let runtime = runtime.clone();
                let pods = pods.clone();
                async move {
                    Ok::<_, Infallible>(if allowed {
                        route(request, runtime, &pods).await
                    } else {
                        text(
                            StatusCode::FORBIDDEN,
                            "only the API server may use this port\n",
                        )
                    })
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::select! {
                _ = connection => {}
                () = stop.cancelled() => {}
            }
        });
    }
    connections.shutdown().await;
}

/// The subject common name of a DER certificate.
fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let name = parsed
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    Some(name)
}

async fn route<R: ContainerRuntime>(
    request: Request<Incoming>,
    runtime: Arc<R>,
    pods: &Store<Pod>,
) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let streaming = matches!(*request.method(), Method::GET | Method::POST);
    match (request.method(), parts.as_slice()) {
        (&Method::GET, ["healthz"]) => text(StatusCode::OK, "ok"),
        (&Method::GET, ["containerLogs", namespace, pod, container]) => {
            let options = LogOptions::from_query(request.uri().query().unwrap_or_default());
            match find(pods, namespace, pod) {
                Some(key) => logs(&*runtime, &key, container, &options).await,
                None => not_here(namespace, pod),
            }
        }
        (_, [verb @ ("exec" | "attach"), namespace, pod, container]) if streaming => {
            match find(pods, namespace, pod) {
                Some(key) => {
                    let attach = *verb == "attach";
                    sessions::process(request, runtime, key, (*container).to_owned(), attach)
                }
                None => not_here(namespace, pod),
            }
        }
        (_, ["portForward", namespace, pod]) if streaming => match find(pods, namespace, pod) {
            Some(key) => sessions::port_forward(request, runtime, key),
            None => not_here(namespace, pod),
        },
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

/// The runtime key of a pod this node runs, by namespace and name.
fn find(pods: &Store<Pod>, namespace: &str, name: &str) -> Option<PodKey> {
    let pod = pods.get(&ObjectRef::new(name).within(namespace))?;
    PodKey::of(&pod)
}

fn not_here(namespace: &str, pod: &str) -> Response<Body> {
    text(
        StatusCode::NOT_FOUND,
        &format!("pod {namespace}/{pod} is not on this node\n"),
    )
}

async fn logs<R: ContainerRuntime>(
    runtime: &R,
    pod: &PodKey,
    container: &str,
    options: &LogOptions,
) -> Response<Body> {
    match runtime.logs(pod, container, options).await {
        Ok(stream) => {
            let frames = stream
                .map_err(|error| std::io::Error::other(error.to_string()))
                .map_ok(Frame::data);
            Response::builder()
                .header("content-type", "text/plain")
                .body(BodyExt::boxed_unsync(StreamBody::new(frames)))
                .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "bad response\n"))
        }
        Err(RuntimeError::NotFound(what)) => {
            text(StatusCode::NOT_FOUND, &format!("{what} not found\n"))
        }
        Err(error) => text(StatusCode::BAD_REQUEST, &format!("{error}\n")),
    }
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(BodyExt::boxed_unsync(
        Full::new(Bytes::from(body.to_owned())).map_err(|never| match never {}),
    ));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}
