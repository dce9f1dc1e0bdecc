//! A pod's `/etc/resolv.conf`, by its `dnsPolicy` and `dnsConfig`, as a kubelet writes it:
//! with the cluster's DNS for `ClusterFirst` (and `ClusterFirstWithHostNet` on the host
//! network), the namespace's search path and `ndots:5`; the engine's own for `Default` (and
//! for `ClusterFirst` on the host network, or without cluster DNS); only `dnsConfig` for
//! `None`. `dnsConfig` adds nameservers and search domains and overrides options by name.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::PodSpec;

use crate::runtime::DnsConfig;

/// The cluster's DNS service, as a kubelet's `--cluster-dns` and `--cluster-domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDns {
    pub server: IpAddr,
    /// `cluster.local`.
    pub domain: String,
}

/// Upstream's limits: resolvers read at most three nameservers; kubelet keeps 32 searches.
const MAX_NAMESERVERS: usize = 3;
const MAX_SEARCHES: usize = 32;

/// What the pod's resolv.conf holds; `None` leaves it to the engine (the node's resolver).
pub fn pod_dns(spec: &PodSpec, namespace: &str, cluster: Option<&ClusterDns>) -> Option<DnsConfig> {
    let host_network = spec.host_network == Some(true);
    let mut dns = match (
        spec.dns_policy.as_deref().unwrap_or("ClusterFirst"),
        cluster,
    ) {
        ("None", _) => DnsConfig::default(),
        ("ClusterFirstWithHostNet", Some(cluster)) => cluster_first(namespace, cluster),
        ("ClusterFirst", Some(cluster)) if !host_network => cluster_first(namespace, cluster),
        _ => return None,
    };
    if let Some(extra) = &spec.dns_config {
        dns.servers
            .extend(extra.nameservers.iter().flatten().cloned());
        dns.searches
            .extend(extra.searches.iter().flatten().cloned());
        for option in extra.options.iter().flatten() {
            let Some(name) = option.name.as_deref() else {
                continue;
            };
            dns.options.retain(|o| o.split(':').next() != Some(name));
            dns.options.push(match &option.value {
                Some(value) => format!("{name}:{value}"),
                None => name.to_owned(),
            });
        }
    }
    dedup(&mut dns.servers);
    dedup(&mut dns.searches);
    dns.servers.truncate(MAX_NAMESERVERS);
    dns.searches.truncate(MAX_SEARCHES);
    Some(dns)
}

fn cluster_first(namespace: &str, cluster: &ClusterDns) -> DnsConfig {
    let domain = &cluster.domain;
    DnsConfig {
        servers: vec![cluster.server.to_string()],
        searches: vec![
            format!("{namespace}.svc.{domain}"),
            format!("svc.{domain}"),
            domain.clone(),
        ],
        options: vec!["ndots:5".to_owned()],
    }
}

/// Drops repeats, keeping the first of each.
fn dedup(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(json!({"containers": [{"name": "c"}]}))
            .and_then(|mut base: serde_json::Value| {
                base.as_object_mut()
                    .unwrap()
                    .extend(value.as_object().unwrap().clone());
                serde_json::from_value(base)
            })
            .unwrap()
    }

    fn cluster() -> ClusterDns {
        ClusterDns {
            server: "10.96.0.10".parse().unwrap(),
            domain: "cluster.local".into(),
        }
    }

    #[test]
    fn cluster_first_uses_the_cluster_dns_and_the_namespace_search_path() {
        let dns = pod_dns(&spec(json!({})), "shop", Some(&cluster())).unwrap();
        assert_eq!(
            dns.resolv_conf(),
            "nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
        );
    }

    #[test]
    fn the_host_network_and_default_keep_the_node_resolver_unless_asked() {
        let cluster = cluster();
        assert_eq!(
            pod_dns(&spec(json!({"hostNetwork": true})), "a", Some(&cluster)),
            None
        );
        assert_eq!(
            pod_dns(&spec(json!({"dnsPolicy": "Default"})), "a", Some(&cluster)),
            None
        );
        assert_eq!(pod_dns(&spec(json!({})), "a", None), None);
        let with_host_net =
            spec(json!({"hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"}));
        assert_eq!(
            pod_dns(&with_host_net, "a", Some(&cluster))
                .unwrap()
                .servers,
            ["10.96.0.10"]
        );
    }

    #[test]
    fn dns_config_adds_servers_and_searches_and_overrides_options() {
        let custom = spec(json!({
            "dnsPolicy": "ClusterFirst",
            "dnsConfig": {
                "nameservers": ["192.0.2.53"],
                "searches": ["corp.example", "svc.cluster.local"],
                "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
            },
        }));
        let dns = pod_dns(&custom, "shop", Some(&cluster())).unwrap();
        assert_eq!(dns.servers, ["10.96.0.10", "192.0.2.53"]);
        assert_eq!(
            dns.searches,
            [
                "shop.svc.cluster.local",
                "svc.cluster.local",
                "cluster.local",
                "corp.example"
            ]
        );
        assert_eq!(dns.options, ["ndots:2", "edns0"]);
        let none = spec(json!({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"]}}));
        assert_eq!(
            pod_dns(&none, "shop", Some(&cluster()))
                .unwrap()
                .resolv_conf(),
            "nameserver 1.1.1.1\n"
        );
    }
}
