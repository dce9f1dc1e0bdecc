//! `mkc server`: runs the API server on a data directory until SIGINT or SIGTERM.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::apiserver::{Config, Server, User, local_client};
use crate::controllers::{Cidr, Options, Selection};
use crate::dns::{self, DnsConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory holding the store, certificates and kubeconfig; created if missing.
    #[arg(long)]
    data_dir: PathBuf,
    /// Address and port to serve HTTPS on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:6443")]
    bind: SocketAddr,
    /// Address clients reach the server at, if not the bind address.
    #[arg(long)]
    advertise_address: Option<IpAddr>,
    /// Seconds between compactions of the store's history (watches can resume within it).
    #[arg(long, default_value_t = 300)]
    compaction_interval_seconds: u64,
    /// Controllers to run: `*` for all, a name to add one, `-name` to leave one out.
    #[arg(long, default_value = "*", value_parser = parse_controllers)]
    controllers: Selection,
    /// How long a node's Lease may go unrenewed before the node is NotReady, e.g. `40s`, `6s`.
    #[arg(long, default_value = "40s", value_parser = super::parse_duration)]
    node_monitor_grace_period: Duration,
    /// Seconds pods tolerate a not-ready or unreachable node before they are evicted.
    #[arg(long, default_value_t = 300)]
    default_toleration_seconds: i64,
    /// The network node pod CIDRs (/24 each) are carved from.
    #[arg(long, default_value = "10.244.0.0/16")]
    cluster_cidr: Cidr,
    /// Serves cluster DNS (UDP and TCP) on this address, published as the `kube-dns` Service
    /// at 10.96.0.10; off unless given. Needs --advertise-address when the address is 0.0.0.0.
    #[arg(long, value_name = "ADDR:PORT")]
    dns_bind: Option<SocketAddr>,
    /// The resolver names outside the cluster go to; by default the first nameserver of
    /// /etc/resolv.conf.
    #[arg(long, value_name = "ADDR:PORT", requires = "dns_bind")]
    dns_upstream: Option<SocketAddr>,
    /// The cluster's DNS domain.
    #[arg(long, default_value = "cluster.local")]
    cluster_domain: String,
}

fn parse_controllers(text: &str) -> Result<Selection, String> {
    Selection::parse(text).map_err(|e| e.to_string())
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut config = Config::new(args.data_dir.clone());
    config.bind = args.bind;
    config.advertise = args.advertise_address;
    config.compaction_interval = Duration::from_secs(args.compaction_interval_seconds.max(1));
    config.default_toleration_seconds = args.default_toleration_seconds;
    let stop = super::stop_signal()?;
    let shutdown = CancellationToken::new();
    let server = Server::start(config, shutdown.clone())
        .await
        .with_context(|| format!("mkc server could not start on {}", args.data_dir.display()))?;
    // What runs beside the API server is chosen here: the controllers (and the scheduler)
    // asked for, reaching it in process.
    let options = Options {
        node_monitor_grace_period: args.node_monitor_grace_period,
        cluster_cidr: args.cluster_cidr,
        root_ca_pem: server.ca_pem.clone(),
        ..Options::default()
    };
    let controllers = tokio::spawn(crate::controllers::run(
        server.clients(),
        args.controllers.clone(),
        options,
        shutdown.clone(),
    ));
    let dns = match args.dns_bind {
        Some(bind) => Some(start_dns(&args, bind, &server, shutdown.clone()).await?),
        None => None,
    };
    println!(
        "mkc API server ready at https://{} (kubeconfig: {})",
        server.addr,
        server.kubeconfig.display()
    );
    stop.await;
    tracing::info!("stopping");
    shutdown.cancel();
    server.wait().await;
    let _ = controllers.await;
    if let Some(dns) = dns {
        dns.join_all().await;
    }
    Ok(())
}

/// Starts cluster DNS beside the server, reading the API as its own identity.
async fn start_dns(
    args: &Args,
    bind: SocketAddr,
    server: &Server,
    shutdown: CancellationToken,
) -> anyhow::Result<tokio::task::JoinSet<()>> {
    let advertise = match (args.advertise_address, bind.ip()) {
        (Some(address), _) => address,
        (None, ip) if !ip.is_unspecified() => ip,
        _ => anyhow::bail!(
            "--dns-bind on every address needs --advertise-address: the kube-dns Service must point at one"
        ),
    };
    let user = User {
        name: crate::rbac::components::DNS_USER.into(),
        groups: vec![],
    };
    let config = DnsConfig {
        bind,
        advertise,
        domain: args.cluster_domain.clone(),
        upstream: args
            .dns_upstream
            .or_else(|| dns::upstream_from_resolv_conf(Path::new("/etc/resolv.conf"))),
    };
    Ok(dns::start(local_client(server.state.clone(), user), config, shutdown).await?)
}
