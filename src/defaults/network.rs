//! Service, Endpoints, EndpointSlice and NetworkPolicy defaults.

use k8s_openapi::api::core::v1::{
    ClientIPConfig, Endpoints, Service, ServiceSpec, SessionAffinityConfig,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{set_if_none, set_if_unset};

const DEFAULT_CLIENT_IP_AFFINITY_SECONDS: i32 = 10800;

/// Defaults a Service as upstream's `SetDefaults_Service` does, then settles its IP families
/// and cluster IP list the way the API server does before allocating, for this single-stack
/// IPv4 cluster.
pub fn service(service: &mut Service) {
    let spec = service.spec.get_or_insert_with(Default::default);
    session_affinity(spec);
    set_if_unset(&mut spec.type_, "ClusterIP");
    for port in spec.ports.iter_mut().flatten() {
        set_if_unset(&mut port.protocol, "TCP");
        let unset = match &port.target_port {
            None => true,
            Some(IntOrString::Int(n)) => *n == 0,
            Some(IntOrString::String(s)) => s.is_empty(),
        };
        if unset {
            port.target_port = Some(IntOrString::Int(port.port));
        }
    }
    let kind = spec.type_.as_deref().unwrap_or_default();
    let externally_accessible = matches!(kind, "NodePort" | "LoadBalancer")
        || kind == "ClusterIP"
            && spec
                .external_ips
                .as_ref()
                .is_some_and(|ips| !ips.is_empty());
    if externally_accessible {
        set_if_unset(&mut spec.external_traffic_policy, "Cluster");
    }
    if matches!(kind, "NodePort" | "LoadBalancer" | "ClusterIP") {
        set_if_none(&mut spec.internal_traffic_policy, "Cluster".to_string());
    }
    if kind == "LoadBalancer" {
        set_if_none(&mut spec.allocate_load_balancer_node_ports, true);
        load_balancer_ip_modes(service);
    }
    if let Some(spec) = service.spec.as_mut() {
        ip_families(spec);
    }
}

fn session_affinity(spec: &mut ServiceSpec) {
    set_if_unset(&mut spec.session_affinity, "None");
    match spec.session_affinity.as_deref() {
        Some("None") => spec.session_affinity_config = None,
        Some("ClientIP") => {
            let timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds);
            if timeout.is_none() {
                spec.session_affinity_config = Some(SessionAffinityConfig {
                    client_ip: Some(ClientIPConfig {
                        timeout_seconds: Some(DEFAULT_CLIENT_IP_AFFINITY_SECONDS),
                    }),
                });
            }
        }
        _ => {}
    }
}

/// Load-balancer ingress IPs are virtual IPs unless the provider says otherwise.
fn load_balancer_ip_modes(service: &mut Service) {
    let ingress = service
        .status
        .iter_mut()
        .flat_map(|s| s.load_balancer.iter_mut())
        .flat_map(|lb| lb.ingress.iter_mut().flatten());
    for entry in ingress.filter(|i| i.ip.as_deref().is_some_and(|ip| !ip.is_empty())) {
        set_if_none(&mut entry.ip_mode, "VIP".to_string());
    }
}

/// `clusterIPs` follows `clusterIP`; every non-ExternalName service is single-stack IPv4.
fn ip_families(spec: &mut ServiceSpec) {
    if spec.type_.as_deref() == Some("ExternalName") {
        return;
    }
    if let Some(cluster_ip) = spec.cluster_ip.clone().filter(|ip| !ip.is_empty())
        && spec.cluster_ips.as_ref().is_none_or(|ips| ips.is_empty())
    {
        spec.cluster_ips = Some(vec![cluster_ip]);
    }
    set_if_none(&mut spec.ip_family_policy, "SingleStack".to_string());
    if spec.ip_families.as_ref().is_none_or(|f| f.is_empty()) {
        spec.ip_families = Some(vec!["IPv4".to_string()]);
    }
}

/// Endpoint ports speak TCP unless told otherwise.
pub fn endpoints(endpoints: &mut Endpoints) {
    let ports = endpoints
        .subsets
        .iter_mut()
        .flatten()
        .flat_map(|s| s.ports.iter_mut().flatten());
    for port in ports {
        set_if_unset(&mut port.protocol, "TCP");
    }
}

/// EndpointSlice ports get an empty name and TCP.
pub fn endpoint_slice(slice: &mut EndpointSlice) {
    for port in slice.ports.iter_mut().flatten() {
        set_if_none(&mut port.name, String::new());
        set_if_none(&mut port.protocol, "TCP".to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaulted(value: serde_json::Value) -> serde_json::Value {
        let mut svc: Service = serde_json::from_value(value).expect("service");
        service(&mut svc);
        serde_json::to_value(&svc).expect("json")
    }

    #[test]
    fn minimal_service() {
        assert_eq!(
            defaulted(json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}
            })),
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "internalTrafficPolicy": "Cluster",
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                    "selector": {"app": "web"},
                    "sessionAffinity": "None",
                    "type": "ClusterIP"
                }
            })
        );
    }

    #[test]
    fn node_ports_load_balancers_and_affinity() {
        let out = defaulted(
            json!({"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP", "clusterIP": "10.96.0.9", "ports": [{"port": 443, "targetPort": "https"}]}}),
        );
        let spec = &out["spec"];
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
        assert_eq!(spec["allocateLoadBalancerNodePorts"], true);
        assert_eq!(
            spec["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
        assert_eq!(spec["ports"][0]["targetPort"], "https");
        assert_eq!(spec["clusterIPs"], json!(["10.96.0.9"]));
        let external =
            defaulted(json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}));
        assert_eq!(
            external["spec"],
            json!({"externalName": "example.com", "sessionAffinity": "None", "type": "ExternalName"})
        );
    }

    #[test]
    fn endpoint_ports() {
        let mut eps: Endpoints = serde_json::from_value(
            json!({"metadata": {"name": "web"}, "subsets": [{"ports": [{"port": 80}]}]}),
        )
        .expect("endpoints");
        endpoints(&mut eps);
        assert_eq!(
            serde_json::to_value(&eps).expect("json")["subsets"][0]["ports"][0]["protocol"],
            "TCP"
        );
        let mut slice: EndpointSlice = serde_json::from_value(
            json!({"metadata": {"name": "web-x"}, "addressType": "IPv4", "endpoints": [], "ports": [{"port": 80}]}),
        )
        .expect("slice");
        endpoint_slice(&mut slice);
        assert_eq!(
            serde_json::to_value(&slice).expect("json")["ports"],
            json!([{"name": "", "port": 80, "protocol": "TCP"}])
        );
    }
}

/// Ports are TCP unless said otherwise; a policy that names no types governs ingress, and
/// egress too when it has egress rules.
pub fn network_policy(policy: &mut NetworkPolicy) {
    let Some(spec) = policy.spec.as_mut() else {
        return;
    };
    let ingress_ports = spec
        .ingress
        .iter_mut()
        .flatten()
        .flat_map(|r| r.ports.iter_mut().flatten());
    let egress_ports = spec
        .egress
        .iter_mut()
        .flatten()
        .flat_map(|r| r.ports.iter_mut().flatten());
    for port in ingress_ports.chain(egress_ports) {
        set_if_unset(&mut port.protocol, "TCP");
    }
    if spec.policy_types.as_ref().is_none_or(Vec::is_empty) {
        let mut types = vec!["Ingress".to_string()];
        if spec.egress.as_ref().is_some_and(|e| !e.is_empty()) {
            types.push("Egress".to_string());
        }
        spec.policy_types = Some(types);
    }
}
