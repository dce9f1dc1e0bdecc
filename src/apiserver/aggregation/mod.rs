//! API aggregation, as upstream's kube-aggregator does it: APIServices say which server
//! answers each API group-version. Local ones (no service) are this server's own: one per
//! built-in group-version, made at start, and one per CRD group-version, kept in step with the
//! CRDs ([`local`]). The others name a Service whose server answers instead: every request
//! under `/apis/GROUP/VERSION` of such a group-version is proxied there as the front proxy
//! ([`proxy`]), which is decided once, before routing and after authorization; discovery lists
//! their groups among this server's own ([`discovery`]); and the availability controller keeps
//! each APIService's `Available` condition and what its server says it serves
//! ([`availability`]).
//!
//! The stored APIServices are followed by a [`Mirror`], like the RBAC policy and the CRDs.

mod availability;
mod discovery;
mod local;
mod proxy;

use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
    APIService, APIServiceCondition,
};

use super::service_client::{CallError, ServiceReference, Trust};
use crate::pki::CertAndKey;
use crate::store::mirror::{Mirror, Objects};

pub use availability::run as keep_available;
pub use discovery::{ListedGroup, ListedVersion, listing};
pub use local::{built_in as built_in_api_services, register_crds};
pub use proxy::route;

/// The aggregator's own group, which is never proxied.
pub const GROUP: &str = "apiregistration.k8s.io";

/// The label of the APIServices the aggregator manages: `onstart` for the built-in
/// group-versions' (made or corrected at start), `true` for CRDs' (kept in step with them).
pub const MANAGED_LABEL: &str = "kube-aggregator.kubernetes.io/automanaged";

/// The common name of the front proxy's client certificate, which extension API servers let
/// assert a user (their `requestheader-allowed-names`).
pub const FRONT_PROXY_CLIENT: &str = "front-proxy-client";

/// The headers the front proxy asserts the user's name and groups in.
pub const USER_HEADER: &str = "X-Remote-User";
pub const GROUP_HEADER: &str = "X-Remote-Group";
pub const EXTRA_HEADER_PREFIX: &str = "X-Remote-Extra-";

/// Where APIServices are stored.
const PREFIX: &str = "/apiregistration.k8s.io/apiservices/";

/// The stored APIServices of one server, kept in step with its store.
pub type Registry = Mirror<ApiServices>;

/// A registry that has read nothing yet; [`Mirror::run`] keeps it current.
pub fn registry() -> Registry {
    Mirror::new(PREFIX, derive)
}

fn derive(objects: &Objects) -> ApiServices {
    let all = objects
        .values()
        .filter_map(|value| serde_json::from_slice::<APIService>(value).ok())
        .map(Registered::from)
        .collect();
    ApiServices { all }
}

/// The APIServices of one moment, by name.
#[derive(Debug, Default)]
pub struct ApiServices {
    all: Vec<Registered>,
}

impl ApiServices {
    pub fn all(&self) -> &[Registered] {
        &self.all
    }

    pub fn get(&self, name: &str) -> Option<&Registered> {
        self.all.iter().find(|s| s.name == name)
    }

    /// The APIService whose server answers `group`/`version` instead of this one, with how
    /// to reach it; the aggregator's own group is always answered here.
    pub fn aggregated(&self, group: &str, version: &str) -> Option<(&Registered, &Backend)> {
        if group == GROUP {
            return None;
        }
        self.all
            .iter()
            .filter(|s| s.group == group && s.version == version)
            .find_map(|s| Some((s, s.backend.as_ref()?)))
    }
}

/// One stored APIService, as routing, discovery and the controllers read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub name: String,
    pub group: String,
    pub version: String,
    pub group_priority: i32,
    pub version_priority: i32,
    /// Where its requests go; `None` for a local APIService.
    pub backend: Option<Backend>,
    /// The value of [`MANAGED_LABEL`], if the aggregator manages it.
    pub managed: Option<String>,
    pub conditions: Vec<APIServiceCondition>,
}

impl Registered {
    /// Whether its `Available` condition is True: only then are its requests proxied.
    pub fn available(&self) -> bool {
        self.conditions
            .iter()
            .any(|c| c.type_ == "Available" && c.status == "True")
    }
}

impl From<APIService> for Registered {
    fn from(service: APIService) -> Registered {
        let spec = service.spec.unwrap_or_default();
        let backend = spec.service.map(|reference| Backend {
            service: ServiceReference {
                namespace: reference.namespace.unwrap_or_default(),
                name: reference.name.unwrap_or_default(),
                port: reference.port.unwrap_or(443),
            },
            ca_bundle: spec.ca_bundle.map(|b| b.0).unwrap_or_default(),
            insecure: spec.insecure_skip_tls_verify.unwrap_or(false),
        });
        Registered {
            name: service.metadata.name.unwrap_or_default(),
            group: spec.group.unwrap_or_default(),
            version: spec.version.unwrap_or_default(),
            group_priority: spec.group_priority_minimum,
            version_priority: spec.version_priority,
            backend,
            managed: service
                .metadata
                .labels
                .and_then(|mut labels| labels.remove(MANAGED_LABEL)),
            conditions: service
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default(),
        }
    }
}

/// How an aggregated group-version's server is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub service: ServiceReference,
    /// The CA bundle (PEM) its serving certificate must chain to; the system's roots when
    /// empty.
    pub ca_bundle: Vec<u8>,
    /// `insecureSkipTLSVerify`: its certificate is not verified at all.
    pub insecure: bool,
}

impl Backend {
    /// Which certificates a proxied request accepts from it.
    pub fn trust(&self) -> Trust<'_> {
        if self.insecure {
            Trust::Anything
        } else {
            Trust::Bundle(&self.ca_bundle)
        }
    }
}

/// What the server needs to call aggregated APIs' servers: the front proxy's client
/// certificate, and what each one last said it serves.
#[derive(Default)]
pub struct Backends {
    /// None in tests that serve the router alone: their calls present no certificate.
    pub front_proxy: Option<CertAndKey>,
    pub discovery: discovery::DiscoveryCache,
}

/// Why a call to an aggregated API's server got no usable answer, in the words of upstream's
/// availability check.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("bad status from {url}: {status}")]
    Status { url: String, status: u16 },
    #[error("timed out waiting for {url}")]
    Timeout { url: String },
    #[error("reading the answer of {url}: {source}")]
    Body { url: String, source: hyper::Error },
    #[error("the answer of {url} is no APIResourceList: {source}")]
    NotDiscovery {
        url: String,
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(name: &str, spec: serde_json::Value) -> (String, bytes::Bytes) {
        let object = json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": name}, "spec": spec});
        (
            format!("{PREFIX}{name}"),
            serde_json::to_vec(&object).unwrap().into(),
        )
    }

    #[test]
    fn only_apiservices_with_a_service_are_aggregated() {
        let objects: Objects = [
            stored(
                "v1beta1.metrics.k8s.io",
                json!({"group": "metrics.k8s.io", "version": "v1beta1",
                    "groupPriorityMinimum": 100, "versionPriority": 100,
                    "insecureSkipTLSVerify": true,
                    "service": {"namespace": "kube-system", "name": "metrics-server"}}),
            ),
            stored(
                "v1.apps",
                json!({"group": "apps", "version": "v1",
                    "groupPriorityMinimum": 17800, "versionPriority": 15}),
            ),
            stored(
                "v1.apiregistration.k8s.io",
                json!({"group": GROUP, "version": "v1", "groupPriorityMinimum": 100,
                    "versionPriority": 100, "service": {"namespace": "x", "name": "y"}}),
            ),
        ]
        .into_iter()
        .collect();
        let services = derive(&objects);
        let (registered, backend) = services.aggregated("metrics.k8s.io", "v1beta1").unwrap();
        assert_eq!(registered.name, "v1beta1.metrics.k8s.io");
        assert_eq!(backend.service.port, 443);
        assert!(matches!(backend.trust(), Trust::Anything));
        assert!(!registered.available());
        assert!(services.aggregated("apps", "v1").is_none());
        assert!(services.get("v1.apps").unwrap().backend.is_none());
        assert!(services.aggregated(GROUP, "v1").is_none());
    }
}
