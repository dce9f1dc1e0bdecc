//! PersistentVolumes and PersistentVolumeClaims (core/v1), following the volume parts of
//! upstream's `pkg/apis/core/validation` (`ValidatePersistentVolume*` and
//! `ValidatePersistentVolumeClaim*`): access modes, sizes, exactly one volume source, and what
//! may change once a volume or claim exists.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    CSIPersistentVolumeSource, LocalVolumeSource, NodeSelector, NodeSelectorRequirement,
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeSpec,
    SecretReference, VolumeNodeAffinity,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as QuantityString;
use serde_json::Value;

use super::container::dns1123_label;
use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{immutable, label_key, label_selector, object_meta_revalidated};
use super::names::{NameRule, is_dns1123_subdomain};
use super::pod::{drop_empty_lists, json_diff};
use super::pod_spec::subdomain;
use super::quantity::Quantity;
use super::resources::parse;
use super::storage::csi_driver_name;
use super::volume::{host_path, nfs, no_backsteps};
use super::{opt_slice, text};

const ACCESS_MODES: [&str; 4] = [
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
const READ_WRITE_ONCE_POD: &str = "ReadWriteOncePod";
const RECLAIM_POLICIES: [&str; 3] = ["Delete", "Recycle", "Retain"];
const VOLUME_MODES: [&str; 2] = ["Block", "Filesystem"];
const STORAGE: &str = "storage";
const NOT_POSITIVE: &str = "must be greater than zero";
const INLINE_FORBIDDEN: &str = "may not be specified in the context of inline volumes";
const MORE_THAN_ONE_SOURCE: &str = "may not specify more than 1 volume type";
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";
const CLAIM_SPEC_IMMUTABLE: &str = "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";
const SOURCE_IMMUTABLE: &str = "spec.persistentvolumesource is immutable after creation";
/// The JSON names of a PersistentVolume's sources, which together cannot change.
const SOURCE_FIELDS: [&str; 22] = [
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "hostPath",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
];
/// Node labels whose beta names a volume's node affinity may trade for the GA ones.
const BETA_TO_GA_LABELS: [(&str, &str); 5] = [
    (
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/zone",
    ),
    (
        "failure-domain.beta.kubernetes.io/region",
        "topology.kubernetes.io/region",
    ),
    ("beta.kubernetes.io/os", "kubernetes.io/os"),
    ("beta.kubernetes.io/arch", "kubernetes.io/arch"),
    (
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
    ),
];

/// Validates a PersistentVolumeClaim on create (`old` is `None`) or update.
///
/// An update is also checked as a create, as upstream does; then the spec must stay as it was,
/// except that a bound claim may grow, a claim may be bound to a volume once, and the class may
/// move from the beta annotation into the field.
pub fn persistent_volume_claim(
    new: &PersistentVolumeClaim,
    old: Option<&PersistentVolumeClaim>,
) -> ErrorList {
    let default_spec = PersistentVolumeClaimSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let old_spec = old.map(|o| o.spec.as_ref().unwrap_or(&default_spec));
    // A stored claim keeps whatever API groups it already refers to.
    let keep_api_groups = old_spec.is_some_and(|s| {
        s.data_source
            .as_ref()
            .is_some_and(|d| d.api_group.is_some())
            || s.data_source_ref
                .as_ref()
                .is_some_and(|d| d.api_group.is_some())
    });
    let mut errs = object_meta_revalidated(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(claim_spec(spec, keep_api_groups, &Path::new("spec")));
    if let (Some(old), Some(old_spec)) = (old, old_spec) {
        errs.extend(claim_update(new, spec, old, old_spec));
    }
    errs
}

fn claim_spec(spec: &PersistentVolumeClaimSpec, keep_api_groups: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let modes = opt_slice(&spec.access_modes);
    if modes.is_empty() {
        errs.push(FieldError::required(
            &path.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    if let Some(selector) = &spec.selector {
        errs.extend(label_selector(Some(selector), &path.child("selector")));
    }
    errs.extend(access_modes(modes, &path.child("accessModes")));
    let storage_path = path.child("resources").key(STORAGE);
    match storage_request(spec) {
        None => errs.push(FieldError::required(&storage_path, "")),
        Some(size) => errs.extend(positive_quantity(size, &storage_path)),
    }
    if let Some(class) = spec.storage_class_name.as_deref().filter(|c| !c.is_empty()) {
        errs.extend(subdomain(class, &path.child("storageClassName")));
    }
    if let Some(mode) = spec
        .volume_mode
        .as_deref()
        .filter(|m| !VOLUME_MODES.contains(m))
    {
        errs.push(FieldError::not_supported(
            &path.child("volumeMode"),
            mode,
            &VOLUME_MODES,
        ));
    }
    errs.extend(data_sources(spec, keep_api_groups, path));
    if let Some(class) = spec
        .volume_attributes_class_name
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        errs.extend(subdomain(class, &path.child("volumeAttributesClassName")));
    }
    errs
}

fn storage_request(spec: &PersistentVolumeClaimSpec) -> Option<&QuantityString> {
    spec.resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get(STORAGE))
}

/// Known modes, and `ReadWriteOncePod` only on its own.
fn access_modes(modes: &[String], path: &Path) -> ErrorList {
    let mut errs: ErrorList = modes
        .iter()
        .filter(|m| !ACCESS_MODES.contains(&m.as_str()))
        .map(|m| FieldError::not_supported(path, m, &ACCESS_MODES))
        .collect();
    let once_pod = modes.iter().any(|m| m == READ_WRITE_ONCE_POD);
    let others = modes
        .iter()
        .any(|m| m != READ_WRITE_ONCE_POD && ACCESS_MODES.contains(&m.as_str()));
    if once_pod && others {
        errs.push(FieldError::forbidden(
            path,
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    errs
}

/// Upstream's `ValidatePositiveQuantityValue`. Upstream prints the value in canonical form;
/// every value this rejects that is not negative is a zero, which prints as "0".
fn positive_quantity(value: &QuantityString, path: &Path) -> ErrorList {
    match parse(value, path) {
        Err(err) => vec![err],
        Ok(quantity) if !is_positive(quantity) => {
            let shown = if quantity.is_negative() {
                value.0.as_str()
            } else {
                "0"
            };
            vec![FieldError::invalid(path, shown, NOT_POSITIVE)]
        }
        Ok(_) => ErrorList::new(),
    }
}

fn is_positive(quantity: Quantity) -> bool {
    Quantity::parse("0").is_some_and(|zero| quantity > zero)
}

/// `dataSource` and `dataSourceRef`: a kind and name, an API group unless the kind is a claim,
/// and the two agreeing when both are set.
fn data_sources(spec: &PersistentVolumeClaimSpec, keep_api_groups: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(source) = &spec.data_source {
        errs.extend(data_source(
            &source.kind,
            &source.name,
            source.api_group.as_deref(),
            keep_api_groups,
            &path.child("dataSource"),
        ));
    }
    let mut ref_namespace = None;
    if let Some(source_ref) = &spec.data_source_ref {
        let ref_path = path.child("dataSourceRef");
        errs.extend(data_source(
            &source_ref.kind,
            &source_ref.name,
            source_ref.api_group.as_deref(),
            keep_api_groups,
            &ref_path,
        ));
        ref_namespace = source_ref.namespace.as_deref().filter(|n| !n.is_empty());
        if let Some(namespace) = ref_namespace {
            let namespace_path = ref_path.child("namespace");
            errs.extend(
                NameRule::DnsLabel
                    .check(namespace, false)
                    .into_iter()
                    .map(|m| FieldError::invalid(&namespace_path, namespace, m)),
            );
        }
    }
    // Upstream shows the path of `dataSource` itself as the value.
    let shown = || Rendered(path.child("dataSource").to_string());
    match (ref_namespace, &spec.data_source, &spec.data_source_ref) {
        (Some(_), Some(_), _) => errs.push(FieldError::invalid(
            path,
            shown(),
            "may not be specified when dataSourceRef.namespace is specified",
        )),
        (None, Some(source), Some(source_ref))
            if source.api_group != source_ref.api_group
                || source.kind != source_ref.kind
                || source.name != source_ref.name =>
        {
            errs.push(FieldError::invalid(
                path,
                shown(),
                "must match dataSourceRef",
            ))
        }
        _ => {}
    }
    errs
}

fn data_source(
    kind: &str,
    name: &str,
    api_group: Option<&str>,
    keep_api_groups: bool,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    if kind.is_empty() {
        errs.push(FieldError::required(&path.child("kind"), ""));
    }
    let group = api_group.unwrap_or_default();
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        errs.push(FieldError::invalid(
            path,
            kind,
            "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
        ));
    }
    if !group.is_empty() && !keep_api_groups {
        let group_path = path.child("apiGroup");
        errs.extend(
            is_dns1123_subdomain(group)
                .into_iter()
                .map(|m| FieldError::invalid(&group_path, group, m)),
        );
    }
    errs
}

/// What a claim update may change. Claims are fixed so that quota and limit ranges cannot be
/// gamed; the volume controller still has to record the bound volume, and a bound claim may
/// grow (or shrink back towards its capacity to recover from a failed expansion).
fn claim_update(
    new: &PersistentVolumeClaim,
    new_spec: &PersistentVolumeClaimSpec,
    old: &PersistentVolumeClaim,
    old_spec: &PersistentVolumeClaimSpec,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut new_clone = new_spec.clone();
    let mut old_clone = old_spec.clone();
    if text(&old_spec.volume_name).is_empty() {
        old_clone.volume_name.clone_from(&new_spec.volume_name);
    }
    let (old_annotation, new_annotation) = (class_annotation(old), class_annotation(new));
    let new_class = new_spec.storage_class_name.as_deref();
    let from_annotation = old_annotation.is_some()
        && old_spec.storage_class_name.is_none()
        && new_class.is_some()
        && new_class == old_annotation
        && (new_annotation.is_none() || new_annotation == old_annotation);
    if from_annotation {
        new_clone.storage_class_name = None;
    } else {
        errs.extend(immutable(
            new_annotation.unwrap_or_default(),
            old_annotation.unwrap_or_default(),
            &Path::new("metadata")
                .child("annotations")
                .child(BETA_STORAGE_CLASS_ANNOTATION),
        ));
        let from_nil = new_class.is_some()
            && old_spec.storage_class_name.is_none()
            && (old_annotation.is_none() || old_annotation == new_class);
        if from_nil {
            new_clone
                .storage_class_name
                .clone_from(&old_spec.storage_class_name);
        }
    }
    // The strategy keeps the stored status on update, so the stored phase decides.
    let bound = old.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    if bound {
        let old_size = storage_request(old_spec).cloned();
        if let Some(requests) = new_clone
            .resources
            .as_mut()
            .and_then(|r| r.requests.as_mut())
        {
            match old_size {
                Some(size) => requests.insert(STORAGE.to_string(), size),
                None => requests.remove(STORAGE),
            };
        }
    }
    new_clone
        .volume_attributes_class_name
        .clone_from(&old_clone.volume_attributes_class_name);
    let (old_json, new_json) = (comparable(&old_clone), comparable(&new_clone));
    if old_json != new_json {
        errs.push(FieldError::forbidden(
            &Path::new("spec"),
            format!(
                "{CLAIM_SPEC_IMMUTABLE}\n  core.PersistentVolumeClaimSpec{{\n{}  }}\n",
                diff_lines(&old_json, &new_json)
            ),
        ));
    }
    errs.extend(shrink(new_spec, old, old_spec));
    errs.extend(immutable(
        new_spec.volume_mode.as_deref(),
        old_spec.volume_mode.as_deref(),
        &Path::new("volumeMode"),
    ));
    errs.extend(attributes_class_update(
        new_spec.volume_attributes_class_name.as_deref(),
        old_spec.volume_attributes_class_name.as_deref(),
        true,
    ));
    errs
}

/// The storage class as the beta annotation names it.
fn class_annotation(claim: &PersistentVolumeClaim) -> Option<&str> {
    claim
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_STORAGE_CLASS_ANNOTATION))
        .map(String::as_str)
}

/// A claim may ask for less than before only while it stays above its recorded capacity.
fn shrink(
    new_spec: &PersistentVolumeClaimSpec,
    old: &PersistentVolumeClaim,
    old_spec: &PersistentVolumeClaimSpec,
) -> Option<FieldError> {
    // Go reads a missing amount as zero.
    let amount =
        |q: Option<&QuantityString>| q.map_or(Quantity::parse("0"), |q| Quantity::parse(&q.0));
    let capacity = old
        .status
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get(STORAGE));
    let new_size = amount(storage_request(new_spec))?;
    let old_size = amount(storage_request(old_spec))?;
    let capacity = amount(capacity)?;
    (new_size < old_size && new_size <= capacity).then(|| {
        FieldError::forbidden(
            &Path::new("spec")
                .child("resources")
                .child("requests")
                .child(STORAGE),
            "field can not be less than status.capacity",
        )
    })
}

/// Once a volume attributes class is set it may change but not be cleared.
fn attributes_class_update(
    new: Option<&str>,
    old: Option<&str>,
    claim: bool,
) -> Option<FieldError> {
    let path = Path::new("spec").child("volumeAttributesClassName");
    match (old, new) {
        (Some(_), None) => Some(FieldError::forbidden(
            &path,
            "update from non-nil value to nil is forbidden",
        )),
        (Some(old), Some("")) if claim && !old.is_empty() => Some(FieldError::forbidden(
            &path,
            "update from non-nil value to an empty string is forbidden",
        )),
        _ => None,
    }
}

/// A value as JSON with empty lists dropped: upstream's semantic equality treats an empty
/// list and a missing one alike.
fn comparable<T: serde::Serialize>(value: &T) -> Value {
    let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
    drop_empty_lists(&mut value);
    value
}

fn diff_lines(old: &Value, new: &Value) -> String {
    let mut lines = Vec::new();
    json_diff(old, new, "", &mut lines);
    lines.concat()
}

/// Validates a PersistentVolume on create (`old` is `None`) or update; an update is also
/// checked as a create, as upstream does, and may not change the volume's source.
pub fn persistent_volume(new: &PersistentVolume, old: Option<&PersistentVolume>) -> ErrorList {
    let default_spec = PersistentVolumeSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let mut errs = object_meta_revalidated(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(persistent_volume_spec(spec, false, &Path::new("spec")));
    if let Some(old) = old {
        errs.extend(volume_update(
            spec,
            old.spec.as_ref().unwrap_or(&default_spec),
        ));
    }
    errs
}

/// Upstream's `ValidatePersistentVolumeSpec`. An inline spec (one a VolumeAttachment carries
/// for a CSI migrated in-tree volume) has no capacity, claim, class or node affinity of its own.
pub(super) fn persistent_volume_spec(
    spec: &PersistentVolumeSpec,
    inline: bool,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let capacity = spec.capacity.as_ref();
    if inline {
        if spec.claim_ref.is_some() {
            errs.push(FieldError::forbidden(
                &path.child("claimRef"),
                INLINE_FORBIDDEN,
            ));
        }
        if capacity.is_some_and(|c| !c.is_empty()) {
            errs.push(FieldError::forbidden(
                &path.child("capacity"),
                INLINE_FORBIDDEN,
            ));
        }
        if spec.csi.is_none() {
            errs.push(FieldError::required(
                &path.child("csi"),
                "has to be specified in the context of inline volumes",
            ));
        }
    }
    let modes = opt_slice(&spec.access_modes);
    if modes.is_empty() {
        errs.push(FieldError::required(&path.child("accessModes"), ""));
    }
    errs.extend(access_modes(modes, &path.child("accessModes")));
    if !inline {
        errs.extend(capacity_errors(capacity, &path.child("capacity")));
    }
    errs.extend(reclaim_policy(
        text(&spec.persistent_volume_reclaim_policy),
        inline,
        &path.child("persistentVolumeReclaimPolicy"),
    ));
    let affinity_path = path.child("nodeAffinity");
    if let Some(affinity) = &spec.node_affinity {
        if inline {
            errs.push(FieldError::forbidden(&affinity_path, INLINE_FORBIDDEN));
        } else {
            errs.extend(volume_node_affinity(affinity, &affinity_path));
        }
    }
    let affinity_set = spec.node_affinity.is_some() && !inline;
    errs.extend(volume_sources(spec, affinity_set, path));
    let recycles = text(&spec.persistent_volume_reclaim_policy) == "Recycle";
    if recycles && spec.host_path.as_ref().is_some_and(|h| is_root(&h.path)) {
        errs.push(FieldError::forbidden(
            &path.child("persistentVolumeReclaimPolicy"),
            "may not be 'recycle' for a hostPath mount of '/'",
        ));
    }
    let class = text(&spec.storage_class_name);
    if !class.is_empty() {
        if inline {
            errs.push(FieldError::forbidden(
                &path.child("storageClassName"),
                INLINE_FORBIDDEN,
            ));
        } else {
            errs.extend(subdomain(class, &path.child("storageClassName")));
        }
    }
    if let Some(mode) = spec.volume_mode.as_deref() {
        let mode_path = path.child("volumeMode");
        if inline && mode != "Filesystem" {
            errs.push(FieldError::forbidden(
                &mode_path,
                "may not specify volumeMode other than Filesystem in the context of inline volumes",
            ));
        } else if !inline && !VOLUME_MODES.contains(&mode) {
            errs.push(FieldError::not_supported(&mode_path, mode, &VOLUME_MODES));
        }
    }
    if let Some(class) = spec.volume_attributes_class_name.as_deref() {
        let class_path = path.child("volumeAttributesClassName");
        if class.is_empty() {
            errs.push(FieldError::required(
                &class_path,
                "an empty string is disallowed",
            ));
        } else {
            errs.extend(subdomain(class, &class_path));
        }
        if spec.csi.is_none() {
            errs.push(FieldError::required(
                &path.child("csi"),
                "has to be specified when using volumeAttributesClassName",
            ));
        }
    }
    errs
}

/// A capacity of storage alone, and more than nothing of it.
fn capacity_errors(capacity: Option<&BTreeMap<String, QuantityString>>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let list = capacity
        .map(|c| c.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    if list.is_empty() {
        errs.push(FieldError::required(path, ""));
    }
    if !capacity.is_some_and(|c| c.contains_key(STORAGE)) || list.len() > 1 {
        errs.push(FieldError::not_supported(
            path,
            resource_list_value(capacity),
            &[STORAGE],
        ));
    }
    for (name, value) in list {
        let value_path = path.key(name);
        let Some(quantity) = Quantity::parse(&value.0) else {
            errs.extend(parse(value, &value_path).err());
            continue;
        };
        if Quantity::parse("-1").is_some_and(|minus_one| quantity <= minus_one) {
            errs.push(FieldError::invalid(
                &value_path,
                whole_value(value),
                "must be a valid resource quantity",
            ));
        }
        errs.extend(positive_quantity(value, &value_path));
    }
    errs
}

/// A quantity as upstream shows its integer value: exact for plain integers, otherwise the
/// quantity as written.
fn whole_value(value: &QuantityString) -> Rendered {
    Rendered(
        value
            .0
            .parse::<i64>()
            .map_or_else(|_| value.0.clone(), |n| n.to_string()),
    )
}

/// A resource list as Go prints a `core.ResourceList`; each quantity is shown as written,
/// where Go would print the internals of its `resource.Quantity`.
fn resource_list_value(list: Option<&BTreeMap<String, QuantityString>>) -> Rendered {
    Rendered(match list {
        None => "core.ResourceList(nil)".to_string(),
        Some(list) => {
            let entries: Vec<String> = list
                .iter()
                .map(|(name, value)| format!("{}:{}", go::quote(name), go::quote(&value.0)))
                .collect();
            format!("core.ResourceList{{{}}}", entries.join(", "))
        }
    })
}

fn reclaim_policy(policy: &str, inline: bool, path: &Path) -> Option<FieldError> {
    if policy.is_empty() {
        None
    } else if inline {
        (policy != "Retain").then(|| {
            FieldError::forbidden(path, "may only be Retain in the context of inline volumes")
        })
    } else {
        (!RECLAIM_POLICIES.contains(&policy))
            .then(|| FieldError::not_supported(path, policy, &RECLAIM_POLICIES))
    }
}

/// Whether a host path cleans to `/`.
fn is_root(path: &str) -> bool {
    path.starts_with('/') && path.split('/').all(|part| matches!(part, "" | "." | ".."))
}

/// Exactly one source, taken in upstream's order so the same one is reported as extra. Sources
/// other than host paths, NFS, local disks and CSI are checked for presence only.
fn volume_sources(spec: &PersistentVolumeSpec, affinity_set: bool, path: &Path) -> ErrorList {
    let present = |set: bool| set.then(ErrorList::new);
    let sources: [(&str, Option<ErrorList>); 22] = [
        (
            "hostPath",
            spec.host_path
                .as_ref()
                .map(|s| host_path(s, &path.child("hostPath"))),
        ),
        (
            "gcePersistentDisk",
            present(spec.gce_persistent_disk.is_some()),
        ),
        (
            "awsElasticBlockStore",
            present(spec.aws_elastic_block_store.is_some()),
        ),
        ("glusterfs", present(spec.glusterfs.is_some())),
        ("flocker", present(spec.flocker.is_some())),
        ("nfs", spec.nfs.as_ref().map(|s| nfs(s, &path.child("nfs")))),
        ("rbd", present(spec.rbd.is_some())),
        ("quobyte", present(spec.quobyte.is_some())),
        ("cephFS", present(spec.cephfs.is_some())),
        ("iscsi", present(spec.iscsi.is_some())),
        ("cinder", present(spec.cinder.is_some())),
        ("fc", present(spec.fc.is_some())),
        ("flexVolume", present(spec.flex_volume.is_some())),
        ("azureFile", present(spec.azure_file.is_some())),
        ("vsphereVolume", present(spec.vsphere_volume.is_some())),
        (
            "photonPersistentDisk",
            present(spec.photon_persistent_disk.is_some()),
        ),
        ("portworxVolume", present(spec.portworx_volume.is_some())),
        ("azureDisk", present(spec.azure_disk.is_some())),
        ("scaleIO", present(spec.scale_io.is_some())),
        (
            "local",
            spec.local
                .as_ref()
                .map(|s| local_source(s, affinity_set, path)),
        ),
        ("storageos", present(spec.storageos.is_some())),
        (
            "csi",
            spec.csi.as_ref().map(|s| csi_source(s, &path.child("csi"))),
        ),
    ];
    let mut errs = ErrorList::new();
    let mut count = 0;
    for (field, checks) in sources {
        let Some(checks) = checks else {
            continue;
        };
        // Upstream counts a flex volume without ever reporting it as one too many.
        if count > 0 && field != "flexVolume" {
            errs.push(FieldError::forbidden(
                &path.child(field),
                MORE_THAN_ONE_SOURCE,
            ));
        } else {
            count += 1;
            errs.extend(checks);
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
    errs
}

/// A local disk path without `..`; the volume must be pinned to nodes, since the disk is on one.
fn local_source(source: &LocalVolumeSource, affinity_set: bool, spec_path: &Path) -> ErrorList {
    let path = spec_path.child("local").child("path");
    let mut errs = if source.path.is_empty() {
        vec![FieldError::required(&path, "")]
    } else {
        no_backsteps(&source.path, &path)
    };
    if !affinity_set {
        errs.push(FieldError::required(
            &spec_path.child("nodeAffinity"),
            "Local volume requires node affinity",
        ));
    }
    errs
}

fn csi_source(source: &CSIPersistentVolumeSource, path: &Path) -> ErrorList {
    let mut errs = csi_driver_name(&source.driver, &path.child("driver"));
    if source.volume_handle.is_empty() {
        errs.push(FieldError::required(&path.child("volumeHandle"), ""));
    }
    let secrets = [
        (
            "controllerPublishSecretRef",
            &source.controller_publish_secret_ref,
        ),
        (
            "controllerExpandSecretRef",
            &source.controller_expand_secret_ref,
        ),
        ("nodePublishSecretRef", &source.node_publish_secret_ref),
        ("nodeExpandSecretRef", &source.node_expand_secret_ref),
    ];
    for (field, secret) in secrets {
        if let Some(secret) = secret {
            errs.extend(secret_reference(secret, &path.child(field)));
        }
    }
    errs
}

/// A Secret in a given namespace.
fn secret_reference(secret: &SecretReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = text(&secret.name);
    let name_path = path.child("name");
    if name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(
            is_dns1123_subdomain(name)
                .into_iter()
                .map(|m| FieldError::invalid(&name_path, name, m)),
        );
    }
    let namespace = text(&secret.namespace);
    let namespace_path = path.child("namespace");
    if namespace.is_empty() {
        errs.push(FieldError::required(&namespace_path, ""));
    } else {
        errs.extend(dns1123_label(namespace, &namespace_path));
    }
    errs
}

fn volume_node_affinity(affinity: &VolumeNodeAffinity, path: &Path) -> ErrorList {
    match &affinity.required {
        Some(selector) => node_selector(selector, &path.child("required")),
        None => vec![FieldError::required(
            &path.child("required"),
            "must specify required node constraints",
        )],
    }
}

/// Upstream's `ValidateNodeSelector`: at least one term, each of label and field requirements.
fn node_selector(selector: &NodeSelector, path: &Path) -> ErrorList {
    let terms_path = path.child("nodeSelectorTerms");
    if selector.node_selector_terms.is_empty() {
        return vec![FieldError::required(
            &terms_path,
            "must have at least one node selector term",
        )];
    }
    let mut errs = ErrorList::new();
    for (i, term) in selector.node_selector_terms.iter().enumerate() {
        let term_path = terms_path.index(i);
        for (j, req) in opt_slice(&term.match_expressions).iter().enumerate() {
            errs.extend(label_requirement(
                req,
                &term_path.child("matchExpressions").index(j),
            ));
        }
        for (j, req) in opt_slice(&term.match_fields).iter().enumerate() {
            errs.extend(field_requirement(
                req,
                &term_path.child("matchFields").index(j),
            ));
        }
    }
    errs
}

fn label_requirement(req: &NodeSelectorRequirement, path: &Path) -> ErrorList {
    let values = opt_slice(&req.values);
    let values_path = path.child("values");
    let mut errs = ErrorList::new();
    match req.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
            &values_path,
            "must be specified when `operator` is 'In' or 'NotIn'",
        )),
        "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
            &values_path,
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        )),
        "Gt" | "Lt" if values.len() != 1 => errs.push(FieldError::required(
            &values_path,
            "must be specified single value when `operator` is 'Lt' or 'Gt'",
        )),
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
        other => errs.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    errs.extend(label_key(&req.key, &path.child("key")));
    errs
}

/// Field requirements may only name the node, by one value.
fn field_requirement(req: &NodeSelectorRequirement, path: &Path) -> ErrorList {
    let values = opt_slice(&req.values);
    let values_path = path.child("values");
    let mut errs = ErrorList::new();
    match req.operator.as_str() {
        "In" | "NotIn" if values.len() != 1 => errs.push(FieldError::required(
            &values_path,
            "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
        )),
        "In" | "NotIn" => {}
        other => errs.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    if req.key == "metadata.name" {
        for (i, value) in values.iter().enumerate() {
            errs.extend(subdomain(value, &values_path.index(i)));
        }
    } else {
        errs.push(FieldError::invalid(
            &path.child("key"),
            &req.key,
            "not a valid field selector key",
        ));
    }
    errs
}

/// What a volume update may change: not its source (though a CSI volume may gain a controller
/// expansion secret), nor its mode, nor its node affinity beyond moving to GA label names.
fn volume_update(new: &PersistentVolumeSpec, old: &PersistentVolumeSpec) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut new_sources = new.clone();
    let adds_expand_secret = old
        .csi
        .as_ref()
        .is_some_and(|c| c.controller_expand_secret_ref.is_none())
        && new
            .csi
            .as_ref()
            .is_some_and(|c| c.controller_expand_secret_ref.is_some());
    if adds_expand_secret && let Some(csi) = new_sources.csi.as_mut() {
        csi.controller_expand_secret_ref = None;
    }
    let (old_json, new_json) = (volume_source(old), volume_source(&new_sources));
    if old_json != new_json {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("persistentvolumesource"),
            format!(
                "{SOURCE_IMMUTABLE}\n  core.PersistentVolumeSource{{\n{}  }}\n",
                diff_lines(&old_json, &new_json)
            ),
        ));
    }
    errs.extend(immutable(
        new.volume_mode.as_deref(),
        old.volume_mode.as_deref(),
        &Path::new("volumeMode"),
    ));
    if let Some(old_affinity) = &old.node_affinity
        && !affinity_unchanged(new.node_affinity.as_ref(), old_affinity)
    {
        errs.push(FieldError::invalid(
            &Path::new("nodeAffinity"),
            affinity_value(new.node_affinity.as_ref()),
            "field is immutable, except for updating from beta label to GA",
        ));
    }
    errs.extend(attributes_class_update(
        new.volume_attributes_class_name.as_deref(),
        old.volume_attributes_class_name.as_deref(),
        false,
    ));
    errs
}

/// A volume node affinity as Go prints the pointer to it.
fn affinity_value(affinity: Option<&VolumeNodeAffinity>) -> Rendered {
    Rendered(affinity.map_or_else(
        || "null".to_string(),
        |a| {
            format!(
                "core.VolumeNodeAffinity{{Required:{}}}",
                go::pointer("core.NodeSelector", a.required.is_some())
            )
        },
    ))
}

/// The volume's sources alone, comparable.
fn volume_source(spec: &PersistentVolumeSpec) -> Value {
    let mut value = comparable(spec);
    if let Value::Object(map) = &mut value {
        map.retain(|key, _| SOURCE_FIELDS.contains(&key.as_str()));
    }
    value
}

/// Whether the affinity is the stored one, allowing beta label keys to have become GA ones.
fn affinity_unchanged(new: Option<&VolumeNodeAffinity>, old: &VolumeNodeAffinity) -> bool {
    let Some(new) = new else {
        return false;
    };
    let mut old = old.clone();
    if let (Some(old_selector), Some(new_selector)) = (old.required.as_mut(), new.required.as_ref())
    {
        for (old_term, new_term) in old_selector
            .node_selector_terms
            .iter_mut()
            .zip(&new_selector.node_selector_terms)
        {
            let pairs = [
                (
                    old_term.match_expressions.as_mut(),
                    &new_term.match_expressions,
                ),
                (old_term.match_fields.as_mut(), &new_term.match_fields),
            ];
            for (old_reqs, new_reqs) in pairs {
                let Some(old_reqs) = old_reqs else {
                    continue;
                };
                for (old_req, new_req) in old_reqs.iter_mut().zip(opt_slice(new_reqs)) {
                    let promoted = BETA_TO_GA_LABELS
                        .iter()
                        .any(|(beta, ga)| old_req.key == *beta && new_req.key == *ga);
                    if promoted {
                        old_req.key.clone_from(&new_req.key);
                    }
                }
            }
        }
    }
    comparable(new) == comparable(&old)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta, stored};
    use super::*;
    use k8s_openapi::api::core::v1::PersistentVolumeClaimStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    fn claim(spec: Value) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: namespaced_meta("data"),
            spec: Some(serde_json::from_value(spec).expect("claim spec")),
            status: None,
        }
    }

    fn claim_json(size: &str) -> Value {
        json!({
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": "local-path",
            "volumeMode": "Filesystem",
        })
    }

    #[test]
    fn a_defaulted_claim_is_valid() {
        assert!(persistent_volume_claim(&claim(claim_json("1Gi")), None).is_empty());
    }

    #[test]
    fn access_modes_sizes_and_modes() {
        assert_eq!(
            messages(&persistent_volume_claim(&claim(json!({})), None)),
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ]
        );
        let bad = claim(json!({
            "accessModes": ["ReadWriteOncePod", "ReadWriteOnce", "WriteMany"],
            "resources": {"requests": {"storage": "0"}},
            "volumeMode": "Raw",
            "dataSource": {"kind": "VolumeSnapshot", "name": "snap"},
        }));
        assert_eq!(
            messages(&persistent_volume_claim(&bad, None)),
            vec![
                "spec.accessModes: Unsupported value: \"WriteMany\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
                "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
                "spec.volumeMode: Unsupported value: \"Raw\": supported values: \"Block\", \"Filesystem\"",
                "spec.dataSource: Invalid value: \"VolumeSnapshot\": must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            ]
        );
    }

    #[test]
    fn data_source_and_ref_must_agree() {
        let mut spec = claim_json("1Gi");
        spec["dataSource"] = json!({"kind": "PersistentVolumeClaim", "name": "a"});
        spec["dataSourceRef"] = json!({"kind": "PersistentVolumeClaim", "name": "b"});
        assert_eq!(
            messages(&persistent_volume_claim(&claim(spec), None)),
            vec!["spec: Invalid value: spec.dataSource: must match dataSourceRef"]
        );
    }

    fn stored_claim(size: &str, phase: Option<&str>) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: stored(namespaced_meta("data")),
            status: phase.map(|phase| PersistentVolumeClaimStatus {
                phase: Some(phase.into()),
                capacity: Some([(STORAGE.to_string(), QuantityString("1Gi".into()))].into()),
                ..Default::default()
            }),
            ..claim(claim_json(size))
        }
    }

    #[test]
    fn bound_claims_may_grow_but_not_shrink_below_capacity() {
        let old = stored_claim("1Gi", Some("Bound"));
        let grown = stored_claim("2Gi", None);
        assert!(persistent_volume_claim(&grown, Some(&old)).is_empty());
        let old = stored_claim("2Gi", Some("Bound"));
        let shrunk = stored_claim("512Mi", None);
        assert_eq!(
            messages(&persistent_volume_claim(&shrunk, Some(&old))),
            vec![
                "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
            ]
        );
    }

    #[test]
    fn claim_specs_are_otherwise_immutable() {
        let old = stored_claim("1Gi", None);
        let mut new = old.clone();
        let spec = new.spec.as_mut().expect("spec");
        spec.volume_name = Some("pv-1".into());
        assert!(persistent_volume_claim(&new, Some(&old)).is_empty());
        new.spec.as_mut().expect("spec").access_modes = Some(vec!["ReadWriteMany".into()]);
        assert_eq!(
            messages(&persistent_volume_claim(&new, Some(&old))),
            vec![format!(
                "spec: Forbidden: {CLAIM_SPEC_IMMUTABLE}\n  core.PersistentVolumeClaimSpec{{\n- \taccessModes[0]: \"ReadWriteOnce\",\n+ \taccessModes[0]: \"ReadWriteMany\",\n  }}\n"
            )]
        );
    }

    fn volume(spec: Value) -> PersistentVolume {
        PersistentVolume {
            metadata: ObjectMeta {
                name: Some("pv-1".into()),
                ..Default::default()
            },
            spec: Some(serde_json::from_value(spec).expect("volume spec")),
            status: None,
        }
    }

    fn host_path_volume(path: &str) -> Value {
        json!({
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "volumeMode": "Filesystem",
            "storageClassName": "manual",
            "hostPath": {"path": path},
        })
    }

    #[test]
    fn a_host_path_volume_is_valid() {
        assert!(persistent_volume(&volume(host_path_volume("/data/pv-1")), None).is_empty());
    }

    #[test]
    fn volumes_need_capacity_modes_and_one_source() {
        assert_eq!(
            messages(&persistent_volume(
                &volume(json!({"persistentVolumeReclaimPolicy": "Keep"})),
                None
            )),
            vec![
                "spec.accessModes: Required value",
                "spec.capacity: Required value",
                "spec.capacity: Unsupported value: core.ResourceList(nil): supported values: \"storage\"",
                "spec.persistentVolumeReclaimPolicy: Unsupported value: \"Keep\": supported values: \"Delete\", \"Recycle\", \"Retain\"",
                "spec: Required value: must specify a volume type",
            ]
        );
        let two = volume(json!({
            "capacity": {"storage": "0"},
            "accessModes": ["ReadWriteOnce"],
            "nfs": {"server": "nfs.example.com", "path": "/export"},
            "local": {"path": "/mnt/disks/a"},
        }));
        assert_eq!(
            messages(&persistent_volume(&two, None)),
            vec![
                "spec.capacity[storage]: Invalid value: \"0\": must be greater than zero",
                "spec.local: Forbidden: may not specify more than 1 volume type",
            ]
        );
        let local = volume(json!({
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "local": {"path": "/mnt/../etc"},
        }));
        assert_eq!(
            messages(&persistent_volume(&local, None)),
            vec![
                "spec.local.path: Invalid value: \"/mnt/../etc\": must not contain '..'",
                "spec.nodeAffinity: Required value: Local volume requires node affinity",
            ]
        );
    }

    #[test]
    fn sources_and_node_affinity_are_fixed() {
        let old = PersistentVolume {
            metadata: stored(volume(json!({})).metadata),
            ..volume(host_path_volume("/data/pv-1"))
        };
        let moved = PersistentVolume {
            metadata: old.metadata.clone(),
            ..volume(host_path_volume("/data/other"))
        };
        assert_eq!(
            messages(&persistent_volume(&moved, Some(&old))),
            vec![format!(
                "spec.persistentvolumesource: Forbidden: {SOURCE_IMMUTABLE}\n  core.PersistentVolumeSource{{\n- \thostPath.path: \"/data/pv-1\",\n+ \thostPath.path: \"/data/other\",\n  }}\n"
            )]
        );
        let pinned = |key: &str| {
            let mut spec = host_path_volume("/data/pv-1");
            spec["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": key, "operator": "In", "values": ["a"]}]}
            ]}});
            PersistentVolume {
                metadata: old.metadata.clone(),
                ..volume(spec)
            }
        };
        let beta = pinned("failure-domain.beta.kubernetes.io/zone");
        assert!(persistent_volume(&pinned("topology.kubernetes.io/zone"), Some(&beta)).is_empty());
        let errs = messages(&persistent_volume(
            &pinned("kubernetes.io/hostname"),
            Some(&beta),
        ));
        assert_eq!(
            errs,
            vec![
                "nodeAffinity: Invalid value: core.VolumeNodeAffinity{Required:(*core.NodeSelector)(0xc000000000)}: field is immutable, except for updating from beta label to GA"
            ]
        );
    }
}
