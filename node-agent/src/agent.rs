//! The agent as a whole: registers its nodes, keeps their heartbeats, learns their pod CIDRs
//! and syncs their pods, as tasks of one JoinSet that end together through one cancellation
//! token. A panic while syncing one pod is retried as any failed sync is; the pod CIDR watch
//! is started again with back-off if it panics; a panic elsewhere stops the agent with an
//! error rather than leaving it running without a part. [`run`] takes a [`Config`]; [`run_nodes`] takes runtimes the caller made, so they can
//! outlive the agent.

use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{Node, Service};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client};
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config, Nodes, RuntimeKind, Services, Settings};
use crate::fleet::{Fleet, FleetError, LocalNode, NodeSetup};
use crate::heartbeat::{self, Beating};
use crate::housekeeping;
use crate::network;
use crate::node::{self, NodeError, SystemInfo};
use crate::pod_sync::{self, Context, Inputs};
use crate::proxy;
use crate::runtime::docker::{ConnectError, DockerConfig, DockerRuntime};
use crate::runtime::simulated::SimulatedRuntime;
use crate::runtime::{ContainerRuntime, RuntimeError};
use crate::{routes, server};

/// The first wait before registering again after a transient failure; it doubles up to
/// [`MAX_REGISTRATION_BACKOFF`].
const REGISTRATION_BACKOFF: Duration = Duration::from_millis(200);
const MAX_REGISTRATION_BACKOFF: Duration = Duration::from_secs(7);

/// Why the agent stopped other than by being asked to.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the node set cannot run")]
    Fleet(#[from] FleetError),
    #[error("the Docker runtime runs one node, not a simulated fleet")]
    DockerFleet,
    #[error(transparent)]
    Docker(#[from] ConnectError),
    #[error("asking the container runtime for its version")]
    RuntimeVersion(#[source] RuntimeError),
    #[error("registering node {node:?}")]
    Register {
        node: String,
        #[source]
        source: NodeError,
    },
    #[error("an agent task panicked")]
    Task(#[from] JoinError),
    #[error("the node's own port")]
    Server(#[from] crate::server::ServerError),
    #[error("a node's port, pod routes and Service rules are served for one node, not a fleet")]
    ServicesForFleet,
}

/// Runs the nodes `config` describes until `shutdown` is cancelled, each with a new runtime
/// of the configured kind.
pub async fn run(config: Config, client: Client, shutdown: CancellationToken) -> Result<(), Error> {
    let nodes = match config.nodes {
        Nodes::One(node) => vec![node],
        Nodes::Fleet {
            count,
            prefix,
            capacity,
        } => config::fleet(count, &prefix, &capacity),
    };
    match config.runtime {
        RuntimeKind::Simulated => {
            let setups = nodes
                .into_iter()
                .map(|config| NodeSetup {
                    config,
                    runtime: Arc::new(SimulatedRuntime::new()),
                })
                .collect();
            run_nodes(setups, config.settings, client, shutdown).await
        }
        RuntimeKind::Docker { host, pods_dir } => {
            let [node] = <[_; 1]>::try_from(nodes).map_err(|_| Error::DockerFleet)?;
            let docker = DockerConfig {
                host,
                pods_dir,
                masquerade: config.settings.services.pod_routes.is_none(),
                ..DockerConfig::new(&node.name, node.address)
            };
            let setup = NodeSetup {
                runtime: Arc::new(DockerRuntime::connect(docker).await?),
                config: node,
            };
            run_nodes(vec![setup], config.settings, client, shutdown).await
        }
    }
}

/// Runs `nodes` on their runtimes until `shutdown` is cancelled, or until one of them cannot
/// register. Registration retries what may pass (unreachable server, 5xx, 429) and gives up on
/// what will not (a refused or invalid node).
pub async fn run_nodes<R: ContainerRuntime>(
    nodes: Vec<NodeSetup<R>>,
    settings: Settings,
    client: Client,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let fleet = Arc::new(Fleet::new(nodes)?);
    let runtime_version = match fleet.iter().next() {
        Some(node) => node
            .runtime
            .version()
            .await
            .map_err(Error::RuntimeVersion)?,
        None => return Err(FleetError::Empty.into()),
    };
    let system = Arc::new(SystemInfo::detect(runtime_version));
    let settings = Arc::new(settings);
    let stop = shutdown.child_token();
    let mut tasks = JoinSet::new();

    let (store, writer) = reflector::store();
    let (wake, wakes) = mpsc::unbounded();
    let (housekeeping, chores) = housekeeping::channel();
    tasks.spawn(
        housekeeping::run(
            fleet.clone(),
            store.clone(),
            chores,
            settings.housekeeping_interval,
            stop.clone(),
        )
        .map(Ok),
    );
    // Every Service, for the variables of the pods' containers: one watch for the process.
    let (services, services_writer) = reflector::store::<Service>();
    let services_watch = watcher(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    );
    tasks.spawn(
        reflector::reflector(services_writer, services_watch)
            .default_backoff()
            .take_until(stop.clone().cancelled_owned())
            .for_each(|_| std::future::ready(()))
            .map(Ok),
    );
    let context = Arc::new(Context {
        client: client.clone(),
        fleet: fleet.clone(),
        cluster_dns: settings.cluster_dns.clone(),
        services,
    });
    let inputs = Inputs {
        store: store.clone(),
        writer,
        wakes,
        housekeeping,
    };
    let pacing = pod_sync::Pacing {
        concurrency: settings.sync_concurrency,
        volume_refresh: settings.volume_refresh_interval,
    };
    tasks.spawn(pod_sync::run(context, inputs, pacing, stop.clone()).map(Ok));
    let (network_client, network_fleet, network_stop) =
        (client.clone(), fleet.clone(), stop.clone());
    let pod_cidrs = move || {
        network::watch_pod_cidrs(
            network_client.clone(),
            network_fleet.clone(),
            wake.clone(),
            network_stop.clone(),
        )
    };
    tasks.spawn(mkc_supervisor::supervise("pod CIDR watch", stop.clone(), pod_cidrs).map(Ok));
    spawn_services(
        &mut tasks,
        &settings.services,
        &fleet,
        &client,
        &store,
        &stop,
    )
    .await?;
    let registrations = Arc::new(Semaphore::new(settings.registration_concurrency.max(1)));
    for node in fleet.iter() {
        tasks.spawn(node_life(
            client.clone(),
            node.clone(),
            system.clone(),
            Lifetime {
                first_beat_after: heartbeat::stagger(
                    node.index,
                    fleet.len(),
                    settings.lease_renew_interval,
                ),
                settings: settings.clone(),
                registrations: registrations.clone(),
                shutdown: stop.clone(),
            },
        ));
    }
    // The first failure stops every task; the agent ends when all have.
    let mut outcome = Ok(());
    while let Some(done) = tasks.join_next().await {
        if let Err(error) = done.map_err(Error::from).and_then(|ended| ended) {
            stop.cancel();
            if outcome.is_ok() {
                outcome = Err(error);
            }
        }
    }
    outcome
}

/// Starts the node's own port, its pod routes and its Service rules, when asked for; they
/// need one node.
async fn spawn_services<R: ContainerRuntime>(
    tasks: &mut JoinSet<Result<(), Error>>,
    services: &Services,
    fleet: &Arc<Fleet<R>>,
    client: &Client,
    pods: &reflector::Store<k8s_openapi::api::core::v1::Pod>,
    stop: &CancellationToken,
) -> Result<(), Error> {
    if services.serving.is_none()
        && services.pod_routes.is_none()
        && services.service_proxy.is_none()
    {
        return Ok(());
    }
    let node = fleet.single().ok_or(Error::ServicesForFleet)?;
    if let Some(serving) = &services.serving {
        let serve = server::bind(serving, node.runtime.clone(), pods.clone(), stop.clone()).await?;
        tasks.spawn(serve.map(Ok));
    }
    let networking: [(&'static str, &Option<String>, NetworkTask); 2] = [
        ("pod routes", &services.pod_routes, |c, n, cidr, t| {
            routes::run(c, n, cidr, t).boxed()
        }),
        ("service rules", &services.service_proxy, |c, n, cidr, t| {
            proxy::run(c, n, cidr, t).boxed()
        }),
    ];
    for (name, cluster_cidr, run) in networking {
        let Some(cluster_cidr) = cluster_cidr else {
            continue;
        };
        let (client, node_name, cidr, token) = (
            client.clone(),
            node.config.name.clone(),
            cluster_cidr.clone(),
            stop.clone(),
        );
        let keep = move || {
            run(
                client.clone(),
                node_name.clone(),
                cidr.clone(),
                token.clone(),
            )
        };
        tasks.spawn(mkc_supervisor::supervise(name, stop.clone(), keep).map(Ok));
    }
    Ok(())
}

/// A task keeping part of the node's networking in the node's namespace (pod routes, Service
/// rules): from the client, the node's name and the cluster CIDR, until the token is cancelled.
type NetworkTask =
    fn(Client, String, String, CancellationToken) -> futures::future::BoxFuture<'static, ()>;

/// What a node's life needs besides the node.
struct Lifetime {
    first_beat_after: Duration,
    settings: Arc<Settings>,
    /// Bounds how many nodes register at once.
    registrations: Arc<Semaphore>,
    shutdown: CancellationToken,
}

/// Registers the node, then beats until shutdown.
async fn node_life<R: ContainerRuntime>(
    client: Client,
    node: Arc<LocalNode<R>>,
    system: Arc<SystemInfo>,
    life: Lifetime,
) -> Result<(), Error> {
    let uid = {
        // The semaphore is never closed; were it, registering unbounded would still be right.
        let _permit = tokio::select! {
            () = life.shutdown.cancelled() => return Ok(()),
            permit = life.registrations.acquire() => permit.ok(),
        };
        // Boxed, and only the UID kept, so the task that lives on as the node's heartbeat
        // keeps no room for registering.
        let nodes = Api::all(client.clone());
        match Box::pin(register(&nodes, &node, &system, &life.shutdown)).await? {
            Some(registered) => registered.metadata.uid.unwrap_or_default(),
            None => return Ok(()),
        }
    };
    let beating = Beating {
        node: &node.config,
        uid: &uid,
        system: &system,
    };
    heartbeat::run(
        client,
        beating,
        life.first_beat_after,
        &life.settings,
        life.shutdown,
    )
    .await;
    Ok(())
}

/// Registers the node, retrying transient failures with back-off; `None` when shut down first.
async fn register<R>(
    api: &Api<Node>,
    node: &LocalNode<R>,
    system: &SystemInfo,
    shutdown: &CancellationToken,
) -> Result<Option<Node>, Error> {
    let mut backoff = REGISTRATION_BACKOFF;
    loop {
        match node::register(api, &node.config, system).await {
            Ok(registered) => return Ok(Some(registered)),
            Err(error) if error.is_transient() => {
                tracing::warn!(node = %node.config.name, %error, "registering the node failed; retrying");
            }
            Err(source) => {
                return Err(Error::Register {
                    node: node.config.name.clone(),
                    source,
                });
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(None),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_REGISTRATION_BACKOFF);
    }
}
