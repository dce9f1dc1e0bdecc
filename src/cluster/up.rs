//! `mkc up` as ordered steps (after kind's create actions): certificates, network, control
//! plane, workers in parallel, kubeconfig, nodes Ready. Each step is timed for the progress
//! display; when one fails, everything labelled with the cluster is removed again, with its
//! kubeconfig entries, so a failed `up` leaves nothing behind.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::future::try_join_all;
use k8s_openapi::api::core::v1::Node;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};

use super::certs::{API_PORT, CertsError, ClusterCerts};
use super::names::{ClusterName, Role};
use super::provider::{NodeProvider, NodeSpec, ProviderError, Security, Subnet};
use crate::kubeconfig::{self, KubeconfigError};

/// What `up` makes.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub name: ClusterName,
    pub workers: u32,
    pub image: String,
    /// How long to wait for every node to be Ready.
    pub wait: Duration,
    /// The kubeconfig file the cluster's context is merged into.
    pub kubeconfig: PathBuf,
}

/// Why `up` failed; what it made is gone by the time this is returned.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error(
        "a cluster named {0} exists: remove it with `mkc down --name {0}`, or choose another --name"
    )]
    Exists(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("making the cluster's certificates: {0}")]
    Certs(#[from] CertsError),
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    #[error("no free port on 127.0.0.1 for the API server: {0}")]
    NoPort(std::io::Error),
    #[error("the cluster's own kubeconfig cannot be used: {0}")]
    Client(kube::Error),
    #[error("the nodes were not Ready within {waited:?} ({detail}); `docker logs NODE` shows why")]
    NotReady { waited: Duration, detail: String },
}

/// The cluster as `up` left it.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub server: String,
    pub context: String,
    pub nodes: Vec<String>,
}

/// Creates the cluster; on failure removes whatever it had made before returning the error.
pub async fn up<P: NodeProvider>(provider: &P, options: &UpOptions) -> Result<Cluster, UpError> {
    if provider
        .clusters()
        .await?
        .iter()
        .any(|name| name == options.name.as_str())
    {
        return Err(UpError::Exists(options.name.to_string()));
    }
    match create(provider, options).await {
        Ok(cluster) => Ok(cluster),
        Err(err) => {
            step(format_args!("cleaning up after the failure"));
            let _ = provider.delete_cluster(&options.name).await;
            let context = options.name.context();
            let _ = tokio::task::block_in_place(|| {
                kubeconfig::remove(&options.kubeconfig, kubeconfig::Names::all(&context))
            });
            Err(err)
        }
    }
}

async fn create<P: NodeProvider>(provider: &P, options: &UpOptions) -> Result<Cluster, UpError> {
    let name = &options.name;
    let started = Instant::now();
    let certs = timed("certificates", async { ClusterCerts::generate() }).await?;
    let subnet = timed("network", provider.create_network(name)).await?;
    let control_plane = subnet.host(2);
    let inner_server = format!("https://{control_plane}:{API_PORT}");
    let port = free_port()?;

    let mut cp = node_spec(
        options,
        Role::ControlPlane,
        0,
        control_plane,
        &certs,
        &inner_server,
    )?;
    cp.files.extend(certs.server_files());
    cp.publish_api = Some(port);
    let security = timed("control plane", provider.create_node(&cp)).await?;
    if security == Security::Fallback {
        step(format_args!(
            "--privileged is refused on this host (a capability is missing from its bounding set): nodes run with every other capability instead"
        ));
    }

    let workers: Vec<NodeSpec> = (1..=options.workers)
        .map(|index| {
            node_spec(
                options,
                Role::Worker,
                index,
                worker_address(subnet, index),
                &certs,
                &inner_server,
            )
        })
        .collect::<Result<_, _>>()?;
    timed(
        &format!("{} worker(s)", workers.len()),
        try_join_all(workers.iter().map(|spec| provider.create_node(spec))),
    )
    .await?;

    let server = format!("https://127.0.0.1:{port}");
    let context = name.context();
    let access = certs.admin_access(&context, &server);
    // The kubeconfig lock may be waited for: off the async threads.
    timed("kubeconfig", async {
        tokio::task::block_in_place(|| kubeconfig::merge(&options.kubeconfig, &access, true))
    })
    .await?;

    let mut nodes = vec![cp.name.clone()];
    nodes.extend(workers.iter().map(|w| w.name.clone()));
    let text = kubeconfig::render(&access)?;
    timed("nodes Ready", wait_ready(&text, &nodes, options.wait)).await?;
    step(format_args!(
        "cluster {name} ready in {:.1}s: kubectl --context {context} get nodes",
        started.elapsed().as_secs_f64()
    ));
    Ok(Cluster {
        server,
        context,
        nodes,
    })
}

/// Workers take `.3` onwards; the control plane is `.2`.
fn worker_address(subnet: Subnet, index: u32) -> Ipv4Addr {
    subnet.host(u8::try_from(index + 2).unwrap_or(u8::MAX))
}

fn node_spec(
    options: &UpOptions,
    role: Role,
    index: u32,
    address: Ipv4Addr,
    certs: &ClusterCerts,
    server: &str,
) -> Result<NodeSpec, CertsError> {
    let name = options.name.node(role, index);
    let files = certs.node_files(&name, IpAddr::V4(address), server)?;
    Ok(NodeSpec {
        cluster: options.name.clone(),
        env: vec![
            ("MKC_NODE_NAME".into(), name.clone()),
            ("MKC_NODE_ROLE".into(), role.label().into()),
            ("MKC_NODE_IP".into(), address.to_string()),
        ],
        name,
        role,
        image: options.image.clone(),
        address,
        files,
        publish_api: None,
    })
}

/// A port on 127.0.0.1 nothing listens on now.
fn free_port() -> Result<u16, UpError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(UpError::NoPort)
}

/// Waits until the API answers and lists every one of `nodes` Ready.
async fn wait_ready(kubeconfig: &str, nodes: &[String], wait: Duration) -> Result<(), UpError> {
    let deadline = Instant::now() + wait;
    let api = node_api(kubeconfig).await.map_err(UpError::Client)?;
    loop {
        let detail = match node_readiness(&api, nodes).await {
            Ok(pending) if pending.is_empty() => return Ok(()),
            Ok(pending) => format!("not Ready: {}", pending.join(", ")),
            Err(err) => format!("the API server did not answer: {err}"),
        };
        if Instant::now() >= deadline {
            return Err(UpError::NotReady {
                waited: wait,
                detail,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The nodes of `nodes` not (yet) Ready.
/// The Nodes of the cluster the admin's kubeconfig reaches (no request is made yet).
async fn node_api(kubeconfig: &str) -> Result<Api<Node>, kube::Error> {
    let config = Kubeconfig::from_yaml(kubeconfig).map_err(kube::Error::InferKubeconfig)?;
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .map_err(kube::Error::InferKubeconfig)?;
    Ok(Api::all(Client::try_from(config)?))
}

async fn node_readiness(api: &Api<Node>, nodes: &[String]) -> Result<Vec<String>, kube::Error> {
    let listed = api.list(&ListParams::default()).await?;
    let ready = |node: &Node| {
        node.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            })
    };
    Ok(nodes
        .iter()
        .filter(|name| {
            !listed
                .items
                .iter()
                .any(|node| node.metadata.name.as_ref() == Some(*name) && ready(node))
        })
        .cloned()
        .collect())
}

/// Runs one step, printing its name and how long it took.
async fn timed<T, E>(name: &str, work: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    let started = Instant::now();
    let outcome = work.await;
    let mark = if outcome.is_ok() { '✓' } else { '✗' };
    let _ = writeln!(
        std::io::stderr(),
        " {mark} {name} ({:.2}s)",
        started.elapsed().as_secs_f64()
    );
    outcome
}

fn step(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), " • {message}");
}
