//! `mkc down`: removes a cluster made by `mkc up`, and its kubeconfig entries.

use crate::cluster::{self, ClusterName, DockerProvider};
use crate::kubeconfig;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The cluster to remove.
    #[arg(long, default_value = "mkc", value_parser = super::parse_cluster_name)]
    name: ClusterName,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let provider = DockerProvider::connect().await?;
    let path = kubeconfig::target_path()?;
    let down = cluster::down(&provider, &args.name, &path).await?;
    if down.removed.is_empty() && !down.kubeconfig_entries {
        println!(
            "no cluster named {} was found: nothing to remove",
            args.name
        );
    } else {
        let removed = &down.removed;
        println!(
            "cluster {} removed: {} container(s), {} volume(s), {} network(s){}",
            args.name,
            removed.containers,
            removed.volumes,
            removed.networks,
            if down.kubeconfig_entries {
                format!(", its context in {}", path.display())
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
