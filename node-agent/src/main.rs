//! `mkc-node-agent`: runs one node on a container runtime, or a fleet of simulated nodes, until
//! SIGINT or SIGTERM.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::pin::pin;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::config::{KubeConfigOptions, Kubeconfig};
use mkc_node_agent::{
    Capacity, ClusterDns, Config, KUBELET_PORT, NodeConfig, Nodes, RuntimeKind, Services, Serving,
    Settings,
};
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

    /// The Docker engine that runs the pods, with `--runtime docker`.
    #[arg(
        long,
        value_name = "URL",
        default_value = "unix:///var/run/docker.sock"
    )]
    docker_host: String,

    /// Where pods' emptyDir volumes live, with `--runtime docker`.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/mkc-agent/pods")]
    pods_dir: PathBuf,

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

    /// CPUs each node offers [default: 4 simulated; with Docker, the agent's cgroup limit or
    /// the machine's CPUs].
    #[arg(long, value_name = "QUANTITY", value_parser = quantity)]
    cpu: Option<Quantity>,

    /// Memory each node offers [default: 8Gi simulated; with Docker, the agent's cgroup limit
    /// or the machine's memory].
    #[arg(long, value_name = "QUANTITY", value_parser = quantity)]
    memory: Option<Quantity>,

    /// Pods each node accepts.
    #[arg(long, value_name = "N", default_value_t = 110)]
    pods: u32,

    /// The node's serving certificate for its own port (10250), where the API server reads
    /// logs; with --tls-private-key-file and --client-ca-file.
    #[arg(long, value_name = "FILE", requires_all = ["tls_private_key_file", "client_ca_file"], conflicts_with = "simulate")]
    tls_cert_file: Option<PathBuf>,

    /// The key of --tls-cert-file.
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    tls_private_key_file: Option<PathBuf>,

    /// The CA whose API-server client certificate the node's port accepts.
    #[arg(long, value_name = "FILE", requires = "tls_cert_file")]
    client_ca_file: Option<PathBuf>,

    /// Routes pod traffic to other nodes' pod CIDRs through their addresses, with the node's
    /// iptables (for a node in its own network namespace, such as a node container).
    #[arg(long, conflicts_with = "simulate")]
    route_pods: bool,

    /// Routes Services' cluster IPs, node ports and load-balancer addresses to their ready
    /// endpoints with the node's iptables, as kube-proxy does.
    #[arg(long, conflicts_with = "simulate")]
    proxy_services: bool,

    /// The cluster DNS server pods with dnsPolicy ClusterFirst resolve names through.
    #[arg(long, value_name = "IP")]
    cluster_dns: Option<IpAddr>,

    /// The cluster's DNS domain, for pods' search paths.
    #[arg(long, value_name = "DOMAIN", default_value = "cluster.local")]
    cluster_domain: String,

    /// The network every node's pod CIDR is carved from (as the server's --cluster-cidr).
    #[arg(long, value_name = "CIDR", default_value = "10.244.0.0/16")]
    cluster_cidr: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Runtime {
    Simulated,
    Docker,
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
    let (cpu, memory) = match cli.runtime {
        Runtime::Simulated => (Capacity::default().cpu, Capacity::default().memory),
        Runtime::Docker => mkc_node_agent::machine_resources(),
    };
    let capacity = Capacity {
        cpu: cli.cpu.unwrap_or(cpu),
        memory: cli.memory.unwrap_or(memory),
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
            Runtime::Docker => RuntimeKind::Docker {
                host: cli.docker_host,
                pods_dir: cli.pods_dir,
            },
        },
        settings: Settings {
            services: Services {
                serving: match (
                    cli.tls_cert_file,
                    cli.tls_private_key_file,
                    cli.client_ca_file,
                ) {
                    (Some(cert), Some(key), Some(client_ca)) => Some(Serving {
                        bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), KUBELET_PORT),
                        cert,
                        key,
                        client_ca,
                    }),
                    _ => None,
                },
                pod_routes: cli.route_pods.then(|| cli.cluster_cidr.clone()),
                service_proxy: cli.proxy_services.then_some(cli.cluster_cidr),
            },
            cluster_dns: cli.cluster_dns.map(|server| ClusterDns {
                server,
                domain: cli.cluster_domain,
            }),
            ..Settings::default()
        },
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
