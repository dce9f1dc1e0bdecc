//! StorageClasses, CSIDrivers, CSINodes and VolumeAttachments (storage.k8s.io/v1), following
//! upstream's `pkg/apis/storage/validation`: provisioner and driver names, the enumerations of
//! their modes and policies, and the fields that are fixed once the object exists.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::TopologySelectorTerm;
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSIDriverSpec, CSINode, CSINodeDriver, StorageClass, TokenRequest, VolumeAttachment,
    VolumeAttachmentSource, VolumeAttachmentSpec, VolumeError,
};

use super::container::qualified_name;
use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{FIELD_IMMUTABLE, immutable, label_key, non_negative, object_meta};
use super::names::{NameRule, inclusive_range_error, is_dns1123_subdomain};
use super::pod_spec::subdomain;
use super::storage_core::persistent_volume_spec;
use super::{opt_slice, text};

const RECLAIM_POLICIES: [&str; 2] = ["Delete", "Retain"];
const BINDING_MODES: [&str; 2] = ["Immediate", "WaitForFirstConsumer"];
const FS_GROUP_POLICIES: [&str; 3] = ["File", "None", "ReadWriteOnceWithFSType"];
const LIFECYCLE_MODES: [&str; 2] = ["Persistent", "Ephemeral"];
const MAX_PARAMETERS: usize = 512;
const MAX_PARAMETERS_SIZE: usize = 256 * 1024;
const MAX_ATTACHMENT_METADATA_SIZE: usize = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE: usize = 1024;
const MAX_DRIVER_NAME: usize = 63;
/// CSINodes are created with long node IDs allowed.
const MAX_NODE_ID: usize = 256;
const MIN_TOKEN_SECONDS: i64 = 10 * 60;
const MAX_TOKEN_SECONDS: i64 = 1 << 32;
const MIN_ALLOCATABLE_UPDATE_SECONDS: i64 = 10;
const SOURCE_ONE_OF: &str = "must specify exactly one of inlineVolumeSpec and persistentVolumeName";

/// Validates a StorageClass on create (`old` is `None`) or update. An update is checked as a
/// create first, then its provisioner, parameters, reclaim policy and binding mode must stay
/// as they were: volumes already provisioned from the class depend on them.
pub fn storage_class(new: &StorageClass, old: Option<&StorageClass>) -> ErrorList {
    let mut errs = object_meta(&new.metadata, false, NameRule::DnsSubdomain, None);
    errs.extend(provisioner(&new.provisioner, &Path::new("provisioner")));
    errs.extend(parameters(
        new.parameters.as_ref(),
        &Path::new("parameters"),
    ));
    let policy = text(&new.reclaim_policy);
    if !policy.is_empty() && !RECLAIM_POLICIES.contains(&policy) {
        errs.push(FieldError::not_supported(
            &Path::new("reclaimPolicy"),
            policy,
            &RECLAIM_POLICIES,
        ));
    }
    let mode_path = Path::new("volumeBindingMode");
    match new.volume_binding_mode.as_deref() {
        None => errs.push(FieldError::required(&mode_path, "")),
        Some(mode) if !BINDING_MODES.contains(&mode) => {
            errs.push(FieldError::not_supported(&mode_path, mode, &BINDING_MODES))
        }
        Some(_) => {}
    }
    errs.extend(allowed_topologies(
        opt_slice(&new.allowed_topologies),
        &Path::new("allowedTopologies"),
    ));
    if let Some(old) = old {
        errs.extend(storage_class_update(new, old));
    }
    errs
}

fn storage_class_update(new: &StorageClass, old: &StorageClass) -> ErrorList {
    let mut errs = object_meta(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        Some(&old.metadata),
    );
    // A stored class may hold an empty map where the new one has none; both mean no parameters.
    let parameters_of = |class: &StorageClass| class.parameters.clone().unwrap_or_default();
    if parameters_of(new) != parameters_of(old) {
        errs.push(FieldError::forbidden(
            &Path::new("parameters"),
            "updates to parameters are forbidden.",
        ));
    }
    if new.provisioner != old.provisioner {
        errs.push(FieldError::forbidden(
            &Path::new("provisioner"),
            "updates to provisioner are forbidden.",
        ));
    }
    if text(&new.reclaim_policy) != text(&old.reclaim_policy) {
        errs.push(FieldError::forbidden(
            &Path::new("reclaimPolicy"),
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    errs.extend(immutable(
        new.volume_binding_mode.as_deref(),
        old.volume_binding_mode.as_deref(),
        &Path::new("volumeBindingMode"),
    ));
    errs
}

/// A provisioner is a qualified name, compared in lower case.
fn provisioner(provisioner: &str, path: &Path) -> ErrorList {
    if provisioner.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    qualified_name(&provisioner.to_lowercase(), path)
}

/// At most 512 parameters of 256 KiB in all, none with an empty key.
fn parameters(parameters: Option<&BTreeMap<String, String>>, path: &Path) -> ErrorList {
    let Some(parameters) = parameters else {
        return ErrorList::new();
    };
    if parameters.len() > MAX_PARAMETERS {
        return vec![FieldError::too_long(path, MAX_PARAMETERS)];
    }
    let mut errs: ErrorList = parameters
        .keys()
        .filter(|k| k.is_empty())
        .map(|k| FieldError::invalid(path, k, "field can not be empty."))
        .collect();
    let size: usize = parameters.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_PARAMETERS_SIZE {
        errs.push(FieldError::too_long(path, MAX_PARAMETERS_SIZE));
    }
    errs
}

/// Each term's label requirements, and no two terms alike.
fn allowed_topologies(terms: &[TopologySelectorTerm], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen: Vec<BTreeMap<&str, BTreeSet<&str>>> = Vec::new();
    for (i, term) in terms.iter().enumerate() {
        let term_path = path.index(i);
        let (requirements, term_errs) = topology_term(term, &term_path);
        errs.extend(term_errs);
        // Upstream seeds its list of seen terms with one empty entry per term, so a term
        // without requirements is reported once for each of them.
        let seeded = if requirements.is_empty() {
            terms.len()
        } else {
            0
        };
        let duplicates = seeded + seen.iter().filter(|s| **s == requirements).count();
        errs.extend(
            (0..duplicates)
                .map(|_| FieldError::duplicate(&term_path.child("matchLabelExpressions"), "")),
        );
        seen.push(requirements);
    }
    errs
}

/// Upstream's `ValidateTopologySelectorTerm`: the term as key to value set, and its errors.
fn topology_term<'a>(
    term: &'a TopologySelectorTerm,
    path: &Path,
) -> (BTreeMap<&'a str, BTreeSet<&'a str>>, ErrorList) {
    let mut requirements = BTreeMap::new();
    let mut errs = ErrorList::new();
    let expressions_path = path.child("matchLabelExpressions");
    for (i, requirement) in opt_slice(&term.match_label_expressions).iter().enumerate() {
        let requirement_path = expressions_path.index(i);
        let values_path = requirement_path.child("values");
        if requirement.values.is_empty() {
            errs.push(FieldError::required(&values_path, ""));
        }
        let mut values = BTreeSet::new();
        for (j, value) in requirement.values.iter().enumerate() {
            if !values.insert(value.as_str()) {
                errs.push(FieldError::duplicate(&values_path.index(j), value));
            }
        }
        let key_path = requirement_path.child("key");
        errs.extend(label_key(&requirement.key, &key_path));
        if requirements.contains_key(requirement.key.as_str()) {
            errs.push(FieldError::duplicate(&key_path, &requirement.key));
        }
        requirements.insert(requirement.key.as_str(), values);
    }
    (requirements, errs)
}

/// Upstream's `ValidateCSIDriverName` from the core validation: a DNS subdomain of at most 63
/// characters, in any case.
pub(super) fn csi_driver_name(name: &str, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(path, ""));
    }
    if name.len() > MAX_DRIVER_NAME {
        errs.push(FieldError::too_long(path, MAX_DRIVER_NAME));
    }
    errs.extend(
        is_dns1123_subdomain(&name.to_lowercase())
            .into_iter()
            .map(|m| FieldError::invalid(path, name, m)),
    );
    errs
}

/// Validates a CSIDriver on create (`old` is `None`) or update. Whether volumes need attaching,
/// and in which lifecycle modes the driver serves, are fixed once it is registered.
pub fn csi_driver(new: &CSIDriver, old: Option<&CSIDriver>) -> ErrorList {
    let spec_path = Path::new("spec");
    let mut errs = object_meta(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(csi_driver_spec(&new.spec, &spec_path));
    if let Some(old) = old {
        errs.extend(immutable(
            new.spec.attach_required,
            old.spec.attach_required,
            &spec_path.child("attachedRequired"),
        ));
        let (new_modes, old_modes) = (
            opt_slice(&new.spec.volume_lifecycle_modes),
            opt_slice(&old.spec.volume_lifecycle_modes),
        );
        if new_modes != old_modes {
            errs.push(FieldError::invalid(
                &spec_path.child("volumeLifecycleModes"),
                lifecycle_modes_value(new.spec.volume_lifecycle_modes.as_deref()),
                FIELD_IMMUTABLE,
            ));
        }
    }
    errs
}

fn lifecycle_modes_value(modes: Option<&[String]>) -> Rendered {
    go::slice(
        "storage.VolumeLifecycleMode",
        modes.map(|m| m.iter().map(|mode| go::quote(mode))),
    )
}

/// The defaulted flags must be set; upstream reports `attachRequired` as `attachedRequired`.
fn csi_driver_spec(spec: &CSIDriverSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let flags = [
        ("attachedRequired", spec.attach_required),
        ("podInfoOnMount", spec.pod_info_on_mount),
        ("storageCapacity", spec.storage_capacity),
    ];
    for (field, flag) in flags {
        if flag.is_none() {
            errs.push(FieldError::required(&path.child(field), ""));
        }
    }
    if let Some(policy) = spec
        .fs_group_policy
        .as_deref()
        .filter(|p| !FS_GROUP_POLICIES.contains(p))
    {
        errs.push(FieldError::not_supported(
            &path.child("fsGroupPolicy"),
            policy,
            &FS_GROUP_POLICIES,
        ));
    }
    errs.extend(token_requests(
        opt_slice(&spec.token_requests),
        &path.child("tokenRequests"),
    ));
    let modes_path = path.child("volumeLifecycleModes");
    for mode in opt_slice(&spec.volume_lifecycle_modes) {
        if !LIFECYCLE_MODES.contains(&mode.as_str()) {
            errs.push(FieldError::not_supported(
                &modes_path,
                mode,
                &LIFECYCLE_MODES,
            ));
        }
    }
    if spec.se_linux_mount.is_none() {
        errs.push(FieldError::required(&path.child("seLinuxMount"), ""));
    }
    if let Some(period) = spec
        .node_allocatable_update_period_seconds
        .filter(|p| *p < MIN_ALLOCATABLE_UPDATE_SECONDS)
    {
        errs.push(FieldError::invalid(
            &path.child("nodeAllocatableUpdatePeriodSeconds"),
            period,
            "must be greater than or equal to 10 seconds",
        ));
    }
    errs
}

/// Distinct audiences, and token lifetimes between ten minutes and 2^32 seconds.
fn token_requests(requests: &[TokenRequest], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut audiences = BTreeSet::new();
    for (i, request) in requests.iter().enumerate() {
        let request_path = path.index(i);
        if !audiences.insert(request.audience.as_str()) {
            errs.push(FieldError::duplicate(
                &request_path.child("audience"),
                &request.audience,
            ));
            continue;
        }
        let Some(seconds) = request.expiration_seconds else {
            continue;
        };
        let seconds_path = request_path.child("expirationSeconds");
        if seconds < MIN_TOKEN_SECONDS {
            errs.push(FieldError::invalid(
                &seconds_path,
                seconds,
                "may not specify a duration less than 10 minutes",
            ));
        }
        if seconds > MAX_TOKEN_SECONDS {
            errs.push(FieldError::invalid(
                &seconds_path,
                seconds,
                "may not specify a duration larger than 2^32 seconds",
            ));
        }
    }
    errs
}

/// Validates a CSINode on create (`old` is `None`) or update; an update is also checked as a
/// create, and a driver already registered on the node may not change.
pub fn csi_node(new: &CSINode, old: Option<&CSINode>) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(old) = old {
        errs.extend(object_meta(
            &new.metadata,
            false,
            NameRule::DnsSubdomain,
            Some(&old.metadata),
        ));
    }
    errs.extend(object_meta(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        None,
    ));
    let drivers_path = Path::new("spec").child("drivers");
    errs.extend(csi_node_drivers(&new.spec.drivers, &drivers_path));
    for old_driver in old.into_iter().flat_map(|o| &o.spec.drivers) {
        for new_driver in new
            .spec
            .drivers
            .iter()
            .filter(|d| d.name == old_driver.name)
        {
            if !same_driver(new_driver, old_driver) {
                errs.push(FieldError::invalid(
                    &drivers_path,
                    node_driver_value(new_driver),
                    FIELD_IMMUTABLE,
                ));
            }
        }
    }
    errs
}

/// Equal but for an empty topology key list standing for a missing one.
fn same_driver(a: &CSINodeDriver, b: &CSINodeDriver) -> bool {
    a.name == b.name
        && a.node_id == b.node_id
        && opt_slice(&a.topology_keys) == opt_slice(&b.topology_keys)
        && a.allocatable == b.allocatable
}

/// A driver entry as Go prints it.
fn node_driver_value(driver: &CSINodeDriver) -> Rendered {
    Rendered(format!(
        "storage.CSINodeDriver{{Name:{}, NodeID:{}, TopologyKeys:{}, Allocatable:{}}}",
        go::quote(&driver.name),
        go::quote(&driver.node_id),
        go::strings(driver.topology_keys.as_deref()).0,
        go::pointer("storage.VolumeNodeResources", driver.allocatable.is_some())
    ))
}

/// Driver names as CSIDriver names, node IDs, volume limits, and distinct topology keys.
fn csi_node_drivers(drivers: &[CSINodeDriver], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names = BTreeSet::new();
    for (i, driver) in drivers.iter().enumerate() {
        let driver_path = path.index(i);
        let name_path = driver_path.child("name");
        errs.extend(csi_driver_name(&driver.name, &name_path));
        let id_path = driver_path.child("nodeID");
        if driver.node_id.is_empty() {
            errs.push(FieldError::required(&id_path, ""));
        }
        if driver.node_id.len() > MAX_NODE_ID {
            errs.push(FieldError::invalid(
                &id_path,
                &driver.node_id,
                format!("must be {MAX_NODE_ID} characters or less"),
            ));
        }
        if let Some(count) = driver.allocatable.as_ref().and_then(|a| a.count) {
            errs.extend(non_negative(
                i64::from(count),
                &driver_path.child("allocatable").child("count"),
            ));
        }
        if !names.insert(driver.name.as_str()) {
            errs.push(FieldError::duplicate(&name_path, &driver.name));
        }
        // Upstream reports topology key problems against the driver, not the key.
        let mut keys = BTreeSet::new();
        for key in opt_slice(&driver.topology_keys) {
            if key.is_empty() {
                errs.push(FieldError::required(&driver_path, ""));
            }
            if !keys.insert(key.as_str()) {
                errs.push(FieldError::duplicate(&driver_path, key));
            }
            errs.extend(qualified_name(key, &driver_path));
        }
    }
    errs
}

/// Validates a VolumeAttachment on create (`old` is `None`) or update. New attachments must
/// name a valid driver and volume; once made, an attachment's spec never changes.
pub fn volume_attachment(new: &VolumeAttachment, old: Option<&VolumeAttachment>) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(old) = old {
        errs.extend(object_meta(
            &new.metadata,
            false,
            NameRule::DnsSubdomain,
            Some(&old.metadata),
        ));
    }
    errs.extend(object_meta(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        None,
    ));
    let spec_path = Path::new("spec");
    errs.extend(attachment_spec(&new.spec, &spec_path));
    if let Some(status) = &new.status {
        let status_path = Path::new("status");
        let metadata_size: usize = status
            .attachment_metadata
            .iter()
            .flatten()
            .map(|(k, v)| k.len() + v.len())
            .sum();
        if metadata_size > MAX_ATTACHMENT_METADATA_SIZE {
            errs.push(FieldError::too_long(
                &status_path.child("attachmentMetadata"),
                MAX_ATTACHMENT_METADATA_SIZE,
            ));
        }
        errs.extend(volume_error(
            status.attach_error.as_ref(),
            &status_path.child("attachError"),
        ));
        errs.extend(volume_error(
            status.detach_error.as_ref(),
            &status_path.child("detachError"),
        ));
    }
    match old {
        None => errs.extend(new_attachment(&new.spec, &spec_path)),
        Some(old) if new.spec != old.spec => errs.push(FieldError::invalid(
            &spec_path,
            attachment_spec_value(&new.spec),
            FIELD_IMMUTABLE,
        )),
        Some(_) => {}
    }
    errs
}

/// An attachment spec as Go prints it.
fn attachment_spec_value(spec: &VolumeAttachmentSpec) -> Rendered {
    Rendered(format!(
        "storage.VolumeAttachmentSpec{{Attacher:{}, Source:storage.VolumeAttachmentSource{{PersistentVolumeName:{}, InlineVolumeSpec:{}}}, NodeName:{}}}",
        go::quote(&spec.attacher),
        go::pointer("string", spec.source.persistent_volume_name.is_some()),
        go::pointer(
            "core.PersistentVolumeSpec",
            spec.source.inline_volume_spec.is_some()
        ),
        go::quote(&spec.node_name)
    ))
}

fn attachment_spec(spec: &VolumeAttachmentSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if spec.attacher.is_empty() {
        errs.push(FieldError::required(&path.child("attacher"), ""));
    }
    errs.extend(attachment_source(&spec.source, &path.child("source")));
    errs.extend(subdomain(&spec.node_name, &path.child("nodeName")));
    errs
}

/// Exactly one of a PersistentVolume's name and an inline volume spec.
fn attachment_source(source: &VolumeAttachmentSource, path: &Path) -> ErrorList {
    match (
        &source.inline_volume_spec,
        source.persistent_volume_name.as_deref(),
    ) {
        (None, None) => vec![FieldError::required(path, SOURCE_ONE_OF)],
        (Some(_), Some(_)) => vec![FieldError::forbidden(path, SOURCE_ONE_OF)],
        (None, Some("")) => vec![FieldError::required(
            &path.child("persistentVolumeName"),
            "must specify non empty persistentVolumeName",
        )],
        (None, Some(_)) => ErrorList::new(),
        (Some(inline), None) => {
            persistent_volume_spec(inline, true, &path.child("inlineVolumeSpec"))
        }
    }
}

/// Upstream caps the message at 1024 bytes but reports the limit of the attachment metadata.
fn volume_error(error: Option<&VolumeError>, path: &Path) -> ErrorList {
    let Some(error) = error else {
        return ErrorList::new();
    };
    let mut errs = ErrorList::new();
    if text(&error.message).len() > MAX_VOLUME_ERROR_MESSAGE {
        errs.push(FieldError::too_long(
            &path.child("message"),
            MAX_ATTACHMENT_METADATA_SIZE,
        ));
    }
    if let Some(code) = error.error_code.filter(|c| *c < 0) {
        errs.push(FieldError::invalid(
            &path.child("errorCode"),
            code,
            inclusive_range_error(0, i64::from(i32::MAX)),
        ));
    }
    errs
}

/// The stricter checks of the v1 API for new attachments: the attacher is a CSI driver name
/// and the volume a PersistentVolume name.
fn new_attachment(spec: &VolumeAttachmentSpec, path: &Path) -> ErrorList {
    let mut errs = csi_driver_name(&spec.attacher, &path.child("attacher"));
    if let Some(name) = spec.source.persistent_volume_name.as_deref() {
        errs.extend(subdomain(
            name,
            &path.child("source").child("persistentVolumeName"),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, stored};
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    fn cluster_meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    /// local-path-storage's class.
    fn local_path() -> StorageClass {
        StorageClass {
            metadata: cluster_meta("local-path"),
            provisioner: "rancher.io/local-path".into(),
            reclaim_policy: Some("Delete".into()),
            volume_binding_mode: Some("WaitForFirstConsumer".into()),
            ..Default::default()
        }
    }

    #[test]
    fn local_path_class_is_valid() {
        assert!(storage_class(&local_path(), None).is_empty());
    }

    #[test]
    fn class_fields() {
        let class = StorageClass {
            provisioner: String::new(),
            reclaim_policy: Some("Recycle".into()),
            volume_binding_mode: None,
            parameters: Some([(String::new(), "x".to_string())].into()),
            ..local_path()
        };
        assert_eq!(
            messages(&storage_class(&class, None)),
            vec![
                "provisioner: Required value",
                "parameters: Invalid value: \"\": field can not be empty.",
                "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"",
                "volumeBindingMode: Required value",
            ]
        );
        let odd = StorageClass {
            provisioner: "Example.com/My-Driver".into(),
            volume_binding_mode: Some("Later".into()),
            ..local_path()
        };
        assert_eq!(
            messages(&storage_class(&odd, None)),
            vec![
                "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\""
            ]
        );
    }

    #[test]
    fn class_topologies() {
        let class = StorageClass {
            allowed_topologies: Some(
                serde_json::from_value(json!([
                    {"matchLabelExpressions": [
                        {"key": "topology.kubernetes.io/zone", "values": ["a", "a"]},
                        {"key": "topology.kubernetes.io/zone", "values": []},
                    ]},
                    {},
                ]))
                .expect("topologies"),
            ),
            ..local_path()
        };
        assert_eq!(
            messages(&storage_class(&class, None)),
            vec![
                "allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: \"a\"",
                "allowedTopologies[0].matchLabelExpressions[1].values: Required value",
                "allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: \"topology.kubernetes.io/zone\"",
                "allowedTopologies[1].matchLabelExpressions: Duplicate value: \"\"",
                "allowedTopologies[1].matchLabelExpressions: Duplicate value: \"\"",
            ]
        );
    }

    #[test]
    fn classes_keep_what_their_volumes_depend_on() {
        let old = StorageClass {
            metadata: stored(cluster_meta("local-path")),
            ..local_path()
        };
        let new = StorageClass {
            metadata: old.metadata.clone(),
            provisioner: "example.com/other".into(),
            parameters: Some([("type".to_string(), "ssd".to_string())].into()),
            reclaim_policy: Some("Retain".into()),
            volume_binding_mode: Some("Immediate".into()),
            ..local_path()
        };
        assert_eq!(
            messages(&storage_class(&new, Some(&old))),
            vec![
                "parameters: Forbidden: updates to parameters are forbidden.",
                "provisioner: Forbidden: updates to provisioner are forbidden.",
                "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
                "volumeBindingMode: Invalid value: \"Immediate\": field is immutable",
            ]
        );
    }

    fn driver(spec: serde_json::Value) -> CSIDriver {
        CSIDriver {
            metadata: cluster_meta("hostpath.csi.k8s.io"),
            spec: serde_json::from_value(spec).expect("driver spec"),
        }
    }

    fn defaulted_driver() -> CSIDriver {
        driver(json!({
            "attachRequired": true,
            "podInfoOnMount": false,
            "storageCapacity": false,
            "fsGroupPolicy": "ReadWriteOnceWithFSType",
            "requiresRepublish": false,
            "seLinuxMount": false,
            "volumeLifecycleModes": ["Persistent"],
        }))
    }

    #[test]
    fn a_defaulted_driver_is_valid() {
        assert!(csi_driver(&defaulted_driver(), None).is_empty());
    }

    #[test]
    fn driver_spec_rules() {
        let bad = driver(json!({
            "podInfoOnMount": false,
            "storageCapacity": false,
            "seLinuxMount": false,
            "fsGroupPolicy": "Sometimes",
            "tokenRequests": [
                {"audience": "vault", "expirationSeconds": 60},
                {"audience": "vault"},
            ],
            "volumeLifecycleModes": ["Forever"],
            "nodeAllocatableUpdatePeriodSeconds": 5,
        }));
        assert_eq!(
            messages(&csi_driver(&bad, None)),
            vec![
                "spec.attachedRequired: Required value",
                "spec.fsGroupPolicy: Unsupported value: \"Sometimes\": supported values: \"File\", \"None\", \"ReadWriteOnceWithFSType\"",
                "spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes",
                "spec.tokenRequests[1].audience: Duplicate value: \"vault\"",
                "spec.volumeLifecycleModes: Unsupported value: \"Forever\": supported values: \"Persistent\", \"Ephemeral\"",
                "spec.nodeAllocatableUpdatePeriodSeconds: Invalid value: 5: must be greater than or equal to 10 seconds",
            ]
        );
    }

    #[test]
    fn drivers_keep_attachment_and_lifecycle_modes() {
        let old = CSIDriver {
            metadata: stored(cluster_meta("hostpath.csi.k8s.io")),
            ..defaulted_driver()
        };
        let mut new = old.clone();
        new.spec.pod_info_on_mount = Some(true);
        assert!(csi_driver(&new, Some(&old)).is_empty());
        new.spec.attach_required = Some(false);
        new.spec.volume_lifecycle_modes = Some(vec!["Persistent".into(), "Ephemeral".into()]);
        assert_eq!(
            messages(&csi_driver(&new, Some(&old))),
            vec![
                "spec.attachedRequired: Invalid value: false: field is immutable",
                "spec.volumeLifecycleModes: Invalid value: []storage.VolumeLifecycleMode{\"Persistent\", \"Ephemeral\"}: field is immutable",
            ]
        );
    }

    fn node(drivers: serde_json::Value) -> CSINode {
        CSINode {
            metadata: cluster_meta("node-1"),
            spec: serde_json::from_value(json!({ "drivers": drivers })).expect("node spec"),
        }
    }

    #[test]
    fn node_drivers() {
        let ok = node(json!([{
            "name": "hostpath.csi.k8s.io",
            "nodeID": "node-1",
            "topologyKeys": ["topology.hostpath.csi/node"],
            "allocatable": {"count": 10},
        }]));
        assert!(csi_node(&ok, None).is_empty());
        let long_id = "n".repeat(MAX_NODE_ID + 1);
        let bad = node(json!([
            {"name": "a.csi.k8s.io", "nodeID": long_id, "allocatable": {"count": -1}},
            {"name": "a.csi.k8s.io", "nodeID": "", "topologyKeys": ["zone", "zone"]},
        ]));
        assert_eq!(
            messages(&csi_node(&bad, None)),
            vec![
                format!(
                    "spec.drivers[0].nodeID: Invalid value: \"{long_id}\": must be 256 characters or less"
                ),
                "spec.drivers[0].allocatable.count: Invalid value: -1: must be greater than or equal to 0".to_string(),
                "spec.drivers[1].nodeID: Required value".to_string(),
                "spec.drivers[1].name: Duplicate value: \"a.csi.k8s.io\"".to_string(),
                "spec.drivers[1]: Duplicate value: \"zone\"".to_string(),
            ]
        );
    }

    #[test]
    fn registered_node_drivers_do_not_change() {
        let entry = |id: &str| json!([{"name": "hostpath.csi.k8s.io", "nodeID": id, "topologyKeys": ["zone"]}]);
        let old = CSINode {
            metadata: stored(cluster_meta("node-1")),
            ..node(entry("node-1"))
        };
        let new = CSINode {
            metadata: old.metadata.clone(),
            ..node(entry("node-2"))
        };
        assert_eq!(
            messages(&csi_node(&new, Some(&old))),
            vec![
                "spec.drivers: Invalid value: storage.CSINodeDriver{Name:\"hostpath.csi.k8s.io\", NodeID:\"node-2\", TopologyKeys:[]string{\"zone\"}, Allocatable:(*storage.VolumeNodeResources)(nil)}: field is immutable"
            ]
        );
    }

    fn attachment(source: serde_json::Value) -> VolumeAttachment {
        VolumeAttachment {
            metadata: cluster_meta("csi-0123"),
            spec: serde_json::from_value(json!({
                "attacher": "hostpath.csi.k8s.io",
                "nodeName": "node-1",
                "source": source,
            }))
            .expect("attachment spec"),
            status: None,
        }
    }

    #[test]
    fn attachments_name_one_source() {
        assert!(
            volume_attachment(&attachment(json!({"persistentVolumeName": "pv-1"})), None)
                .is_empty()
        );
        assert_eq!(
            messages(&volume_attachment(&attachment(json!({})), None)),
            vec![
                "spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"
            ]
        );
        assert_eq!(
            messages(&volume_attachment(
                &attachment(json!({"persistentVolumeName": ""})),
                None
            )),
            vec![
                "spec.source.persistentVolumeName: Required value: must specify non empty persistentVolumeName".to_string(),
                format!(
                    "spec.source.persistentVolumeName: Invalid value: \"\": {}",
                    is_dns1123_subdomain("")[0]
                ),
            ]
        );
        let inline = attachment(json!({"inlineVolumeSpec": {
            "accessModes": ["ReadWriteOnce"],
            "csi": {"driver": "hostpath.csi.k8s.io", "volumeHandle": "vol-1"},
            "capacity": {"storage": "1Gi"},
        }}));
        assert_eq!(
            messages(&volume_attachment(&inline, None)),
            vec![
                "spec.source.inlineVolumeSpec.capacity: Forbidden: may not be specified in the context of inline volumes"
            ]
        );
    }

    #[test]
    fn attachment_specs_are_immutable() {
        let old = VolumeAttachment {
            metadata: stored(cluster_meta("csi-0123")),
            ..attachment(json!({"persistentVolumeName": "pv-1"}))
        };
        let mut new = old.clone();
        new.spec.node_name = "node-2".into();
        assert_eq!(
            messages(&volume_attachment(&new, Some(&old))),
            vec![
                "spec: Invalid value: storage.VolumeAttachmentSpec{Attacher:\"hostpath.csi.k8s.io\", Source:storage.VolumeAttachmentSource{PersistentVolumeName:(*string)(0xc000000000), InlineVolumeSpec:(*core.PersistentVolumeSpec)(nil)}, NodeName:\"node-2\"}: field is immutable"
            ]
        );
    }
}
