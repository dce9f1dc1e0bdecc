//! How a cluster's parts are named and labelled. A cluster is nothing but the Docker objects
//! carrying its label, so these names and labels are the whole of its bookkeeping.

use std::fmt;

/// The label every container, volume and network of a cluster carries, valued with its name.
pub const CLUSTER_LABEL: &str = "io.mkc.cluster";
/// The label saying whether a node container is the control plane or a worker.
pub const ROLE_LABEL: &str = "io.mkc.role";

/// A name `mkc up --name` accepts.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not a cluster name: use 1 to 32 lowercase letters, digits and '-', starting and ending with a letter or digit"
)]
pub struct InvalidName(String);

/// A cluster's name, checked to make valid Docker object and node names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterName(String);

/// What a node does in its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    ControlPlane,
    Worker,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::ControlPlane => "control-plane",
            Role::Worker => "worker",
        }
    }
}

impl ClusterName {
    pub fn parse(text: &str) -> Result<ClusterName, InvalidName> {
        let edge =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let valid = (1..=32).contains(&text.len())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && edge(text.chars().next())
            && edge(text.chars().last());
        if valid {
            Ok(ClusterName(text.to_owned()))
        } else {
            Err(InvalidName(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Docker network the cluster's nodes share.
    pub fn network(&self) -> String {
        format!("mkc-{}", self.0)
    }

    /// The kubeconfig cluster, user and context entries of the cluster, as kind names them.
    pub fn context(&self) -> String {
        format!("mkc-{}", self.0)
    }

    /// A node's container and Node name: `mkc-NAME-control-plane`, then `mkc-NAME-worker`,
    /// `mkc-NAME-worker2`, … for workers 1, 2, …
    pub fn node(&self, role: Role, index: u32) -> String {
        match (role, index) {
            (Role::ControlPlane, _) => format!("mkc-{}-control-plane", self.0),
            (Role::Worker, 0 | 1) => format!("mkc-{}-worker", self.0),
            (Role::Worker, n) => format!("mkc-{}-worker{n}", self.0),
        }
    }

    /// The volume holding the API server's store and certificates, which outlives the
    /// control-plane container's restarts.
    pub fn server_data_volume(&self) -> String {
        format!("mkc-{}-control-plane-data", self.0)
    }
}

/// The volume under a node's own Docker daemon (`/var/lib/docker`): overlay2 cannot sit on the
/// node container's own overlay filesystem.
pub fn docker_volume(node: &str) -> String {
    format!("{node}-docker")
}

impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kind() {
        let name = ClusterName::parse("dev").unwrap();
        assert_eq!(name.node(Role::ControlPlane, 0), "mkc-dev-control-plane");
        assert_eq!(name.node(Role::Worker, 1), "mkc-dev-worker");
        assert_eq!(name.node(Role::Worker, 3), "mkc-dev-worker3");
        assert_eq!(name.context(), "mkc-dev");
        assert_eq!(docker_volume("mkc-dev-worker"), "mkc-dev-worker-docker");
    }

    #[test]
    fn names_that_make_bad_docker_or_node_names_are_refused() {
        for good in ["mkc", "a", "ci-42", "0day"] {
            assert!(ClusterName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "Dev", "a_b", "a.b", &"x".repeat(33)] {
            assert!(ClusterName::parse(bad).is_err(), "{bad}");
        }
    }
}
