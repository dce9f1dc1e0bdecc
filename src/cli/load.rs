//! `mkc load IMAGE…`: copies images from this machine's Docker into every node of a cluster,
//! as `kind load docker-image` does, since nodes cannot pull from a registry that is not there.

use crate::cluster::{ClusterName, DockerProvider, Loaded, NodeProvider};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Images on this machine, e.g. `nginx:latest`.
    #[arg(required = true)]
    images: Vec<String>,
    /// The cluster whose nodes receive them.
    #[arg(long, default_value = "mkc", value_parser = super::parse_cluster_name)]
    name: ClusterName,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let provider = DockerProvider::connect().await?;
    let nodes = provider.nodes(&args.name).await?;
    if nodes.is_empty() {
        anyhow::bail!(
            "no cluster named {} was found: start it with `mkc up --name {}`",
            args.name,
            args.name
        );
    }
    for image in &args.images {
        let loads = nodes.iter().map(|node| provider.load_image(node, image));
        let outcomes = futures::future::try_join_all(loads).await?;
        let (copied, there): (Vec<_>, Vec<_>) = nodes
            .iter()
            .zip(outcomes)
            .partition(|(_, outcome)| *outcome == Loaded::Copied);
        let names = |nodes: Vec<(&String, Loaded)>| {
            nodes
                .into_iter()
                .map(|(node, _)| node.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !copied.is_empty() {
            println!("{image} loaded into {}", names(copied));
        }
        if !there.is_empty() {
            println!("{image} already on {}", names(there));
        }
    }
    Ok(())
}
