//! The resources the API server serves: for each, its names (what discovery advertises and
//! kubectl resolves), its scope and subresources, and its strategy (decoding, defaults,
//! preparation and validation on the kind's `k8s-openapi` type).
//!
//! Handlers stay generic over `serde_json::Value`; everything that differs between kinds is
//! here, one module per resource.

mod admission;
mod apiregistration;
pub mod autoscaling;
mod certificates;
mod cluster;
mod configmaps;
mod controllerrevisions;
mod cronjobs;
mod customresourcedefinitions;
mod daemonsets;
mod deployments;
mod endpoints;
mod endpointslices;
mod events;
mod jobs;
mod leases;
mod namespaces;
mod networking;
mod nodes;
mod pods;
mod podtemplates;
mod policy;
mod quotas;
mod rbac;
mod replicasets;
mod replicationcontrollers;
mod reviews;
pub mod scale;
mod secrets;
mod served;
mod serviceaccounts;
mod services;
mod statefulsets;
mod storage;
mod strategy;

pub use namespaces::SYSTEM_NAMESPACES;
pub use served::{BUILT_IN, Served, version_priority};
pub use services::{Allocation, ServiceAllocator};
pub use strategy::{Admitted, Kind, Strategy, Typed, unknown_fields};

/// A subresource reachable under `<resource>/<name>/<subresource>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    Status,
    Scale,
    Binding,
    Log,
    Exec,
    Attach,
    PortForward,
    Eviction,
    Finalize,
    Token,
}

impl Subresource {
    pub fn name(self) -> &'static str {
        match self {
            Subresource::Status => "status",
            Subresource::Scale => "scale",
            Subresource::Binding => "binding",
            Subresource::Log => "log",
            Subresource::Exec => "exec",
            Subresource::Attach => "attach",
            Subresource::PortForward => "portforward",
            Subresource::Eviction => "eviction",
            Subresource::Token => "token",
            Subresource::Finalize => "finalize",
        }
    }

    /// The kind a subresource speaks when it is not the parent's own kind.
    pub fn kind(self) -> Option<(&'static str, &'static str, &'static str)> {
        match self {
            Subresource::Scale => Some(("autoscaling", "v1", "Scale")),
            Subresource::Binding => Some(("", "v1", "Binding")),
            Subresource::Eviction => Some(("policy", "v1", "Eviction")),
            Subresource::Token => Some(("authentication.k8s.io", "v1", "TokenRequest")),
            Subresource::Log | Subresource::Exec | Subresource::Attach => Some(("", "v1", "Pod")),
            Subresource::PortForward => Some(("", "v1", "Pod")),
            Subresource::Status | Subresource::Finalize => None,
        }
    }

    /// The verbs discovery lists for the subresource.
    pub fn verbs(self) -> &'static [&'static str] {
        match self {
            Subresource::Status | Subresource::Scale => &["get", "patch", "update"],
            Subresource::Binding | Subresource::Eviction | Subresource::Token => &["create"],
            Subresource::Log => &["get"],
            Subresource::Exec | Subresource::Attach | Subresource::PortForward => {
                &["create", "get"]
            }
            Subresource::Finalize => &["update"],
        }
    }
}

/// One served resource.
pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub namespaced: bool,
    pub subresources: &'static [Subresource],
    /// Fields usable in field selectors besides `metadata.name` and `metadata.namespace`, with
    /// the value an absent field has.
    pub field_labels: &'static [(&'static str, &'static str)],
    /// Whether `metadata.generation` counts changes to the spec.
    pub generation: bool,
    /// Whether a completed delete answers with the deleted object rather than a Status, as
    /// upstream's `ReturnDeletedObject` decides per resource.
    pub returns_deleted_object: bool,
    /// Whether the resource is only ever created and answered, never stored: the access and
    /// identity reviews.
    pub create_only: bool,
    pub strategy: &'static dyn Strategy,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resource({})", self.qualified())
    }
}

impl Resource {
    /// `deployments.apps`, `pods`: how upstream names a resource in messages.
    pub fn qualified(&self) -> crate::apiserver::QualifiedResource {
        crate::apiserver::QualifiedResource::new(self.group, self.plural)
    }

    /// `apps/v1`, `v1`.
    pub fn api_version(&self) -> String {
        match self.group {
            "" => self.version.to_owned(),
            group => format!("{group}/{}", self.version),
        }
    }

    pub fn has(&self, subresource: Subresource) -> bool {
        self.subresources.contains(&subresource)
    }

    pub fn subresource(&self, name: &str) -> Option<Subresource> {
        self.subresources.iter().copied().find(|s| s.name() == name)
    }

    /// The store key prefix of every object of this resource, or of those in one namespace.
    pub fn prefix(&self, namespace: Option<&str>) -> String {
        let group = if self.group.is_empty() {
            "core"
        } else {
            self.group
        };
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("/{group}/{}/{ns}/", self.plural),
            None => format!("/{group}/{}/", self.plural),
        }
    }

    /// The resource as kube's dynamic API names it, for controllers that reach it by name.
    pub fn api_resource(&self) -> kube::api::ApiResource {
        kube::api::ApiResource {
            group: self.group.to_owned(),
            version: self.version.to_owned(),
            api_version: self.api_version(),
            kind: self.kind.to_owned(),
            plural: self.plural.to_owned(),
        }
    }

    /// The store key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}{name}", self.prefix(namespace))
    }
}

/// The built-in resources, in discovery order (groups in upstream's order: the aggregator's own
/// group first, then by the priorities of their APIServices).
pub static RESOURCES: &[&Resource] = &[
    &namespaces::RESOURCE,
    &pods::RESOURCE,
    &podtemplates::RESOURCE,
    &replicationcontrollers::RESOURCE,
    &nodes::RESOURCE,
    &services::RESOURCE,
    &endpoints::RESOURCE,
    &configmaps::RESOURCE,
    &secrets::RESOURCE,
    &serviceaccounts::RESOURCE,
    &storage::PERSISTENT_VOLUMES,
    &storage::PERSISTENT_VOLUME_CLAIMS,
    &quotas::RESOURCE_QUOTAS,
    &quotas::LIMIT_RANGES,
    &events::RESOURCE,
    &apiregistration::RESOURCE,
    &deployments::RESOURCE,
    &statefulsets::RESOURCE,
    &daemonsets::RESOURCE,
    &replicasets::RESOURCE,
    &controllerrevisions::RESOURCE,
    &reviews::SELF_SUBJECT_REVIEWS,
    &reviews::LOCAL_SUBJECT_ACCESS_REVIEWS,
    &reviews::SELF_SUBJECT_ACCESS_REVIEWS,
    &reviews::SELF_SUBJECT_RULES_REVIEWS,
    &reviews::SUBJECT_ACCESS_REVIEWS,
    &autoscaling::RESOURCE,
    &autoscaling::RESOURCE_V1,
    &jobs::RESOURCE,
    &cronjobs::RESOURCE,
    &certificates::RESOURCE,
    &networking::NETWORK_POLICIES,
    &networking::INGRESSES,
    &networking::INGRESS_CLASSES,
    &policy::RESOURCE,
    &rbac::CLUSTER_ROLE_BINDINGS,
    &rbac::CLUSTER_ROLES,
    &rbac::ROLE_BINDINGS,
    &rbac::ROLES,
    &storage::STORAGE_CLASSES,
    &storage::VOLUME_ATTACHMENTS,
    &storage::CSI_DRIVERS,
    &storage::CSI_NODES,
    &admission::MUTATING_WEBHOOK_CONFIGURATIONS,
    &admission::VALIDATING_WEBHOOK_CONFIGURATIONS,
    &admission::VALIDATING_ADMISSION_POLICIES,
    &admission::VALIDATING_ADMISSION_POLICY_BINDINGS,
    &customresourcedefinitions::RESOURCE,
    &cluster::PRIORITY_CLASSES,
    &leases::RESOURCE,
    &cluster::RUNTIME_CLASSES,
    &endpointslices::RESOURCE,
    &cluster::FLOW_SCHEMAS,
    &cluster::PRIORITY_LEVEL_CONFIGURATIONS,
];

/// Looks a built-in resource up by group, version and plural name; what a server serves,
/// custom resources included, is its [`Served`].
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    BUILT_IN.find(group, version, plural)
}
