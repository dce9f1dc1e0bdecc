//! The Kubernetes-compatible API server: HTTPS only, backed by the store, serving discovery,
//! OpenAPI, and the verbs of every resource in the registry to kubectl and client libraries.
//!
//! [`Server::start`] prepares the data directory (certificates, kubeconfig, token file, store),
//! creates what every cluster has from its first start, binds, and serves until cancelled.

mod admission;
mod aggregation;
mod auth;
mod authorize;
mod bootstrap;
mod codec;
mod discovery;
mod error;
pub(crate) mod handlers;
mod impersonate;
pub(crate) mod meta;
mod node_client;
mod node_proxy;
mod openapi;
mod params;
mod request;
mod selectors;
mod serve;
mod service_client;
mod status;
mod storage;
mod table;
mod tokens;
mod watch;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{any, get};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use auth::{AuthError, Tokens, User};
pub use error::{ApiError, QualifiedResource};
pub use serve::TlsError;
pub use storage::Objects;
pub use tokens::{TokenError, TokenSigner};

use crate::crd;
use crate::kubeconfig::{self, KubeconfigError};
use crate::pki::{Authority, CertAndKey, FRONT_PROXY_CA, PkiError};
use crate::rbac::PolicyCache;
use crate::registry::ServiceAllocator;
use crate::store::{self, Store, StoreError};
use node_client::{NodeClient, NodeClientError};

/// The Kubernetes version mkc speaks.
pub const VERSION: &str = "v1.33.0+mkc";

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    /// The address clients (and nodes) reach the server at, when it is not the bind address.
    pub advertise: Option<IpAddr>,
    /// How often the store's log is compacted; history between two compactions stays watchable.
    pub compaction_interval: Duration,
    /// Commits buffered per watcher before a slow one is cut off.
    pub watch_buffer: usize,
    /// The tolerationSeconds of the not-ready and unreachable tolerations every pod gets.
    pub default_toleration_seconds: i64,
}

impl Config {
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            data_dir,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 6443)),
            advertise: None,
            compaction_interval: Duration::from_secs(300),
            watch_buffer: store::Options::default().watch_buffer,
            default_toleration_seconds: 300,
        }
    }
}

/// What can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error("the client for nodes' ports: {0}")]
    NodeClient(#[from] NodeClientError),
    #[error("the store in the data directory cannot be opened: {0}")]
    Store(#[from] StoreError),
    #[error("creating the cluster's initial objects: {0}")]
    Bootstrap(ApiError),
}

/// Shared by every request.
pub struct ApiState {
    pub objects: Objects,
    pub services: ServiceAllocator,
    /// Held while a Service's addresses are chosen and written, so no two writes pick the same.
    pub allocation_lock: tokio::sync::Mutex<()>,
    pub tokens: Tokens,
    /// `host:port` clients are told to use.
    pub advertised: String,
    /// Ends long-running requests (watches) when the server stops.
    pub shutdown: CancellationToken,
    /// How long pods tolerate a not-ready or unreachable node (`--default-toleration-seconds`).
    pub default_toleration_seconds: i64,
    /// Reaches nodes' own ports for logs, exec, attach and port-forward; none in tests that
    /// serve the router alone.
    pub nodes: Option<NodeClient>,
    /// The RBAC policy the authorizer reads, kept in step with the store.
    pub policy: Arc<PolicyCache>,
    /// The resources the stored CRDs define, kept in step with the store.
    pub crds: Arc<crd::Catalog>,
    /// The admission webhooks and policies the stored objects of their group put in force,
    /// kept in step with the store.
    pub admission: Arc<admission::Configurations>,
    /// The stored APIServices, which tell the group-versions other servers answer for.
    pub apiservices: Arc<aggregation::Registry>,
    /// How those servers are reached.
    pub backends: aggregation::Backends,
    /// Signs and checks service account tokens.
    pub signer: TokenSigner,
}

impl ApiState {
    pub fn new(
        store: Store,
        tokens: Tokens,
        signer: TokenSigner,
        advertised: String,
        shutdown: CancellationToken,
    ) -> ApiState {
        ApiState {
            objects: Objects::new(store),
            services: ServiceAllocator::default(),
            allocation_lock: tokio::sync::Mutex::new(()),
            tokens,
            advertised,
            shutdown,
            default_toleration_seconds: 300,
            nodes: None,
            policy: Arc::new(crate::rbac::policy_cache()),
            crds: Arc::new(crd::catalog()),
            admission: Arc::new(admission::configurations()),
            apiservices: Arc::new(aggregation::registry()),
            backends: aggregation::Backends::default(),
            signer,
        }
    }

    /// What the server serves now, custom resources included.
    pub fn served(&self) -> Arc<crd::Crds> {
        self.crds.get()
    }

    /// Reads again the mirrors that follow `group`, so that a write to it (a role, a CRD, an
    /// APIService) is in force by the time its client hears of it.
    pub async fn refresh_mirrors(&self, group: &str) {
        let store = self.objects.store();
        let refreshed = match group {
            crate::rbac::GROUP => self.policy.refresh(store).await,
            crd::GROUP => self.crds.refresh(store).await,
            admission::GROUP => self.admission.refresh(store).await,
            aggregation::GROUP => self.apiservices.refresh(store).await,
            _ => return,
        };
        if let Err(error) = refreshed {
            tracing::warn!(%error, group, "reading the store again after a write failed");
        }
    }
}

/// The routes of the API server. Requests reach handlers only once authenticated, their
/// impersonation allowed, and authorized; those of aggregated group-versions are then
/// proxied to their servers instead.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/version/", get(version))
        .route("/healthz", get(health))
        .route("/livez", get(health))
        .route("/readyz", get(health))
        .route("/api", get(discovery::core))
        .route("/api/v1", get(discovery::core_resources))
        .route("/apis", get(discovery::groups))
        .route("/apis/{group}", get(discovery::group))
        .route("/apis/{group}/{version}", get(discovery::group_resources))
        .route(
            "/.well-known/openid-configuration",
            get(|State(state): State<Arc<ApiState>>| async move {
                axum::Json(state.signer.discovery())
            }),
        )
        .route(
            "/openid/v1/jwks",
            get(
                |State(state): State<Arc<ApiState>>| async move { axum::Json(state.signer.jwks()) },
            ),
        )
        .route("/openapi/v2", get(openapi::v2))
        .route("/openapi/v3", get(openapi::index))
        .route("/openapi/v3/{*path}", get(openapi::document_handler))
        .route("/api/v1/{*rest}", any(handlers::resource))
        .route("/apis/{group}/{version}/{*rest}", any(handlers::resource))
        .fallback(|| async { ApiError::NoSuchPath })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            aggregation::route,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize::authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            impersonate::impersonate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(answer_panics))
        .with_state(state)
}

/// A request whose handling panics is answered 500 with a Status carrying upstream's message
/// for it; the panic hook has already logged where and why, in one line.
async fn answer_panics(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let handled = async { Ok::<_, mkc_supervisor::Panicked>(next.run(request).await) };
    match mkc_supervisor::catch(handled).await {
        Ok(response) => response,
        Err(_) => {
            let error = ApiError::Internal(
                "This request caused apiserver to panic. Look in the logs for details.".into(),
            );
            codec::respond(codec::Accept::JSON, error.code(), &error.status())
        }
    }
}

async fn version() -> axum::Json<serde_json::Value> {
    let (major, minor) = (1, 33);
    axum::Json(json!({
        "major": major.to_string(),
        "minor": minor.to_string(),
        "gitVersion": VERSION,
        "gitCommit": env!("CARGO_PKG_VERSION"),
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    }))
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `/healthz`, `/livez`, `/readyz`: "ok", or the list of checks with `?verbose`.
async fn health(RawQuery(query): RawQuery) -> String {
    if query.is_some_and(|q| q.contains("verbose")) {
        "[+]ping ok\n[+]log ok\n[+]etcd ok\nhealthz check passed\n".into()
    } else {
        "ok".into()
    }
}

/// A kube client that reaches this server's router in process, without a socket or TLS, as
/// `user`: the controllers and the scheduler speak the same HTTP API every client does. Its
/// user agent names the component, as upstream's do, so the fields it writes are managed by
/// `kube-controller-manager`, `kube-scheduler` or `mkc-dns` rather than `unknown`.
pub fn local_client(state: Arc<ApiState>, user: User) -> kube::Client {
    let agent =
        axum::http::HeaderValue::from_str(&format!("{}/{VERSION}", component(&user.name))).ok();
    let service = tower::ServiceExt::map_request(
        router(state),
        move |mut request: axum::http::Request<kube::client::Body>| {
            request
                .extensions_mut()
                .insert(auth::CertificateUser(user.clone()));
            if let Some(agent) = &agent {
                request
                    .headers_mut()
                    .entry(axum::http::header::USER_AGENT)
                    .or_insert_with(|| agent.clone());
            }
            request
        },
    );
    kube::Client::new(service, "default")
}

/// The component an in-process identity belongs to: controllers' service accounts in
/// kube-system are the controller manager's.
fn component(user: &str) -> &str {
    match user {
        "system:kube-scheduler" => "kube-scheduler",
        "system:kube-controller-manager" => "kube-controller-manager",
        _ if user.starts_with("system:serviceaccount:kube-system:") => "kube-controller-manager",
        other => other.strip_prefix("system:").unwrap_or(other),
    }
}

/// A running API server: what it serves and what it looks after itself (its store's
/// compaction, its mirrors, the CRDs' and APIServices' controllers). What else runs beside it
/// (the controller manager's controllers, the scheduler, DNS) is the binary's choice.
pub struct Server {
    pub addr: SocketAddr,
    pub kubeconfig: PathBuf,
    pub state: Arc<ApiState>,
    /// The cluster CA's certificate, PEM encoded: what clients in the cluster trust.
    pub ca_pem: String,
    task: JoinHandle<()>,
    compaction: JoinHandle<()>,
    mirrors: JoinHandle<()>,
}

impl Server {
    /// Prepares the data directory, bootstraps the cluster's objects, and starts serving.
    pub async fn start(config: Config, shutdown: CancellationToken) -> Result<Server, ServerError> {
        let dir = &config.data_dir;
        create_dir(dir, holds_mkc_data)?;
        let pki_dir = dir.join("pki");
        create_dir(&pki_dir, |_| true)?;
        let ca = Authority::load_or_create(&pki_dir)?;
        let admin = CertAndKey::load_or_issue(&pki_dir, "admin", || {
            ca.issue_client("kubernetes-admin", "system:masters")
        })?;
        // The front proxy's own CA, as upstream's, so that extension API servers trust its
        // certificate to assert users and the cluster CA's certificates not to.
        let front_proxy_ca =
            Authority::load_or_create_as(&pki_dir, FRONT_PROXY_CA, FRONT_PROXY_CA)?;
        let proxy_name = aggregation::FRONT_PROXY_CLIENT;
        let front_proxy = CertAndKey::load_or_issue(&pki_dir, proxy_name, || {
            front_proxy_ca.issue_client_named(proxy_name)
        })?;
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.bind,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.bind,
            source,
        })?;
        let host = advertised_host(&config, addr);
        let serving = ca.issue_server("kube-apiserver", &server_names(&config, addr, host))?;
        let tls = serve::tls_config(ca.cert_pem(), &serving.cert_pem, &serving.key_pem)?;
        let advertised = SocketAddr::new(host, addr.port()).to_string();
        let kubeconfig = dir.join("admin.kubeconfig");
        write_kubeconfig(
            &kubeconfig,
            &format!("https://{advertised}"),
            ca.cert_pem(),
            &admin,
        )?;
        let tokens = Tokens::load_or_create(&dir.join("tokens.csv"))?;
        let options = store::Options {
            watch_buffer: config.watch_buffer,
            ..store::Options::default()
        };
        let store_path = dir.join("store.redb");
        // It holds every Secret: made private before the store writes anything to it.
        crate::private_files::create_file(&store_path).map_err(|source| ServerError::Io {
            path: store_path.clone(),
            source,
        })?;
        let store = Store::open(&store_path, options)?;
        let signer = TokenSigner::load_or_create(&pki_dir)?;
        let mut state = ApiState::new(store.clone(), tokens, signer, advertised, shutdown.clone());
        state.default_toleration_seconds = config.default_toleration_seconds;
        state.nodes = Some(NodeClient::issue(&ca)?);
        state.backends.front_proxy = Some(front_proxy);
        let state = Arc::new(state);
        let mirrors = tokio::spawn(follow_store(state.clone(), shutdown.clone()));
        bootstrap::run(&state, host, addr.port())
            .await
            .map_err(ServerError::Bootstrap)?;
        bootstrap::extension_authentication(&state, ca.cert_pem(), front_proxy_ca.cert_pem())
            .await
            .map_err(ServerError::Bootstrap)?;
        // Nothing is served, and no controller starts, before the authorizer holds the
        // bootstrap policy, the catalog the stored CRDs and the routing the APIServices.
        state.policy.refresh(&store).await?;
        state.crds.refresh(&store).await?;
        state.admission.refresh(&store).await?;
        state.apiservices.refresh(&store).await?;
        let task = tokio::spawn(serve::serve(
            listener,
            tls,
            router(state.clone()),
            shutdown.clone(),
        ));
        let compaction = tokio::spawn(compact_periodically(
            store,
            config.compaction_interval,
            shutdown.clone(),
        ));
        Ok(Server {
            addr,
            kubeconfig,
            state,
            ca_pem: ca.cert_pem().to_owned(),
            task,
            compaction,
            mirrors,
        })
    }

    /// Clients that reach this server in process as any identity, for what runs beside it.
    pub fn clients(&self) -> crate::controllers::Clients {
        let state = self.state.clone();
        crate::controllers::Clients::new(move |user| local_client(state.clone(), user))
    }

    /// Waits until the server has stopped and its connections are drained.
    pub async fn wait(self) {
        let _ = self.task.await;
        let _ = self.compaction.await;
        let _ = self.mirrors.await;
    }
}

/// Keeps the server's own views of the store current until `shutdown`: the RBAC policy, the
/// admission webhooks and policies, the CRD catalog and the APIServices; and what the API
/// server itself looks after as upstream's does: the CRDs' status and cleanup, the CRDs' local
/// APIServices, and every APIService's availability. Those controllers write as the server's
/// own loopback identity.
async fn follow_store(state: Arc<ApiState>, shutdown: CancellationToken) {
    let store = state.objects.store().clone();
    let loopback = User {
        name: "system:apiserver".into(),
        groups: vec![authorize::MASTERS.into()],
    };
    let client = local_client(state.clone(), loopback);
    let (crds, apiservices) = (state.crds.clone(), state.apiservices.clone());
    tokio::join!(
        state.policy.clone().run(store.clone(), shutdown.clone()),
        state.admission.clone().run(store.clone(), shutdown.clone()),
        crds.clone().run(store.clone(), shutdown.clone()),
        apiservices.clone().run(store, shutdown.clone()),
        crd::run(crds.clone(), client.clone(), shutdown.clone()),
        aggregation::register_crds(crds, apiservices, client.clone(), shutdown.clone()),
        aggregation::keep_available(state.clone(), client, shutdown),
    );
}

/// The host clients are told to use: the advertise address, else the bind address, with
/// loopback standing in for a wildcard.
fn advertised_host(config: &Config, addr: SocketAddr) -> IpAddr {
    config.advertise.unwrap_or(if addr.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    })
}

/// The names the serving certificate covers: loopback, the advertise and bind addresses, and
/// the in-cluster names of the `kubernetes` Service.
fn server_names(config: &Config, addr: SocketAddr, host: IpAddr) -> Vec<String> {
    let mut names: Vec<String> = [
        "localhost",
        "127.0.0.1",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    names.push(ServiceAllocator::default().first_ip().to_string());
    for ip in [Some(host), config.advertise, Some(addr.ip())]
        .into_iter()
        .flatten()
    {
        if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
            names.push(ip.to_string());
        }
    }
    names
}

fn create_dir(path: &Path, mine: impl FnOnce(&Path) -> bool) -> Result<(), ServerError> {
    crate::private_files::create_dir(path, mine).map_err(|source| ServerError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Whether an existing data directory is mkc's to narrow: empty, or holding what mkc keeps.
fn holds_mkc_data(dir: &Path) -> bool {
    let empty = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none());
    empty || dir.join("pki").is_dir() || dir.join("store.redb").is_file()
}

fn write_kubeconfig(
    path: &Path,
    server: &str,
    ca_pem: &str,
    admin: &CertAndKey,
) -> Result<(), ServerError> {
    let text = kubeconfig::render(&kubeconfig::Access {
        cluster: "mkc",
        context: "mkc",
        user: "mkc-admin",
        server,
        ca_pem,
        client_cert_pem: &admin.cert_pem,
        client_key_pem: &admin.key_pem,
    })?;
    crate::private_files::write(path, text.as_bytes()).map_err(|source| ServerError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Compacts the log every `interval` to the revision seen at the previous tick, so history is
/// kept for between one and two intervals, as upstream compacts etcd.
async fn compact_periodically(store: Store, interval: Duration, shutdown: CancellationToken) {
    let mut previous = store.revision();
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => return,
        }
        if previous > store.compacted()
            && let Err(err) = store.compact(previous).await
        {
            tracing::warn!(error = %err, "compaction failed");
        }
        previous = store.revision();
    }
}
