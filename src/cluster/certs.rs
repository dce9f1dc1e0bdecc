//! The certificates and kubeconfigs `mkc up` hands to a cluster's nodes. They are made in memory
//! from a CA made for the cluster, and written only into the containers (and the user's
//! kubeconfig): the host keeps no copy, so a cluster is nothing but its Docker objects.

use std::net::IpAddr;

use crate::kubeconfig::{self, Access, KubeconfigError};
use crate::pki::{Authority, CertAndKey, PkiError};

use super::files::File;

/// The port the API server listens on inside the control-plane container.
pub const API_PORT: u16 = 6443;

/// Where a node finds what it needs to join: its kubeconfig and the certificates it serves with.
pub const NODE_KUBECONFIG: &str = "etc/mkc/kubelet.kubeconfig";
const NODE_PKI: &str = "etc/mkc/pki";
/// The API server's data directory in the control-plane container, on the data volume.
pub const SERVER_DATA_DIR: &str = "var/lib/mkc";

/// What can go wrong making a cluster's credentials.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
}

/// A cluster's CA and the admin's credentials, from which each node's files are issued.
pub struct ClusterCerts {
    ca: Authority,
    admin: CertAndKey,
}

impl ClusterCerts {
    pub fn generate() -> Result<ClusterCerts, CertsError> {
        let ca = Authority::generate()?;
        let admin = ca.issue_client("kubernetes-admin", "system:masters")?;
        Ok(ClusterCerts { ca, admin })
    }

    /// The admin's access to the cluster at `server`, for the user's kubeconfig.
    pub fn admin_access<'a>(&'a self, context: &'a str, server: &'a str) -> Access<'a> {
        Access {
            cluster: context,
            context,
            user: context,
            server,
            ca_pem: self.ca.cert_pem(),
            client_cert_pem: &self.admin.cert_pem,
            client_key_pem: &self.admin.key_pem,
        }
    }

    /// The CA the API server signs with and trusts, for the control plane's data directory.
    pub fn server_files(&self) -> Vec<File> {
        vec![
            File::public(format!("{SERVER_DATA_DIR}/pki/ca.crt"), self.ca.cert_pem()),
            File::private(format!("{SERVER_DATA_DIR}/pki/ca.key"), self.ca.key_pem()),
        ]
    }

    /// A node's own files: a kubeconfig reaching `server` as `system:node:NAME` (never as the
    /// admin), and a serving certificate for its address, for the agent's own HTTPS port.
    pub fn node_files(
        &self,
        node: &str,
        address: IpAddr,
        server: &str,
    ) -> Result<Vec<File>, CertsError> {
        let client = self
            .ca
            .issue_client(&format!("system:node:{node}"), "system:nodes")?;
        let kubeconfig = kubeconfig::render(&Access {
            cluster: "mkc",
            context: node,
            user: node,
            server,
            ca_pem: self.ca.cert_pem(),
            client_cert_pem: &client.cert_pem,
            client_key_pem: &client.key_pem,
        })?;
        let serving = self
            .ca
            .issue_server(node, &[node.to_owned(), address.to_string()])?;
        Ok(vec![
            File::private(NODE_KUBECONFIG.to_owned(), kubeconfig),
            File::public(format!("{NODE_PKI}/ca.crt"), self.ca.cert_pem()),
            File::public(format!("{NODE_PKI}/node.crt"), serving.cert_pem),
            File::private(format!("{NODE_PKI}/node.key"), serving.key_pem),
        ])
    }
}
