//! The webhooks the API server calls, read from the stored Mutating and Validating
//! WebhookConfigurations by the mirror of their group (see [`super::super::configured`]).

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::{
    MatchCondition, RuleWithOperations, WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Deserialize;

use tokio_rustls::TlsConnector;

use super::super::configured;
use crate::apiserver::service_client::{self, ServiceReference, Trust};
use crate::store::mirror::Objects;

/// The webhooks of each kind, in the order upstream calls them: configurations by name, then
/// each configuration's webhooks as listed.
#[derive(Debug, Default)]
pub struct Webhooks {
    pub mutating: Vec<Webhook>,
    pub validating: Vec<Webhook>,
}

/// One webhook, whichever kind of configuration holds it. Its `sideEffects` are not kept:
/// v1 accepts only `None` and `NoneOnDryRun`, so every webhook may be sent dry runs.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub name: String,
    pub client: Client,
    pub rules: Vec<RuleWithOperations>,
    /// `failurePolicy: Ignore`: a webhook that cannot be called is passed over.
    pub ignore_failure: bool,
    /// `matchPolicy: Equivalent`: a request through another version of the same resource is
    /// sent too, in the version the rules name.
    pub equivalent: bool,
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    pub timeout: Duration,
    pub review_versions: Vec<String>,
    pub match_conditions: Vec<MatchCondition>,
    /// `reinvocationPolicy: IfNeeded` (mutating webhooks only).
    pub reinvoke: bool,
}

/// Where a webhook is served.
#[derive(Debug, Clone)]
pub enum Destination {
    Url(String),
    Service {
        service: ServiceReference,
        path: String,
    },
}

#[derive(Clone)]
pub struct Client {
    pub destination: Destination,
    /// The TLS client trusting the `caBundle` (the system's roots without one), made once
    /// when the configuration is read rather than on every call; why it could not be made.
    pub tls: Result<TlsConnector, String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("destination", &self.destination)
            .field("tls", &self.tls.as_ref().map(|_| "ready"))
            .finish()
    }
}

impl Client {
    fn from_config(config: WebhookClientConfig) -> Option<Client> {
        let destination = match (config.url, config.service) {
            (Some(url), _) => Destination::Url(url),
            (None, Some(service)) => Destination::Service {
                service: ServiceReference {
                    namespace: service.namespace,
                    name: service.name,
                    port: service.port.unwrap_or(443),
                },
                path: service.path.unwrap_or_else(|| "/".into()),
            },
            (None, None) => return None,
        };
        let ca_bundle = config.ca_bundle.map(|b| b.0).unwrap_or_default();
        Some(Client {
            destination,
            tls: service_client::connector(Trust::Bundle(&ca_bundle), None)
                .map_err(|e| e.to_string()),
        })
    }
}

/// A stored configuration of either kind: their webhooks share every field but
/// `reinvocationPolicy`, which only mutating webhooks carry.
#[derive(Deserialize)]
struct Stored {
    webhooks: Option<Vec<StoredWebhook>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredWebhook {
    name: String,
    client_config: WebhookClientConfig,
    rules: Option<Vec<RuleWithOperations>>,
    failure_policy: Option<String>,
    match_policy: Option<String>,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
    timeout_seconds: Option<i32>,
    admission_review_versions: Vec<String>,
    match_conditions: Option<Vec<MatchCondition>>,
    reinvocation_policy: Option<String>,
}

impl StoredWebhook {
    /// A webhook as the API server calls it; the stored configuration was defaulted on write,
    /// so absent fields take the same defaults here.
    fn webhook(self) -> Option<Webhook> {
        Some(Webhook {
            client: Client::from_config(self.client_config)?,
            name: self.name,
            rules: self.rules.unwrap_or_default(),
            ignore_failure: self.failure_policy.as_deref() == Some("Ignore"),
            equivalent: self.match_policy.as_deref() != Some("Exact"),
            namespace_selector: self.namespace_selector.unwrap_or_default(),
            object_selector: self.object_selector.unwrap_or_default(),
            timeout: Duration::from_secs(
                u64::try_from(self.timeout_seconds.unwrap_or(10)).unwrap_or(10),
            ),
            review_versions: self.admission_review_versions,
            match_conditions: self.match_conditions.unwrap_or_default(),
            reinvoke: self.reinvocation_policy.as_deref() == Some("IfNeeded"),
        })
    }
}

/// The webhooks of the stored configurations of both kinds.
pub(in crate::apiserver::admission) fn derive(objects: &Objects) -> Webhooks {
    Webhooks {
        mutating: read(configured::stored(objects, "mutatingwebhookconfigurations")),
        validating: read(configured::stored(
            objects,
            "validatingwebhookconfigurations",
        )),
    }
}

fn read<'o>(configurations: impl Iterator<Item = &'o [u8]>) -> Vec<Webhook> {
    configurations
        // Stored configurations were validated on write; one that no longer reads calls nothing.
        .filter_map(|value| serde_json::from_slice::<Stored>(value).ok())
        .flat_map(|stored| stored.webhooks.into_iter().flatten())
        .filter_map(StoredWebhook::webhook)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::admission::configured::PREFIX;
    use bytes::Bytes;
    use serde_json::json;

    fn stored(key: &str, object: serde_json::Value) -> (String, Bytes) {
        (
            format!("{PREFIX}{key}"),
            Bytes::from(serde_json::to_vec(&object).unwrap()),
        )
    }

    #[test]
    fn configurations_are_read_by_kind_in_name_order() {
        let hook = |name: &str| {
            json!({"name": name, "sideEffects": "None", "admissionReviewVersions": ["v1"],
                   "clientConfig": {"url": "https://example.test/"}})
        };
        let objects: Objects = [
            stored(
                "mutatingwebhookconfigurations/b",
                json!({"metadata": {"name": "b"}, "webhooks": [hook("b1.test")]}),
            ),
            stored(
                "mutatingwebhookconfigurations/a",
                json!({"metadata": {"name": "a"}, "webhooks": [
                    {"reinvocationPolicy": "IfNeeded", "failurePolicy": "Ignore", "matchPolicy": "Exact", "timeoutSeconds": 3,
                     "name": "a1.test", "admissionReviewVersions": ["v1"],
                     "clientConfig": {"service": {"namespace": "ns", "name": "svc"}}},
                    hook("a2.test"),
                ]}),
            ),
            stored(
                "validatingwebhookconfigurations/v",
                json!({"metadata": {"name": "v"}, "webhooks": [hook("v1.test")]}),
            ),
        ]
        .into_iter()
        .collect();
        let webhooks = derive(&objects);
        let names = |list: &[Webhook]| list.iter().map(|w| w.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&webhooks.mutating), ["a1.test", "a2.test", "b1.test"]);
        assert_eq!(names(&webhooks.validating), ["v1.test"]);
        let first = &webhooks.mutating[0];
        assert!(first.reinvoke && first.ignore_failure && !first.equivalent);
        assert_eq!(first.timeout, Duration::from_secs(3));
        match &first.client.destination {
            Destination::Service { service, path } => {
                assert_eq!((service.port, path.as_str()), (443, "/"));
                assert_eq!(service.server_name(), "svc.ns.svc");
            }
            other => panic!("{other:?}"),
        }
        let second = &webhooks.mutating[1];
        assert!(!second.reinvoke && !second.ignore_failure && second.equivalent);
    }
}
