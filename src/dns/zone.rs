//! The cluster's names, answered as CoreDNS's `kubernetes` plugin answers them (with kind's
//! Corefile: `pods insecure`, `ttl 30`, reverse zones falling through to the forwarder):
//!
//! - `SVC.NS.svc.ZONE`: A for the cluster IP; for a headless Service, one A per ready
//!   endpoint; CNAME for an ExternalName Service;
//! - `HOST.SVC.NS.svc.ZONE`: a headless Service's endpoint, by its hostname or its dashed IP;
//! - `_PORT._PROTO.SVC.NS.svc.ZONE` (and `SVC.NS.svc.ZONE` asked for SRV): SRV per named
//!   port, the targets' addresses in the additional section;
//! - `A-B-C-D.NS.pod.ZONE`: A `A.B.C.D`;
//! - PTR for cluster IPs and headless endpoints' addresses.
//!
//! A name in the zone that does not exist is NXDOMAIN; one that exists without records of the
//! asked type is an empty answer; both carry the zone's SOA. Names outside the zone, and
//! reverse names we hold nothing for, are for the forwarder.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA, CNAME, PTR, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{ObjectRef, Store};

/// The TTL of every answer and of the SOA in negative ones (kind's Corefile: `ttl 30`).
pub const TTL: u32 = 30;

/// What the cluster's records say about one question.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// Records that answer it, and records that help (the addresses of SRV targets).
    Records {
        answers: Vec<Record>,
        additionals: Vec<Record>,
    },
    /// An ExternalName Service: its CNAME, and the name to resolve for the address records.
    Alias { cname: Box<Record>, target: Name },
    /// The name exists but has no records of the asked type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// Not ours to answer.
    Forward,
}

/// The objects names are answered from.
pub struct Zone {
    /// The cluster domain, `cluster.local.`.
    pub domain: Name,
    pub services: Store<Service>,
    pub slices: Store<EndpointSlice>,
    pub namespaces: Store<Namespace>,
}

impl Zone {
    /// The answer to a question about `name` of type `kind`.
    pub fn answer(&self, name: &Name, kind: RecordType) -> Answer {
        let lower = name.to_lowercase();
        if kind == RecordType::PTR
            && let Some(ip) = reverse_address(&lower)
        {
            return self.pointer(name, ip);
        }
        if !self.domain.zone_of(&lower) {
            return Answer::Forward;
        }
        let labels: Vec<String> = lower
            .iter()
            .take(usize::from(lower.num_labels() - self.domain.num_labels()))
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        match labels.as_slice() {
            [] | ["svc"] | ["pod"] => Answer::NoData,
            [ns, "svc"] | [ns, "pod"] => {
                if self.namespace_exists(ns) {
                    Answer::NoData
                } else {
                    Answer::NxDomain
                }
            }
            [service, ns, "svc"] => self.service(name, ns, service, kind),
            [port, protocol, service, ns, "svc"]
                if port.starts_with('_') && protocol.starts_with('_') =>
            {
                self.named_port(name, ns, service, &port[1..], &protocol[1..], kind)
            }
            [host, service, ns, "svc"] => self.endpoint(name, ns, service, host, kind),
            [dashed, _ns, "pod"] => match dashed_address(dashed) {
                Some(ip) => addresses(name, kind, &[ip]),
                None => Answer::NxDomain,
            },
            _ => Answer::NxDomain,
        }
    }

    /// The zone's SOA, for negative answers.
    pub fn soa(&self) -> Record {
        let name = |prefix: &str| {
            Name::from_ascii(prefix)
                .and_then(|n| n.append_domain(&self.domain))
                .unwrap_or_else(|_| self.domain.clone())
        };
        let soa = SOA::new(
            name("ns.dns"),
            name("hostmaster"),
            serial(),
            7200,
            1800,
            86400,
            TTL,
        );
        Record::from_rdata(self.domain.clone(), TTL, RData::SOA(soa))
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.namespaces.get(&ObjectRef::new(ns)).is_some()
    }

    fn lookup(&self, ns: &str, service: &str) -> Option<std::sync::Arc<Service>> {
        self.services.get(&ObjectRef::new(service).within(ns))
    }

    fn service(&self, name: &Name, ns: &str, service: &str, kind: RecordType) -> Answer {
        let Some(svc) = self.lookup(ns, service) else {
            return Answer::NxDomain;
        };
        let Some(spec) = &svc.spec else {
            return Answer::NxDomain;
        };
        if spec.type_.as_deref() == Some("ExternalName") {
            let target = spec
                .external_name
                .as_deref()
                .and_then(|n| Name::from_ascii(n).ok())
                .map(|mut n| {
                    n.set_fqdn(true);
                    n
                });
            return match target {
                Some(target) => Answer::Alias {
                    cname: Box::new(Record::from_rdata(
                        name.clone(),
                        TTL,
                        RData::CNAME(CNAME(target.clone())),
                    )),
                    target,
                },
                None => Answer::NxDomain,
            };
        }
        if kind == RecordType::SRV {
            return self.srv(name, &svc, |_| true);
        }
        if is_headless(&svc) {
            let ips: Vec<IpAddr> = self
                .endpoints(ns, service)
                .into_iter()
                .map(|(ip, _)| ip)
                .collect();
            if ips.is_empty() {
                return Answer::NxDomain;
            }
            return addresses(name, kind, &ips);
        }
        let ips: Vec<IpAddr> = cluster_ips(&svc);
        addresses(name, kind, &ips)
    }

    fn named_port(
        &self,
        name: &Name,
        ns: &str,
        service: &str,
        port: &str,
        protocol: &str,
        kind: RecordType,
    ) -> Answer {
        let Some(svc) = self.lookup(ns, service) else {
            return Answer::NxDomain;
        };
        let matches = |p: &k8s_openapi::api::core::v1::ServicePort| {
            p.name.as_deref() == Some(port)
                && p.protocol
                    .as_deref()
                    .unwrap_or("TCP")
                    .eq_ignore_ascii_case(protocol)
        };
        let exists = svc
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .any(matches);
        match (exists, kind) {
            (false, _) => Answer::NxDomain,
            (true, RecordType::SRV) => self.srv(name, &svc, matches),
            (true, _) => Answer::NoData,
        }
    }

    /// SRV records for the Service's named ports that `wanted` keeps: one per port with the
    /// Service as target, or, headless, one per port and ready endpoint.
    fn srv(
        &self,
        name: &Name,
        svc: &Service,
        wanted: impl Fn(&k8s_openapi::api::core::v1::ServicePort) -> bool,
    ) -> Answer {
        let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
        let service = svc.metadata.name.as_deref().unwrap_or_default();
        let Ok(service_name) = Name::from_ascii(format!("{service}.{ns}.svc."))
            .and_then(|n| n.append_domain(&self.domain))
        else {
            return Answer::NxDomain;
        };
        let ports: Vec<_> = svc
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .filter(|p| p.name.is_some() && wanted(p))
            .collect();
        let targets: Vec<(Name, Vec<IpAddr>)> = if is_headless(svc) {
            self.endpoints(ns, service)
                .into_iter()
                .filter_map(|(ip, host)| {
                    let host = host.unwrap_or_else(|| dashed(ip));
                    let target = Name::from_ascii(&host)
                        .ok()?
                        .append_domain(&service_name)
                        .ok()?;
                    Some((target, vec![ip]))
                })
                .collect()
        } else {
            vec![(service_name, cluster_ips(svc))]
        };
        if ports.is_empty() || targets.is_empty() {
            return Answer::NoData;
        }
        let weight = u16::try_from(100 / targets.len()).unwrap_or(1).max(1);
        let mut answers = Vec::new();
        let mut additionals = Vec::new();
        for port in &ports {
            let Ok(number) = u16::try_from(port.port) else {
                continue;
            };
            for (target, _) in &targets {
                let srv = SRV::new(0, weight, number, target.clone());
                answers.push(Record::from_rdata(name.clone(), TTL, RData::SRV(srv)));
            }
        }
        for (target, ips) in &targets {
            if let Answer::Records { answers, .. } = addresses(target, RecordType::A, ips) {
                additionals.extend(answers);
            }
        }
        Answer::Records {
            answers,
            additionals,
        }
    }

    fn endpoint(
        &self,
        name: &Name,
        ns: &str,
        service: &str,
        host: &str,
        kind: RecordType,
    ) -> Answer {
        let Some(svc) = self.lookup(ns, service) else {
            return Answer::NxDomain;
        };
        if !is_headless(&svc) {
            return Answer::NxDomain;
        }
        let ips: Vec<IpAddr> = self
            .endpoints(ns, service)
            .into_iter()
            .filter(|(ip, hostname)| hostname.as_deref().unwrap_or(&dashed(*ip)) == host)
            .map(|(ip, _)| ip)
            .collect();
        if ips.is_empty() {
            return Answer::NxDomain;
        }
        addresses(name, kind, &ips)
    }

    /// The ready endpoints of a Service, with their hostnames, without duplicates.
    fn endpoints(&self, ns: &str, service: &str) -> Vec<(IpAddr, Option<String>)> {
        let mut found: Vec<(IpAddr, Option<String>)> = Vec::new();
        for slice in self.slices.state() {
            let belongs = slice.metadata.namespace.as_deref() == Some(ns)
                && slice
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                    .is_some_and(|s| s == service);
            if !belongs {
                continue;
            }
            for endpoint in &slice.endpoints {
                let ready = endpoint
                    .conditions
                    .as_ref()
                    .and_then(|c| c.ready)
                    .unwrap_or(true);
                let ip = endpoint.addresses.first().and_then(|a| a.parse().ok());
                if let (true, Some(ip)) = (ready, ip)
                    && !found.iter().any(|(seen, _)| *seen == ip)
                {
                    found.push((ip, endpoint.hostname.clone()));
                }
            }
        }
        found.sort();
        found
    }

    /// The PTR answer for `ip`: the Service whose cluster IP it is, or the headless endpoint
    /// that has it; anything else is for the forwarder.
    fn pointer(&self, name: &Name, ip: IpAddr) -> Answer {
        let domain = self.domain.to_ascii();
        let mut targets: Vec<String> = Vec::new();
        for svc in self.services.state() {
            let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
            let service = svc.metadata.name.as_deref().unwrap_or_default();
            if cluster_ips(&svc).contains(&ip) {
                targets.push(format!("{service}.{ns}.svc.{domain}"));
            } else if is_headless(&svc)
                && let Some((_, host)) = self
                    .endpoints(ns, service)
                    .into_iter()
                    .find(|(address, _)| *address == ip)
            {
                let host = host.unwrap_or_else(|| dashed(ip));
                targets.push(format!("{host}.{service}.{ns}.svc.{domain}"));
            }
        }
        let answers: Vec<Record> = targets
            .iter()
            .filter_map(|t| Name::from_ascii(t).ok())
            .map(|t| Record::from_rdata(name.clone(), TTL, RData::PTR(PTR(t))))
            .collect();
        if answers.is_empty() {
            Answer::Forward
        } else {
            Answer::Records {
                answers,
                additionals: Vec::new(),
            }
        }
    }
}

fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

fn cluster_ips(svc: &Service) -> Vec<IpAddr> {
    let Some(spec) = &svc.spec else {
        return Vec::new();
    };
    let mut ips: Vec<IpAddr> = spec
        .cluster_ips
        .iter()
        .flatten()
        .chain(spec.cluster_ip.iter())
        .filter_map(|ip| ip.parse().ok())
        .collect();
    ips.sort();
    ips.dedup();
    ips
}

/// A and AAAA records of `ips` for `name`, as `kind` asks; an empty answer for other types,
/// or when no address is of the asked family.
fn addresses(name: &Name, kind: RecordType, ips: &[IpAddr]) -> Answer {
    let answers: Vec<Record> = ips
        .iter()
        .filter_map(|ip| match (kind, ip) {
            (RecordType::A | RecordType::ANY, IpAddr::V4(v4)) => Some(RData::A(A(*v4))),
            (RecordType::AAAA | RecordType::ANY, IpAddr::V6(v6)) => Some(RData::AAAA(AAAA(*v6))),
            _ => None,
        })
        .map(|rdata| Record::from_rdata(name.clone(), TTL, rdata))
        .collect();
    if answers.is_empty() {
        Answer::NoData
    } else {
        Answer::Records {
            answers,
            additionals: Vec::new(),
        }
    }
}

/// `10-244-1-5` for 10.244.1.5 (and colons to dashes for IPv6), the name CoreDNS gives an
/// endpoint without a hostname.
fn dashed(ip: IpAddr) -> String {
    ip.to_string().replace(['.', ':'], "-")
}

fn dashed_address(label: &str) -> Option<IpAddr> {
    if let Ok(v4) = label.replace('-', ".").parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    label
        .replace('-', ":")
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

/// The address a reverse name (`5.1.244.10.in-addr.arpa.`) stands for.
fn reverse_address(name: &Name) -> Option<IpAddr> {
    let text = name.to_ascii();
    let text = text.trim_end_matches('.');
    if let Some(octets) = text.strip_suffix(".in-addr.arpa") {
        let mut parts: Vec<&str> = octets.split('.').collect();
        parts.reverse();
        return (parts.len() == 4)
            .then(|| parts.join(".").parse().ok())
            .flatten();
    }
    let nibbles = text.strip_suffix(".ip6.arpa")?;
    let mut digits: Vec<&str> = nibbles.split('.').collect();
    if digits.len() != 32 {
        return None;
    }
    digits.reverse();
    let hex = digits.concat();
    let groups: Vec<&str> = (0..8).map(|i| &hex[i * 4..i * 4 + 4]).collect();
    groups.join(":").parse().ok()
}

/// A serial that grows over time, as CoreDNS's does (seconds since the epoch).
fn serial() -> u32 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::{reflector, watcher};
    use serde_json::json;

    fn zone(objects: &[serde_json::Value]) -> Zone {
        let (services, mut s) = reflector::store::<Service>();
        let (slices, mut e) = reflector::store::<EndpointSlice>();
        let (namespaces, mut n) = reflector::store::<Namespace>();
        for object in objects {
            match object["kind"].as_str() {
                Some("Service") => s.apply_watcher_event(&watcher::Event::Apply(
                    serde_json::from_value(object.clone()).unwrap(),
                )),
                Some("EndpointSlice") => e.apply_watcher_event(&watcher::Event::Apply(
                    serde_json::from_value(object.clone()).unwrap(),
                )),
                _ => n.apply_watcher_event(&watcher::Event::Apply(
                    serde_json::from_value(object.clone()).unwrap(),
                )),
            }
        }
        Zone {
            domain: Name::from_ascii("cluster.local.").unwrap(),
            services,
            slices,
            namespaces,
        }
    }

    fn objects() -> Vec<serde_json::Value> {
        vec![
            json!({"kind": "Namespace", "metadata": {"name": "shop"}}),
            json!({"kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                   "spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}),
            json!({"kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
                   "spec": {"clusterIP": "None",
                            "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}}),
            json!({"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
                   "metadata": {"name": "db-x", "namespace": "shop",
                                "labels": {"kubernetes.io/service-name": "db"}},
                   "addressType": "IPv4",
                   "endpoints": [
                       {"addresses": ["10.244.1.5"], "hostname": "db-0"},
                       {"addresses": ["10.244.2.5"]},
                       {"addresses": ["10.244.3.5"], "conditions": {"ready": false}},
                   ],
                   "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}),
            json!({"kind": "Service", "metadata": {"name": "ext", "namespace": "shop"},
                   "spec": {"type": "ExternalName", "externalName": "example.com"}}),
        ]
    }

    fn ask(zone: &Zone, name: &str, kind: RecordType) -> Answer {
        zone.answer(&Name::from_ascii(name).unwrap(), kind)
    }

    fn rdata(answer: &Answer) -> Vec<String> {
        match answer {
            Answer::Records { answers, .. } => answers.iter().map(|r| r.data.to_string()).collect(),
            other => panic!("no records: {other:?}"),
        }
    }

    #[test]
    fn a_service_answers_with_its_cluster_ip_in_any_case() {
        let zone = zone(&objects());
        let answer = ask(&zone, "Web.Shop.svc.cluster.local.", RecordType::A);
        assert_eq!(rdata(&answer), ["10.96.0.20"]);
        let Answer::Records { answers, .. } = answer else {
            unreachable!()
        };
        assert_eq!(answers[0].ttl, TTL);
        assert_eq!(answers[0].name.to_ascii(), "Web.Shop.svc.cluster.local.");
        assert_eq!(
            ask(&zone, "web.shop.svc.cluster.local.", RecordType::AAAA),
            Answer::NoData
        );
    }

    #[test]
    fn names_that_do_not_exist_are_nxdomain_and_names_that_do_are_nodata() {
        let zone = zone(&objects());
        assert_eq!(
            ask(&zone, "nope.shop.svc.cluster.local.", RecordType::A),
            Answer::NxDomain
        );
        assert_eq!(
            ask(&zone, "web.nope.svc.cluster.local.", RecordType::A),
            Answer::NxDomain
        );
        assert_eq!(
            ask(&zone, "nope.svc.cluster.local.", RecordType::A),
            Answer::NxDomain
        );
        assert_eq!(
            ask(&zone, "shop.svc.cluster.local.", RecordType::A),
            Answer::NoData
        );
        assert_eq!(ask(&zone, "cluster.local.", RecordType::A), Answer::NoData);
        assert_eq!(
            ask(&zone, "a.b.c.d.e.cluster.local.", RecordType::A),
            Answer::NxDomain
        );
        assert_eq!(ask(&zone, "example.com.", RecordType::A), Answer::Forward);
    }

    #[test]
    fn a_headless_service_answers_with_its_ready_endpoints_by_name() {
        let zone = zone(&objects());
        assert_eq!(
            rdata(&ask(&zone, "db.shop.svc.cluster.local.", RecordType::A)),
            ["10.244.1.5", "10.244.2.5"]
        );
        assert_eq!(
            rdata(&ask(
                &zone,
                "db-0.db.shop.svc.cluster.local.",
                RecordType::A
            )),
            ["10.244.1.5"]
        );
        assert_eq!(
            rdata(&ask(
                &zone,
                "10-244-2-5.db.shop.svc.cluster.local.",
                RecordType::A
            )),
            ["10.244.2.5"]
        );
        assert_eq!(
            ask(
                &zone,
                "10-244-3-5.db.shop.svc.cluster.local.",
                RecordType::A
            ),
            Answer::NxDomain
        );
    }

    #[test]
    fn named_ports_have_srv_records_with_their_targets_addresses() {
        let zone = zone(&objects());
        let answer = ask(
            &zone,
            "_http._tcp.web.shop.svc.cluster.local.",
            RecordType::SRV,
        );
        assert_eq!(rdata(&answer), ["0 100 80 web.shop.svc.cluster.local."]);
        let Answer::Records { additionals, .. } = &answer else {
            unreachable!()
        };
        assert_eq!(additionals[0].data.to_string(), "10.96.0.20");
        assert_eq!(
            rdata(&ask(
                &zone,
                "_pg._tcp.db.shop.svc.cluster.local.",
                RecordType::SRV
            )),
            [
                "0 50 5432 db-0.db.shop.svc.cluster.local.",
                "0 50 5432 10-244-2-5.db.shop.svc.cluster.local.",
            ]
        );
        assert_eq!(
            ask(
                &zone,
                "_http._udp.web.shop.svc.cluster.local.",
                RecordType::SRV
            ),
            Answer::NxDomain
        );
    }

    #[test]
    fn external_names_are_aliases_and_pods_are_found_by_address() {
        let zone = zone(&objects());
        let Answer::Alias { cname, target } =
            ask(&zone, "ext.shop.svc.cluster.local.", RecordType::A)
        else {
            panic!("no alias")
        };
        assert_eq!(target.to_ascii(), "example.com.");
        assert_eq!(cname.data.to_string(), "example.com.");
        assert_eq!(
            rdata(&ask(
                &zone,
                "10-244-1-9.shop.pod.cluster.local.",
                RecordType::A
            )),
            ["10.244.1.9"]
        );
    }

    #[test]
    fn reverse_names_point_at_services_and_headless_endpoints() {
        let zone = zone(&objects());
        assert_eq!(
            rdata(&ask(&zone, "20.0.96.10.in-addr.arpa.", RecordType::PTR)),
            ["web.shop.svc.cluster.local."]
        );
        assert_eq!(
            rdata(&ask(&zone, "5.1.244.10.in-addr.arpa.", RecordType::PTR)),
            ["db-0.db.shop.svc.cluster.local."]
        );
        assert_eq!(
            ask(&zone, "1.1.1.1.in-addr.arpa.", RecordType::PTR),
            Answer::Forward
        );
    }
}
