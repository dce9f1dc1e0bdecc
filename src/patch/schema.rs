//! List and map semantics of the built-in kinds, as a compact static tree of types.
//!
//! Strategic merge patch and server-side apply both need to know, for each field of a
//! built-in type, whether a list is merged by key, merged as a set or replaced, and whether a
//! struct or map is owned as a whole. Upstream reads this from the Go struct tags
//! (`patchStrategy`, `patchMergeKey`) and the OpenAPI extensions (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`). Only fields that depart from the
//! defaults are listed here: an unlisted map merges key by key, an unlisted list is replaced
//! by strategic merge patch and atomic for apply. Subtrees such as `ObjectMeta`, `PodSpec`
//! and `Container` are shared between the kinds that embed them.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray,
};
use serde_json::{Map, Value};

/// The fields of a struct whose semantics depart from the defaults.
pub(super) type Fields = &'static [Field];

/// One field of a struct and the shape of its value.
#[derive(Clone, Debug)]
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) shape: Shape,
    /// Whether the Go zero value of the enclosing struct carries this field (a non-pointer
    /// struct, or a list without `omitempty`): upstream attributes a create by comparing the
    /// new object with that zero value, so such fields are never "added" themselves.
    in_zero_value: bool,
}

/// How a value merges and is owned.
#[derive(Clone, Copy, Debug)]
pub(super) enum Shape {
    /// A struct or map merged field by field.
    Fields(Fields),
    /// A struct or map replaced and owned as a whole (`x-kubernetes-map-type: atomic`).
    Atomic,
    /// A list with its own strategies.
    List(List),
}

/// The strategies of one list field.
#[derive(Clone, Copy, Debug)]
pub(super) struct List {
    pub(super) smp: Smp,
    pub(super) apply: ApplyList,
    pub(super) items: Items,
}

/// How strategic merge patch combines a list (`patchStrategy` / `patchMergeKey`).
#[derive(Clone, Copy, Debug)]
pub(super) enum Smp {
    /// The patch's list replaces the object's.
    Replace,
    /// Primitive elements merged as a set (`patchStrategy: merge` without a merge key).
    MergeValues,
    /// Map elements merged one by one, matched on this key.
    MergeOn(&'static str),
}

/// How server-side apply identifies a list's elements (`x-kubernetes-list-type`).
#[derive(Clone, Copy, Debug)]
pub(super) enum ApplyList {
    /// The list is one value, owned as a whole.
    Atomic,
    /// Primitive elements, each owned by value.
    Set,
    /// Map elements, each owned by its key fields (`x-kubernetes-list-map-keys`).
    Map(&'static [Key]),
}

/// One key field of a map list, with the default upstream assumes when it is left out.
#[derive(Debug)]
pub(super) struct Key {
    pub(super) name: &'static str,
    pub(super) default: Option<&'static str>,
}

/// The shape of a list's elements.
#[derive(Clone, Copy, Debug)]
pub(super) enum Items {
    Fields(Fields),
    Atomic,
}

impl Items {
    pub(super) fn shape(self) -> Shape {
        match self {
            Items::Fields(fields) => Shape::Fields(fields),
            Items::Atomic => Shape::Atomic,
        }
    }

    /// The element fields strategic merge patch descends into; an atomic struct still merges
    /// field by field there, and none of those hold lists with strategies.
    pub(super) fn fields(self) -> Fields {
        match self {
            Items::Fields(fields) => fields,
            Items::Atomic => &[],
        }
    }
}

impl Shape {
    /// The fields strategic merge patch descends into for a map of this shape.
    pub(super) fn fields(self) -> Fields {
        match self {
            Shape::Fields(fields) => fields,
            Shape::Atomic | Shape::List(_) => &[],
        }
    }
}

impl Key {
    const fn required(name: &'static str) -> Self {
        Self {
            name,
            default: None,
        }
    }

    const fn defaulted(name: &'static str, default: &'static str) -> Self {
        Self {
            name,
            default: Some(default),
        }
    }
}

impl Field {
    /// Marks a field the Go zero value of its struct carries.
    const fn in_zero_value(self) -> Self {
        Self {
            in_zero_value: true,
            ..self
        }
    }
}

/// The shape `name` has in a struct of `fields`, when it departs from the defaults.
pub(super) fn lookup(fields: Fields, name: &str) -> Option<Shape> {
    fields
        .iter()
        .find(|field| field.name == name)
        .map(|field| field.shape)
}

/// The top-level fields of a kind; unknown kinds get the defaults below their metadata.
pub(super) fn of_kind(api_version: &str, kind: &str) -> Fields {
    KINDS
        .iter()
        .find(|(version, name, _)| *version == api_version && *name == kind)
        .map_or(UNKNOWN, |(_, _, fields)| fields)
}

/// The Go zero value of a struct, reduced to what matters for comparisons: the nested
/// structs it always carries, and `null` for lists it carries without `omitempty`.
pub(super) fn zero_value(fields: Fields) -> Value {
    let present = fields
        .iter()
        .filter(|field| field.in_zero_value)
        .map(|field| {
            let value = match field.shape {
                Shape::Fields(inner) => zero_value(inner),
                Shape::Atomic | Shape::List(_) => Value::Null,
            };
            (field.name.to_owned(), value)
        });
    Value::Object(present.collect::<Map<_, _>>())
}

const fn field(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        in_zero_value: false,
    }
}

/// An optional struct or map merged field by field.
const fn object(name: &'static str, fields: Fields) -> Field {
    field(name, Shape::Fields(fields))
}

/// A non-pointer struct, present even in its parent's zero value.
const fn always(name: &'static str, fields: Fields) -> Field {
    object(name, fields).in_zero_value()
}

/// A struct or map owned as a whole.
const fn atomic(name: &'static str) -> Field {
    field(name, Shape::Atomic)
}

const fn list(name: &'static str, smp: Smp, apply: ApplyList, items: Items) -> Field {
    field(name, Shape::List(List { smp, apply, items }))
}

/// A list of maps merged on `merge_key` by strategic merge patch and keyed by `keys` for apply.
const fn keyed(
    name: &'static str,
    merge_key: &'static str,
    keys: &'static [Key],
    items: Items,
) -> Field {
    list(name, Smp::MergeOn(merge_key), ApplyList::Map(keys), items)
}

/// A list of primitives merged as a set in both worlds.
const fn set(name: &'static str) -> Field {
    list(name, Smp::MergeValues, ApplyList::Set, PLAIN)
}

/// Elements whose fields all follow the defaults.
const PLAIN: Items = Items::Fields(&[]);

const NAME: &[Key] = &[Key::required("name")];
const TYPE: &[Key] = &[Key::required("type")];
const IP: &[Key] = &[Key::required("ip")];
const UID: &[Key] = &[Key::required("uid")];
const MOUNT_PATH: &[Key] = &[Key::required("mountPath")];
const DEVICE_PATH: &[Key] = &[Key::required("devicePath")];
const CONTAINER_PORT: &[Key] = &[
    Key::required("containerPort"),
    Key::defaulted("protocol", "TCP"),
];
const SERVICE_PORT: &[Key] = &[Key::required("port"), Key::defaulted("protocol", "TCP")];
const TOPOLOGY_SPREAD: &[Key] = &[
    Key::required("topologyKey"),
    Key::required("whenUnsatisfiable"),
];

/// Status conditions, merged by `type` in both worlds.
const CONDITIONS: Field = keyed("conditions", "type", TYPE, PLAIN);

const OBJECT_META: Fields = &[
    keyed("ownerReferences", "uid", UID, Items::Atomic),
    set("finalizers"),
];

const CONTAINER: Fields = &[
    keyed("ports", "containerPort", CONTAINER_PORT, PLAIN),
    keyed("env", "name", NAME, Items::Fields(ENV_VAR)),
    object("resources", RESOURCE_REQUIREMENTS),
    keyed("volumeMounts", "mountPath", MOUNT_PATH, PLAIN),
    keyed("volumeDevices", "devicePath", DEVICE_PATH, PLAIN),
];
const ENV_VAR: Fields = &[object("valueFrom", ENV_VAR_SOURCE)];
const ENV_VAR_SOURCE: Fields = &[
    atomic("configMapKeyRef"),
    atomic("fieldRef"),
    atomic("fileKeyRef"),
    atomic("resourceFieldRef"),
    atomic("secretKeyRef"),
];
const RESOURCE_REQUIREMENTS: Fields = &[list("claims", Smp::Replace, ApplyList::Map(NAME), PLAIN)];

const VOLUME: Fields = &[
    object("cephfs", SECRET_REF),
    object("cinder", SECRET_REF),
    object("csi", CSI_VOLUME),
    object("ephemeral", EPHEMERAL_VOLUME),
    object("flexVolume", SECRET_REF),
    object("iscsi", SECRET_REF),
    object("rbd", SECRET_REF),
    object("scaleIO", SECRET_REF),
    object("storageos", SECRET_REF),
];
const SECRET_REF: Fields = &[atomic("secretRef")];
const CSI_VOLUME: Fields = &[atomic("nodePublishSecretRef")];
const EPHEMERAL_VOLUME: Fields = &[object("volumeClaimTemplate", PVC_TEMPLATE)];
const PVC_TEMPLATE: Fields = &[object("metadata", OBJECT_META), object("spec", PVC_SPEC)];
const PVC_SPEC: Fields = &[atomic("dataSource"), atomic("selector")];

const AFFINITY: Fields = &[object("nodeAffinity", NODE_AFFINITY)];
const NODE_AFFINITY: Fields = &[atomic("requiredDuringSchedulingIgnoredDuringExecution")];
const TOPOLOGY_SPREAD_CONSTRAINT: Fields = &[atomic("labelSelector")];

const POD_SPEC: Fields = &[
    keyed("volumes", "name", NAME, Items::Fields(VOLUME)),
    keyed("initContainers", "name", NAME, Items::Fields(CONTAINER)),
    keyed("containers", "name", NAME, Items::Fields(CONTAINER)).in_zero_value(),
    keyed(
        "ephemeralContainers",
        "name",
        NAME,
        Items::Fields(CONTAINER),
    ),
    atomic("nodeSelector"),
    keyed("imagePullSecrets", "name", NAME, Items::Atomic),
    object("affinity", AFFINITY),
    keyed("hostAliases", "ip", IP, PLAIN),
    keyed(
        "topologySpreadConstraints",
        "topologyKey",
        TOPOLOGY_SPREAD,
        Items::Fields(TOPOLOGY_SPREAD_CONSTRAINT),
    ),
    keyed("schedulingGates", "name", NAME, PLAIN),
    keyed("resourceClaims", "name", NAME, PLAIN),
    object("resources", RESOURCE_REQUIREMENTS),
];
const POD_STATUS: Fields = &[
    CONDITIONS,
    list("hostIPs", Smp::MergeOn("ip"), ApplyList::Atomic, PLAIN),
    keyed("podIPs", "ip", IP, PLAIN),
    keyed("resourceClaimStatuses", "name", NAME, PLAIN),
];
const POD_TEMPLATE_SPEC: Fields = &[always("metadata", OBJECT_META), always("spec", POD_SPEC)];

const POD: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", POD_SPEC),
    always("status", POD_STATUS),
];
const NODE: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", NODE_SPEC),
    always("status", NODE_STATUS),
];
const NODE_SPEC: Fields = &[set("podCIDRs")];
const NODE_STATUS: Fields = &[CONDITIONS, keyed("addresses", "type", TYPE, PLAIN)];
const NAMESPACE: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", &[]),
    always("status", CONDITIONS_ONLY),
];
const SERVICE: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", SERVICE_SPEC),
    always("status", SERVICE_STATUS),
];
const SERVICE_SPEC: Fields = &[
    keyed("ports", "port", SERVICE_PORT, PLAIN),
    atomic("selector"),
];
const SERVICE_STATUS: Fields = &[always("loadBalancer", &[]), CONDITIONS];
const SERVICE_ACCOUNT: Fields = &[
    always("metadata", OBJECT_META),
    keyed("secrets", "name", NAME, Items::Atomic),
];
const EVENT: Fields = &[
    always("metadata", OBJECT_META),
    atomic("involvedObject"),
    atomic("related"),
];
/// Kinds with nothing but metadata to tell (their lists are replaced and owned whole): ConfigMap,
/// Secret, Endpoints, EndpointSlice, the RBAC roles, and the cluster's settings kinds.
const METADATA_ONLY: Fields = &[always("metadata", OBJECT_META)];
const LEASE: Fields = &[always("metadata", OBJECT_META), always("spec", &[])];

/// A status made of conditions merged by type, as the namespaces and workload controllers have.
const CONDITIONS_ONLY: Fields = &[CONDITIONS];
const DEPLOYMENT: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", DEPLOYMENT_SPEC),
    always("status", CONDITIONS_ONLY),
];
const DEPLOYMENT_SPEC: Fields = &[
    atomic("selector"),
    always("template", POD_TEMPLATE_SPEC),
    always("strategy", &[]),
];
const REPLICA_SET: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", REPLICA_SET_SPEC),
    always("status", CONDITIONS_ONLY),
];
const REPLICA_SET_SPEC: Fields = &[atomic("selector"), always("template", POD_TEMPLATE_SPEC)];
/// StatefulSet and DaemonSet agree on everything listed here.
const ROLLING_WORKLOAD: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", ROLLING_SPEC),
    always("status", CONDITIONS_ONLY),
];
const ROLLING_SPEC: Fields = &[
    atomic("selector"),
    always("template", POD_TEMPLATE_SPEC),
    always("updateStrategy", &[]),
];
const JOB_SPEC: Fields = &[atomic("selector"), always("template", POD_TEMPLATE_SPEC)];
const JOB_STATUS: Fields = &[
    list("conditions", Smp::MergeOn("type"), ApplyList::Atomic, PLAIN),
    object("uncountedTerminatedPods", UNCOUNTED_TERMINATED_PODS),
];
const UNCOUNTED_TERMINATED_PODS: Fields = &[
    list("failed", Smp::Replace, ApplyList::Set, PLAIN),
    list("succeeded", Smp::Replace, ApplyList::Set, PLAIN),
];
const JOB: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", JOB_SPEC),
    always("status", JOB_STATUS),
];
const JOB_TEMPLATE_SPEC: Fields = &[always("metadata", OBJECT_META), always("spec", JOB_SPEC)];
const CRON_JOB: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", CRON_JOB_SPEC),
    always("status", &[]),
];
const CRON_JOB_SPEC: Fields = &[always("jobTemplate", JOB_TEMPLATE_SPEC)];

const REPLICATION_CONTROLLER: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", REPLICATION_CONTROLLER_SPEC),
    always("status", CONDITIONS_ONLY),
];
const REPLICATION_CONTROLLER_SPEC: Fields =
    &[atomic("selector"), object("template", POD_TEMPLATE_SPEC)];
const POD_TEMPLATE: Fields = &[
    always("metadata", OBJECT_META),
    object("template", POD_TEMPLATE_SPEC),
];
const PERSISTENT_VOLUME_CLAIM: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", PVC_SPEC),
    always("status", CONDITIONS_ONLY),
];
const PERSISTENT_VOLUME: Fields = &[always("metadata", OBJECT_META), always("spec", PV_SPEC)];
const PV_SPEC: Fields = &[atomic("claimRef"), object("nodeAffinity", PV_NODE_AFFINITY)];
const PV_NODE_AFFINITY: Fields = &[atomic("required")];
/// A kind whose spec selects pods by label, with conditions in its status: PodDisruptionBudget.
const SELECTING_WITH_CONDITIONS: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", &[atomic("selector")]),
    always("status", CONDITIONS_ONLY),
];
/// A kind with conditions in its status and nothing else of note: HorizontalPodAutoscaler,
/// CertificateSigningRequest, FlowSchema, PriorityLevelConfiguration.
const WITH_CONDITIONS: Fields = &[
    always("metadata", OBJECT_META),
    always("status", CONDITIONS_ONLY),
];
const NETWORK_POLICY: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", &[atomic("podSelector")]),
];
const CSI_NODE: Fields = &[
    always("metadata", OBJECT_META),
    always("spec", &[keyed("drivers", "name", NAME, PLAIN)]),
];
const ROLE_BINDING: Fields = &[always("metadata", OBJECT_META), atomic("roleRef")];
const WEBHOOK_CONFIGURATION: Fields = &[
    always("metadata", OBJECT_META),
    keyed("webhooks", "name", NAME, Items::Fields(WEBHOOK)),
];
const WEBHOOK: Fields = &[
    atomic("namespaceSelector"),
    atomic("objectSelector"),
    keyed("matchConditions", "name", NAME, PLAIN),
];
/// A policy's param kind and match constraints are atomic structs.
const ADMISSION_POLICY: Fields = &[
    always("metadata", OBJECT_META),
    always(
        "spec",
        &[
            atomic("paramKind"),
            atomic("matchConstraints"),
            keyed("matchConditions", "name", NAME, PLAIN),
        ],
    ),
    always("status", CONDITIONS_ONLY),
];
/// So are a binding's param reference and match resources; its actions are a set that
/// strategic merge patch replaces.
const ADMISSION_POLICY_BINDING: Fields = &[
    always("metadata", OBJECT_META),
    always(
        "spec",
        &[
            atomic("paramRef"),
            atomic("matchResources"),
            list("validationActions", Smp::Replace, ApplyList::Set, PLAIN),
        ],
    ),
];

/// Kinds this table does not know: only their metadata has known semantics.
const UNKNOWN: Fields = &[object("metadata", OBJECT_META)];

/// The top-level fields of a custom resource whose CRD version has this structural schema:
/// its metadata as every object's, the rest as the schema's `x-kubernetes-list-type`,
/// `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` say. Upstream's CRD lists default
/// to atomic, as unlisted lists do here. The tree is made once per CRD version and kept for
/// the process's life, as the version's resource is.
pub(super) fn of_structural(schema: &JSONSchemaProps) -> Fields {
    let mut fields = UNKNOWN.to_vec();
    fields.extend(
        structural_fields(schema)
            .into_iter()
            .filter(|field| !matches!(field.name, "metadata" | "apiVersion" | "kind")),
    );
    Box::leak(fields.into_boxed_slice())
}

/// The properties of an object schema whose semantics depart from the defaults. The values of
/// a map (`additionalProperties`) keep the defaults.
fn structural_fields(schema: &JSONSchemaProps) -> Vec<Field> {
    let properties = schema.properties.iter().flatten();
    properties
        .filter_map(|(name, property)| {
            let shape = structural_shape(property)?;
            Some(field(Box::leak(name.clone().into_boxed_str()), shape))
        })
        .collect()
}

fn structural_shape(schema: &JSONSchemaProps) -> Option<Shape> {
    if schema.type_.as_deref() == Some("array") {
        let items = match &schema.items {
            Some(JSONSchemaPropsOrArray::Schema(items)) => Some(&**items),
            _ => None,
        };
        let apply = match schema.x_kubernetes_list_type.as_deref() {
            Some("set") => ApplyList::Set,
            Some("map") => ApplyList::Map(map_keys(schema, items)),
            _ => ApplyList::Atomic,
        };
        let items = match items.map(structural_shape) {
            Some(Some(Shape::Fields(fields))) => Items::Fields(fields),
            Some(Some(Shape::Atomic)) => Items::Atomic,
            _ => PLAIN,
        };
        if matches!(apply, ApplyList::Atomic) && matches!(items, Items::Fields([])) {
            return None;
        }
        let smp = Smp::Replace;
        return Some(Shape::List(List { smp, apply, items }));
    }
    if schema.x_kubernetes_map_type.as_deref() == Some("atomic") {
        return Some(Shape::Atomic);
    }
    let fields = structural_fields(schema);
    (!fields.is_empty()).then(|| Shape::Fields(Box::leak(fields.into_boxed_slice())))
}

/// A map list's keys, each with the string default its item schema gives it, as upstream
/// fills a key left out; keys with other defaults are required.
fn map_keys(list: &JSONSchemaProps, items: Option<&JSONSchemaProps>) -> &'static [Key] {
    let keys = list
        .x_kubernetes_list_map_keys
        .iter()
        .flatten()
        .map(|name| {
            let default = items
                .and_then(|items| items.properties.as_ref()?.get(name)?.default.as_ref())
                .and_then(|default| default.0.as_str())
                .map(|default| &*Box::leak(default.to_owned().into_boxed_str()));
            Key {
                name: Box::leak(name.clone().into_boxed_str()),
                default,
            }
        });
    Box::leak(keys.collect::<Vec<_>>().into_boxed_slice())
}

const KINDS: &[(&str, &str, Fields)] = &[
    ("v1", "Pod", POD),
    ("v1", "Node", NODE),
    ("v1", "Namespace", NAMESPACE),
    ("v1", "Service", SERVICE),
    ("v1", "Endpoints", METADATA_ONLY),
    ("v1", "ConfigMap", METADATA_ONLY),
    ("v1", "Secret", METADATA_ONLY),
    ("v1", "ServiceAccount", SERVICE_ACCOUNT),
    ("v1", "Event", EVENT),
    ("apps/v1", "Deployment", DEPLOYMENT),
    ("apps/v1", "ReplicaSet", REPLICA_SET),
    ("apps/v1", "StatefulSet", ROLLING_WORKLOAD),
    ("apps/v1", "DaemonSet", ROLLING_WORKLOAD),
    ("batch/v1", "Job", JOB),
    ("batch/v1", "CronJob", CRON_JOB),
    ("coordination.k8s.io/v1", "Lease", LEASE),
    ("discovery.k8s.io/v1", "EndpointSlice", METADATA_ONLY),
    ("v1", "ReplicationController", REPLICATION_CONTROLLER),
    ("v1", "PodTemplate", POD_TEMPLATE),
    ("v1", "PersistentVolumeClaim", PERSISTENT_VOLUME_CLAIM),
    ("v1", "PersistentVolume", PERSISTENT_VOLUME),
    ("v1", "ResourceQuota", METADATA_ONLY),
    ("v1", "LimitRange", METADATA_ONLY),
    ("apps/v1", "ControllerRevision", METADATA_ONLY),
    (
        "policy/v1",
        "PodDisruptionBudget",
        SELECTING_WITH_CONDITIONS,
    ),
    ("autoscaling/v2", "HorizontalPodAutoscaler", WITH_CONDITIONS),
    (
        "certificates.k8s.io/v1",
        "CertificateSigningRequest",
        WITH_CONDITIONS,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1",
        "FlowSchema",
        WITH_CONDITIONS,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1",
        "PriorityLevelConfiguration",
        WITH_CONDITIONS,
    ),
    ("networking.k8s.io/v1", "NetworkPolicy", NETWORK_POLICY),
    ("networking.k8s.io/v1", "Ingress", METADATA_ONLY),
    ("networking.k8s.io/v1", "IngressClass", METADATA_ONLY),
    ("storage.k8s.io/v1", "StorageClass", METADATA_ONLY),
    ("storage.k8s.io/v1", "CSIDriver", METADATA_ONLY),
    ("storage.k8s.io/v1", "CSINode", CSI_NODE),
    ("storage.k8s.io/v1", "VolumeAttachment", METADATA_ONLY),
    ("rbac.authorization.k8s.io/v1", "Role", METADATA_ONLY),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", METADATA_ONLY),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", ROLE_BINDING),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        ROLE_BINDING,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        WEBHOOK_CONFIGURATION,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        WEBHOOK_CONFIGURATION,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
        ADMISSION_POLICY,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
        ADMISSION_POLICY_BINDING,
    ),
    ("scheduling.k8s.io/v1", "PriorityClass", METADATA_ONLY),
    ("node.k8s.io/v1", "RuntimeClass", METADATA_ONLY),
];
