//! The files of a container's volumes that come from the API (`configMap`, `secret`,
//! `downwardAPI`, and `projected` from those three and service account tokens), and how they
//! are written: as the kubelet's atomic writer does, into a new timestamped directory to which
//! a `..data` symlink is then swapped, each top-level path a symlink through `..data`, so that
//! a container reading the volume never sees half of an update.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, DownwardAPIVolumeFile, KeyToPath, PodSpec, Volume};

use crate::resolve::{self, Kind, Objects, PodInfo, ResolveError};
use crate::tokens::Projection;

/// Upstream's mode of a volume's files when the volume sets none.
const DEFAULT_MODE: u32 = 0o644;
/// The symlink that names the current version of a volume's files.
const DATA: &str = "..data";
const DATA_STAGED: &str = "..data_tmp";

/// One file of a volume.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub data: Vec<u8>,
    /// Its permission bits.
    pub mode: u32,
}

/// A volume's files by their path within it.
pub type Files = BTreeMap<String, File>;

/// The volumes `container` mounts whose files come from the API, each once.
pub fn mounted<'a>(pod: &'a PodSpec, container: &Container) -> Vec<&'a Volume> {
    let names: BTreeSet<&str> = container
        .volume_mounts
        .iter()
        .flatten()
        .map(|mount| mount.name.as_str())
        .collect();
    pod.volumes
        .iter()
        .flatten()
        .filter(|volume| names.contains(volume.name.as_str()))
        .filter(|volume| {
            volume.config_map.is_some()
                || volume.secret.is_some()
                || volume.downward_api.is_some()
                || volume.projected.is_some()
        })
        .collect()
}

/// The volumes any of the pod's containers mount whose files come from the API, each once.
pub fn mounted_by_any(pod: &PodSpec) -> Vec<&Volume> {
    let containers = pod.init_containers.iter().flatten().chain(&pod.containers);
    let mut seen = BTreeSet::new();
    containers
        .flat_map(|container| mounted(pod, container))
        .filter(|volume| seen.insert(volume.name.as_str()))
        .collect()
}

/// The ConfigMaps and Secrets whose keys `volume` holds.
pub fn references(volume: &Volume) -> Vec<(Kind, String)> {
    let mut found = Vec::new();
    if let Some(map) = &volume.config_map {
        found.push((Kind::ConfigMap, map.name.clone()));
    }
    if let Some(secret) = &volume.secret {
        found.push((Kind::Secret, secret_name(secret.secret_name.as_deref())));
    }
    let sources = volume
        .projected
        .iter()
        .flat_map(|p| p.sources.iter().flatten());
    for source in sources {
        if let Some(map) = &source.config_map {
            found.push((Kind::ConfigMap, map.name.clone()));
        }
        if let Some(secret) = &source.secret {
            found.push((Kind::Secret, secret.name.clone()));
        }
    }
    found
}

/// What `volume`'s `serviceAccountToken` sources ask for.
pub fn tokens(volume: &Volume) -> Vec<Projection> {
    let sources = volume
        .projected
        .iter()
        .flat_map(|p| p.sources.iter().flatten());
    sources
        .filter_map(|source| source.service_account_token.as_ref())
        .map(Projection::of)
        .collect()
}

fn secret_name(name: Option<&str>) -> String {
    name.unwrap_or_default().to_owned()
}

/// The files `volume` holds, from the `objects` read for the container and the pod in
/// `info`. A `projected` volume's service account token is a file with the volume's mode, as
/// upstream writes it.
pub fn files(volume: &Volume, info: &PodInfo, objects: &Objects) -> Result<Files, ResolveError> {
    let mut files = Files::new();
    if let Some(map) = &volume.config_map {
        let mode = mode(map.default_mode, DEFAULT_MODE);
        let source = Keyed {
            kind: Kind::ConfigMap,
            name: &map.name,
            items: map.items.as_deref(),
            optional: map.optional,
        };
        source.add(&mut files, objects, mode)?;
    } else if let Some(secret) = &volume.secret {
        let mode = mode(secret.default_mode, DEFAULT_MODE);
        let name = secret_name(secret.secret_name.as_deref());
        let source = Keyed {
            kind: Kind::Secret,
            name: &name,
            items: secret.items.as_deref(),
            optional: secret.optional,
        };
        source.add(&mut files, objects, mode)?;
    } else if let Some(downward) = &volume.downward_api {
        let mode = mode(downward.default_mode, DEFAULT_MODE);
        add_downward(&mut files, downward.items.as_deref(), info, mode)?;
    } else if let Some(projected) = &volume.projected {
        let mode = mode(projected.default_mode, DEFAULT_MODE);
        for source in projected.sources.iter().flatten() {
            if let Some(map) = &source.config_map {
                let keyed = Keyed {
                    kind: Kind::ConfigMap,
                    name: &map.name,
                    items: map.items.as_deref(),
                    optional: map.optional,
                };
                keyed.add(&mut files, objects, mode)?;
            } else if let Some(secret) = &source.secret {
                let keyed = Keyed {
                    kind: Kind::Secret,
                    name: &secret.name,
                    items: secret.items.as_deref(),
                    optional: secret.optional,
                };
                keyed.add(&mut files, objects, mode)?;
            } else if let Some(downward) = &source.downward_api {
                add_downward(&mut files, downward.items.as_deref(), info, mode)?;
            } else if let Some(token) = &source.service_account_token {
                let data = objects.token(&Projection::of(token))?;
                add(&mut files, &token.path, data.as_bytes().to_vec(), mode)?;
            } else {
                tracing::info!(volume = %volume.name, "a projected source of an unsupported kind is skipped");
            }
        }
    }
    Ok(files)
}

/// A volume source of a ConfigMap's or a Secret's keys.
struct Keyed<'a> {
    kind: Kind,
    name: &'a str,
    /// Which keys, at which paths; every key at its own name when none are given.
    items: Option<&'a [KeyToPath]>,
    optional: Option<bool>,
}

impl Keyed<'_> {
    /// Adds the source's files with `mode` unless an item sets its own. A missing object or
    /// key fails unless the source is optional, when it adds nothing.
    fn add(&self, files: &mut Files, objects: &Objects, mode: u32) -> Result<(), ResolveError> {
        let Some(entries) = objects.required(self.kind, self.name, self.optional)? else {
            return Ok(());
        };
        let Some(items) = self.items.filter(|items| !items.is_empty()) else {
            for (key, data) in entries.text.iter().chain(&entries.binary) {
                add(files, key, data.clone(), mode)?;
            }
            return Ok(());
        };
        for item in items {
            match entries.get(&item.key) {
                Some(data) => add(
                    files,
                    &item.path,
                    data.to_vec(),
                    self::mode(item.mode, mode),
                )?,
                None if self.optional == Some(true) => {}
                None => {
                    return Err(ResolveError::MissingKey {
                        kind: self.kind,
                        name: self.name.to_owned(),
                        key: item.key.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Adds the downward API's files: pod fields and container resources.
fn add_downward(
    files: &mut Files,
    items: Option<&[DownwardAPIVolumeFile]>,
    info: &PodInfo,
    mode: u32,
) -> Result<(), ResolveError> {
    let spec = info.pod.spec.as_ref();
    let containers = spec.into_iter().flat_map(|s| {
        s.containers
            .iter()
            .chain(s.init_containers.iter().flatten())
    });
    for item in items.into_iter().flatten() {
        let value = match (&item.field_ref, &item.resource_field_ref) {
            (Some(field), _) => resolve::field_value(&field.field_path, info)?,
            (None, Some(resource)) => {
                let wanted = resource.container_name.as_deref().unwrap_or_default();
                let container = containers
                    .clone()
                    .find(|c| c.name == wanted)
                    .ok_or_else(|| ResolveError::NoContainer(wanted.to_owned()))?;
                resolve::resource_value(
                    container,
                    &resource.resource,
                    resource.divisor.as_ref(),
                    info.allocatable,
                )?
            }
            (None, None) => continue,
        };
        add(
            files,
            &item.path,
            value.into_bytes(),
            self::mode(item.mode, mode),
        )?;
    }
    Ok(())
}

fn add(files: &mut Files, path: &str, data: Vec<u8>, mode: u32) -> Result<(), ResolveError> {
    relative(path)?;
    files.insert(path.to_owned(), File { data, mode });
    Ok(())
}

/// A file mode from the API (`0`–`0777`); one out of range is the default.
fn mode(set: Option<i32>, default: u32) -> u32 {
    set.and_then(|m| u32::try_from(m).ok())
        .filter(|m| *m <= 0o777)
        .unwrap_or(default)
}

/// `path` as a path within a volume: relative, never climbing out, and not starting with `..`
/// (names the writer keeps for itself).
pub fn relative(path: &str) -> Result<&Path, ResolveError> {
    let within = Path::new(path);
    let inside = within
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if path.is_empty() || path.starts_with("..") || !inside {
        return Err(ResolveError::Path(path.to_owned()));
    }
    Ok(within)
}

/// Writes `files` into `dir` atomically, replacing what it held, unless it holds them already
/// (a refresh that finds nothing changed leaves the volume, and whoever watches it, alone).
pub async fn write(dir: PathBuf, files: Files) -> Result<(), ResolveError> {
    let written = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || write_now(&dir, &files)
    })
    .await
    .unwrap_or_else(|joined| Err(io::Error::other(joined)));
    written.map_err(|source| ResolveError::Write { path: dir, source })
}

/// The kubelet's atomic writer: the files go into a new `..YYYY_MM_DD_HH_MM_SS.N` directory,
/// `..data` is swapped to it by renaming a new symlink over it, each top-level path is a
/// symlink to `..data/PATH`, and what the previous version held is removed.
fn write_now(dir: &Path, files: &Files) -> io::Result<()> {
    if holds(dir, files) {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    let now = Timestamp::now();
    let version = format!(
        "..{}.{:09}",
        now.strftime("%Y_%m_%d_%H_%M_%S"),
        now.subsec_nanosecond()
    );
    let version_dir = dir.join(&version);
    fs::create_dir(&version_dir)?;
    fs::set_permissions(&version_dir, fs::Permissions::from_mode(0o755))?;
    for (path, file) in files {
        let target = version_dir.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&target, &file.data)?;
        fs::set_permissions(&target, fs::Permissions::from_mode(file.mode))?;
    }
    let staged = dir.join(DATA_STAGED);
    remove(&staged)?;
    symlink(&version, &staged)?;
    fs::rename(&staged, dir.join(DATA))?;
    let top: BTreeSet<&str> = files
        .keys()
        .filter_map(|path| path.split('/').next())
        .collect();
    for name in &top {
        let link = dir.join(name);
        if fs::symlink_metadata(&link).is_err() {
            symlink(Path::new(DATA).join(name), &link)?;
        }
    }
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let current = name == DATA || name == version.as_str() || top.contains(name.as_ref());
        if !current {
            remove(&dir.join(name.as_ref()))?;
        }
    }
    Ok(())
}

/// Whether the current version of `dir` has exactly `files`, with their contents and modes.
fn holds(dir: &Path, files: &Files) -> bool {
    let current = dir.join(DATA);
    let mut found = 0;
    let mut pending = vec![current.clone()];
    while let Some(at) = pending.pop() {
        let Ok(entries) = fs::read_dir(&at) else {
            return false;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(_) => {
                    let relative = path.strip_prefix(&current).ok();
                    let wanted = relative
                        .and_then(Path::to_str)
                        .and_then(|name| files.get(name));
                    let same = wanted.is_some_and(|file| {
                        let mode = fs::metadata(&path).map(|m| m.permissions().mode() & 0o7777);
                        mode.is_ok_and(|mode| mode == file.mode)
                            && fs::read(&path).is_ok_and(|data| data == file.data)
                    });
                    if !same {
                        return false;
                    }
                    found += 1;
                }
                Err(_) => return false,
            }
        }
    }
    found == files.len()
}

/// Removes a file, symlink or directory tree; one already gone is fine.
fn remove(path: &Path) -> io::Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(error) => Err(error),
    };
    match removed {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Capacity;
    use crate::tokens::TokenError;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn volume(value: serde_json::Value) -> Volume {
        serde_json::from_value(value).unwrap()
    }

    fn projection(audience: &str, expiration_seconds: i64) -> Projection {
        Projection {
            audience: audience.to_owned(),
            expiration_seconds,
        }
    }

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "6f1c",
                         "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app",
                                      "resources": {"limits": {"memory": "64Mi"}}}]},
        }))
        .unwrap()
    }

    fn with_pod<T>(test: impl FnOnce(&PodInfo) -> T) -> T {
        let (pod, capacity) = (pod(), Capacity::default());
        test(&PodInfo {
            pod: &pod,
            node_name: "worker-1",
            pod_ip: String::new(),
            host_ip: String::new(),
            allocatable: &capacity,
        })
    }

    fn objects() -> Objects {
        Objects::holding([
            (
                Kind::ConfigMap,
                "settings",
                Some(resolve::Entries {
                    text: BTreeMap::from([
                        ("a".to_owned(), b"1".to_vec()),
                        ("b".to_owned(), b"2".to_vec()),
                    ]),
                    binary: BTreeMap::from([("blob".to_owned(), vec![0, 255])]),
                }),
            ),
            (
                Kind::Secret,
                "creds",
                Some(resolve::Entries {
                    text: BTreeMap::from([("password".to_owned(), b"s3cret".to_vec())]),
                    binary: BTreeMap::new(),
                }),
            ),
        ])
    }

    fn listed(files: &Files) -> Vec<(String, String, u32)> {
        files
            .iter()
            .map(|(path, file)| {
                let data = String::from_utf8_lossy(&file.data).into_owned();
                (path.clone(), data, file.mode)
            })
            .collect()
    }

    fn files_of(spec: serde_json::Value) -> Result<Vec<(String, String, u32)>, ResolveError> {
        with_pod(|info| files(&volume(spec), info, &objects()).map(|f| listed(&f)))
    }

    #[test]
    fn every_key_is_a_file_unless_items_map_some_to_paths_and_modes() {
        let all =
            files_of(json!({"name": "v", "configMap": {"name": "settings", "defaultMode": 0o600}}));
        let all = all.unwrap();
        let paths: Vec<_> = all.iter().map(|(p, _, m)| (p.as_str(), *m)).collect();
        assert_eq!(paths, [("a", 0o600), ("b", 0o600), ("blob", 0o600)]);
        let mapped = files_of(
            json!({"name": "v", "configMap": {"name": "settings", "items": [
                {"key": "a", "path": "dir/first"},
                {"key": "b", "path": "second", "mode": 0o400},
            ]}}),
        );
        assert_eq!(
            mapped.unwrap(),
            [
                ("dir/first".to_owned(), "1".to_owned(), 0o644),
                ("second".to_owned(), "2".to_owned(), 0o400)
            ]
        );
        let secret = files_of(json!({"name": "v", "secret": {"secretName": "creds"}}));
        assert_eq!(
            secret.unwrap(),
            [("password".to_owned(), "s3cret".to_owned(), 0o644)]
        );
    }

    #[test]
    fn what_is_missing_fails_unless_optional() {
        let missing = files_of(json!({"name": "v", "secret": {"secretName": "nothing"}}));
        assert!(matches!(
            missing,
            Err(ResolveError::NotFound {
                kind: Kind::Secret,
                ..
            })
        ));
        let optional =
            files_of(json!({"name": "v", "secret": {"secretName": "nothing", "optional": true}}));
        assert!(optional.unwrap().is_empty());
        let no_key = files_of(json!({"name": "v", "configMap": {"name": "settings",
            "items": [{"key": "zzz", "path": "z"}]}}));
        assert!(matches!(no_key, Err(ResolveError::MissingKey { .. })));
        let optional_key = files_of(json!({"name": "v", "configMap": {"name": "settings",
            "optional": true, "items": [{"key": "zzz", "path": "z"}, {"key": "a", "path": "a"}]}}));
        assert_eq!(optional_key.unwrap().len(), 1);
        for escape in ["../x", "/etc/x", "..data", "a/../../b", ""] {
            let escaping = files_of(json!({"name": "v", "configMap": {"name": "settings",
                "items": [{"key": "a", "path": escape}]}}));
            assert!(matches!(escaping, Err(ResolveError::Path(_))), "{escape:?}");
        }
    }

    #[test]
    fn downward_api_and_projected_files_read_the_pod() {
        let downward = files_of(
            json!({"name": "v", "downwardAPI": {"defaultMode": 0o444, "items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o400},
                {"path": "mem", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}},
            ]}}),
        );
        assert_eq!(
            downward.unwrap(),
            [
                ("labels".to_owned(), "app=\"web\"".to_owned(), 0o444),
                ("mem".to_owned(), "64".to_owned(), 0o444),
                ("name".to_owned(), "web".to_owned(), 0o400),
            ]
        );
        let unknown = files_of(json!({"name": "v", "downwardAPI": {"items": [
            {"path": "x", "resourceFieldRef": {"containerName": "other", "resource": "limits.cpu"}},
        ]}}));
        assert!(matches!(unknown, Err(ResolveError::NoContainer(_))));
        let projected = volume(
            json!({"name": "v", "projected": {"defaultMode": 0o640, "sources": [
                {"configMap": {"name": "settings", "items": [{"key": "a", "path": "a"}]}},
                {"secret": {"name": "creds"}},
                {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
            ]}}),
        );
        let files = with_pod(|info| files(&projected, info, &objects())).unwrap();
        assert_eq!(
            listed(&files),
            [
                ("a".to_owned(), "1".to_owned(), 0o640),
                ("ns".to_owned(), "default".to_owned(), 0o640),
                ("password".to_owned(), "s3cret".to_owned(), 0o640),
            ]
        );
        assert_eq!(
            references(&projected),
            [
                (Kind::ConfigMap, "settings".to_owned()),
                (Kind::Secret, "creds".to_owned())
            ]
        );
    }

    #[test]
    fn a_token_source_is_a_file_of_its_token_with_the_volume_mode() {
        let projected = volume(
            json!({"name": "kube-api-access", "projected": {"defaultMode": 0o440, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"serviceAccountToken": {"audience": "vault", "path": "vault/token"}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
            ]}}),
        );
        let (own, vault) = (projection("", 3607), projection("vault", 3600));
        assert_eq!(tokens(&projected), [own.clone(), vault.clone()]);
        let issued = objects()
            .with_token(own.clone(), Ok("own.jwt"))
            .with_token(vault.clone(), Ok("vault.jwt"));
        let written = with_pod(|info| files(&projected, info, &issued)).unwrap();
        assert_eq!(
            listed(&written),
            [
                ("namespace".to_owned(), "default".to_owned(), 0o440),
                ("token".to_owned(), "own.jwt".to_owned(), 0o440),
                ("vault/token".to_owned(), "vault.jwt".to_owned(), 0o440),
            ]
        );

        // A token that could not be had fails the volume, in upstream's words; one never
        // asked for fails it too.
        let refused = TokenError::Refused("serviceaccounts \"robot\" not found".to_owned());
        let failed = objects()
            .with_token(own.clone(), Err(refused))
            .with_token(vault.clone(), Ok("vault.jwt"));
        let error = with_pod(|info| files(&projected, info, &failed)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to fetch token: serviceaccounts \"robot\" not found"
        );
        let unrequested = objects().with_token(own, Ok("own.jwt"));
        let error = with_pod(|info| files(&projected, info, &unrequested));
        assert!(matches!(error, Err(ResolveError::Unrequested(p)) if p == vault));
    }

    #[test]
    fn only_mounted_api_volumes_are_prepared() {
        let spec: PodSpec = serde_json::from_value(json!({"containers": [], "volumes": [
            {"name": "cfg", "configMap": {"name": "settings"}},
            {"name": "other", "secret": {"secretName": "creds"}},
            {"name": "scratch", "emptyDir": {}},
        ]}))
        .unwrap();
        let container: Container = serde_json::from_value(json!({"name": "app", "volumeMounts": [
            {"name": "cfg", "mountPath": "/a"}, {"name": "cfg", "mountPath": "/b", "subPath": "a"},
            {"name": "scratch", "mountPath": "/s"},
        ]}))
        .unwrap();
        let names: Vec<_> = mounted(&spec, &container)
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(names, ["cfg"]);
    }

    #[tokio::test]
    async fn writes_swap_the_data_link_and_keep_keys_linked_through_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cfg");
        let file = |data: &str, mode| File {
            data: data.as_bytes().to_vec(),
            mode,
        };
        let first = Files::from([
            ("a".to_owned(), file("1", 0o600)),
            ("dir/b".to_owned(), file("2", 0o644)),
        ]);
        write(dir.clone(), first).await.unwrap();
        let version = fs::read_link(dir.join(DATA)).unwrap();
        assert!(version.to_string_lossy().starts_with("..20"), "{version:?}");
        assert_eq!(fs::read_link(dir.join("a")).unwrap(), Path::new("..data/a"));
        assert_eq!(fs::read_to_string(dir.join("a")).unwrap(), "1");
        assert_eq!(fs::read_to_string(dir.join("dir/b")).unwrap(), "2");
        let mode = fs::metadata(dir.join("a")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        // The same files again change nothing; a new mode alone is a change.
        let same = Files::from([
            ("a".to_owned(), file("1", 0o600)),
            ("dir/b".to_owned(), file("2", 0o644)),
        ]);
        write(dir.clone(), same.clone()).await.unwrap();
        assert_eq!(fs::read_link(dir.join(DATA)).unwrap(), version);
        let mut new_mode = same.clone();
        new_mode.insert("a".to_owned(), file("1", 0o644));
        assert!(!holds(&dir, &new_mode));
        let mut fewer = same;
        fewer.remove("dir/b");
        assert!(!holds(&dir, &fewer));

        let second = Files::from([("a".to_owned(), file("one", 0o644))]);
        write(dir.clone(), second).await.unwrap();
        assert_eq!(fs::read_to_string(dir.join("a")).unwrap(), "one");
        assert!(fs::symlink_metadata(dir.join("dir")).is_err());
        let mut left: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left.len(), 3, "{left:?}");
        assert_eq!(&left[1..], ["..data", "a"]);
        assert!(!dir.join(&version).exists());
    }
}
