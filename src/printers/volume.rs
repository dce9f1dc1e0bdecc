//! Tables of the core group's storage: persistent volumes and persistent volume claims, with
//! their capacity, access modes, phase, binding and classes.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static PERSISTENT_VOLUMES: Printer = Printer {
    columns: &PERSISTENT_VOLUME_COLUMNS,
    row: persistent_volume_row,
};
pub(super) static PERSISTENT_VOLUME_CLAIMS: Printer = Printer {
    columns: &PERSISTENT_VOLUME_CLAIM_COLUMNS,
    row: persistent_volume_claim_row,
};

const PERSISTENT_VOLUME_COLUMNS: [Column; 11] = [
    NAME,
    Column::string(
        "Capacity",
        "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
    ),
    Column::string(
        "Access Modes",
        "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes",
    ),
    Column::string(
        "Reclaim Policy",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
    ),
    Column::string(
        "Status",
        "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
    ),
    Column::string(
        "Claim",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding",
    ),
    Column::string("StorageClass", "StorageClass of the pv"),
    Column::string("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
    Column::string(
        "Reason",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    Column::string(
        "VolumeMode",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.",
    )
    .wide(),
];

const PERSISTENT_VOLUME_CLAIM_COLUMNS: [Column; 9] = [
    NAME,
    Column::string(
        "Status",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    Column::string(
        "Volume",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    Column::string(
        "Capacity",
        "capacity represents the actual resources of the underlying volume.",
    ),
    Column::string(
        "Access Modes",
        "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
    ),
    Column::string("StorageClass", "StorageClass of the pvc"),
    Column::string("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
    AGE,
    Column::string(
        "VolumeMode",
        "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.",
    )
    .wide(),
];

/// The annotation that named a volume's or claim's class before `storageClassName`; it still
/// wins over the field.
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// The API defaults an unset volume mode to a formatted filesystem.
const DEFAULT_VOLUME_MODE: &str = "Filesystem";

fn persistent_volume_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let volume: PersistentVolume = common::parse(object)?;
    let spec = volume.spec.unwrap_or_default();
    let status = volume.status.unwrap_or_default();
    let claim = spec.claim_ref.as_ref().map_or_else(String::new, |claim| {
        let namespace = claim.namespace.as_deref().unwrap_or_default();
        let name = claim.name.as_deref().unwrap_or_default();
        format!("{namespace}/{name}")
    });
    let class = beta_storage_class(&volume.metadata)
        .or(spec.storage_class_name.as_deref())
        .unwrap_or_default()
        .to_owned();
    // The API defaults a volume's phase to Pending and its reclaim policy to Retain.
    let phase = match &volume.metadata.deletion_timestamp {
        Some(_) => "Terminating".to_owned(),
        None => non_empty_or(status.phase, "Pending"),
    };
    Some(vec![
        common::name(&volume.metadata),
        storage(spec.capacity.as_ref()).into(),
        access_modes(spec.access_modes.as_deref().unwrap_or_default()).into(),
        non_empty_or(spec.persistent_volume_reclaim_policy, "Retain").into(),
        phase.into(),
        claim.into(),
        class.into(),
        spec.volume_attributes_class_name
            .unwrap_or_else(|| "<unset>".to_owned())
            .into(),
        status.reason.unwrap_or_default().into(),
        common::age(&volume.metadata, now),
        spec.volume_mode
            .unwrap_or_else(|| DEFAULT_VOLUME_MODE.to_owned())
            .into(),
    ])
}

/// A claim shows its capacity and access modes once it is bound to a volume, from its status;
/// before that both are empty.
fn persistent_volume_claim_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let claim: PersistentVolumeClaim = common::parse(object)?;
    let spec = claim.spec.unwrap_or_default();
    let status = claim.status.unwrap_or_default();
    let volume = spec.volume_name.unwrap_or_default();
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage(status.capacity.as_ref()),
            access_modes(status.access_modes.as_deref().unwrap_or_default()),
        )
    };
    let class = beta_storage_class(&claim.metadata)
        .or(spec.storage_class_name.as_deref())
        .unwrap_or_default()
        .to_owned();
    // The API defaults a claim's phase to Pending.
    let phase = match &claim.metadata.deletion_timestamp {
        Some(_) => "Terminating".to_owned(),
        None => non_empty_or(status.phase, "Pending"),
    };
    Some(vec![
        common::name(&claim.metadata),
        phase.into(),
        volume.into(),
        capacity.into(),
        modes.into(),
        class.into(),
        spec.volume_attributes_class_name
            .unwrap_or_else(|| "<unset>".to_owned())
            .into(),
        common::age(&claim.metadata, now),
        spec.volume_mode
            .unwrap_or_else(|| DEFAULT_VOLUME_MODE.to_owned())
            .into(),
    ])
}

/// The storage quantity among the resources, "0" when there is none.
fn storage(resources: Option<&BTreeMap<String, Quantity>>) -> String {
    common::quantity(resources.and_then(|resources| resources.get("storage")))
}

/// The access modes abbreviated, always in the order RWO, ROX, RWX, RWOP, each once.
fn access_modes(modes: &[String]) -> String {
    const ABBREVIATIONS: [(&str, &str); 4] = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ];
    let present: Vec<&str> = ABBREVIATIONS
        .iter()
        .filter(|&&(mode, _)| modes.iter().any(|held| held == mode))
        .map(|&(_, abbreviation)| abbreviation)
        .collect();
    present.join(",")
}

fn beta_storage_class(meta: &ObjectMeta) -> Option<&str> {
    meta.annotations
        .as_ref()
        .and_then(|annotations| annotations.get(BETA_STORAGE_CLASS_ANNOTATION))
        .map(String::as_str)
}

fn non_empty_or(value: Option<String>, default: &str) -> String {
    value
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| default.to_owned())
}
