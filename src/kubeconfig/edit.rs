//! Adding a cluster to a user's kubeconfig (`mkc up`) and taking it out again (`mkc down`).
//!
//! Each change reads the file, changes the three entries it names and writes the file back
//! whole, under kubectl's lock and through a temporary file renamed into place, so a concurrent
//! kubectl loses nothing and a crash leaves the old file or the new one. A file that cannot be
//! read is never written: the user's other clusters are worth more than ours.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::document::{Document, List};
use super::lock::Lock;
use super::{Access, KubeconfigError, render};
use crate::private_files;

/// How long a change waits for another writer's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The entries one cluster adds to a kubeconfig (for mkc each is `mkc-NAME`).
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub cluster: &'a str,
    pub user: &'a str,
    pub context: &'a str,
}

impl<'a> Names<'a> {
    /// Names where the cluster, user and context share one name, as mkc's do.
    pub const fn all(name: &'a str) -> Self {
        Names {
            cluster: name,
            user: name,
            context: name,
        }
    }
}

/// What [`remove`] found and took out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub cluster: bool,
    pub user: bool,
    pub context: bool,
    /// `current-context` named the removed context and is now `""` (none).
    pub current_context: bool,
}

impl Removed {
    /// Whether anything was there to remove.
    pub fn any(&self) -> bool {
        *self != Removed::default()
    }
}

/// Adds the cluster, user and context `access` names to the kubeconfig at `path`, each in the
/// place of an entry of the same name if there is one (so running `up` again refreshes it),
/// else after the others, and makes the context current if `make_current`. A missing file is
/// created, and a missing directory for it at 0700; the file is written at 0600.
pub fn merge(path: &Path, access: &Access<'_>, make_current: bool) -> Result<(), KubeconfigError> {
    let ours = Document::parse(&render(access)?).map_err(KubeconfigError::Template)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Never narrows an existing directory: `~/.kube` may hold what others put there.
        private_files::create_dir(dir, |_| false).map_err(|source| KubeconfigError::Io {
            action: "create the directory",
            path: dir.to_owned(),
            source,
        })?;
    }
    edit(path, LOCK_WAIT, |doc| {
        doc.fill_header();
        for list in List::ALL {
            for entry in ours.entries(list) {
                doc.upsert(list, entry.clone());
            }
        }
        if make_current {
            doc.set_current_context(access.context);
        }
        true
    })
}

/// Takes the entries `names` names out of the kubeconfig at `path`, and clears
/// `current-context` (to `""`, as kubectl writes "none") if it named the removed context.
/// kubectl's `delete-context` leaves it naming a context that no longer exists; after `down`
/// that would only make every kubectl command fail. A missing file, or missing entries, is
/// nothing to do, and a file with nothing to remove is not rewritten.
pub fn remove(path: &Path, names: Names<'_>) -> Result<Removed, KubeconfigError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Removed::default()),
        _ => {}
    }
    let mut removed = Removed::default();
    edit(path, LOCK_WAIT, |doc| {
        removed.cluster = doc.remove(List::Clusters, names.cluster);
        removed.user = doc.remove(List::Users, names.user);
        removed.context = doc.remove(List::Contexts, names.context);
        if doc.current_context() == Some(names.context) {
            doc.set_current_context("");
            removed.current_context = true;
        }
        removed.any()
    })?;
    Ok(removed)
}

/// Reads the kubeconfig at `path` (a missing one is empty), lets `change` change it, and writes
/// it back if `change` says it changed, all under the file's lock, taken for up to `wait`.
fn edit(
    path: &Path,
    wait: Duration,
    change: impl FnOnce(&mut Document) -> bool,
) -> Result<(), KubeconfigError> {
    let _lock = Lock::acquire(path, wait)?;
    let target = resolve_symlinks(path)?;
    let mut doc = read(&target)?;
    if change(&mut doc) {
        let text = doc.to_yaml().map_err(|reason| KubeconfigError::Encode {
            path: target.clone(),
            reason,
        })?;
        private_files::write(&target, text.as_bytes()).map_err(|source| KubeconfigError::Io {
            action: "write",
            path: target,
            source,
        })?;
    }
    Ok(())
}

/// The file a write to `path` should replace. A kubeconfig is often a link into a dotfiles
/// repository; kubectl writes through the link, and so do we rather than replace it with a file.
fn resolve_symlinks(path: &Path) -> Result<PathBuf, KubeconfigError> {
    match std::fs::canonicalize(path) {
        Ok(target) => Ok(target),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(path.to_owned()),
        Err(source) => Err(KubeconfigError::Io {
            action: "resolve",
            path: path.to_owned(),
            source,
        }),
    }
}

fn read(path: &Path) -> Result<Document, KubeconfigError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Document::default()),
        Err(source) => {
            return Err(KubeconfigError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            });
        }
    };
    let invalid = |reason: String| KubeconfigError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let text = String::from_utf8(bytes).map_err(|_| invalid("it is not UTF-8 text".into()))?;
    Document::parse(&text).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::os::unix::fs::PermissionsExt;

    const ACCESS: Access<'static> = Access {
        cluster: "mkc-dev",
        context: "mkc-dev",
        user: "mkc-dev",
        server: "https://127.0.0.1:6443",
        ca_pem: "ca",
        client_cert_pem: "cert",
        client_key_pem: "key",
    };

    const NAMES: Names<'static> = Names::all("mkc-dev");

    /// A kubeconfig someone else wrote, with fields mkc knows nothing of at every level.
    const OTHERS: &str = r#"apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example:443
    certificate-authority: /etc/prod-ca.pem
    extensions:
    - name: vendor
      extension: {region: eu, "yes": 'no'}
  extra: [1, 2.5, true, null]
- name: mkc-dev
  cluster: {server: "https://old:1"}
contexts:
- name: prod
  context: {cluster: prod, user: ops, namespace: "0755"}
current-context: prod
users:
- name: ops
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: vendor-login
      args: ["--quiet", "y"]
      interactiveMode: Never
preferences: {colors: true}
x-tool-settings:
  nested: {deep: [{a: 1}]}
"#;

    fn value(path: &Path) -> Value {
        let text = std::fs::read_to_string(path).unwrap();
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn names(config: &Value, list: &str) -> Vec<String> {
        config[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn merging_into_a_missing_file_creates_it_and_its_directory_private() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join(".kube/config");
        merge(&path, &ACCESS, true).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let config = value(&path);
        assert_eq!(config["apiVersion"], "v1");
        assert_eq!(config["kind"], "Config");
        assert_eq!(config["current-context"], "mkc-dev");
        assert_eq!(
            config["clusters"][0]["cluster"],
            json!({"server": "https://127.0.0.1:6443", "certificate-authority-data": "Y2E="})
        );
        assert_eq!(config["users"][0]["user"]["client-key-data"], "a2V5");
        assert_eq!(
            config["contexts"][0],
            json!({"name": "mkc-dev", "context": {"cluster": "mkc-dev", "user": "mkc-dev"}})
        );
        assert!(!home.path().join(".kube/config.lock").exists());
    }

    #[test]
    fn merging_keeps_everything_else_and_replaces_our_entry_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, OTHERS).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let before: Value = serde_saphyr::from_str(OTHERS).unwrap();

        merge(&path, &ACCESS, false).unwrap();
        let after = value(&path);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(names(&after, "clusters"), ["prod", "mkc-dev"]);
        assert_eq!(names(&after, "contexts"), ["prod", "mkc-dev"]);
        assert_eq!(names(&after, "users"), ["ops", "mkc-dev"]);
        assert_eq!(after["clusters"][1]["cluster"]["server"], ACCESS.server);
        assert_eq!(after["current-context"], "prod", "not asked to switch");

        // Everything but our entries is as it was, value for value.
        let mut kept = after.clone();
        for list in ["clusters", "contexts", "users"] {
            kept[list]
                .as_array_mut()
                .unwrap()
                .retain(|e| e["name"] != "mkc-dev");
        }
        let mut expected = before.clone();
        expected["clusters"].as_array_mut().unwrap().pop();
        assert_eq!(kept, expected);

        merge(&path, &ACCESS, true).unwrap();
        let again = value(&path);
        assert_eq!(again["current-context"], "mkc-dev");
        assert_eq!(names(&again, "clusters"), ["prod", "mkc-dev"]);
    }

    #[test]
    fn merging_into_an_empty_file_or_null_lists_works_as_into_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        for text in ["", "clusters: null\nusers:\ncontexts: ~\n"] {
            let path = dir.path().join("config");
            std::fs::write(&path, text).unwrap();
            merge(&path, &ACCESS, true).unwrap();
            let config = value(&path);
            for list in ["clusters", "contexts", "users"] {
                assert_eq!(names(&config, list), ["mkc-dev"], "{text:?}");
            }
        }
    }

    #[test]
    fn removing_takes_our_entries_and_clears_current_context_only_if_it_was_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, OTHERS).unwrap();
        let before: Value = serde_saphyr::from_str(OTHERS).unwrap();

        let removed = remove(&path, NAMES).unwrap();
        let expected = Removed {
            cluster: true,
            ..Removed::default()
        };
        assert_eq!(removed, expected, "only the cluster was there");
        assert_eq!(value(&path)["current-context"], "prod");

        merge(&path, &ACCESS, true).unwrap();
        let removed = remove(&path, NAMES).unwrap();
        let all = Removed {
            cluster: true,
            user: true,
            context: true,
            current_context: true,
        };
        assert_eq!(removed, all);
        let after = value(&path);
        assert_eq!(after["current-context"], "");
        let mut expected = before;
        expected["clusters"].as_array_mut().unwrap().pop();
        expected["current-context"] = json!("");
        assert_eq!(after, expected);

        assert_eq!(remove(&path, NAMES).unwrap(), Removed::default());
        let missing = dir.path().join("none/config");
        assert_eq!(remove(&missing, NAMES).unwrap(), Removed::default());
        assert!(!missing.parent().unwrap().exists());
    }

    #[test]
    fn a_file_that_does_not_parse_is_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        for text in ["clusters: [\n", "clusters: {a: 1}\n", "- a list\n"] {
            std::fs::write(&path, text).unwrap();
            let err = merge(&path, &ACCESS, true).unwrap_err();
            assert!(matches!(err, KubeconfigError::Invalid { .. }), "{err}");
            let message = err.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("fix it or move it"), "{message}");
            assert!(matches!(
                remove(&path, NAMES),
                Err(KubeconfigError::Invalid { .. })
            ));
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
            assert!(!dir.path().join("config.lock").exists());
        }
    }

    #[test]
    fn a_held_lock_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let held = Lock::acquire(&path, Duration::ZERO).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        merge(&path, &ACCESS, true).unwrap();
        release.join().unwrap();
        assert_eq!(names(&value(&path), "contexts"), ["mkc-dev"]);
    }

    #[test]
    fn a_lock_that_stays_is_an_error_naming_it_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let lock = dir.path().join("config.lock");
        std::fs::write(&lock, "").unwrap();
        let err = edit(&path, Duration::from_millis(100), |_| true).unwrap_err();
        assert!(matches!(err, KubeconfigError::Locked { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("delete {}", lock.display())),
            "{err}"
        );
        assert!(!path.exists());
        assert!(lock.exists(), "someone else's lock is not ours to remove");
    }

    #[test]
    fn a_linked_kubeconfig_is_written_through_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("dotfiles-kubeconfig");
        let link = dir.path().join("config");
        std::fs::write(&target, OTHERS).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        merge(&link, &ACCESS, true).unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(value(&target)["current-context"], "mkc-dev");
    }

    /// kubectl itself reads what `merge` writes and sees the old context and the new.
    #[test]
    fn kubectl_reads_the_merged_file() {
        let Some(kubectl) = which_kubectl() else {
            assert!(std::env::var_os("CI").is_none(), "kubectl is not on PATH");
            eprintln!("skipped: kubectl is not on PATH");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, OTHERS).unwrap();
        merge(&path, &ACCESS, true).unwrap();

        let run = |args: &[&str]| {
            let out = std::process::Command::new(&kubectl)
                .args(args)
                .arg("--kubeconfig")
                .arg(&path)
                .env_remove("KUBECONFIG")
                .output()
                .unwrap();
            let stdout = String::from_utf8(out.stdout).unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "kubectl {args:?}: {stderr}");
            stdout
        };
        let view: Value =
            serde_json::from_str(&run(&["config", "view", "--raw", "-o", "json"])).unwrap();
        assert_eq!(view["current-context"], "mkc-dev");
        assert_eq!(names(&view, "contexts"), ["mkc-dev", "prod"]);
        let prod = &view["contexts"].as_array().unwrap()[1]["context"];
        assert_eq!(prod["namespace"], "0755");
        let ours = &view["clusters"].as_array().unwrap()[0]["cluster"];
        assert_eq!(ours["server"], ACCESS.server);
        assert_eq!(ours["certificate-authority-data"], "Y2E=");

        let contexts = run(&["config", "get-contexts", "-o", "name"]);
        let mut listed: Vec<&str> = contexts.lines().collect();
        listed.sort_unstable();
        assert_eq!(listed, ["mkc-dev", "prod"]);
        assert_eq!(run(&["config", "current-context"]).trim(), "mkc-dev");
    }

    fn which_kubectl() -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("kubectl"))
            .find(|candidate| candidate.is_file())
    }
}
