//! `mkc-node-agent`: runs one node on a container runtime, or a fleet of simulated nodes, until
//! SIGINT or SIGTERM.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::path::PathBuf;
use std::pin::pin;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::config::{KubeConfigOptions, Kubeconfig};
use mkc_node_agent::{Capacity, Config, NodeConfig, Nodes, RuntimeKind, Settings};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// mimalloc, as in `mkc`: a fleet of thousands of nodes allocates from many threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mkc node agent: registers a node and runs the pods bound to it.
#[derive(Debug, Parser)]
#[command(name = "mkc-node-agent", version)]
struct Cli {
    /// A kubeconfig for the API server, such as the server's admin.kubeconfig.
    #[arg(long, value_name = "FILE")]
    kubeconfig: PathBuf,

    /// The container runtime that runs the node's pods.
    #[arg(long, value_enum, default_value_t = Runtime::Simulated)]
    runtime: Runtime,

    /// The node to register and run.
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "simulate",
        conflicts_with = "simulate"
    )]
    node_name: Option<String>,

    /// The node's InternalIP; by default the address this machine uses to reach the server.
    #[arg(long, value_name = "IP", conflicts_with = "simulate")]
    node_ip: Option<IpAddr>,

    /// Registers the node as a control-plane node, tainted NoSchedule.
    #[arg(long, conflicts_with = "simulate")]
    control_plane: bool,

    /// Runs COUNT simulated nodes in this process instead of one node.
    #[arg(long, value_name = "COUNT", requires = "name_prefix", value_parser = clap::value_parser!(u32).range(1..))]
    simulate: Option<u32>,

    /// Names simulated nodes PREFIX-1 … PREFIX-COUNT.
    #[arg(long, value_name = "PREFIX", requires = "simulate")]
    name_prefix: Option<String>,

    /// CPUs each node offers.
    #[arg(long, value_name = "QUANTITY", default_value = "4", value_parser = quantity)]
    cpu: Quantity,

    /// Memory each node offers.
    #[arg(long, value_name = "QUANTITY", default_value = "8Gi", value_parser = quantity)]
    memory: Quantity,

    /// Pods each node accepts.
    #[arg(long, value_name = "N", default_value_t = 110)]
    pods: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Runtime {
    Simulated,
}

fn quantity(text: &str) -> Result<Quantity, String> {
    mkc_node_agent::parse_quantity(text).map_err(|e| e.to_string())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    mkc_supervisor::install_panic_hook();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli)));
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", mkc_node_agent::one_line(error.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let kubeconfig = Kubeconfig::read_from(&cli.kubeconfig).with_context(|| {
        format!(
            "reading the kubeconfig {} (pass --kubeconfig with a kubeconfig for the API server, \
             such as the server's DATA_DIR/admin.kubeconfig)",
            cli.kubeconfig.display()
        )
    })?;
    let client_config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .with_context(|| {
                format!(
                    "loading the kubeconfig {} (check its current context, cluster and user)",
                    cli.kubeconfig.display()
                )
            })?;
    let capacity = Capacity {
        cpu: cli.cpu,
        memory: cli.memory,
        pods: cli.pods,
    };
    let nodes = match (cli.simulate, cli.name_prefix, cli.node_name) {
        (Some(count), Some(prefix), _) => Nodes::Fleet {
            count,
            prefix,
            capacity,
        },
        (None, _, Some(name)) => Nodes::One(NodeConfig {
            name,
            address: match cli.node_ip {
                Some(ip) => ip,
                None => outbound_address(
                    client_config.cluster_url.host().unwrap_or("127.0.0.1"),
                    client_config.cluster_url.port_u16().unwrap_or(443),
                )?,
            },
            control_plane: cli.control_plane,
            capacity,
        }),
        _ => bail!("pass --node-name NAME, or --simulate COUNT with --name-prefix PREFIX"),
    };
    let client = kube::Client::try_from(client_config)
        .context("building the API client from the kubeconfig")?;
    let config = Config {
        nodes,
        runtime: match cli.runtime {
            Runtime::Simulated => RuntimeKind::Simulated,
        },
        settings: Settings::default(),
    };
    let shutdown = CancellationToken::new();
    let signals = cancel_on_signal(shutdown.clone())?;
    let mut agent = pin!(mkc_node_agent::run(config, client, shutdown));
    tokio::select! {
        ended = &mut agent => return Ok(ended?),
        () = signals => {}
    }
    agent.await?;
    Ok(())
}

/// The local address this machine would use to reach the API server: the node's address as
/// other machines see it. Connecting a UDP socket sends nothing.
fn outbound_address(host: &str, port: u16) -> anyhow::Result<IpAddr> {
    let host = host.trim_matches(['[', ']']);
    let any = if host.contains(':') {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    };
    let find = || -> std::io::Result<IpAddr> {
        let socket = UdpSocket::bind((any, 0))?;
        socket.connect((host, port))?;
        Ok(socket.local_addr()?.ip())
    };
    find().with_context(|| {
        format!("finding this machine's address towards {host} (pass --node-ip IP)")
    })
}

/// Listens for SIGINT and SIGTERM from now on; the future it returns cancels `shutdown` at the
/// first of them.
fn cancel_on_signal(shutdown: CancellationToken) -> anyhow::Result<impl Future<Output = ()>> {
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("stopping");
        shutdown.cancel();
    })
}
