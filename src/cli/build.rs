//! `mkc build node-image`: builds the node image from the running binaries.

use crate::cluster::{self, DockerProvider};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// The image every node runs: Debian, Docker, and this mkc's binaries.
    NodeImage {
        /// The image's name.
        #[arg(long)]
        image: Option<String>,
    },
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let provider = DockerProvider::connect().await?;
    match args.what {
        What::NodeImage { image } => {
            let image = image.unwrap_or_else(cluster::default_image);
            cluster::build_node_image(provider.docker(), &image).await?;
            println!("{image}");
        }
    }
    Ok(())
}
