//! Tables of storage.k8s.io: storage classes (the default one marked), CSI drivers and what they
//! ask of Kubernetes, the CSI drivers registered on each node, and volume attachments.

use jiff::Timestamp;
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, StorageClass, VolumeAttachment};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static STORAGE_CLASSES: Printer = Printer {
    columns: &STORAGE_CLASS_COLUMNS,
    row: storage_class_row,
};
pub(super) static CSI_DRIVERS: Printer = Printer {
    columns: &CSI_DRIVER_COLUMNS,
    row: csi_driver_row,
};
pub(super) static CSI_NODES: Printer = Printer {
    columns: &CSI_NODE_COLUMNS,
    row: csi_node_row,
};
pub(super) static VOLUME_ATTACHMENTS: Printer = Printer {
    columns: &VOLUME_ATTACHMENT_COLUMNS,
    row: volume_attachment_row,
};

const STORAGE_CLASS_COLUMNS: [Column; 6] = [
    NAME,
    Column::string(
        "Provisioner",
        "provisioner indicates the type of the provisioner.",
    ),
    Column::string(
        "ReclaimPolicy",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.",
    ),
    Column::string(
        "VolumeBindingMode",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.",
    ),
    Column::string(
        "AllowVolumeExpansion",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    AGE,
];

const CSI_DRIVER_COLUMNS: [Column; 8] = [
    NAME,
    Column::boolean(
        "AttachRequired",
        "attachRequired indicates this CSI volume driver requires an attach operation (because it implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller should call the attach volume interface which checks the volumeattachment status and waits until the volume is attached before proceeding to mounting. The CSI external-attacher coordinates with CSI volume driver and updates the volumeattachment status when the attach operation is complete. If the CSIDriverRegistry feature gate is enabled and the value is specified to false, the attach operation will be skipped. Otherwise the attach operation will be called.\n\nThis field is immutable.",
    ),
    Column::boolean(
        "PodInfoOnMount",
        "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations, if set to true. If set to false, pod information will not be passed on mount. Default is false.\n\nThe CSI driver specifies podInfoOnMount as part of driver deployment. If true, Kubelet will pass pod information as VolumeContext in the CSI NodePublishVolume() calls. The CSI driver is responsible for parsing and validating the information passed in as VolumeContext.\n\nThe following VolumeContext will be passed if podInfoOnMount is set to true. This list might grow, but the prefix will be used. \"csi.storage.k8s.io/pod.name\": pod.Name \"csi.storage.k8s.io/pod.namespace\": pod.Namespace \"csi.storage.k8s.io/pod.uid\": string(pod.UID) \"csi.storage.k8s.io/ephemeral\": \"true\" if the volume is an ephemeral inline volume\n                                defined by a CSIVolumeSource, otherwise \"false\"\n\n\"csi.storage.k8s.io/ephemeral\" is a new feature in Kubernetes 1.16. It is only required for drivers which support both the \"Persistent\" and \"Ephemeral\" VolumeLifecycleMode. Other drivers can leave pod info disabled and/or ignore this field. As Kubernetes 1.15 doesn't support this field, drivers can only support one mode when deployed on such a cluster and the deployment determines which mode that is, for example via a command line parameter of the driver.\n\nThis field was immutable in Kubernetes < 1.29 and now is mutable.",
    ),
    Column::boolean(
        "StorageCapacity",
        "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report by creating CSIStorageCapacity objects with capacity information, if set to true.\n\nThe check can be enabled immediately when deploying a driver. In that case, provisioning new volumes with late binding will pause until the driver deployment has published some suitable CSIStorageCapacity object.\n\nAlternatively, the driver can be deployed with the field unset or false and it can be flipped later when storage capacity information has been published.\n\nThis field was immutable in Kubernetes <= 1.22 and now is mutable.",
    ),
    Column::string(
        "TokenRequests",
        "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication. Kubelet will pass the tokens in VolumeContext in the CSI NodePublishVolume calls. The CSI driver should parse and validate the following VolumeContext: \"csi.storage.k8s.io/serviceAccount.tokens\": {\n  \"<audience>\": {\n    \"token\": <token>,\n    \"expirationTimestamp\": <expiration timestamp in RFC3339>,\n  },\n  ...\n}\n\nNote: Audience in each TokenRequest should be different and at most one token is empty string. To receive a new token after expiry, RequiresRepublish can be used to trigger NodePublishVolume periodically.",
    ),
    Column::boolean(
        "RequiresRepublish",
        "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume. This field defaults to false.\n\nNote: After a successful initial NodePublishVolume call, subsequent calls to NodePublishVolume should only update the contents of the volume. New mount points will not be seen by a running container.",
    ),
    Column::string(
        "Modes",
        "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports. The default if the list is empty is \"Persistent\", which is the usage defined by the CSI specification and implemented in Kubernetes via the usual PV/PVC mechanism.\n\nThe other mode is \"Ephemeral\". In this mode, volumes are defined inline inside the pod spec with CSIVolumeSource and their lifecycle is tied to the lifecycle of that pod. A driver has to be aware of this because it is only going to get a NodePublishVolume call for such a volume.\n\nFor more information about implementing this mode, see https://kubernetes-csi.github.io/docs/ephemeral-local-volumes.html A driver can support one or more of these modes and more modes may be added in the future.\n\nThis field is beta. This field is immutable.",
    ),
    AGE,
];

const CSI_NODE_COLUMNS: [Column; 3] = [
    NAME,
    Column::integer(
        "Drivers",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    AGE,
];

const VOLUME_ATTACHMENT_COLUMNS: [Column; 6] = [
    NAME,
    // Upstream gives the attacher the name format too; kubectl takes the first such column,
    // the object's name, for the `kind/name` of `--show-kind`.
    Column {
        format: "name",
        ..Column::string(
            "Attacher",
            "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName().",
        )
    },
    Column::string(
        "PV",
        "persistentVolumeName represents the name of the persistent volume to attach.",
    ),
    Column::string(
        "Node",
        "nodeName represents the node that the volume should be attached to.",
    ),
    Column::boolean(
        "Attached",
        "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher.",
    ),
    AGE,
];

/// Annotations marking the storage class claims get when they name none; the beta one still
/// counts.
const DEFAULT_CLASS_ANNOTATIONS: [&str; 2] = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

fn storage_class_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let class: StorageClass = common::parse(object)?;
    let mut name = class.metadata.name.clone().unwrap_or_default();
    if is_default_class(&class.metadata) {
        name.push_str(" (default)");
    }
    // The API defaults these as shown when they are unset.
    let reclaim_policy = class.reclaim_policy.unwrap_or_else(|| "Delete".to_owned());
    let binding_mode = class
        .volume_binding_mode
        .unwrap_or_else(|| "Immediate".to_owned());
    Some(vec![
        name.into(),
        class.provisioner.into(),
        reclaim_policy.into(),
        binding_mode.into(),
        class.allow_volume_expansion.unwrap_or(false).into(),
        common::age(&class.metadata, now),
    ])
}

fn is_default_class(meta: &ObjectMeta) -> bool {
    let annotations = meta.annotations.as_ref();
    DEFAULT_CLASS_ANNOTATIONS.iter().any(|key| {
        annotations
            .and_then(|annotations| annotations.get(*key))
            .is_some_and(|value| value == "true")
    })
}

fn csi_driver_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let driver: CSIDriver = common::parse(object)?;
    let spec = driver.spec;
    let token_requests = spec.token_requests.as_ref().map_or_else(
        || "<unset>".to_owned(),
        |requests| {
            let audiences: Vec<&str> = requests
                .iter()
                .map(|request| request.audience.as_str())
                .collect();
            audiences.join(",")
        },
    );
    // The API defaults a driver that names no lifecycle mode to persistent volumes only.
    let modes = match spec.volume_lifecycle_modes.as_deref() {
        None | Some([]) => "Persistent".to_owned(),
        Some(modes) => modes.join(","),
    };
    // Unset flags read as the API defaults them: attaching required, the rest off.
    Some(vec![
        common::name(&driver.metadata),
        spec.attach_required.unwrap_or(true).into(),
        spec.pod_info_on_mount.unwrap_or(false).into(),
        spec.storage_capacity.unwrap_or(false).into(),
        token_requests.into(),
        spec.requires_republish.unwrap_or(false).into(),
        modes.into(),
        common::age(&driver.metadata, now),
    ])
}

fn csi_node_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let node: CSINode = common::parse(object)?;
    Some(vec![
        common::name(&node.metadata),
        node.spec.drivers.len().into(),
        common::age(&node.metadata, now),
    ])
}

fn volume_attachment_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let attachment: VolumeAttachment = common::parse(object)?;
    let spec = attachment.spec;
    let attached = attachment.status.is_some_and(|status| status.attached);
    Some(vec![
        common::name(&attachment.metadata),
        spec.attacher.into(),
        spec.source
            .persistent_volume_name
            .unwrap_or_default()
            .into(),
        spec.node_name.into(),
        attached.into(),
        common::age(&attachment.metadata, now),
    ])
}
