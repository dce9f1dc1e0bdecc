//! What the node routes, read from Services and EndpointSlices: one [`Route`] per port of each
//! Service that has a cluster IP, with the endpoints that serve that port. Headless and
//! ExternalName Services route nothing; neither do endpoints that are not ready.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The label naming the Service an EndpointSlice belongs to.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// One port of one Service, as the node routes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `NAMESPACE/NAME:PORT` (the port's name, empty when it has none), with the protocol:
    /// what names the route's chains and comments.
    pub name: String,
    /// `tcp`, `udp` or `sctp`, as iptables spells it.
    pub protocol: &'static str,
    pub cluster_ips: Vec<Ipv4Addr>,
    pub port: u16,
    pub node_port: Option<u16>,
    /// Addresses outside the cluster that reach the Service too: its LoadBalancer ingress
    /// and `externalIPs`.
    pub external_ips: Vec<Ipv4Addr>,
    /// The `sessionAffinity: ClientIP` timeout in seconds.
    pub affinity_seconds: Option<i32>,
    /// `externalTrafficPolicy: Local`: traffic from outside goes only to this node's endpoints.
    pub external_local: bool,
    /// `internalTrafficPolicy: Local`: traffic from inside goes only to this node's endpoints.
    pub internal_local: bool,
    /// Ready endpoints, in address order, without duplicates.
    pub endpoints: Vec<Endpoint>,
}

/// A ready endpoint of a [`Route`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub port: u16,
    /// Whether the endpoint runs on this node.
    pub local: bool,
}

impl Route {
    /// The endpoints on this node.
    pub fn local_endpoints(&self) -> Vec<&Endpoint> {
        self.endpoints.iter().filter(|e| e.local).collect()
    }

    /// Whether traffic from outside the cluster reaches the Service on this node at all.
    pub fn has_external(&self) -> bool {
        self.node_port.is_some() || !self.external_ips.is_empty()
    }
}

/// The routes of `services`, each with its endpoints from `slices`; `node` is this node's
/// name, which says which endpoints are local. Sorted by name.
pub fn routes<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
    node: &str,
) -> Vec<Route> {
    let mut by_service: BTreeMap<(String, String), Vec<&EndpointSlice>> = BTreeMap::new();
    for slice in slices {
        let service = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(SERVICE_NAME_LABEL));
        if let (Some(namespace), Some(service)) = (&slice.metadata.namespace, service)
            && slice.address_type == "IPv4"
        {
            by_service
                .entry((namespace.clone(), service.clone()))
                .or_default()
                .push(slice);
        }
    }
    let mut routes: Vec<Route> = services
        .into_iter()
        .flat_map(|service| {
            let key = (
                service.metadata.namespace.clone().unwrap_or_default(),
                service.metadata.name.clone().unwrap_or_default(),
            );
            let slices = by_service.get(&key).map(Vec::as_slice).unwrap_or_default();
            service_routes(service, &key, slices, node)
        })
        .collect();
    routes.sort_by(|a, b| a.name.cmp(&b.name));
    routes
}

fn service_routes(
    service: &Service,
    (namespace, name): &(String, String),
    slices: &[&EndpointSlice],
    node: &str,
) -> Vec<Route> {
    let Some(spec) = &service.spec else {
        return Vec::new();
    };
    if spec.type_.as_deref() == Some("ExternalName") {
        return Vec::new();
    }
    let cluster_ips: Vec<Ipv4Addr> = spec
        .cluster_ips
        .iter()
        .flatten()
        .chain(spec.cluster_ip.iter())
        .filter_map(|ip| ip.parse().ok())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if cluster_ips.is_empty() {
        return Vec::new();
    }
    let ingress = service
        .status
        .as_ref()
        .and_then(|status| status.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|ingress| ingress.ip.as_ref());
    let external_ips: Vec<Ipv4Addr> = spec
        .external_ips
        .iter()
        .flatten()
        .chain(ingress)
        .filter_map(|ip| ip.parse().ok())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let affinity_seconds = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
        spec.session_affinity_config
            .as_ref()
            .and_then(|config| config.client_ip.as_ref())
            .and_then(|client_ip| client_ip.timeout_seconds)
            .unwrap_or(DEFAULT_AFFINITY_SECONDS)
    });
    spec.ports
        .iter()
        .flatten()
        .filter_map(|port| {
            let protocol = match port.protocol.as_deref().unwrap_or("TCP") {
                "TCP" => "tcp",
                "UDP" => "udp",
                "SCTP" => "sctp",
                _ => return None,
            };
            let port_name = port.name.clone().unwrap_or_default();
            Some(Route {
                name: format!("{namespace}/{name}:{port_name}"),
                protocol,
                cluster_ips: cluster_ips.clone(),
                port: u16::try_from(port.port).ok()?,
                node_port: port.node_port.and_then(|p| u16::try_from(p).ok()),
                external_ips: external_ips.clone(),
                affinity_seconds,
                external_local: spec.external_traffic_policy.as_deref() == Some("Local"),
                internal_local: spec.internal_traffic_policy.as_deref() == Some("Local"),
                endpoints: endpoints(slices, &port_name, port.protocol.as_deref(), node),
            })
        })
        .collect()
}

/// Upstream's default `sessionAffinityConfig.clientIP.timeoutSeconds`: three hours.
const DEFAULT_AFFINITY_SECONDS: i32 = 10_800;

/// The ready endpoints of the slices' port named `port_name` with `protocol`.
fn endpoints(
    slices: &[&EndpointSlice],
    port_name: &str,
    protocol: Option<&str>,
    node: &str,
) -> Vec<Endpoint> {
    let protocol = protocol.unwrap_or("TCP");
    let mut found = BTreeSet::new();
    for slice in slices {
        let port = slice.ports.iter().flatten().find(|p| {
            p.name.as_deref().unwrap_or_default() == port_name
                && p.protocol.as_deref().unwrap_or("TCP") == protocol
        });
        let Some(port) = port
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        for endpoint in &slice.endpoints {
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            let ip = endpoint.addresses.first().and_then(|a| a.parse().ok());
            if let (true, Some(ip)) = (ready, ip) {
                found.insert(Endpoint {
                    ip,
                    port,
                    local: endpoint.node_name.as_deref() == Some(node),
                });
            }
        }
    }
    found.into_iter().collect()
}

/// A UDP flow the kernel may still send to an endpoint that is gone: to `port` of
/// `destination` (a cluster IP or outside address; any address of the node for a node port),
/// rewritten to `endpoint`. TCP needs no such care: a connection to a gone endpoint is reset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StaleFlow {
    pub destination: Option<Ipv4Addr>,
    pub port: u16,
    pub endpoint: Ipv4Addr,
}

/// The UDP flows to forget after the routes went from `previous` to `current`: those to each
/// endpoint a UDP Service port no longer has (upstream's kube-proxy clears them the same way,
/// since conntrack would keep sending a client's datagrams to the old endpoint).
pub fn stale_udp_flows(previous: &[Route], current: &[Route]) -> Vec<StaleFlow> {
    let mut flows = BTreeSet::new();
    for old in previous.iter().filter(|r| r.protocol == "udp") {
        let now = current
            .iter()
            .find(|r| r.name == old.name && r.protocol == "udp");
        let kept = |e: &Endpoint| now.is_some_and(|r| r.endpoints.iter().any(|n| n.ip == e.ip));
        for endpoint in old.endpoints.iter().filter(|e| !kept(e)) {
            for ip in old.cluster_ips.iter().chain(&old.external_ips) {
                flows.insert(StaleFlow {
                    destination: Some(*ip),
                    port: old.port,
                    endpoint: endpoint.ip,
                });
            }
            if let Some(node_port) = old.node_port {
                flows.insert(StaleFlow {
                    destination: None,
                    port: node_port,
                    endpoint: endpoint.ip,
                });
            }
        }
    }
    flows.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(spec: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": spec,
        }))
        .unwrap()
    }

    fn slice(endpoints: serde_json::Value, ports: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(json!({
            "metadata": {"name": "web-x", "namespace": "shop",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }))
        .unwrap()
    }

    #[test]
    fn each_port_gets_the_ready_endpoints_of_its_name_and_protocol() {
        let svc = service(json!({
            "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        }));
        let eps = slice(
            json!([
                {"addresses": ["10.244.1.5"], "conditions": {"ready": true}, "nodeName": "w1"},
                {"addresses": ["10.244.2.5"], "conditions": {"ready": false}, "nodeName": "w2"},
                {"addresses": ["10.244.2.6"], "nodeName": "w2"},
            ]),
            json!([
                {"name": "http", "port": 8080, "protocol": "TCP"},
                {"name": "dns", "port": 5353, "protocol": "UDP"},
            ]),
        );
        let routes = routes([&svc], [&eps], "w1");
        assert_eq!(routes.len(), 2);
        let (dns, http) = (&routes[0], &routes[1]);
        assert_eq!((dns.name.as_str(), dns.protocol), ("shop/web:dns", "udp"));
        assert_eq!(
            (http.name.as_str(), http.protocol),
            ("shop/web:http", "tcp")
        );
        assert_eq!(
            http.endpoints,
            [
                Endpoint {
                    ip: "10.244.1.5".parse().unwrap(),
                    port: 8080,
                    local: true
                },
                Endpoint {
                    ip: "10.244.2.6".parse().unwrap(),
                    port: 8080,
                    local: false
                },
            ]
        );
        assert_eq!(dns.endpoints[0].port, 5353);
    }

    #[test]
    fn headless_and_external_name_services_route_nothing() {
        let headless = service(json!({"clusterIP": "None", "ports": [{"port": 80}]}));
        let external = service(json!({"type": "ExternalName", "externalName": "example.com"}));
        assert!(routes([&headless, &external], [], "w1").is_empty());
    }

    #[test]
    fn policies_affinity_and_outside_addresses_are_read_from_the_service() {
        let mut svc = service(json!({
            "type": "LoadBalancer", "clusterIP": "10.96.0.21",
            "externalIPs": ["192.0.2.9"],
            "ports": [{"port": 80, "nodePort": 30080}],
            "sessionAffinity": "ClientIP",
            "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Local",
        }));
        svc.status =
            serde_json::from_value(json!({"loadBalancer": {"ingress": [{"ip": "172.18.0.3"}]}}))
                .unwrap();
        let eps = slice(
            json!([
                {"addresses": ["10.244.1.5"], "nodeName": "w1"},
                {"addresses": ["10.244.2.5"], "nodeName": "w2"},
            ]),
            json!([{"port": 80}]),
        );
        let [route] = <[Route; 1]>::try_from(routes([&svc], [&eps], "w2")).unwrap();
        assert_eq!(route.node_port, Some(30080));
        assert_eq!(
            route.external_ips,
            [
                "172.18.0.3".parse::<Ipv4Addr>().unwrap(),
                "192.0.2.9".parse().unwrap()
            ]
        );
        assert_eq!(route.affinity_seconds, Some(10_800));
        assert!(route.external_local && route.internal_local);
        let local: Vec<Ipv4Addr> = route.local_endpoints().iter().map(|e| e.ip).collect();
        assert_eq!(local, ["10.244.2.5".parse::<Ipv4Addr>().unwrap()]);
    }

    #[test]
    fn udp_flows_to_gone_endpoints_are_forgotten_and_no_others() {
        let route = |protocol: &'static str, ips: &[&str]| Route {
            name: "shop/dns:dns".into(),
            protocol,
            cluster_ips: vec!["10.96.0.30".parse().unwrap()],
            port: 53,
            node_port: Some(30053),
            external_ips: Vec::new(),
            affinity_seconds: None,
            external_local: false,
            internal_local: false,
            endpoints: ips
                .iter()
                .map(|ip| Endpoint {
                    ip: ip.parse().unwrap(),
                    port: 5353,
                    local: false,
                })
                .collect(),
        };
        let before = [route("udp", &["10.244.1.5", "10.244.2.5"])];
        let after = [route("udp", &["10.244.2.5"])];
        let gone: Ipv4Addr = "10.244.1.5".parse().unwrap();
        assert_eq!(
            stale_udp_flows(&before, &after),
            [
                StaleFlow {
                    destination: None,
                    port: 30053,
                    endpoint: gone
                },
                StaleFlow {
                    destination: Some("10.96.0.30".parse().unwrap()),
                    port: 53,
                    endpoint: gone
                },
            ]
        );
        assert!(stale_udp_flows(&after, &after).is_empty());
        assert_eq!(
            stale_udp_flows(&after, &[]).len(),
            2,
            "a Service gone takes its flows"
        );
        let tcp = [route("tcp", &["10.244.1.5"])];
        assert!(stale_udp_flows(&tcp, &[]).is_empty());
    }
}
