//! The lock kubectl (client-go's `lockFile`) takes around a change to a kubeconfig: the file
//! `<kubeconfig>.lock`, made only if it does not exist. Holding it while reading, changing and
//! writing the kubeconfig means a concurrent `kubectl config` or `mkc` cannot read the file
//! between our read and our write and then overwrite our change with its own (or we its).

use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::KubeconfigError;
use crate::private_files::FILE_MODE;

/// How often a held lock is tried again. Edits take milliseconds, so a short wait is enough.
const RETRY: Duration = Duration::from_millis(25);

/// A held lock on one kubeconfig, released (its file removed) when dropped, so every way out of
/// an edit, an error included, releases it.
#[derive(Debug)]
pub(super) struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock on `kubeconfig`, retrying for up to `wait` while someone else holds it.
    /// Unlike client-go, which fails at once, it waits: `mkc up` runs while the user may be
    /// using kubectl, and a failed `up` at its last step would be a poor trade for a moment.
    pub(super) fn acquire(kubeconfig: &Path, wait: Duration) -> Result<Lock, KubeconfigError> {
        let mut name = OsString::from(kubeconfig.as_os_str());
        name.push(".lock");
        let path = PathBuf::from(name);
        let deadline = Instant::now() + wait;
        loop {
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&path);
            match created {
                Ok(_) => return Ok(Lock { path }),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if Instant::now() >= deadline {
                        return Err(KubeconfigError::Locked {
                            lock: path,
                            waited: wait,
                        });
                    }
                    std::thread::sleep(RETRY);
                }
                Err(source) => {
                    return Err(KubeconfigError::Io {
                        action: "create the lock file",
                        path,
                        source,
                    });
                }
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_file(&self.path) {
            tracing::warn!(lock = %self.path.display(), error = %err, "cannot remove the kubeconfig lock");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_exclusive_and_released_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let lock = Lock::acquire(&config, Duration::ZERO).unwrap();
        assert!(dir.path().join("config.lock").is_file());
        let err = Lock::acquire(&config, Duration::from_millis(60)).unwrap_err();
        assert!(matches!(err, KubeconfigError::Locked { .. }), "{err}");
        drop(lock);
        assert!(!dir.path().join("config.lock").exists());
        drop(Lock::acquire(&config, Duration::ZERO).unwrap());
    }
}
