//! The images the Docker tests and benchmarks need, made offline: mkc's node image, and an
//! nginx image from Debian's nginx-light (with curl, to call other pods), logging to stdout and
//! stderr as the official image does. Each is made once per process and kept by tag, so later
//! runs reuse it.

use std::process::Command;
use std::sync::OnceLock;

/// The nginx image workloads run.
pub const NGINX: &str = "mkc.local/test-nginx:1";
const NGINX_ROOTFS: &str = "mkc.local/test-nginx-rootfs:1";

fn present(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds (or rebuilds, when the binaries changed) the node image, once per process, so tests
/// running in parallel do not build it twice.
pub fn node_image() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let built = Command::new(env!("CARGO_BIN_EXE_mkc"))
            .args(["build", "node-image"])
            .output()
            .expect("run mkc");
        assert!(
            built.status.success(),
            "mkc build node-image: {}",
            String::from_utf8_lossy(&built.stderr)
        );
    });
}

/// Makes the nginx image unless it exists.
pub fn nginx_image() {
    static MADE: OnceLock<()> = OnceLock::new();
    MADE.get_or_init(|| {
        if present(NGINX) {
            return;
        }
        if !present(NGINX_ROOTFS) {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                mkc::cluster::debian_image(&connect().await, NGINX_ROOTFS, "nginx-light,curl")
                    .await
                    .expect("debootstrap nginx");
            });
        }
        let dockerfile = format!(
            "FROM {NGINX_ROOTFS}\n\
             RUN ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log\n\
             CMD [\"nginx\", \"-g\", \"daemon off;\"]\n"
        );
        let context = tempfile::tempdir().unwrap();
        std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
        // Debian's docker client: the newer one on PATH lacks buildx, and the legacy builder
        // needs no plugin.
        let built = Command::new("/usr/bin/docker")
            .args(["build", "-q", "-t", NGINX])
            .arg(context.path())
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("docker build");
        assert!(
            built.status.success(),
            "docker build: {}",
            String::from_utf8_lossy(&built.stderr)
        );
    });
}

async fn connect() -> bollard::Docker {
    bollard::Docker::connect_with_defaults()
        .expect("Docker")
        .negotiate_version()
        .await
        .expect("Docker's API version")
}
