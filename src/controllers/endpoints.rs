//! Endpoints and EndpointSlices for Services with a selector: the IPs of the selected pods, ready
//! ones as addresses and the others as not-ready addresses, with each Service port resolved
//! against the pod (a named `targetPort` is looked up among the pod's container ports).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
    ServicePort,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, Resource, ResourceExt};
use tokio_util::sync::CancellationToken;

use super::ReconcileError as Error;
use super::informers::{Informers, Synced};
use super::pace::Pace;
use super::{pods, selector};

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const MANAGED_BY: &str = "endpointslice-controller.k8s.io";

struct Context {
    /// Writes Endpoints, as upstream's endpoint controller.
    endpoints_client: Client,
    /// Writes EndpointSlices, as upstream's endpointslice controller.
    slices_client: Client,
    pods: Store<Pod>,
    pods_synced: Synced,
    pace: Pace,
}

/// The least time between two reconciles of one Service (see [`Pace`]).
const PACE: Duration = Duration::from_millis(200);

/// Starts the controller; it does the work of upstream's endpoint and endpointslice
/// controllers, each part with that controller's identity.
pub fn start(
    endpoints_client: &Client,
    slices_client: &Client,
    informers: &mut Informers,
    shutdown: CancellationToken,
) -> impl Future<Output = ()> + use<> {
    let services = informers.services.store();
    let context = Arc::new(Context {
        endpoints_client: endpoints_client.clone(),
        slices_client: slices_client.clone(),
        pods: informers.pods.store(),
        pods_synced: informers.pods.synced(),
        pace: Pace::new(PACE),
    });
    let services_of_pod = move |pod: Arc<Pod>| {
        let selected: Vec<ObjectRef<Service>> = services
            .state()
            .iter()
            .filter(|s| s.namespace() == pod.namespace())
            .filter(|s| selects(s, &pod))
            .map(|s| ObjectRef::from_obj(s.as_ref()))
            .collect();
        selected
    };
    let (controller, synced) = informers.services.controller(shutdown);
    let controller = controller.watches_shared_stream(informers.pods.subscribe(), services_of_pod);
    synced.run(controller, reconcile, error_policy, context)
}

fn service_selector(service: &Service) -> Option<&BTreeMap<String, String>> {
    service
        .spec
        .as_ref()?
        .selector
        .as_ref()
        .filter(|s| !s.is_empty())
}

fn selects(service: &Service, pod: &Pod) -> bool {
    service_selector(service)
        .is_some_and(|s| selector::matches_map(s, pod.metadata.labels.as_ref()))
}

/// The port a Service port reaches on `pod`, if the pod has it.
fn target_port(port: &ServicePort, pod: &Pod) -> Option<i32> {
    match port.target_port.as_ref() {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port),
    }
}

/// One endpoint: a pod with an IP, whether it is ready, and its resolved ports.
struct Member {
    pod: Arc<Pod>,
    ip: String,
    ready: bool,
    ports: Vec<EndpointPort>,
    /// The pod's hostname, when its subdomain is this Service: the name cluster DNS gives it
    /// under a headless Service (`HOSTNAME.SERVICE.NS.svc.cluster.local`).
    hostname: Option<String>,
}

fn members(service: &Service, pods: &[Arc<Pod>]) -> Vec<Member> {
    let service_ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let mut members: Vec<Member> = pods
        .iter()
        .filter(|p| selects(service, p))
        .filter(|p| {
            !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded" | "Failed")
            )
        })
        .filter_map(|pod| {
            let ip = pod
                .status
                .as_ref()?
                .pod_ip
                .clone()
                .filter(|ip| !ip.is_empty())?;
            let ports = service_ports
                .iter()
                .filter_map(|sp| {
                    Some(EndpointPort {
                        name: sp.name.clone(),
                        port: target_port(sp, pod)?,
                        protocol: sp.protocol.clone().or_else(|| Some("TCP".into())),
                        app_protocol: sp.app_protocol.clone(),
                    })
                })
                .collect();
            let ready = pods::is_ready(pod) && pod.metadata.deletion_timestamp.is_none();
            let spec = pod.spec.as_ref();
            let hostname = spec
                .filter(|s| s.subdomain.is_some() && s.subdomain == service.metadata.name)
                .and_then(|s| s.hostname.clone());
            Some(Member {
                pod: pod.clone(),
                ip,
                ready,
                ports,
                hostname,
            })
        })
        .collect();
    members.sort_by(|a, b| a.ip.cmp(&b.ip));
    members
}

fn target_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: pod.namespace(),
        name: Some(pod.name_any()),
        uid: pod.uid(),
        ..ObjectReference::default()
    }
}

/// The Endpoints subsets: members grouped by their resolved ports, as upstream groups them.
fn subsets(members: &[Member]) -> Vec<EndpointSubset> {
    let mut groups: BTreeMap<String, EndpointSubset> = BTreeMap::new();
    for member in members {
        let key = serde_json::to_string(&member.ports).unwrap_or_default();
        let subset = groups.entry(key).or_insert_with(|| EndpointSubset {
            ports: Some(member.ports.clone()),
            ..EndpointSubset::default()
        });
        let address = EndpointAddress {
            ip: member.ip.clone(),
            node_name: member.pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            target_ref: Some(target_ref(&member.pod)),
            hostname: member.hostname.clone(),
        };
        let list = if member.ready {
            &mut subset.addresses
        } else {
            &mut subset.not_ready_addresses
        };
        list.get_or_insert_with(Vec::new).push(address);
    }
    groups.into_values().collect()
}

/// The EndpointSlices: one per group of members sharing their ports, or, when nothing is
/// selected, one with neither endpoints nor ports, as upstream keeps a placeholder so that
/// clients see the Service has been handled.
fn slices(service: &Service, members: &[Member]) -> Vec<EndpointSlice> {
    let mut groups: BTreeMap<String, (Vec<EndpointPort>, Vec<Endpoint>)> = BTreeMap::new();
    if members.is_empty() {
        groups.insert(String::new(), (Vec::new(), Vec::new()));
    }
    for member in members {
        let key = serde_json::to_string(&member.ports).unwrap_or_default();
        let group = groups
            .entry(key)
            .or_insert_with(|| (member.ports.clone(), Vec::new()));
        let terminating = member.pod.metadata.deletion_timestamp.is_some();
        group.1.push(Endpoint {
            addresses: vec![member.ip.clone()],
            conditions: Some(EndpointConditions {
                ready: Some(member.ready),
                serving: Some(pods::is_ready(&member.pod)),
                terminating: Some(terminating),
            }),
            node_name: member.pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            target_ref: Some(target_ref(&member.pod)),
            hostname: member.hostname.clone(),
            ..Endpoint::default()
        });
    }
    let name = service.name_any();
    let count = groups.len();
    groups
        .into_values()
        .enumerate()
        .map(|(i, (ports, endpoints))| {
            let slice_ports = ports
                .into_iter()
                .map(|p| k8s_openapi::api::discovery::v1::EndpointPort {
                    name: p.name,
                    port: Some(p.port),
                    protocol: p.protocol,
                    app_protocol: p.app_protocol,
                })
                .collect();
            EndpointSlice {
                metadata: ObjectMeta {
                    name: Some(if count == 1 {
                        name.clone()
                    } else {
                        format!("{name}-{i}")
                    }),
                    namespace: service.namespace(),
                    labels: Some(BTreeMap::from([
                        (SERVICE_NAME_LABEL.into(), name.clone()),
                        (MANAGED_BY_LABEL.into(), MANAGED_BY.into()),
                    ])),
                    owner_references: service.controller_owner_ref(&()).map(|r| vec![r]),
                    ..ObjectMeta::default()
                },
                address_type: "IPv4".into(),
                endpoints,
                ports: Some(slice_ports),
            }
        })
        .collect()
}

async fn reconcile(service: Arc<Service>, ctx: Arc<Context>) -> Result<Action, Error> {
    if service_selector(&service).is_none() || service.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    if let Some(wait) = ctx.pace.check(&service.uid().unwrap_or_default()) {
        return Ok(Action::requeue(wait));
    }
    if !ctx.pods_synced.wait().await {
        return Ok(Action::await_change());
    }
    let namespace = service.namespace().unwrap_or_default();
    let in_namespace: Vec<Arc<Pod>> = ctx
        .pods
        .state()
        .into_iter()
        .filter(|p| p.namespace().as_deref() == Some(namespace.as_str()))
        .collect();
    let members = members(&service, &in_namespace);
    write_endpoints(&ctx, &service, &namespace, &members).await?;
    write_slices(&ctx, &service, &namespace, &members).await?;
    Ok(Action::await_change())
}

async fn write_endpoints(
    ctx: &Context,
    service: &Service,
    namespace: &str,
    members: &[Member],
) -> Result<(), Error> {
    let api: Api<Endpoints> = Api::namespaced(ctx.endpoints_client.clone(), namespace);
    let subsets = subsets(members);
    let subsets = (!subsets.is_empty()).then_some(subsets);
    match api.get_opt(&service.name_any()).await? {
        Some(current)
            if current.subsets == subsets && current.metadata.labels == service.metadata.labels =>
        {
            Ok(())
        }
        Some(mut current) => {
            current.subsets = subsets;
            current.metadata.labels = service.metadata.labels.clone();
            api.replace(&service.name_any(), &PostParams::default(), &current)
                .await?;
            Ok(())
        }
        None => {
            let endpoints = Endpoints {
                metadata: ObjectMeta {
                    name: Some(service.name_any()),
                    namespace: Some(namespace.to_owned()),
                    labels: service.metadata.labels.clone(),
                    ..ObjectMeta::default()
                },
                subsets,
            };
            api.create(&PostParams::default(), &endpoints).await?;
            Ok(())
        }
    }
}

async fn write_slices(
    ctx: &Context,
    service: &Service,
    namespace: &str,
    members: &[Member],
) -> Result<(), Error> {
    let api: Api<EndpointSlice> = Api::namespaced(ctx.slices_client.clone(), namespace);
    let selector = format!(
        "{SERVICE_NAME_LABEL}={},{MANAGED_BY_LABEL}={MANAGED_BY}",
        service.name_any()
    );
    let existing = api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    let desired = slices(service, members);
    for slice in &desired {
        let name = slice.name_any();
        match existing.iter().find(|s| s.name_any() == name) {
            Some(current)
                if current.endpoints == slice.endpoints && current.ports == slice.ports => {}
            Some(current) => {
                let mut next = slice.clone();
                next.metadata.resource_version = current.resource_version();
                api.replace(&name, &PostParams::default(), &next).await?;
            }
            None => {
                api.create(&PostParams::default(), slice).await?;
            }
        }
    }
    for stale in existing
        .iter()
        .filter(|s| !desired.iter().any(|d| d.name_any() == s.name_any()))
    {
        match api
            .delete(&stale.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

fn error_policy(_service: Arc<Service>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "endpoints will retry");
    Action::requeue(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, ip: &str, ready: bool, labels: serde_json::Value) -> Arc<Pod> {
        Arc::new(serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "d", "uid": name, "labels": labels},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
        })).unwrap())
    }

    fn service() -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "d", "uid": "svc"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
        }))
        .unwrap()
    }

    #[test]
    fn ready_and_unready_pods_land_in_their_lists_with_resolved_ports() {
        let pods = vec![
            pod("b", "10.244.1.3", true, json!({"app": "web"})),
            pod("a", "10.244.1.2", false, json!({"app": "web"})),
            pod("other", "10.244.1.9", true, json!({"app": "db"})),
        ];
        let members = members(&service(), &pods);
        let subsets = subsets(&members);
        assert_eq!(subsets.len(), 1);
        let addresses: Vec<&str> = subsets[0]
            .addresses
            .iter()
            .flatten()
            .map(|a| a.ip.as_str())
            .collect();
        let unready: Vec<&str> = subsets[0]
            .not_ready_addresses
            .iter()
            .flatten()
            .map(|a| a.ip.as_str())
            .collect();
        assert_eq!(
            (addresses, unready),
            (vec!["10.244.1.3"], vec!["10.244.1.2"])
        );
        assert_eq!(subsets[0].ports.as_ref().unwrap()[0].port, 8080);
        let slices = slices(&service(), &members);
        assert_eq!(slices.len(), 1);
        assert_eq!(slices[0].metadata.name.as_deref(), Some("web"));
        assert_eq!(slices[0].endpoints.len(), 2);
        assert_eq!(
            slices[0].endpoints[0].conditions.as_ref().unwrap().ready,
            Some(false)
        );
    }

    #[test]
    fn pods_whose_subdomain_is_the_service_are_named_by_their_hostname() {
        let mut named = (*pod("a", "10.244.1.2", true, json!({"app": "web"}))).clone();
        let spec = named.spec.as_mut().unwrap();
        spec.hostname = Some("web-0".into());
        spec.subdomain = Some("web".into());
        let mut elsewhere = (*pod("b", "10.244.1.3", true, json!({"app": "web"}))).clone();
        let spec = elsewhere.spec.as_mut().unwrap();
        spec.hostname = Some("db-0".into());
        spec.subdomain = Some("db".into());
        let members = members(&service(), &[Arc::new(named), Arc::new(elsewhere)]);
        let slices = slices(&service(), &members);
        let hostnames: Vec<Option<&str>> = slices[0]
            .endpoints
            .iter()
            .map(|e| e.hostname.as_deref())
            .collect();
        assert_eq!(hostnames, [Some("web-0"), None]);
        let subsets = subsets(&members);
        assert_eq!(
            subsets[0].addresses.as_ref().unwrap()[0]
                .hostname
                .as_deref(),
            Some("web-0")
        );
    }

    #[test]
    fn a_service_selecting_nothing_keeps_one_empty_slice() {
        let pods = vec![pod("other", "10.244.1.9", true, json!({"app": "db"}))];
        let members = members(&service(), &pods);
        let slices = slices(&service(), &members);
        assert_eq!(slices.len(), 1);
        assert_eq!(slices[0].metadata.name.as_deref(), Some("web"));
        assert!(slices[0].endpoints.is_empty());
        assert_eq!(slices[0].ports.as_deref(), Some(&[][..]));
    }
}
