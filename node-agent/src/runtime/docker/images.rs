//! Images by `imagePullPolicy`: pulled when missing (or always, if the policy says so), and a
//! failed pull is an error only when the image is not on the node (pod sync records a Warning
//! when the copy on the node is used instead). The IDs reported in container statuses take the
//! form the dockershim gave them.

use std::time::Instant;

use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::TryStreamExt;

use super::engine_error;
use crate::runtime::{ImageOutcome, RuntimeError};

/// When to pull, upstream's `imagePullPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The policy a container names, or upstream's default: Always for an image without a
    /// tag or tagged `latest`, IfNotPresent otherwise.
    fn of(image: &str, policy: Option<&str>) -> PullPolicy {
        match policy {
            Some("Always") => PullPolicy::Always,
            Some("Never") => PullPolicy::Never,
            Some("IfNotPresent") => PullPolicy::IfNotPresent,
            _ if tag(image).is_none_or(|tag| tag == "latest") && !image.contains('@') => {
                PullPolicy::Always
            }
            _ => PullPolicy::IfNotPresent,
        }
    }
}

/// The tag of an image reference, if it names one (a `:` after the last `/`).
fn tag(image: &str) -> Option<&str> {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, tag)| tag)
}

/// The reference to pull: one without tag or digest means `latest` (the engine would pull
/// every tag).
fn reference(image: &str) -> String {
    if tag(image).is_some() || image.contains('@') {
        image.to_owned()
    } else {
        format!("{image}:latest")
    }
}

/// Makes sure `image` is on the node as `policy` asks, and says how; ImagePull when it is not
/// and cannot be pulled.
pub async fn ensure(
    docker: &Docker,
    image: &str,
    policy: Option<&str>,
) -> Result<ImageOutcome, RuntimeError> {
    let image = reference(image);
    let present = match docker.inspect_image(&image).await {
        Ok(_) => true,
        Err(error) => match engine_error(format!("image {image}"))(error) {
            RuntimeError::NotFound(_) => false,
            other => return Err(other),
        },
    };
    let pull = match PullPolicy::of(&image, policy) {
        PullPolicy::Always => true,
        PullPolicy::IfNotPresent => !present,
        PullPolicy::Never if present => false,
        PullPolicy::Never => {
            return Err(RuntimeError::ImagePull {
                message: "the image is not present and the pull policy is Never".to_owned(),
                image,
            });
        }
    };
    if !pull {
        return Ok(ImageOutcome::Present);
    }
    let began = Instant::now();
    let options = CreateImageOptionsBuilder::default()
        .from_image(&image)
        .build();
    let pulled: Result<Vec<_>, _> = docker
        .create_image(Some(options), None, None)
        .try_collect()
        .await;
    match pulled {
        Ok(_) => Ok(ImageOutcome::Pulled {
            took: began.elapsed(),
        }),
        Err(error) if present => Ok(ImageOutcome::PullFailedUsedPresent {
            message: error.to_string(),
        }),
        Err(error) => Err(RuntimeError::ImagePull {
            image,
            message: error.to_string(),
        }),
    }
}

/// The image ID of a container as the dockershim reported it: `docker-pullable://` and the
/// repository digest when the image came from a registry, `docker://` and its ID otherwise.
pub async fn reported_id(docker: &Docker, image_id: &str) -> String {
    let digest = match docker.inspect_image(image_id).await {
        Ok(image) => image.repo_digests.and_then(|d| d.into_iter().next()),
        Err(_) => None,
    };
    match digest {
        Some(digest) => format!("docker-pullable://{digest}"),
        None => format!("docker://{image_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_and_latest_images_are_always_pulled_by_default() {
        let of = PullPolicy::of;
        assert_eq!(of("nginx", None), PullPolicy::Always);
        assert_eq!(of("nginx:latest", None), PullPolicy::Always);
        assert_eq!(of("localhost:5000/app", None), PullPolicy::Always);
        assert_eq!(of("nginx:1.27", None), PullPolicy::IfNotPresent);
        assert_eq!(of("nginx@sha256:ab", None), PullPolicy::IfNotPresent);
        assert_eq!(of("nginx", Some("Never")), PullPolicy::Never);
        assert_eq!(of("nginx:1.27", Some("Always")), PullPolicy::Always);
    }

    #[test]
    fn references_without_a_tag_mean_latest() {
        assert_eq!(reference("nginx"), "nginx:latest");
        assert_eq!(reference("localhost:5000/app"), "localhost:5000/app:latest");
        assert_eq!(reference("nginx:1.27"), "nginx:1.27");
        assert_eq!(reference("nginx@sha256:ab"), "nginx@sha256:ab");
    }
}
