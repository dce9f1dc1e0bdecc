//! `mkc down`: removes every object labelled with the cluster and its kubeconfig entries.

use std::path::Path;

use super::names::ClusterName;
use super::provider::{NodeProvider, ProviderError, Removed};
use crate::kubeconfig::{self, KubeconfigError};

/// What `down` removed.
#[derive(Debug, Clone)]
pub struct Down {
    pub removed: Removed,
    pub kubeconfig_entries: bool,
}

/// Why `down` could not finish; run again, it goes on where it stopped.
#[derive(Debug, thiserror::Error)]
pub enum DownError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
}

/// Removes the cluster's containers, volumes and network, then its context from `kubeconfig`
/// (clearing current-context if it was the cluster's). Nothing to remove is not an error.
pub async fn down<P: NodeProvider>(
    provider: &P,
    name: &ClusterName,
    kubeconfig_path: &Path,
) -> Result<Down, DownError> {
    let removed = provider.delete_cluster(name).await?;
    let context = name.context();
    // The kubeconfig lock may be waited for: off the async threads.
    let entries = tokio::task::block_in_place(|| {
        kubeconfig::remove(kubeconfig_path, kubeconfig::Names::all(&context))
    })?
    .any();
    Ok(Down {
        removed,
        kubeconfig_entries: entries,
    })
}
