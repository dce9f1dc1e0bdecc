//! The node image: one image for the control plane and the workers, built with no registry.
//!
//! It is two layers of our own. The base (`mkc.local/node-base:bookworm`) is a Debian bookworm
//! root filesystem with Docker, iptables and iproute2, made by debootstrap from the machine's
//! Debian mirror and imported, since no registry may be reachable; it is made once. The node
//! image adds the running `mkc` and `mkc-node-agent` binaries and the init from `images/node/`,
//! and is labelled with their digest, so `mkc up` rebuilds it, in seconds, whenever the
//! binaries it would run differ from those in the image.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use bollard::Docker;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptions, CreateImageOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures::TryStreamExt;
use tokio_util::io::ReaderStream;

use super::files::{self, File};

/// The base image: Debian with what a node runs besides our binaries.
pub const BASE_IMAGE: &str = "mkc.local/node-base:bookworm";
/// The label holding the digest of the binaries a node image carries.
const BINARIES_LABEL: &str = "io.mkc.binaries";
/// What a node needs from Debian: its own Docker daemon, and the tools the agent uses to route
/// pod traffic between nodes and to Services (`conntrack` forgets UDP flows to endpoints that
/// are gone).
const PACKAGES: &str = "docker.io,iptables,iproute2,conntrack,ca-certificates,procps,curl";
const INIT: &str = include_str!("../../images/node/init.sh");
const FALLBACK_MIRROR: &str = "http://deb.debian.org/debian";

/// What can go wrong building the node image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot find {name} beside {beside}: build both binaries with `cargo build --release`")]
    MissingBinary { name: &'static str, beside: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the node image's base is made with debootstrap, which is not installed: run `apt-get install debootstrap`, or load an image named {BASE_IMAGE}"
    )]
    NoDebootstrap,
    #[error("debootstrap failed ({status}); its last lines:\n{log}")]
    Debootstrap { status: String, log: String },
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("Docker refused to {what}: {source}")]
    Docker {
        what: &'static str,
        source: bollard::errors::Error,
    },
}

/// The image `mkc up` runs unless told otherwise.
pub fn default_image() -> String {
    format!("mkc.local/node:{}", env!("CARGO_PKG_VERSION"))
}

/// What `ensure` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Reused,
    Built,
}

/// The two binaries a node runs, as they are now on this machine.
struct Binaries {
    mkc: PathBuf,
    agent: PathBuf,
}

impl Binaries {
    /// This `mkc` and the `mkc-node-agent` beside it, as cargo builds them.
    fn running() -> Result<Binaries, ImageError> {
        let mkc = std::env::current_exe().map_err(|source| ImageError::Io {
            what: "finding the running mkc binary",
            source,
        })?;
        let agent = mkc.with_file_name("mkc-node-agent");
        if !agent.is_file() {
            return Err(ImageError::MissingBinary {
                name: "mkc-node-agent",
                beside: mkc,
            });
        }
        Ok(Binaries { mkc, agent })
    }

    /// SHA-256 over both binaries and the init: equal digests, equal images.
    fn digest(&self) -> Result<String, ImageError> {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        for path in [&self.mkc, &self.agent] {
            context.update(&read(path)?);
        }
        context.update(INIT.as_bytes());
        Ok(context
            .finish()
            .as_ref()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ImageError> {
    std::fs::read(path).map_err(|source| ImageError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Builds `image` unless it already holds the running binaries.
pub async fn ensure(docker: &Docker, image: &str) -> Result<Outcome, ImageError> {
    let binaries = Binaries::running()?;
    let digest = binaries.digest()?;
    if let Ok(found) = docker.inspect_image(image).await {
        let label = found
            .config
            .and_then(|config| config.labels)
            .and_then(|labels| labels.get(BINARIES_LABEL).cloned());
        if label.as_deref() == Some(digest.as_str()) {
            return Ok(Outcome::Reused);
        }
    }
    build(docker, image, &binaries, &digest).await?;
    Ok(Outcome::Built)
}

/// Builds the node image, and its base first if the engine lacks it, printing progress.
pub async fn build_node_image(docker: &Docker, image: &str) -> Result<(), ImageError> {
    let binaries = Binaries::running()?;
    let digest = binaries.digest()?;
    build(docker, image, &binaries, &digest).await
}

async fn build(
    docker: &Docker,
    image: &str,
    binaries: &Binaries,
    digest: &str,
) -> Result<(), ImageError> {
    if docker.inspect_image(BASE_IMAGE).await.is_err() {
        make_base(docker).await?;
    }
    let started = Instant::now();
    progress(format_args!("adding mkc's binaries: {image}"));
    let layer = files::archive(&[
        File::executable(
            "usr/local/bin/mkc".into(),
            without_debug_info(&binaries.mkc).await?,
        ),
        File::executable(
            "usr/local/bin/mkc-node-agent".into(),
            without_debug_info(&binaries.agent).await?,
        ),
        File::executable("usr/local/bin/mkc-node-init".into(), INIT),
    ])
    .map_err(|source| ImageError::Io {
        what: "packing the binaries",
        source,
    })?;
    let container = docker
        .create_container(
            None::<CreateContainerOptions>,
            ContainerCreateBody {
                image: Some(BASE_IMAGE.to_owned()),
                entrypoint: Some(vec!["/usr/local/bin/mkc-node-init".to_owned()]),
                cmd: Some(vec![]),
                labels: Some(HashMap::from([(
                    BINARIES_LABEL.to_owned(),
                    digest.to_owned(),
                )])),
                stop_signal: Some("SIGTERM".to_owned()),
                ..Default::default()
            },
        )
        .await
        .map_err(|source| ImageError::Docker {
            what: "create the image's build container",
            source,
        })?
        .id;
    let committed = commit_with(docker, &container, image, layer).await;
    let _ = docker
        .remove_container(
            &container,
            Some(RemoveContainerOptionsBuilder::default().force(true).build()),
        )
        .await;
    committed?;
    progress(format_args!(
        "node image {image} ready in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

async fn commit_with(
    docker: &Docker,
    container: &str,
    image: &str,
    layer: Vec<u8>,
) -> Result<(), ImageError> {
    docker
        .upload_to_container(
            container,
            Some(
                bollard::query_parameters::UploadToContainerOptionsBuilder::default()
                    .path("/")
                    .build(),
            ),
            bollard::body_full(layer.into()),
        )
        .await
        .map_err(|source| ImageError::Docker {
            what: "copy the binaries into the image",
            source,
        })?;
    let (repo, tag) = split_reference(image);
    docker
        .commit_container(
            CommitContainerOptionsBuilder::default()
                .container(container)
                .repo(repo)
                .tag(tag)
                .pause(false)
                .build(),
            bollard::models::ContainerConfig::default(),
        )
        .await
        .map_err(|source| ImageError::Docker {
            what: "commit the node image",
            source,
        })?;
    Ok(())
}

/// The binary without its line tables, a seventh of its size, so the layer is quick to make
/// (symbols stay, for backtraces); the binary as it is where `strip` is missing.
async fn without_debug_info(path: &Path) -> Result<Vec<u8>, ImageError> {
    let stripped = std::env::temp_dir().join(format!(
        "mkc-stripped-{}-{}",
        std::process::id(),
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let mut command = std::process::Command::new("strip");
    command
        .arg("--strip-debug")
        .arg("-o")
        .arg(&stripped)
        .arg(path)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let contents = match blocking(move || command.status()).await {
        Ok(status) if status.success() => read(&stripped),
        _ => read(path),
    };
    let _ = std::fs::remove_file(&stripped);
    contents
}

/// `repo:tag` split as Docker reads it: a colon after the last slash starts the tag.
fn split_reference(image: &str) -> (&str, &str) {
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => (&image[..colon], &image[colon + 1..]),
        _ => (image, "latest"),
    }
}

/// Makes the base image with debootstrap from the machine's Debian mirror, and imports it.
async fn make_base(docker: &Docker) -> Result<(), ImageError> {
    let started = Instant::now();
    progress(format_args!(
        "making the base image {BASE_IMAGE} with debootstrap from {} (about a minute, once)",
        debian_mirror()
    ));
    debian_image(docker, BASE_IMAGE, PACKAGES).await?;
    progress(format_args!(
        "base image made in {:.0}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Imports a Debian bookworm root filesystem (minbase, with `packages`, comma-separated) as
/// `image`, made by debootstrap from the machine's Debian mirror: how images are made where
/// no registry can be reached.
pub async fn debian_image(docker: &Docker, image: &str, packages: &str) -> Result<(), ImageError> {
    let rootfs = std::env::temp_dir().join(format!(
        "mkc-rootfs-{}-{}",
        std::process::id(),
        image.replace(['/', ':'], "_")
    ));
    let made = debootstrap(&rootfs, &debian_mirror(), packages).await;
    let imported = match made {
        Ok(()) => import(docker, &rootfs, image).await,
        Err(err) => Err(err),
    };
    let _ = tokio::fs::remove_dir_all(&rootfs).await;
    imported
}

async fn debootstrap(rootfs: &Path, mirror: &str, packages: &str) -> Result<(), ImageError> {
    let mut command = std::process::Command::new("debootstrap");
    command.arg("--variant=minbase");
    if !packages.is_empty() {
        command.arg(format!("--include={packages}"));
    }
    command
        .arg("bookworm")
        .arg(rootfs)
        .arg(mirror)
        .stdin(Stdio::null());
    let output =
        blocking(move || command.output())
            .await
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => ImageError::NoDebootstrap,
                _ => ImageError::Io {
                    what: "running debootstrap",
                    source,
                },
            })?;
    if !output.status.success() {
        let mut log = String::from_utf8_lossy(&output.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&output.stderr));
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        return Err(ImageError::Debootstrap {
            status: output.status.to_string(),
            log: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    // The downloaded packages are installed; the image need not carry them twice.
    let archives = rootfs.join("var/cache/apt/archives");
    if let Ok(mut entries) = tokio::fs::read_dir(&archives).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            if entry.path().extension().is_some_and(|ext| ext == "deb") {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
    Ok(())
}

/// `docker import` of the root filesystem, packed by `tar` (which keeps devices, hard links
/// and modes exactly as debootstrap made them) into a file beside it, then streamed.
async fn import(docker: &Docker, rootfs: &Path, image: &str) -> Result<(), ImageError> {
    let archive = rootfs.with_extension("tar");
    let mut command = std::process::Command::new("tar");
    command
        .arg("-C")
        .arg(rootfs)
        .args(["--numeric-owner", "-cf"])
        .arg(&archive)
        .arg(".")
        .stdin(Stdio::null());
    let packed = blocking(move || command.status()).await;
    let imported = match packed {
        Ok(status) if status.success() => stream_import(docker, &archive, image).await,
        Ok(status) => Err(ImageError::Io {
            what: "packing the root filesystem",
            source: std::io::Error::other(format!("tar {status}")),
        }),
        Err(source) => Err(ImageError::Io {
            what: "running tar over the root filesystem",
            source,
        }),
    };
    let _ = tokio::fs::remove_file(&archive).await;
    imported
}

async fn stream_import(docker: &Docker, archive: &Path, image: &str) -> Result<(), ImageError> {
    let file = tokio::fs::File::open(archive)
        .await
        .map_err(|source| ImageError::Read {
            path: archive.to_owned(),
            source,
        })?;
    let (repo, tag) = split_reference(image);
    docker
        .create_image(
            Some(
                CreateImageOptionsBuilder::default()
                    .from_src("-")
                    .repo(repo)
                    .tag(tag)
                    .build(),
            ),
            Some(bollard::body_try_stream(ReaderStream::new(file))),
            None,
        )
        .try_collect::<Vec<_>>()
        .await
        .map_err(|source| ImageError::Docker {
            what: "import a Debian root filesystem",
            source,
        })?;
    Ok(())
}

/// Runs a blocking command off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}

/// The Debian mirror this machine's apt uses, so the base comes from where its packages come
/// from (a local mirror or a snapshot), else deb.debian.org.
fn debian_mirror() -> String {
    let mut texts: Vec<String> = std::fs::read_to_string("/etc/apt/sources.list")
        .into_iter()
        .collect();
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<PathBuf> = dir.flatten().map(|entry| entry.path()).collect();
        paths.sort();
        texts.extend(paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
    }
    texts
        .iter()
        .find_map(|text| mirror_in(text))
        .unwrap_or_else(|| FALLBACK_MIRROR.to_owned())
}

/// The first Debian archive (not its security archive) named in an apt sources text, in the
/// one-line (`deb URI suite …`) or the deb822 (`URIs: URI`) format.
fn mirror_in(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        let uri = line
            .strip_prefix("URIs:")
            .map(str::trim)
            .or_else(|| {
                let mut words = line.strip_prefix("deb ")?.split_whitespace();
                words.find(|word| word.contains("://"))
            })?
            .split_whitespace()
            .next()?;
        let debian = uri.trim_end_matches('/').ends_with("/debian");
        debian.then(|| uri.trim_end_matches('/').to_owned())
    })
}

/// One line of build progress on stderr, where `mkc up` prints its steps.
fn progress(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), " • {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_tag_colon() {
        assert_eq!(
            split_reference("mkc.local/node:0.1.0"),
            ("mkc.local/node", "0.1.0")
        );
        assert_eq!(split_reference("nginx"), ("nginx", "latest"));
        assert_eq!(
            split_reference("localhost:5000/node"),
            ("localhost:5000/node", "latest")
        );
    }

    #[test]
    fn the_debian_mirror_is_read_from_either_sources_format() {
        let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\n\
                      Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n";
        assert_eq!(
            mirror_in(deb822).as_deref(),
            Some("http://mirror.example/debian")
        );
        let one_line = "# comment\ndeb [arch=amd64] https://packages.cloud.google.com/apt cloud-sdk main\n\
                        deb http://ftp.de.debian.org/debian bookworm main\n";
        assert_eq!(
            mirror_in(one_line).as_deref(),
            Some("http://ftp.de.debian.org/debian")
        );
        assert_eq!(
            mirror_in("deb https://deb.nodesource.com/node_20.x nodistro main"),
            None
        );
    }
}
