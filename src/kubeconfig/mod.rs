//! Kubeconfig files: rendering the template in `kubeconfig-templates/` for a cluster and a user,
//! and merging that cluster into the user's own kubeconfig (or taking it out again) the way
//! kubectl edits the file.
//!
//! The template is plain text with `{{name}}` placeholders so that what users and node agents
//! receive is readable in the repository, not assembled in code. The user's file is someone
//! else's: it is changed only under kubectl's lock, and every entry and field mkc does not
//! touch is written back as it was read.

mod document;
mod edit;
mod lock;
mod path;

pub use edit::{Names, Removed, merge, remove};
pub use path::target_path;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;

const TEMPLATE: &str = include_str!("../../kubeconfig-templates/cluster.kubeconfig");

/// What can go wrong with a kubeconfig.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("the kubeconfig template has a placeholder nothing fills: {0}")]
    Unfilled(String),
    /// The rendered template is read back to take its entries, so there is one shape for them.
    #[error("the rendered kubeconfig template does not parse: {0}")]
    Template(String),
    #[error("cannot tell which kubeconfig to write: KUBECONFIG names no file and HOME is not set")]
    NoPath,
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is left untouched: rewriting what could not be read would lose the user's data.
    #[error(
        "{path} is not a kubeconfig mkc can read ({reason}); fix it or move it away, \
         mkc has left it as it is"
    )]
    Invalid { path: PathBuf, reason: String },
    /// The lock file of a writer that died stays until someone deletes it, as with kubectl.
    #[error(
        "{lock} still exists after {waited:?}: another kubectl or mkc is changing the kubeconfig, \
         or one stopped before removing its lock; if none is running, delete {lock}"
    )]
    Locked { lock: PathBuf, waited: Duration },
    #[error("cannot write {path} as YAML: {reason}")]
    Encode { path: PathBuf, reason: String },
}

/// Everything a kubeconfig for one cluster and one user names.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    pub cluster: &'a str,
    pub context: &'a str,
    pub user: &'a str,
    pub server: &'a str,
    pub ca_pem: &'a str,
    pub client_cert_pem: &'a str,
    pub client_key_pem: &'a str,
}

/// Renders a kubeconfig whose current context reaches `access.server` as `access.user`.
pub fn render(access: &Access<'_>) -> Result<String, KubeconfigError> {
    let b64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
    let values = [
        ("cluster", access.cluster.to_owned()),
        ("context", access.context.to_owned()),
        ("user", access.user.to_owned()),
        ("server", access.server.to_owned()),
        ("ca_data", b64(access.ca_pem)),
        ("client_certificate_data", b64(access.client_cert_pem)),
        ("client_key_data", b64(access.client_key_pem)),
    ];
    let mut text = TEMPLATE.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), &value);
    }
    match text.find("{{") {
        Some(at) => Err(KubeconfigError::Unfilled(
            text[at..].lines().next().unwrap_or_default().to_owned(),
        )),
        None => Ok(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_placeholder_as_a_kubeconfig_kube_can_read() {
        let text = render(&Access {
            cluster: "mkc",
            context: "mkc",
            user: "mkc-admin",
            server: "https://127.0.0.1:6443",
            ca_pem: "ca",
            client_cert_pem: "cert",
            client_key_pem: "key",
        })
        .unwrap();
        assert!(!text.contains("{{"));
        let config: kube::config::Kubeconfig = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("mkc"));
        let cluster = config.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("Y2E="));
        let user = config.auth_infos[0].auth_info.as_ref().unwrap();
        assert_eq!(user.client_certificate_data.as_deref(), Some("Y2VydA=="));
    }
}
