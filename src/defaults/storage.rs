//! Storage defaults: StorageClasses, CSIDrivers, PersistentVolumes and their claims (upstream's
//! `SetDefaults_*` of storage/v1 and of core/v1's volume kinds).

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};

use super::{set_if_none, set_if_unset};

/// Volumes are deleted with their claim and bound as soon as the claim is made.
pub fn storage_class(class: &mut StorageClass) {
    set_if_unset(&mut class.reclaim_policy, "Delete");
    set_if_unset(&mut class.volume_binding_mode, "Immediate");
}

/// A driver that needs attaching, mounted per pod only for persistent volumes, with the
/// fsGroup applied when the volume has a filesystem type.
pub fn csi_driver(driver: &mut CSIDriver) {
    let spec = &mut driver.spec;
    set_if_none(&mut spec.attach_required, true);
    set_if_none(&mut spec.pod_info_on_mount, false);
    set_if_none(&mut spec.storage_capacity, false);
    set_if_unset(&mut spec.fs_group_policy, "ReadWriteOnceWithFSType");
    set_if_none(&mut spec.requires_republish, false);
    set_if_none(&mut spec.se_linux_mount, false);
    if spec
        .volume_lifecycle_modes
        .as_ref()
        .is_none_or(Vec::is_empty)
    {
        spec.volume_lifecycle_modes = Some(vec!["Persistent".to_string()]);
    }
}

/// A volume is kept when released, holds a filesystem, and starts Pending.
pub fn persistent_volume(volume: &mut PersistentVolume) {
    let spec = volume.spec.get_or_insert_with(Default::default);
    set_if_unset(&mut spec.persistent_volume_reclaim_policy, "Retain");
    set_if_unset(&mut spec.volume_mode, "Filesystem");
    let status = volume.status.get_or_insert_with(Default::default);
    set_if_unset(&mut status.phase, "Pending");
}

/// A claim asks for a filesystem and starts Pending.
pub fn persistent_volume_claim(claim: &mut PersistentVolumeClaim) {
    let spec = claim.spec.get_or_insert_with(Default::default);
    set_if_unset(&mut spec.volume_mode, "Filesystem");
    let status = claim.status.get_or_insert_with(Default::default);
    set_if_unset(&mut status.phase, "Pending");
}

/// A StatefulSet's claim template reads as a stored claim.
pub(super) fn claim_template(claim: &mut PersistentVolumeClaim) {
    persistent_volume_claim(claim);
}
