//! Clusters of Docker containers: `mkc up` and `mkc down` (after kind's provisioner). A
//! [`NodeProvider`] runs node containers; [`up`] is ordered, timed steps that undo themselves on
//! failure; a cluster is the set of containers, volumes and networks labelled with its name,
//! and its kubeconfig entries, and nothing else.

mod certs;
mod docker;
mod down;
mod files;
mod image;
mod names;
mod provider;
mod up;

pub use docker::DockerProvider;
pub use down::{Down, DownError, down};
pub use image::{
    ImageError, Outcome, build_node_image, debian_image, default_image, ensure as ensure_image,
};
pub use names::{CLUSTER_LABEL, ClusterName, InvalidName};
pub use provider::{Loaded, NodeProvider, ProviderError, Removed};
pub use up::{Cluster, UpError, UpOptions, up};
