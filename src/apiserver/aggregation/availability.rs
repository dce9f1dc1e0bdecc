//! The availability controller (upstream's local and remote `AvailableConditionController`s):
//! every APIService's `Available` condition. A local one is always available. One with a
//! service is checked as upstream checks it: the Service exists and has the port, an endpoint
//! has the port's name, and a GET of the group-version's discovery answers 2xx within five
//! seconds (the server's certificate unverified, as upstream's check leaves it). It is checked
//! every 30 seconds, sooner while it fails, and at once when the APIService, its Service or
//! its Endpoints change. After a passing check the server's discovery is fetched again, its
//! certificate verified as a proxied request's is, for aggregated discovery.
//!
//! Conditions are written through the API, as the server's loopback identity.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::{
    APIService, APIServiceCondition,
};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::discovery::backend_resources;
use super::proxy::get;
use super::{Backend, BackendError, Registered};
use crate::apiserver::service_client::{self, CallError, Destination, Trust};
use crate::apiserver::{ApiState, User, authorize};
use crate::registry;
use crate::store::{EventStream, Store};

/// How often an available APIService is checked again, as upstream's resync.
const RECHECK: Duration = Duration::from_secs(30);

/// How long a failed write of a condition waits before it is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The identity checks and discovery fetches are made as, as upstream's check makes them.
fn aggregator() -> User {
    User {
        name: "system:kube-aggregator".into(),
        groups: vec![authorize::MASTERS.into()],
    }
}

/// Where one APIService with a service stands.
struct Checked {
    backend: Backend,
    /// When it is checked next.
    due: Instant,
    /// Checks failed in a row, which bring the next one sooner.
    failures: u32,
    /// The store keys of its Service and Endpoints, whose changes make it due at once.
    watched: [String; 2],
}

/// Keeps every APIService's `Available` condition until `shutdown`.
pub async fn run(state: Arc<ApiState>, client: kube::Client, shutdown: CancellationToken) {
    let api: Api<APIService> = Api::all(client);
    let mut changes = state.apiservices.changes();
    let store = state.objects.store();
    let mut services = Follow::new(store, "services");
    let mut endpoints = Follow::new(store, "endpoints");
    let mut schedule: HashMap<String, Checked> = HashMap::new();
    state.apiservices.loaded().await;
    loop {
        // A check takes seconds when a server does not answer: shutdown does not wait for it.
        let retry = tokio::select! {
            retry = pass(&state, &api, &mut schedule) => retry,
            () = shutdown.cancelled() => return,
        };
        let next = schedule.values().map(|c| c.due).min();
        let next_check = tokio::time::sleep_until(next.unwrap_or_else(Instant::now));
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            key = services.next() => wake(&mut schedule, &key),
            key = endpoints.next() => wake(&mut schedule, &key),
            () = next_check, if next.is_some() => {}
            () = tokio::time::sleep(RETRY), if retry => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Brings every APIService's condition up to date, checking those due; whether a write failed
/// and wants another pass soon.
async fn pass(
    state: &ApiState,
    api: &Api<APIService>,
    schedule: &mut HashMap<String, Checked>,
) -> bool {
    let held = state.apiservices.get();
    let remote = |name: &str| held.get(name).is_some_and(|s| s.backend.is_some());
    schedule.retain(|name, _| remote(name.as_str()));
    state.backends.discovery.retain(remote);
    let mut retry = false;
    for service in held.all() {
        let outcome = match &service.backend {
            None => write(api, service, local()).await,
            Some(backend) => check_if_due(state, api, schedule, service, backend).await,
        };
        if let Err(error) = outcome {
            retry = true;
            let name = service.name.as_str();
            tracing::warn!(apiservice = name, %error, "writing an APIService's availability failed");
        }
    }
    retry
}

/// Checks an APIService with a service if it is due (never checked, changed, or its time has
/// come), writes the outcome and schedules the next check.
async fn check_if_due(
    state: &ApiState,
    api: &Api<APIService>,
    schedule: &mut HashMap<String, Checked>,
    service: &Registered,
    backend: &Backend,
) -> Result<(), kube::Error> {
    let now = Instant::now();
    let failures = match schedule.get(&service.name) {
        Some(checked) if checked.backend == *backend && checked.due > now => return Ok(()),
        Some(checked) if checked.backend == *backend => checked.failures,
        _ => 0,
    };
    let condition = check(state, service, backend).await;
    let failures = if condition.status == "True" {
        0
    } else {
        failures.saturating_add(1)
    };
    let written = write(api, service, condition).await;
    let wait = match (&written, failures) {
        (Err(_), _) => RETRY,
        (Ok(()), 0) => RECHECK,
        // Upstream's rate limiter brings a failing one back sooner, doubling up to the resync.
        (Ok(()), failures) => Duration::from_secs(1u64 << failures.min(5)).min(RECHECK),
    };
    let reference = &backend.service;
    let key = |plural: &str| {
        registry::find("", "v1", plural)
            .map(|r| r.key(Some(reference.namespace.as_str()), &reference.name))
            .unwrap_or_default()
    };
    let checked = Checked {
        backend: backend.clone(),
        due: Instant::now() + wait,
        failures,
        watched: [key("services"), key("endpoints")],
    };
    schedule.insert(service.name.clone(), checked);
    written
}

/// Makes due at once the APIServices whose Service or Endpoints is stored at `key`.
fn wake(schedule: &mut HashMap<String, Checked>, key: &str) {
    for checked in schedule.values_mut() {
        if checked.watched.iter().any(|watched| watched == key) {
            checked.due = Instant::now();
        }
    }
}

/// Upstream's checks, in its order, and their verdict.
async fn check(state: &ApiState, service: &Registered, backend: &Backend) -> APIServiceCondition {
    let path = discovery_path(service);
    let reference = &backend.service;
    let destination = match service_client::resolve(&state.objects, reference).await {
        Ok(destination) => destination,
        Err(error) => {
            state.backends.discovery.forget(&service.name);
            let url = format!(
                "https://{}:{}{path}",
                reference.server_name(),
                reference.port
            );
            return unresolved(&reference.namespace, &reference.name, &url, &error);
        }
    };
    match get(state, &destination, Trust::Anything, &path, &aggregator()).await {
        Ok(_) => {
            refresh_discovery(state, service, backend, &destination, &path).await;
            available("Passed", "all checks passed")
        }
        Err(error) => {
            state.backends.discovery.forget(&service.name);
            failed_check(&format!("https://{}{path}", destination.addr), &error)
        }
    }
}

/// The discovery document a server must answer for its group-version.
fn discovery_path(service: &Registered) -> String {
    match service.group.as_str() {
        "" => format!("/api/{}", service.version),
        group => format!("/apis/{group}/{}", service.version),
    }
}

/// Fetches what the server says it serves, for aggregated discovery; a server that does not
/// say is left out of it.
async fn refresh_discovery(
    state: &ApiState,
    service: &Registered,
    backend: &Backend,
    destination: &Destination,
    path: &str,
) {
    let fetched = get(state, destination, backend.trust(), path, &aggregator())
        .await
        .and_then(|body| {
            serde_json::from_slice::<Value>(&body).map_err(|source| BackendError::NotDiscovery {
                url: format!("https://{}{path}", destination.addr),
                source,
            })
        });
    let cache = &state.backends.discovery;
    match fetched {
        Ok(list) => cache.put(
            &service.name,
            backend_resources(&list, &service.group, &service.version),
        ),
        Err(error) => {
            let name = service.name.as_str();
            tracing::debug!(apiservice = name, %error, "an aggregated API's discovery is not at hand");
            cache.forget(&service.name);
        }
    }
}

/// The verdict on a service that leads nowhere, in upstream's words.
fn unresolved(namespace: &str, name: &str, url: &str, error: &CallError) -> APIServiceCondition {
    let service = format!("service/{name} in {namespace:?}");
    match error {
        CallError::ServiceNotFound { .. } => {
            unavailable("ServiceNotFound", format!("{service} is not present"))
        }
        CallError::NoPort { port, .. } => unavailable(
            "ServicePortError",
            format!("{service} is not listening on port {port}"),
        ),
        CallError::NoEndpoints { port_name, .. } => unavailable(
            "MissingEndpoints",
            format!("endpoints for {service} have no addresses with port name {port_name:?}"),
        ),
        CallError::Store(_) => condition(
            "Unknown",
            "ServiceAccessError",
            format!("{service} cannot be checked due to: {error}"),
        ),
        // An ExternalName Service whose name does not resolve, say.
        other => no_response(url, other),
    }
}

/// The verdict on a server that gave no usable answer, in upstream's words.
fn failed_check(url: &str, error: &BackendError) -> APIServiceCondition {
    match error {
        BackendError::Timeout { .. } => unavailable("FailedDiscoveryCheck", error.to_string()),
        _ => no_response(url, error),
    }
}

fn no_response(url: &str, error: &dyn std::fmt::Display) -> APIServiceCondition {
    let message = format!("failing or missing response from {url}: {error}");
    unavailable("FailedDiscoveryCheck", message)
}

fn local() -> APIServiceCondition {
    available("Local", "Local APIServices are always available")
}

fn available(reason: &str, message: &str) -> APIServiceCondition {
    condition("True", reason, message.to_owned())
}

fn unavailable(reason: &str, message: String) -> APIServiceCondition {
    condition("False", reason, message)
}

fn condition(status: &str, reason: &str, message: String) -> APIServiceCondition {
    APIServiceCondition {
        type_: "Available".into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_transition_time: Some(Time(jiff::Timestamp::now())),
    }
}

/// Writes `wanted` as the APIService's `Available` condition, unless it holds it already.
async fn write(
    api: &Api<APIService>,
    service: &Registered,
    wanted: APIServiceCondition,
) -> Result<(), kube::Error> {
    let mut conditions = service.conditions.clone();
    if !set_condition(&mut conditions, wanted) {
        return Ok(());
    }
    let patch = json!({"status": {"conditions": conditions}});
    let params = PatchParams::default();
    match api
        .patch_status(&service.name, &params, &Patch::Merge(&patch))
        .await
    {
        // Deleted meanwhile: nothing is left to keep.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        other => other.map(drop),
    }
}

/// Puts `wanted` among `conditions` as upstream's `SetAPIServiceCondition` does: reason and
/// message follow it, the transition time only a change of status. Whether anything changed.
fn set_condition(conditions: &mut Vec<APIServiceCondition>, wanted: APIServiceCondition) -> bool {
    let Some(held) = conditions.iter_mut().find(|c| c.type_ == wanted.type_) else {
        conditions.push(wanted);
        return true;
    };
    let before = held.clone();
    if held.status != wanted.status {
        held.status = wanted.status;
        held.last_transition_time = wanted.last_transition_time;
    }
    held.reason = wanted.reason;
    held.message = wanted.message;
    *held != before
}

/// The keys of one built-in resource's objects as they change, from now on; the watch is
/// opened again whenever it ends (a watcher that falls behind is cut off).
struct Follow {
    store: Store,
    prefix: String,
    events: Option<EventStream>,
}

impl Follow {
    fn new(store: &Store, plural: &str) -> Follow {
        let prefix = registry::find("", "v1", plural)
            .map(|r| r.prefix(None))
            .unwrap_or_default();
        Follow {
            store: store.clone(),
            prefix,
            events: None,
        }
    }

    async fn next(&mut self) -> String {
        loop {
            if self.events.is_none() {
                let from = self.store.revision();
                match self.store.watch(&self.prefix, from).await {
                    Ok(events) => self.events = Some(events),
                    Err(error) => {
                        let prefix = self.prefix.as_str();
                        tracing::debug!(%error, prefix, "watching aggregated APIs' services failed");
                        tokio::time::sleep(RETRY).await;
                        continue;
                    }
                }
            }
            let Some(events) = self.events.as_mut() else {
                continue;
            };
            match events.next().await {
                Some(Ok(event)) => return event.key.clone(),
                Some(Err(_)) | None => self.events = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(condition: APIServiceCondition) -> (String, String, String) {
        let reason = condition.reason.unwrap_or_default();
        (
            condition.status,
            reason,
            condition.message.unwrap_or_default(),
        )
    }

    fn expected(status: &str, reason: &str, message: &str) -> (String, String, String) {
        (status.into(), reason.into(), message.into())
    }

    #[test]
    fn a_service_that_leads_nowhere_says_why_in_upstream_s_words() {
        let url = "https://api.default.svc:443/apis/example.com/v1";
        let name = || "default/api".to_string();
        let check = |error: CallError| verdict(unresolved("default", "api", url, &error));
        assert_eq!(
            check(CallError::ServiceNotFound { name: name() }),
            expected(
                "False",
                "ServiceNotFound",
                "service/api in \"default\" is not present"
            )
        );
        assert_eq!(
            check(CallError::NoPort {
                port: 443,
                name: name()
            }),
            expected(
                "False",
                "ServicePortError",
                "service/api in \"default\" is not listening on port 443"
            )
        );
        assert_eq!(
            check(CallError::NoEndpoints {
                name: name(),
                port_name: "https".into()
            }),
            expected(
                "False",
                "MissingEndpoints",
                "endpoints for service/api in \"default\" have no addresses with port name \"https\""
            )
        );
        assert_eq!(
            check(CallError::Store("the store is closed".into())),
            expected(
                "Unknown",
                "ServiceAccessError",
                "service/api in \"default\" cannot be checked due to: the store: the store is closed"
            )
        );
        assert_eq!(
            check(CallError::Connect {
                addr: "api.example.org:443".into(),
                reason: "no address".into()
            }),
            expected(
                "False",
                "FailedDiscoveryCheck",
                "failing or missing response from https://api.default.svc:443/apis/example.com/v1: dial tcp api.example.org:443: no address"
            )
        );
    }

    #[test]
    fn a_server_that_answers_badly_or_late_fails_the_discovery_check() {
        let url = "https://10.0.0.7:8443/apis/example.com/v1";
        let status = BackendError::Status {
            url: url.into(),
            status: 503,
        };
        assert_eq!(
            verdict(failed_check(url, &status)),
            expected(
                "False",
                "FailedDiscoveryCheck",
                "failing or missing response from https://10.0.0.7:8443/apis/example.com/v1: bad status from https://10.0.0.7:8443/apis/example.com/v1: 503"
            )
        );
        let late = BackendError::Timeout { url: url.into() };
        assert_eq!(
            verdict(failed_check(url, &late)),
            expected(
                "False",
                "FailedDiscoveryCheck",
                "timed out waiting for https://10.0.0.7:8443/apis/example.com/v1"
            )
        );
        assert_eq!(
            verdict(local()),
            expected("True", "Local", "Local APIServices are always available")
        );
    }

    #[test]
    fn the_transition_time_moves_only_with_the_status() {
        let at = |second: i64| Some(Time(jiff::Timestamp::from_second(second).unwrap()));
        let mut first = unavailable("MissingEndpoints", "none".into());
        first.last_transition_time = at(1);
        let mut conditions = vec![first];
        let mut gone = unavailable("ServiceNotFound", "gone".into());
        gone.last_transition_time = at(2);
        assert!(set_condition(&mut conditions, gone.clone()));
        assert_eq!(conditions[0].reason.as_deref(), Some("ServiceNotFound"));
        assert_eq!(conditions[0].last_transition_time, at(1));
        assert!(!set_condition(&mut conditions, gone));
        let mut passed = available("Passed", "all checks passed");
        passed.last_transition_time = at(3);
        assert!(set_condition(&mut conditions, passed));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].status, "True");
        assert_eq!(conditions[0].last_transition_time, at(3));
    }
}
