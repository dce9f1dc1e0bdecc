#!/usr/bin/env python3
"""Generates src/protobuf/schema.rs, the table that drives the protobuf request decoder.

Field numbers, wire kinds and message types come from the prost structs of the k8s-pb
crate; JSON field names, and whether a field is optional, come from the serde code of the
k8s-openapi crate. Both are read from the local cargo registry (`cargo fetch` puts them
there). Fields are matched per type by their names with underscores removed and lowercased.

Run from anywhere:

    python3 tools/gen-protobuf-schema.py

The script writes nothing and exits non-zero when any field, type or table entry below
cannot be matched, so a crate upgrade cannot silently drop a field.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

PB_CRATE = "k8s-pb-0.9.0"
OPENAPI_CRATE = "k8s-openapi-0.29.0"
OPENAPI_VERSION = "v1_33"
OUTPUT = Path(__file__).resolve().parent.parent / "src" / "protobuf" / "schema.rs"

# Modules (paths shared by both crates) whose top-level kinds the decoder accepts.
ROOT_MODULES = [
    "api/core/v1",
    "api/apps/v1",
    "api/batch/v1",
    "api/coordination/v1",
    "api/discovery/v1",
    "api/policy/v1",
    "api/authentication/v1",
    "api/authorization/v1",
    "api/autoscaling/v1",
    "api/autoscaling/v2",
    "api/rbac/v1",
    "api/networking/v1",
    "api/storage/v1",
    "api/scheduling/v1",
    "api/node/v1",
    "api/certificates/v1",
    "api/flowcontrol/v1",
    "api/admissionregistration/v1",
    "apimachinery/pkg/apis/meta/v1",
]

META_V1 = "apimachinery/pkg/apis/meta/v1"

# Kubernetes registers DeleteOptions in every group version, and clients send it under the
# group version of the resource they delete; k8s-openapi declares no Resource impl for it.
DELETE_OPTIONS_EXTRA_API_VERSIONS = ["meta.k8s.io/v1"]

# Messages whose JSON form is not an object; the decoder handles them by name
# (the `Kind` variants of src/protobuf/model.rs).
WELL_KNOWN = {
    (META_V1, "Time"): "Time",
    (META_V1, "MicroTime"): "MicroTime",
    (META_V1, "FieldsV1"): "EmbeddedJson",
    ("apimachinery/pkg/runtime", "RawExtension"): "EmbeddedJson",
    ("apimachinery/pkg/api/resource", "Quantity"): "Quantity",
    ("apimachinery/pkg/util/intstr", "IntOrString"): "IntOrString",
    (META_V1, "Verbs"): "StringList",
    ("api/authentication/v1", "ExtraValue"): "StringList",
    ("api/authorization/v1", "ExtraValue"): "StringList",
    ("api/certificates/v1", "ExtraValue"): "StringList",
}

# Optional scalar fields (an `Option` in k8s-openapi) whose zero value Kubernetes' JSON keeps,
# by type and JSON name, as the Go types of the served Kubernetes version declare them.
# Go's protobuf encoder writes a value-typed scalar even when it is zero, and Go's JSON
# encoder leaves that zero out (omitempty), so the decoder drops zeros of optional scalars.
# Most fields listed here are pointers in Go: written only when set, with a meaningful zero
# (`replicas: 0`, `gracePeriodSeconds: 0`). The others are value fields that Go encodes
# without omitempty although OpenAPI calls them optional. The .proto files cannot express
# either, so the list lives here.
ZERO_KEPT = {
    "api/apps/v1.DaemonSetSpec": "revisionHistoryLimit",
    "api/apps/v1.DaemonSetStatus": "collisionCount",
    "api/apps/v1.DeploymentSpec": "replicas revisionHistoryLimit progressDeadlineSeconds",
    "api/apps/v1.DeploymentStatus": "collisionCount terminatingReplicas",
    "api/apps/v1.ReplicaSetSpec": "replicas",
    "api/apps/v1.ReplicaSetStatus": "terminatingReplicas",
    "api/apps/v1.RollingUpdateStatefulSetStrategy": "partition",
    "api/apps/v1.StatefulSetOrdinals": "start",
    "api/apps/v1.StatefulSetSpec": "replicas serviceName revisionHistoryLimit",
    "api/apps/v1.StatefulSetStatus": "collisionCount availableReplicas",
    "api/authentication/v1.TokenRequestSpec": "expirationSeconds",
    "api/autoscaling/v1.HorizontalPodAutoscalerSpec": "minReplicas targetCPUUtilizationPercentage",
    "api/autoscaling/v1.HorizontalPodAutoscalerStatus": (
        "observedGeneration currentCPUUtilizationPercentage"
    ),
    "api/admissionregistration/v1.MutatingWebhook": "timeoutSeconds",
    "api/admissionregistration/v1.ServiceReference": "port",
    "api/admissionregistration/v1.ValidatingWebhook": "timeoutSeconds",
    "api/autoscaling/v2.HPAScalingRules": "stabilizationWindowSeconds",
    "api/autoscaling/v2.HorizontalPodAutoscalerSpec": "minReplicas",
    "api/autoscaling/v2.HorizontalPodAutoscalerStatus": "observedGeneration",
    "api/autoscaling/v2.MetricTarget": "averageUtilization",
    "api/autoscaling/v2.MetricValueStatus": "averageUtilization",
    "api/batch/v1.CronJobSpec": (
        "startingDeadlineSeconds suspend successfulJobsHistoryLimit failedJobsHistoryLimit timeZone"
    ),
    "api/batch/v1.JobSpec": (
        "parallelism completions activeDeadlineSeconds manualSelector backoffLimit "
        "ttlSecondsAfterFinished completionMode suspend backoffLimitPerIndex maxFailedIndexes "
        "podReplacementPolicy managedBy"
    ),
    "api/batch/v1.JobStatus": "ready failedIndexes terminating",
    "api/batch/v1.PodFailurePolicyOnExitCodesRequirement": "containerName",
    "api/batch/v1.SuccessPolicyRule": "succeededIndexes succeededCount",
    "api/certificates/v1.CertificateSigningRequestSpec": "expirationSeconds",
    "api/coordination/v1.LeaseSpec": (
        "holderIdentity leaseDurationSeconds leaseTransitions strategy preferredHolder"
    ),
    "api/core/v1.AppArmorProfile": "localhostProfile",
    "api/core/v1.AzureDiskVolumeSource": "cachingMode fsType readOnly kind",
    "api/core/v1.AzureFilePersistentVolumeSource": "secretNamespace",
    "api/core/v1.CSIVolumeSource": "readOnly fsType",
    "api/core/v1.ClientIPConfig": "timeoutSeconds",
    "api/core/v1.ClusterTrustBundleProjection": "name signerName optional",
    "api/core/v1.ConfigMap": "immutable",
    "api/core/v1.ConfigMapEnvSource": "optional",
    "api/core/v1.ConfigMapKeySelector": "optional",
    "api/core/v1.ConfigMapProjection": "optional",
    "api/core/v1.ConfigMapVolumeSource": "defaultMode optional",
    "api/core/v1.Container": "restartPolicy",
    "api/core/v1.ContainerStatus": "started stopSignal",
    "api/core/v1.DownwardAPIVolumeFile": "mode",
    "api/core/v1.DownwardAPIVolumeSource": "defaultMode",
    "api/core/v1.EndpointAddress": "nodeName",
    "api/core/v1.EndpointPort": "appProtocol",
    "api/core/v1.EphemeralContainerCommon": "restartPolicy",
    "api/core/v1.Event": "reportingComponent reportingInstance",
    "api/core/v1.FCVolumeSource": "lun",
    "api/core/v1.GRPCAction": "service",
    "api/core/v1.GlusterfsPersistentVolumeSource": "endpointsNamespace",
    "api/core/v1.HostPathVolumeSource": "type",
    "api/core/v1.ISCSIPersistentVolumeSource": "initiatorName",
    "api/core/v1.ISCSIVolumeSource": "initiatorName",
    "api/core/v1.KeyToPath": "mode",
    "api/core/v1.Lifecycle": "stopSignal",
    "api/core/v1.LoadBalancerIngress": "ipMode",
    "api/core/v1.LocalVolumeSource": "fsType",
    "api/core/v1.NodeFeatures": "supplementalGroupsPolicy",
    "api/core/v1.NodeRuntimeHandler": "name",
    "api/core/v1.NodeRuntimeHandlerFeatures": "recursiveReadOnlyMounts userNamespaces",
    "api/core/v1.NodeSwapStatus": "capacity",
    "api/core/v1.PersistentVolumeClaimSpec": (
        "storageClassName volumeMode volumeAttributesClassName"
    ),
    "api/core/v1.PersistentVolumeClaimStatus": "currentVolumeAttributesClassName",
    "api/core/v1.PersistentVolumeSpec": "volumeMode volumeAttributesClassName",
    "api/core/v1.PodDNSConfigOption": "value",
    "api/core/v1.PodResourceClaim": "resourceClaimName resourceClaimTemplateName",
    "api/core/v1.PodResourceClaimStatus": "resourceClaimName",
    "api/core/v1.PodSecurityContext": (
        "runAsUser runAsNonRoot fsGroup runAsGroup fsGroupChangePolicy supplementalGroupsPolicy "
        "seLinuxChangePolicy"
    ),
    "api/core/v1.PodSpec": (
        "terminationGracePeriodSeconds activeDeadlineSeconds automountServiceAccountToken priority "
        "shareProcessNamespace runtimeClassName enableServiceLinks preemptionPolicy "
        "setHostnameAsFQDN hostUsers"
    ),
    "api/core/v1.PortStatus": "error",
    "api/core/v1.Probe": "terminationGracePeriodSeconds",
    "api/core/v1.ProjectedVolumeSource": "defaultMode",
    "api/core/v1.ReplicationControllerSpec": "replicas",
    "api/core/v1.SeccompProfile": "localhostProfile",
    "api/core/v1.Secret": "immutable",
    "api/core/v1.SecretEnvSource": "optional",
    "api/core/v1.SecretKeySelector": "optional",
    "api/core/v1.SecretProjection": "optional",
    "api/core/v1.SecretVolumeSource": "defaultMode optional",
    "api/core/v1.SecurityContext": (
        "privileged runAsUser runAsNonRoot readOnlyRootFilesystem allowPrivilegeEscalation "
        "runAsGroup procMount"
    ),
    "api/core/v1.ServiceAccount": "automountServiceAccountToken",
    "api/core/v1.ServiceAccountTokenProjection": "expirationSeconds",
    "api/core/v1.ServicePort": "appProtocol",
    "api/core/v1.ServiceSpec": (
        "ipFamilyPolicy allocateLoadBalancerNodePorts loadBalancerClass internalTrafficPolicy "
        "trafficDistribution"
    ),
    "api/core/v1.Toleration": "tolerationSeconds",
    "api/core/v1.TopologySpreadConstraint": "minDomains nodeAffinityPolicy nodeTaintsPolicy",
    "api/core/v1.TypedLocalObjectReference": "apiGroup",
    "api/core/v1.TypedObjectReference": "apiGroup namespace",
    "api/core/v1.VolumeMount": "mountPropagation recursiveReadOnly",
    "api/core/v1.VolumeMountStatus": "recursiveReadOnly",
    "api/core/v1.WindowsSecurityContextOptions": (
        "gmsaCredentialSpecName gmsaCredentialSpec runAsUserName hostProcess"
    ),
    "api/discovery/v1.Endpoint": "hostname nodeName zone",
    "api/discovery/v1.EndpointConditions": "ready serving terminating",
    "api/discovery/v1.EndpointPort": "name protocol port appProtocol",
    "api/flowcontrol/v1.ExemptPriorityLevelConfiguration": "nominalConcurrencyShares lendablePercent",
    "api/flowcontrol/v1.LimitedPriorityLevelConfiguration": (
        "nominalConcurrencyShares lendablePercent borrowingLimitPercent"
    ),
    "api/networking/v1.NetworkPolicyPort": "endPort",
    "api/policy/v1.PodDisruptionBudgetSpec": "unhealthyPodEvictionPolicy",
    "api/scheduling/v1.PriorityClass": "preemptionPolicy",
    "api/storage/v1.CSIDriverSpec": (
        "attachRequired podInfoOnMount storageCapacity fsGroupPolicy requiresRepublish "
        "seLinuxMount nodeAllocatableUpdatePeriodSeconds"
    ),
    "api/storage/v1.StorageClass": "allowVolumeExpansion",
    "api/storage/v1.VolumeError": "errorCode",
    "api/storage/v1.VolumeNodeResources": "count",
    "apimachinery/pkg/apis/meta/v1.DeleteOptions": (
        "gracePeriodSeconds orphanDependents propagationPolicy "
        "ignoreStoreReadErrorWithClusterBreakingPotential"
    ),
    "apimachinery/pkg/apis/meta/v1.ListMeta": "remainingItemCount",
    "apimachinery/pkg/apis/meta/v1.ObjectMeta": "deletionGracePeriodSeconds",
    "apimachinery/pkg/apis/meta/v1.OwnerReference": "controller blockOwnerDeletion",
    "apimachinery/pkg/apis/meta/v1.Preconditions": "uid resourceVersion",
}

# Required scalar fields whose zero value Kubernetes' JSON still omits (omitempty in Go).
ZERO_OMITTED = {
    "api/core/v1.LocalObjectReference": "name",
}

# prost scalar kinds and their `Kind` variants.
SCALAR_KINDS = {
    "bool": "Bool",
    "int32": "Int32",
    "int64": "Int64",
    "string": "String",
    "bytes": "Bytes",
}


class GenerationError(Exception):
    """A mismatch between the crates and this script's expectations."""


@dataclass(frozen=True)
class PbField:
    """One field of a prost struct."""

    name: str
    tag: int
    kind: str  # a key of SCALAR_KINDS, or "message"
    shape: str  # "single", "repeated" or "map"
    target: tuple[str, str] | None  # (module, type) of a message kind


@dataclass(frozen=True)
class JsonField:
    """One field of a k8s-openapi struct."""

    name: str
    optional: bool


@dataclass(frozen=True)
class RootKind:
    """A top-level kind and the (module, type) of its message."""

    api_version: str
    kind: str
    target: tuple[str, str]


def normalize(name: str) -> str:
    return name.removeprefix("r#").replace("_", "").lower()


def crate_source(crate: str) -> Path:
    matches = sorted(Path.home().glob(f".cargo/registry/src/*/{crate}/src"))
    if not matches:
        raise GenerationError(f"{crate} is not in the cargo registry; run `cargo fetch` first")
    return matches[0]


def screaming(name: str) -> str:
    """`HTTPGetAction` -> `HTTP_GET_ACTION`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()


def module_label(module: str) -> str:
    """`api/apps/v1` -> `apps/v1`; `apimachinery/pkg/apis/meta/v1` -> `meta/v1`."""
    for prefix in ("api/", "apimachinery/pkg/apis/"):
        if module.startswith(prefix):
            return module.removeprefix(prefix)
    return module


class PbCrate:
    """The prost structs of k8s-pb, parsed on demand per module."""

    STRUCT = re.compile(r"^pub struct (\w+) \{(.*?)^\}", re.S | re.M)
    FIELD = re.compile(r"#\[prost\((.*?)\)\]\s*pub ((?:r#)?\w+):\s*(.+?),\s*(?=#\[prost|$)", re.S)
    ATTR = re.compile(r'(\w+)(?:\s*=\s*"([^"]*)")?')
    LAST_PATH = re.compile(r"((?:\w+::)*\w+)[\s,>]*$")

    def __init__(self) -> None:
        self.root = crate_source(PB_CRATE)
        self.modules: dict[str, dict[str, list[PbField]]] = {}

    def message(self, module: str, name: str) -> list[PbField]:
        if module not in self.modules:
            self.modules[module] = self.parse_module(module)
        try:
            return self.modules[module][name]
        except KeyError:
            raise GenerationError(f"k8s-pb has no message {module}.{name}") from None

    def parse_module(self, module: str) -> dict[str, list[PbField]]:
        source = (self.root / module / "mod.rs").read_text()
        source = re.sub(r"^\s*///.*\n", "", source, flags=re.M)
        return {
            name: [self.parse_field(module, name, *field) for field in self.FIELD.findall(body)]
            for name, body in self.STRUCT.findall(source)
        }

    def parse_field(
        self, module: str, message: str, attr: str, name: str, rust_type: str
    ) -> PbField:
        where = f"{module}.{message}.{name}"
        tokens = self.ATTR.findall(attr)
        options = dict(tokens)
        flags = {key for key, value in tokens if not value}
        tag = int(options["tag"])
        if "btree_map" in options:
            key, value = (part.strip() for part in options["btree_map"].split(","))
            if key != "string":
                raise GenerationError(f"{where}: map key {key!r} is not a string")
            return PbField(name, tag, value, "map", self.target(module, value, rust_type, where))
        kind = tokens[0][0]
        shape = "repeated" if "repeated" in flags else "single"
        if shape == "single" and "optional" not in flags:
            raise GenerationError(f"{where}: unsupported prost attribute {attr!r}")
        return PbField(name, tag, kind, shape, self.target(module, kind, rust_type, where))

    def target(self, module: str, kind: str, rust_type: str, where: str) -> tuple[str, str] | None:
        if kind != "message":
            if kind not in SCALAR_KINDS:
                raise GenerationError(f"{where}: unsupported field kind {kind!r}")
            return None
        match = self.LAST_PATH.search(rust_type)
        if not match:
            raise GenerationError(f"{where}: cannot read the message type of {rust_type!r}")
        *path, name = match.group(1).split("::")
        segments = module.split("/")
        for segment in path:
            if segment == "super" and segments:
                segments.pop()
            elif segment != "super":
                segments.append(segment)
            else:
                raise GenerationError(f"{where}: type path {rust_type!r} leaves the crate")
        return "/".join(segments), name


class OpenApiCrate:
    """The structs and Resource impls of one Kubernetes version of k8s-openapi, per module."""

    STRUCT = re.compile(r"^pub struct (\w+) \{(.*?)^\}", re.S | re.M)
    MEMBER = re.compile(r"^\s*pub (\w+): (.+),$", re.M)
    JSON_NAME = re.compile(r'"(\w+)" => Field::Key_(\w+)')
    RESOURCE = re.compile(
        r"impl crate::Resource for (\w+) \{.*?API_VERSION: &'static str = \"(.*?)\";"
        r".*?KIND: &'static str = \"(.*?)\";",
        re.S,
    )

    def __init__(self, version: str) -> None:
        self.root = crate_source(OPENAPI_CRATE) / version
        self.modules: dict[str, tuple[dict[str, dict[str, JsonField]], list[RootKind]]] = {}
        self.spellings: dict[tuple[str, str], str] = {}

    def spelling(self, module: str, name: str) -> str:
        """The Kubernetes spelling of a type name (`HTTPGetAction` for k8s-pb's `HttpGetAction`)."""
        self.module(module)
        return self.spellings.get((module, normalize(name)), name)

    def fields(self, module: str, name: str) -> dict[str, JsonField] | None:
        """A struct's fields keyed by normalized name, or None when there is no such struct.

        Type names are compared normalized too: k8s-pb spells `PodIp` where k8s-openapi
        spells `PodIP`.
        """
        return self.module(module)[0].get(normalize(name))

    def roots(self, module: str) -> list[RootKind]:
        return self.module(module)[1]

    def module(self, module: str) -> tuple[dict[str, dict[str, JsonField]], list[RootKind]]:
        if module not in self.modules:
            self.modules[module] = self.parse_module(module)
        return self.modules[module]

    def parse_module(self, module: str) -> tuple[dict[str, dict[str, JsonField]], list[RootKind]]:
        types: dict[str, dict[str, JsonField]] = {}
        roots: list[RootKind] = []
        for path in sorted((self.root / module).glob("*.rs")):
            source = path.read_text()
            structs = self.STRUCT.findall(source)
            if len(structs) > 1:
                raise GenerationError(f"{path}: more than one struct in a file")
            for name, body in structs:
                types[normalize(name)] = self.parse_struct(name, body, source)
                self.spellings[(module, normalize(name))] = name
            roots += [RootKind(v, k, (module, t)) for t, v, k in self.RESOURCE.findall(source)]
        return types, roots

    def parse_struct(self, name: str, body: str, source: str) -> dict[str, JsonField]:
        members = dict(self.MEMBER.findall(body))
        fields = {}
        for json_name, member in self.JSON_NAME.findall(source):
            if member in members:
                optional = members[member].startswith("Option<")
                fields[normalize(json_name)] = JsonField(json_name, optional)
        if len(fields) != len(members):
            raise GenerationError(f"k8s-openapi {name}: cannot find the JSON name of every field")
        return fields


def newer_versions() -> list[OpenApiCrate]:
    """The Kubernetes versions of k8s-openapi after OPENAPI_VERSION, which k8s-pb may track."""

    def number(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.name.removeprefix("v").split("_"))

    served = number(Path(OPENAPI_VERSION))
    versions = [path for path in crate_source(OPENAPI_CRATE).glob("v1_*") if number(path) > served]
    return [OpenApiCrate(path.name) for path in sorted(versions, key=number)]


@dataclass(frozen=True)
class Row:
    """One field of a message in the generated table."""

    tag: int
    json: str
    kind: str  # Rust expression of the `Kind`
    shape: str  # Rust name of the `Shape` variant


# A message to convert, with the (module, type) of the k8s-openapi struct that names its fields.
Pending = tuple[tuple[str, str], tuple[str, str]]


class Generator:
    """Walks the messages reachable from the top-level kinds and builds their rows."""

    def __init__(self) -> None:
        self.pb = PbCrate()
        self.openapi = OpenApiCrate(OPENAPI_VERSION)
        self.newer = newer_versions()
        self.messages: dict[tuple[str, str], list[Row]] = {}
        self.left_out: list[str] = []
        self.errors: list[str] = []
        self.zero_kept = field_table(ZERO_KEPT)
        self.zero_omitted = field_table(ZERO_OMITTED)

    def run(self) -> str:
        roots = self.roots()
        pending: list[Pending] = [(root.target, root.target) for root in roots]
        while pending:
            message, source = pending.pop()
            if message not in self.messages and message not in WELL_KNOWN:
                self.messages[message] = self.convert(message, source, pending)
        self.report_unused("ZERO_KEPT", ZERO_KEPT, self.zero_kept)
        self.report_unused("ZERO_OMITTED", ZERO_OMITTED, self.zero_omitted)
        if self.errors:
            raise GenerationError("\n".join(self.errors))
        names = {message: self.openapi.spelling(*message) for message in self.messages}
        return render(roots, self.messages, names, self.left_out)

    def report_unused(
        self, name: str, table: dict[str, str], unused: dict[tuple[str, str], set[str]]
    ) -> None:
        """Reports the entries of a field table that named no scalar field of any message."""
        for key in table:
            module, type_name = key.rsplit(".", 1)
            fields = sorted(unused.get((module, normalize(type_name)), ()))
            self.errors += [f"{name} {key}.{field}: no such scalar field" for field in fields]

    def roots(self) -> list[RootKind]:
        roots = [root for module in ROOT_MODULES for root in self.openapi.roots(module)]
        delete_options = (META_V1, "DeleteOptions")
        api_versions = {root.api_version for root in roots} | set(DELETE_OPTIONS_EXTRA_API_VERSIONS)
        roots += [RootKind(version, "DeleteOptions", delete_options) for version in api_versions]
        return sorted(roots, key=lambda root: (root.api_version, root.kind))

    def convert(
        self, message: tuple[str, str], source: tuple[str, str], pending: list[Pending]
    ) -> list[Row]:
        """The rows of one message; queues the messages its fields refer to."""
        module, name = message
        json_fields = self.openapi.fields(*source)
        if json_fields is None:
            self.errors.append(f"{module}.{name}: no k8s-openapi struct of that name")
            return []
        kept = self.zero_kept.pop((module, normalize(name)), set())
        omitted = self.zero_omitted.pop((module, normalize(name)), set())
        fields = []
        for pb_field in sorted(self.pb.message(module, name), key=lambda field: field.tag):
            where = f"{module}.{name}.{pb_field.name}"
            json_field = json_fields.get(normalize(pb_field.name))
            if json_field is not None:
                field_shape = shape(pb_field, json_field, kept, omitted)
                fields.append(self.row(pb_field, json_field.name, field_shape))
                if pb_field.target:
                    pending.append((pb_field.target, pb_field.target))
            elif self.is_newer(source, pb_field):
                self.left_out.append(where)
            elif pb_field.target and self.is_inline(source, pb_field.target):
                fields.append(self.row(pb_field, camel_case(pb_field.name), "Inline"))
                own = self.openapi.fields(*pb_field.target) is not None
                pending.append((pb_field.target, pb_field.target if own else source))
            else:
                self.errors.append(f"{where}: no JSON name in k8s-openapi")
        if kept:
            self.zero_kept[(module, normalize(name))] = kept
        if omitted:
            self.zero_omitted[(module, normalize(name))] = omitted
        return fields

    def is_newer(self, source: tuple[str, str], pb_field: PbField) -> bool:
        """Whether the field first appears after the served Kubernetes version."""
        name = normalize(pb_field.name)
        return any(name in (newer.fields(*source) or {}) for newer in self.newer)

    def is_inline(self, source: tuple[str, str], target: tuple[str, str]) -> bool:
        """Whether a message field is a Go embedded struct, whose fields JSON spells inline."""
        crates = [self.openapi, *self.newer]
        names = {name for crate in crates for name in crate.fields(*source) or {}}

        # An embedded struct may embed another (NamedRuleWithOperations embeds
        # RuleWithOperations, which embeds Rule): its fields are inline too.
        def spelled_inline(message: tuple[str, str]) -> bool:
            return all(
                normalize(field.name) in names
                or (field.target is not None and spelled_inline(field.target))
                for field in self.pb.message(*message)
            )

        return spelled_inline(target)

    def row(self, pb_field: PbField, json: str, shape: str) -> Row:
        return Row(pb_field.tag, json, self.kind(pb_field), shape)

    def kind(self, field: PbField) -> str:
        if field.target is None:
            return f"K::{SCALAR_KINDS[field.kind]}"
        if field.target in WELL_KNOWN:
            return f"K::{WELL_KNOWN[field.target]}"
        return f"K::Message(&{static_name(field.target)})"


def camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def field_table(table: dict[str, str]) -> dict[tuple[str, str], set[str]]:
    """Keys ZERO_KEPT or ZERO_OMITTED by (module, normalized type name)."""
    fields = {}
    for key, names in table.items():
        module, name = key.rsplit(".", 1)
        fields[(module, normalize(name))] = set(names.split())
    return fields


def shape(pb_field: PbField, json_field: JsonField, kept: set[str], omitted: set[str]) -> str:
    """The `Shape` of a matched field; marks the entries of `kept` and `omitted` it uses."""
    if pb_field.shape == "repeated":
        return "Repeated"
    if pb_field.shape == "map":
        return "Map"
    if pb_field.target is not None:
        return "Single"
    omit_zero = (json_field.optional or json_field.name in omitted) and json_field.name not in kept
    kept.discard(json_field.name)
    omitted.discard(json_field.name)
    return "OmitEmpty" if omit_zero else "Single"


def static_name(message: tuple[str, str]) -> str:
    module, name = message
    return f"{module_label(module).replace('/', '_').upper()}_{screaming(name)}"


def render(
    roots: list[RootKind],
    messages: dict[tuple[str, str], list[Row]],
    names: dict[tuple[str, str], str],
    left_out: list[str],
) -> str:
    statics = [static_name(message) for message in messages]
    if len(set(statics)) != len(statics):
        raise GenerationError("two messages map to the same static name")
    out = [
        "//! Protobuf schema of the Kubernetes kinds the API server accepts: generated,",
        "//! do not edit.",
        "//!",
        f"//! Generated by `tools/gen-protobuf-schema.py` from the `{PB_CRATE}` and",
        f"//! `{OPENAPI_CRATE}` (`{OPENAPI_VERSION}`) crate sources; regenerate with",
        "//! `python3 tools/gen-protobuf-schema.py`.",
        "",
        *left_out_comment(left_out),
        "use super::model::{Field as F, Kind as K, Message, Root, Shape as S};",
        "",
        "/// The top-level kinds, by apiVersion and kind.",
        "pub(super) static ROOTS: &[Root] = &[",
    ]
    out += [
        f'    Root::new("{root.api_version}", "{root.kind}", &{static_name(root.target)}),'
        for root in roots
    ]
    out.append("];")
    for message in sorted(messages):
        label = f"{module_label(message[0])}.{names[message]}"
        out.append("")
        out.append(f'static {static_name(message)}: Message = Message::new("{label}", &[')
        out += [
            f'    F::new({row.tag}, "{row.json}", {row.kind}, S::{row.shape}),'
            for row in messages[message]
        ]
        out.append("]);")
    return "\n".join(out) + "\n"


def left_out_comment(left_out: list[str]) -> list[str]:
    """Names the k8s-pb fields newer than the served Kubernetes version, left out of the table."""
    if not left_out:
        return []
    served = OPENAPI_VERSION.removeprefix("v").replace("_", ".")
    lines = [f"// Fields newer than Kubernetes {served}, left out (decoded as unknown fields):"]
    lines += [f"//   {field}" for field in sorted(left_out)]
    return lines + [""]


def main() -> int:
    try:
        schema = Generator().run()
    except GenerationError as error:
        print(f"gen-protobuf-schema: {error}", file=sys.stderr)
        return 1
    OUTPUT.write_text(schema)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
