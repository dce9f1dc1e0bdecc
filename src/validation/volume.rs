//! Pod volumes: unique DNS-label names and exactly one source each, with the source checks of
//! the kinds a small cluster uses (emptyDir, hostPath, configMap, secret, downwardAPI, ...).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, DownwardAPIVolumeFile, DownwardAPIVolumeSource, EmptyDirVolumeSource,
    GitRepoVolumeSource, HostPathVolumeSource, KeyToPath, NFSVolumeSource, SecretVolumeSource,
    Volume,
};

use super::container::{dns1123_label, object_field_selector, resource_field_selector};
use super::field::{ErrorList, FieldError, Path};
use super::quantity::Quantity;
use super::{opt_slice, text};

const FILE_MODE_ERROR: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const HOST_PATH_TYPES: [&str; 8] = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];
const VOLUME_FIELD_PATHS: [&str; 5] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

/// Validates the volumes; returns the names of the valid ones, which mounts may reference.
pub fn volumes(volumes: &[Volume], path: &Path) -> (BTreeSet<String>, ErrorList) {
    let mut valid = BTreeSet::new();
    let mut errs = ErrorList::new();
    for (i, volume) in volumes.iter().enumerate() {
        let volume_path = path.index(i);
        let name_path = volume_path.child("name");
        let mut volume_errs = source(volume, &volume_path);
        if volume.name.is_empty() {
            volume_errs.push(FieldError::required(&name_path, ""));
        } else {
            volume_errs.extend(dns1123_label(&volume.name, &name_path));
        }
        if valid.contains(&volume.name) {
            volume_errs.push(FieldError::duplicate(&name_path, &volume.name));
        }
        if volume_errs.is_empty() {
            valid.insert(volume.name.clone());
        }
        errs.extend(volume_errs);
    }
    (valid, errs)
}

/// Exactly one source, checked in upstream's order so the same one is reported as extra.
fn source(v: &Volume, path: &Path) -> ErrorList {
    let sources: [(&str, Option<ErrorList>); 30] = [
        (
            "emptyDir",
            v.empty_dir
                .as_ref()
                .map(|s| empty_dir(s, &path.child("emptyDir"))),
        ),
        (
            "hostPath",
            v.host_path
                .as_ref()
                .map(|s| host_path(s, &path.child("hostPath"))),
        ),
        (
            "gitRepo",
            v.git_repo
                .as_ref()
                .map(|s| git_repo(s, &path.child("gitRepo"))),
        ),
        ("gcePersistentDisk", unchecked(&v.gce_persistent_disk)),
        (
            "awsElasticBlockStore",
            unchecked(&v.aws_elastic_block_store),
        ),
        (
            "secret",
            v.secret.as_ref().map(|s| secret(s, &path.child("secret"))),
        ),
        ("nfs", v.nfs.as_ref().map(|s| nfs(s, &path.child("nfs")))),
        ("iscsi", unchecked(&v.iscsi)),
        ("glusterfs", unchecked(&v.glusterfs)),
        ("flocker", unchecked(&v.flocker)),
        (
            "persistentVolumeClaim",
            v.persistent_volume_claim.as_ref().map(|s| {
                required(
                    &s.claim_name,
                    &path.child("persistentVolumeClaim").child("claimName"),
                )
            }),
        ),
        ("rbd", unchecked(&v.rbd)),
        ("cinder", unchecked(&v.cinder)),
        ("cephfs", unchecked(&v.cephfs)),
        ("quobyte", unchecked(&v.quobyte)),
        (
            "downwardAPI",
            v.downward_api
                .as_ref()
                .map(|s| downward_api(s, &path.child("downwardAPI"))),
        ),
        ("fc", unchecked(&v.fc)),
        ("flexVolume", unchecked(&v.flex_volume)),
        (
            "configMap",
            v.config_map
                .as_ref()
                .map(|s| config_map(s, &path.child("configMap"))),
        ),
        ("azureFile", unchecked(&v.azure_file)),
        ("vsphereVolume", unchecked(&v.vsphere_volume)),
        ("photonPersistentDisk", unchecked(&v.photon_persistent_disk)),
        ("portworxVolume", unchecked(&v.portworx_volume)),
        ("azureDisk", unchecked(&v.azure_disk)),
        ("storageos", unchecked(&v.storageos)),
        (
            "projected",
            v.projected.as_ref().map(|s| {
                file_mode(
                    s.default_mode,
                    &path.child("projected").child("defaultMode"),
                )
            }),
        ),
        ("scaleIO", unchecked(&v.scale_io)),
        ("csi", unchecked(&v.csi)),
        ("ephemeral", unchecked(&v.ephemeral)),
        ("image", unchecked(&v.image)),
    ];
    let mut errs = ErrorList::new();
    let mut count = 0;
    for (field, source_errs) in sources {
        let Some(source_errs) = source_errs else {
            continue;
        };
        if count > 0 {
            errs.push(FieldError::forbidden(
                &path.child(field),
                "may not specify more than 1 volume type",
            ));
        } else {
            count += 1;
            errs.extend(source_errs);
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
    errs
}

/// A source present but not inspected beyond its presence.
fn unchecked<T>(source: &Option<T>) -> Option<ErrorList> {
    source.as_ref().map(|_| ErrorList::new())
}

fn required(value: &str, path: &Path) -> ErrorList {
    if value.is_empty() {
        vec![FieldError::required(path, "")]
    } else {
        ErrorList::new()
    }
}

fn empty_dir(source: &EmptyDirVolumeSource, path: &Path) -> ErrorList {
    let negative = source
        .size_limit
        .as_ref()
        .and_then(|q| Quantity::parse(&q.0))
        .is_some_and(|q| q.is_negative());
    if negative {
        vec![FieldError::forbidden(
            &path.child("sizeLimit"),
            "SizeLimit field must be a valid resource quantity",
        )]
    } else {
        ErrorList::new()
    }
}

pub(super) fn host_path(source: &HostPathVolumeSource, path: &Path) -> ErrorList {
    if source.path.is_empty() {
        return vec![FieldError::required(&path.child("path"), "")];
    }
    let mut errs = no_backsteps(&source.path, &path.child("path"));
    if let Some(kind) = source
        .type_
        .as_deref()
        .filter(|k| !HOST_PATH_TYPES.contains(k))
    {
        errs.push(FieldError::not_supported(
            &path.child("type"),
            kind,
            &HOST_PATH_TYPES,
        ));
    }
    errs
}

fn git_repo(source: &GitRepoVolumeSource, path: &Path) -> ErrorList {
    let mut errs = required(&source.repository, &path.child("repository"));
    errs.extend(local_descending_path(
        text(&source.directory),
        &path.child("directory"),
    ));
    errs
}

fn secret(source: &SecretVolumeSource, path: &Path) -> ErrorList {
    let mut errs = required(text(&source.secret_name), &path.child("secretName"));
    errs.extend(file_mode(source.default_mode, &path.child("defaultMode")));
    errs.extend(key_paths(opt_slice(&source.items), &path.child("items")));
    errs
}

fn config_map(source: &ConfigMapVolumeSource, path: &Path) -> ErrorList {
    let mut errs = required(&source.name, &path.child("name"));
    errs.extend(file_mode(source.default_mode, &path.child("defaultMode")));
    errs.extend(key_paths(opt_slice(&source.items), &path.child("items")));
    errs
}

pub(super) fn nfs(source: &NFSVolumeSource, path: &Path) -> ErrorList {
    let mut errs = required(&source.server, &path.child("server"));
    errs.extend(required(&source.path, &path.child("path")));
    if !source.path.starts_with('/') {
        errs.push(FieldError::invalid(
            &path.child("path"),
            &source.path,
            "must be an absolute path",
        ));
    }
    errs
}

fn downward_api(source: &DownwardAPIVolumeSource, path: &Path) -> ErrorList {
    let mut errs = file_mode(source.default_mode, &path.child("defaultMode"));
    for file in opt_slice(&source.items) {
        errs.extend(downward_api_file(file, path));
    }
    errs
}

/// Upstream reports item problems against the source path, not the item; kept as is.
fn downward_api_file(file: &DownwardAPIVolumeFile, path: &Path) -> ErrorList {
    let mut errs = required(&file.path, &path.child("path"));
    errs.extend(local_non_reserved_path(&file.path, &path.child("path")));
    match (&file.field_ref, &file.resource_field_ref) {
        (Some(field_ref), resource_ref) => {
            errs.extend(object_field_selector(
                field_ref,
                &VOLUME_FIELD_PATHS,
                &path.child("fieldRef"),
            ));
            if resource_ref.is_some() {
                errs.push(FieldError::invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                ));
            }
        }
        (None, Some(resource_ref)) => errs.extend(resource_field_selector(
            resource_ref,
            true,
            &path.child("resourceFieldRef"),
        )),
        (None, None) => errs.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        )),
    }
    errs.extend(file_mode(file.mode, &path.child("mode")));
    errs
}

fn key_paths(items: &[KeyToPath], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        errs.extend(required(&item.key, &item_path.child("key")));
        errs.extend(required(&item.path, &item_path.child("path")));
        errs.extend(local_non_reserved_path(
            &item.path,
            &item_path.child("path"),
        ));
        errs.extend(file_mode(item.mode, &item_path.child("mode")));
    }
    errs
}

fn file_mode(mode: Option<i32>, path: &Path) -> ErrorList {
    match mode {
        Some(mode) if !(0..=0o777).contains(&mode) => {
            vec![FieldError::invalid(path, mode, FILE_MODE_ERROR)]
        }
        _ => ErrorList::new(),
    }
}

/// A relative path without `..` elements.
pub fn local_descending_path(target: &str, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if target.starts_with('/') {
        errs.push(FieldError::invalid(path, target, "must be a relative path"));
    }
    errs.extend(no_backsteps(target, path));
    errs
}

fn local_non_reserved_path(target: &str, path: &Path) -> ErrorList {
    let mut errs = local_descending_path(target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(FieldError::invalid(
            path,
            target,
            "must not start with '..'",
        ));
    }
    errs
}

pub(super) fn no_backsteps(target: &str, path: &Path) -> ErrorList {
    if target
        .replace('\\', "/")
        .split('/')
        .any(|part| part == "..")
    {
        vec![FieldError::invalid(path, target, "must not contain '..'")]
    } else {
        ErrorList::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(list: &[Volume]) -> (BTreeSet<String>, Vec<String>) {
        let (valid, errs) = volumes(list, &Path::new("spec").child("volumes"));
        (valid, errs.iter().map(ToString::to_string).collect())
    }

    fn empty_dir_volume(name: &str) -> Volume {
        Volume {
            name: name.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        }
    }

    #[test]
    fn names_are_unique_labels() {
        let (valid, errs) = check(&[empty_dir_volume("data"), empty_dir_volume("data")]);
        assert_eq!(valid, BTreeSet::from(["data".to_string()]));
        assert_eq!(
            errs,
            vec!["spec.volumes[1].name: Duplicate value: \"data\""]
        );
    }

    #[test]
    fn exactly_one_source() {
        let mut two = empty_dir_volume("two");
        two.host_path = Some(HostPathVolumeSource {
            path: "/tmp".into(),
            type_: None,
        });
        let none = Volume {
            name: "none".into(),
            ..Default::default()
        };
        let (valid, errs) = check(&[two, none]);
        assert!(valid.is_empty());
        assert_eq!(
            errs,
            vec![
                "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[1]: Required value: must specify a volume type",
            ]
        );
    }

    #[test]
    fn source_details() {
        let volume = Volume {
            name: "cfg".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: "settings".into(),
                default_mode: Some(0o1000),
                items: Some(vec![KeyToPath {
                    key: "a".into(),
                    path: "../a".into(),
                    mode: None,
                }]),
                optional: None,
            }),
            ..Default::default()
        };
        let (_, errs) = check(&[volume]);
        assert_eq!(
            errs,
            vec![
                "spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive",
                "spec.volumes[0].configMap.items[0].path: Invalid value: \"../a\": must not contain '..'",
            ]
        );
    }
}
