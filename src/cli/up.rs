//! `mkc up`: a cluster of Docker containers, its context merged into the kubeconfig.

use std::time::Duration;

use anyhow::Context;

use crate::cluster::{self, ClusterName, DockerProvider, UpOptions};
use crate::kubeconfig;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The cluster's name: its containers are mkc-NAME-…, its context mkc-NAME.
    #[arg(long, default_value = "mkc", value_parser = super::parse_cluster_name)]
    name: ClusterName,
    /// How many worker nodes to start beside the control plane.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=200))]
    nodes: u32,
    /// The node image; by default mkc's own, built (or rebuilt) from the running binaries.
    #[arg(long)]
    image: Option<String>,
    /// How long to wait for every node to be Ready, e.g. `90s`, `5m`.
    #[arg(long, default_value = "5m", value_parser = super::parse_duration)]
    wait: Duration,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let provider = DockerProvider::connect().await?;
    let image =
        match args.image {
            Some(image) => {
                provider.docker().inspect_image(&image).await.with_context(|| {
                format!("the image {image} is not on this machine (omit --image to use mkc's own)")
            })?;
                image
            }
            None => {
                let image = cluster::default_image();
                cluster::ensure_image(provider.docker(), &image).await?;
                image
            }
        };
    let options = UpOptions {
        name: args.name,
        workers: args.nodes,
        image,
        wait: args.wait,
        kubeconfig: kubeconfig::target_path()?,
    };
    let cluster = cluster::up(&provider, &options).await?;
    println!(
        "cluster {} is up at {}; kubectl's current context is now {} (in {})",
        options.name,
        cluster.server,
        cluster.context,
        options.kubeconfig.display()
    );
    Ok(())
}
