//! The environment variables a pod gets for the Services of its namespace, as upstream's
//! kubelet gives them (`pkg/kubelet/envvars`): `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT`
//! (and `NAME_SERVICE_PORT_PORTNAME` per named port), and the Docker-link style `NAME_PORT…`
//! variables. `enableServiceLinks: false` leaves out all but the `kubernetes` Service's, which
//! every pod gets from `default`. Headless and ExternalName Services give none.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSpec, Service};

/// The namespace and name of the API server's own Service.
const MASTER_NAMESPACE: &str = "default";
const MASTER_SERVICE: &str = "kubernetes";

/// The variables a pod in `namespace` with `spec` gets from `services` (all the cluster's, or
/// any superset of its namespace's and `default`'s), by name.
pub fn variables<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    namespace: &str,
    spec: &PodSpec,
) -> BTreeMap<String, String> {
    let links = spec.enable_service_links != Some(false);
    let mut variables = BTreeMap::new();
    for service in services {
        let service_namespace = service.metadata.namespace.as_deref().unwrap_or_default();
        let name = service.metadata.name.as_deref().unwrap_or_default();
        let master = service_namespace == MASTER_NAMESPACE && name == MASTER_SERVICE;
        // The master Service's variables come from `default` alone.
        let wanted = if master {
            true
        } else {
            links && service_namespace == namespace
        };
        let Some(spec) = service.spec.as_ref().filter(|_| wanted) else {
            continue;
        };
        let Some(ip) = spec
            .cluster_ip
            .as_deref()
            .filter(|ip| !ip.is_empty() && *ip != "None")
        else {
            continue;
        };
        let ports = spec.ports.as_deref().unwrap_or_default();
        let Some(first) = ports.first() else {
            continue;
        };
        let prefix = variable_name(name);
        variables.insert(format!("{prefix}_SERVICE_HOST"), ip.to_owned());
        variables.insert(format!("{prefix}_SERVICE_PORT"), first.port.to_string());
        for port in ports {
            if let Some(port_name) = port.name.as_deref().filter(|n| !n.is_empty()) {
                variables.insert(
                    format!("{prefix}_SERVICE_PORT_{}", variable_name(port_name)),
                    port.port.to_string(),
                );
            }
        }
        let protocol = |port: &k8s_openapi::api::core::v1::ServicePort| {
            port.protocol.as_deref().unwrap_or("TCP").to_owned()
        };
        variables.insert(
            format!("{prefix}_PORT"),
            format!("{}://{ip}:{}", protocol(first).to_lowercase(), first.port),
        );
        for port in ports {
            let protocol = protocol(port);
            let base = format!("{prefix}_PORT_{}_{}", port.port, protocol.to_uppercase());
            let url = format!("{}://{ip}:{}", protocol.to_lowercase(), port.port);
            variables.insert(format!("{base}_PROTO"), protocol.to_lowercase());
            variables.insert(format!("{base}_PORT"), port.port.to_string());
            variables.insert(format!("{base}_ADDR"), ip.to_owned());
            variables.insert(base, url);
        }
    }
    variables
}

/// A Service or port name as a variable name: upper case, dashes as underscores.
fn variable_name(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(namespace: &str, name: &str, spec: serde_json::Value) -> Service {
        serde_json::from_value(
            json!({"metadata": {"name": name, "namespace": namespace}, "spec": spec}),
        )
        .unwrap()
    }

    fn services() -> Vec<Service> {
        vec![
            service(
                "default",
                "kubernetes",
                json!({"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}),
            ),
            service(
                "shop",
                "redis-leader",
                json!({"clusterIP": "10.96.0.7", "ports": [{"port": 6379}, {"name": "metrics", "port": 9121, "protocol": "TCP"}]}),
            ),
            service(
                "shop",
                "db",
                json!({"clusterIP": "None", "ports": [{"port": 5432}]}),
            ),
        ]
    }

    #[test]
    fn services_of_the_namespace_give_host_port_and_link_variables() {
        let vars = variables(&services(), "shop", &PodSpec::default());
        assert_eq!(vars["KUBERNETES_SERVICE_HOST"], "10.96.0.1");
        assert_eq!(vars["KUBERNETES_SERVICE_PORT"], "443");
        assert_eq!(vars["KUBERNETES_SERVICE_PORT_HTTPS"], "443");
        assert_eq!(vars["KUBERNETES_PORT"], "tcp://10.96.0.1:443");
        assert_eq!(vars["KUBERNETES_PORT_443_TCP_ADDR"], "10.96.0.1");
        assert_eq!(vars["REDIS_LEADER_SERVICE_HOST"], "10.96.0.7");
        assert_eq!(vars["REDIS_LEADER_SERVICE_PORT"], "6379");
        assert_eq!(vars["REDIS_LEADER_SERVICE_PORT_METRICS"], "9121");
        assert_eq!(vars["REDIS_LEADER_PORT_6379_TCP"], "tcp://10.96.0.7:6379");
        assert_eq!(vars["REDIS_LEADER_PORT_6379_TCP_PROTO"], "tcp");
        assert_eq!(vars["REDIS_LEADER_PORT_6379_TCP_PORT"], "6379");
        assert!(!vars.keys().any(|k| k.starts_with("DB_")));
    }

    #[test]
    fn without_service_links_only_the_api_server_is_named() {
        let spec = PodSpec {
            enable_service_links: Some(false),
            ..PodSpec::default()
        };
        let vars = variables(&services(), "shop", &spec);
        assert!(vars.contains_key("KUBERNETES_SERVICE_HOST"));
        assert!(!vars.keys().any(|k| k.starts_with("REDIS")));
        // Another namespace's Services are never named.
        let vars = variables(&services(), "other", &PodSpec::default());
        assert!(!vars.keys().any(|k| k.starts_with("REDIS")));
    }
}
