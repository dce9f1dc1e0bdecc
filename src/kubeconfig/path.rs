//! Which kubeconfig file a change goes to, chosen as kubectl chooses the file it writes, so the
//! context `mkc up` adds is the one `kubectl` then finds.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::KubeconfigError;

/// The kubeconfig that `kubectl config` would write with this environment: with `$KUBECONFIG`
/// set, the first of its files that exists, or its last file when none does (client-go's
/// `PathOptions.GetDefaultFilename`); otherwise `$HOME/.kube/config`.
pub fn target_path() -> Result<PathBuf, KubeconfigError> {
    choose(
        std::env::var_os("KUBECONFIG"),
        std::env::var_os("HOME"),
        |p| p.exists(),
    )
}

fn choose(
    kubeconfig: Option<OsString>,
    home: Option<OsString>,
    exists: impl Fn(&Path) -> bool,
) -> Result<PathBuf, KubeconfigError> {
    // Empty entries (`a::b`, a trailing `:`) name no file; kubectl skips them too.
    let listed: Vec<PathBuf> = kubeconfig
        .as_deref()
        .map(|list| {
            std::env::split_paths(list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(last) = listed.last() {
        let existing = listed.iter().find(|p| exists(p));
        return Ok(existing.unwrap_or(last).clone());
    }
    match home.filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".kube").join("config")),
        None => Err(KubeconfigError::NoPath),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(kubeconfig: Option<&str>, home: Option<&str>, existing: &[&str]) -> Option<PathBuf> {
        choose(kubeconfig.map(Into::into), home.map(Into::into), |p| {
            existing.iter().any(|e| Path::new(e) == p)
        })
        .ok()
    }

    #[test]
    fn kubeconfig_names_the_file_its_first_existing_one_or_else_its_last() {
        let home = Some("/home/u");
        assert_eq!(pick(Some("/a"), home, &[]), Some("/a".into()));
        assert_eq!(
            pick(Some("/a:/b:/c"), home, &["/b", "/c"]),
            Some("/b".into())
        );
        assert_eq!(pick(Some("/a:/b:/c"), home, &[]), Some("/c".into()));
        assert_eq!(pick(Some("::/a::"), home, &[]), Some("/a".into()));
    }

    #[test]
    fn without_kubeconfig_the_file_is_under_home_and_without_home_there_is_none() {
        let expected = Some(PathBuf::from("/home/u/.kube/config"));
        assert_eq!(pick(None, Some("/home/u"), &[]), expected);
        assert_eq!(pick(Some(""), Some("/home/u"), &[]), expected);
        assert_eq!(pick(Some(":"), Some("/home/u"), &[]), expected);
        assert!(matches!(
            choose(Some("".into()), Some("".into()), |_| false),
            Err(KubeconfigError::NoPath)
        ));
        assert_eq!(pick(None, None, &[]), None);
    }
}
