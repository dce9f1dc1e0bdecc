//! `mkc build node-image`: builds the node image from the running binaries.

use crate::cluster::{self, DockerProvider, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// The image every node runs: Debian, Docker, and this mkc's binaries (made again only
    /// when they changed, unless --force).
    NodeImage {
        /// The image's name.
        #[arg(long)]
        image: Option<String>,
        /// Build it even if it holds these binaries already.
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let provider = DockerProvider::connect().await?;
    match args.what {
        What::NodeImage { image, force } => {
            let image = image.unwrap_or_else(cluster::default_image);
            if force {
                cluster::build_node_image(provider.docker(), &image).await?;
            } else if cluster::ensure_image(provider.docker(), &image).await? == Outcome::Reused {
                eprintln!(" • {image} already holds these binaries (--force builds it anyway)");
            }
            println!("{image}");
        }
    }
    Ok(())
}
