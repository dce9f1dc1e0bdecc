//! Storage: storage.k8s.io/v1's StorageClasses, CSIDrivers, CSINodes and VolumeAttachments,
//! and core/v1's PersistentVolumes and PersistentVolumeClaims. Claims and volumes start
//! Pending whatever status a client sends.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, StorageClass, VolumeAttachment};

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    StorageClasses: StorageClass,
    validate: validation::storage_class,
    defaults: defaults::storage_class,
);
kind!(
    CsiDrivers: CSIDriver,
    validate: validation::csi_driver,
    defaults: defaults::csi_driver,
);
kind!(CsiNodes: CSINode, validate: validation::csi_node);
kind!(
    VolumeAttachments: VolumeAttachment,
    validate: validation::volume_attachment,
    prepare_create: empty_attachment_status,
);
kind!(
    PersistentVolumes: PersistentVolume,
    validate: validation::persistent_volume,
    defaults: defaults::persistent_volume,
    prepare_create: pending_volume,
);
kind!(
    PersistentVolumeClaims: PersistentVolumeClaim,
    validate: validation::persistent_volume_claim,
    defaults: defaults::persistent_volume_claim,
    prepare_create: pending_claim,
);

fn empty_attachment_status(attachment: &mut VolumeAttachment) {
    attachment.status = Some(Default::default());
}

fn pending_volume(volume: &mut PersistentVolume) {
    volume.status = None;
    defaults::persistent_volume(volume);
}

fn pending_claim(claim: &mut PersistentVolumeClaim) {
    claim.status = None;
    defaults::persistent_volume_claim(claim);
}

pub static STORAGE_CLASSES: Resource = Resource {
    group: "storage.k8s.io",
    version: "v1",
    kind: "StorageClass",
    plural: "storageclasses",
    singular: "storageclass",
    short_names: &["sc"],
    categories: &[],
    namespaced: false,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<StorageClasses>::NEW,
};

pub static CSI_DRIVERS: Resource = Resource {
    kind: "CSIDriver",
    plural: "csidrivers",
    singular: "csidriver",
    short_names: &[],
    strategy: &Typed::<CsiDrivers>::NEW,
    ..STORAGE_CLASSES
};

pub static CSI_NODES: Resource = Resource {
    kind: "CSINode",
    plural: "csinodes",
    singular: "csinode",
    short_names: &[],
    strategy: &Typed::<CsiNodes>::NEW,
    ..STORAGE_CLASSES
};

pub static VOLUME_ATTACHMENTS: Resource = Resource {
    kind: "VolumeAttachment",
    plural: "volumeattachments",
    singular: "volumeattachment",
    short_names: &[],
    subresources: &[Subresource::Status],
    strategy: &Typed::<VolumeAttachments>::NEW,
    ..STORAGE_CLASSES
};

pub static PERSISTENT_VOLUMES: Resource = Resource {
    group: "",
    kind: "PersistentVolume",
    plural: "persistentvolumes",
    singular: "persistentvolume",
    short_names: &["pv"],
    subresources: &[Subresource::Status],
    strategy: &Typed::<PersistentVolumes>::NEW,
    ..STORAGE_CLASSES
};

pub static PERSISTENT_VOLUME_CLAIMS: Resource = Resource {
    kind: "PersistentVolumeClaim",
    plural: "persistentvolumeclaims",
    singular: "persistentvolumeclaim",
    short_names: &["pvc"],
    namespaced: true,
    strategy: &Typed::<PersistentVolumeClaims>::NEW,
    ..PERSISTENT_VOLUMES
};
