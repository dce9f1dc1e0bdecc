//! EndpointSlices (upstream's `pkg/apis/discovery/validation`): address types, addresses of
//! that type, and ports.

use std::collections::BTreeSet;

use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};

use super::container::{dns1123_label, port_number, protocol, qualified_name};
use super::field::{ErrorList, FieldError, Path};
use super::meta::{immutable, labels, object_meta_revalidated};
use super::names::{NameRule, is_dns1123_label, is_dns1123_subdomain, is_valid_label_value};
use super::net::{endpoint_ip, is_ipv6, parse_ip};
use super::{opt_slice, text};

const ADDRESS_TYPES: [&str; 3] = ["FQDN", "IPv4", "IPv6"];
/// `IP` is deprecated: stored slices may keep it, new ones may not use it.
const ADDRESS_TYPES_ON_UPDATE: [&str; 4] = ["FQDN", "IP", "IPv4", "IPv6"];
const MAX_ENDPOINTS: usize = 1000;
const MAX_ADDRESSES: usize = 100;
const MAX_PORTS: usize = 20000;
const MAX_TOPOLOGY_LABELS: usize = 16;
const MAX_ZONE_HINTS: usize = 8;

/// Validates an EndpointSlice on create (`old` is `None`) or update.
pub fn endpoint_slice(new: &EndpointSlice, old: Option<&EndpointSlice>) -> ErrorList {
    let mut errs = object_meta_revalidated(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    let supported: &[&str] = if old.is_some() {
        &ADDRESS_TYPES_ON_UPDATE
    } else {
        &ADDRESS_TYPES
    };
    let type_path = Path::new("addressType");
    match new.address_type.as_str() {
        "" => errs.push(FieldError::required(&type_path, "")),
        kind if !supported.contains(&kind) => {
            errs.push(FieldError::not_supported(&type_path, kind, supported))
        }
        _ => {}
    }
    errs.extend(endpoints(
        &new.endpoints,
        &new.address_type,
        &Path::new("endpoints"),
    ));
    errs.extend(ports(opt_slice(&new.ports), &Path::new("ports")));
    if let Some(old) = old {
        errs.extend(immutable(
            new.address_type.as_str(),
            old.address_type.as_str(),
            &type_path,
        ));
    }
    errs
}

fn endpoints(list: &[Endpoint], address_type: &str, path: &Path) -> ErrorList {
    if list.len() > MAX_ENDPOINTS {
        return vec![FieldError::too_many(path, list.len(), MAX_ENDPOINTS)];
    }
    let mut errs = ErrorList::new();
    for (i, endpoint) in list.iter().enumerate() {
        let endpoint_path = path.index(i);
        let addresses_path = endpoint_path.child("addresses");
        match endpoint.addresses.len() {
            0 => errs.push(FieldError::required(
                &addresses_path,
                "must contain at least 1 address",
            )),
            n if n > MAX_ADDRESSES => {
                errs.push(FieldError::too_many(&addresses_path, n, MAX_ADDRESSES))
            }
            _ => {}
        }
        for (j, address) in endpoint.addresses.iter().enumerate() {
            errs.extend(address_of_type(
                address,
                address_type,
                &addresses_path.index(j),
            ));
        }
        if let Some(node) = &endpoint.node_name {
            let node_path = endpoint_path.child("nodeName");
            errs.extend(
                NameRule::DnsSubdomain
                    .check(node, false)
                    .into_iter()
                    .map(|m| FieldError::invalid(&node_path, node, m)),
            );
        }
        let topology = endpoint.deprecated_topology.as_ref();
        let topology_path = endpoint_path.child("deprecatedTopology");
        if let Some(count) = topology
            .map(|t| t.len())
            .filter(|n| *n > MAX_TOPOLOGY_LABELS)
        {
            errs.push(FieldError::too_many(
                &topology_path,
                count,
                MAX_TOPOLOGY_LABELS,
            ));
        }
        errs.extend(labels(topology, &topology_path));
        if let Some(hostname) = &endpoint.hostname {
            errs.extend(dns1123_label(hostname, &endpoint_path.child("hostname")));
        }
        errs.extend(zone_hints(endpoint, &endpoint_path.child("hints")));
    }
    errs
}

/// Addresses of known types are checked; unknown types were reported already.
fn address_of_type(address: &str, address_type: &str, path: &Path) -> ErrorList {
    let family = |want_v6: bool, message: &str| {
        let ok = parse_ip(address).is_some_and(|ip| is_ipv6(ip) == want_v6);
        if ok {
            endpoint_ip(address, path)
        } else {
            vec![FieldError::invalid(path, address, message)]
        }
    };
    match address_type {
        "IPv4" => family(false, "must be a valid IPv4 address"),
        "IPv6" => family(true, "must be a valid IPv6 address"),
        "FQDN" => fully_qualified_domain_name(address, path),
        _ => ErrorList::new(),
    }
}

/// A domain of at least two labels, optionally ending in a dot.
fn fully_qualified_domain_name(name: &str, path: &Path) -> ErrorList {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let msgs = is_dns1123_subdomain(name);
    if !msgs.is_empty() {
        return vec![FieldError::invalid(path, name, msgs.join(","))];
    }
    if !name.contains('.') {
        return vec![FieldError::invalid(
            path,
            name,
            "should be a domain with at least two segments separated by dots",
        )];
    }
    name.split('.')
        .find_map(|label| {
            let msgs = is_dns1123_label(label);
            (!msgs.is_empty()).then(|| vec![FieldError::invalid(path, label, msgs.join(","))])
        })
        .unwrap_or_default()
}

fn zone_hints(endpoint: &Endpoint, path: &Path) -> ErrorList {
    let zones = endpoint
        .hints
        .as_ref()
        .map(|h| opt_slice(&h.for_zones))
        .unwrap_or_default();
    let zones_path = path.child("forZones");
    if zones.len() > MAX_ZONE_HINTS {
        return vec![FieldError::too_many(
            &zones_path,
            zones.len(),
            MAX_ZONE_HINTS,
        )];
    }
    let mut errs = ErrorList::new();
    let mut seen = BTreeSet::new();
    for (i, zone) in zones.iter().enumerate() {
        let name_path = zones_path.index(i).child("name");
        if !seen.insert(zone.name.as_str()) {
            errs.push(FieldError::duplicate(&name_path, &zone.name));
        } else {
            errs.extend(
                is_valid_label_value(&zone.name)
                    .into_iter()
                    .map(|m| FieldError::invalid(&name_path, &zone.name, m)),
            );
        }
    }
    errs
}

fn ports(list: &[EndpointPort], path: &Path) -> ErrorList {
    if list.len() > MAX_PORTS {
        return vec![FieldError::too_many(path, list.len(), MAX_PORTS)];
    }
    let mut errs = ErrorList::new();
    let mut names = BTreeSet::new();
    for (i, port) in list.iter().enumerate() {
        let port_path = path.index(i);
        let name = text(&port.name);
        if !name.is_empty() {
            errs.extend(dns1123_label(name, &port_path.child("name")));
        }
        if !names.insert(name) {
            errs.push(FieldError::duplicate(&port_path.child("name"), name));
        }
        if let Some(number) = port.port {
            errs.extend(port_number(number, &port_path.child("port")));
        }
        errs.extend(protocol(text(&port.protocol), &port_path.child("protocol")));
        if let Some(app_protocol) = &port.app_protocol {
            errs.extend(qualified_name(
                app_protocol,
                &port_path.child("appProtocol"),
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta, stored};
    use super::*;

    fn slice(address_type: &str, addresses: &[&str]) -> EndpointSlice {
        EndpointSlice {
            metadata: stored(namespaced_meta("web-abc12")),
            address_type: address_type.into(),
            endpoints: vec![Endpoint {
                addresses: addresses.iter().map(|a| a.to_string()).collect(),
                ..Default::default()
            }],
            ports: Some(vec![EndpointPort {
                name: Some("http".into()),
                port: Some(80),
                protocol: Some("TCP".into()),
                app_protocol: None,
            }]),
        }
    }

    #[test]
    fn address_types_and_addresses() {
        assert!(endpoint_slice(&slice("IPv4", &["10.244.0.5"]), None).is_empty());
        assert_eq!(
            messages(&endpoint_slice(&slice("IP", &["10.244.0.5"]), None)),
            vec![
                "addressType: Unsupported value: \"IP\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""
            ]
        );
        assert_eq!(
            messages(&endpoint_slice(&slice("IPv4", &["::1"]), None)),
            vec!["endpoints[0].addresses[0]: Invalid value: \"::1\": must be a valid IPv4 address"]
        );
        assert_eq!(
            messages(&endpoint_slice(&slice("FQDN", &["localhost"]), None)),
            vec![
                "endpoints[0].addresses[0]: Invalid value: \"localhost\": should be a domain with at least two segments separated by dots"
            ]
        );
    }

    #[test]
    fn address_type_is_immutable() {
        let old = slice("IPv4", &["10.244.0.5"]);
        let new = slice("IPv6", &["fd00::5"]);
        assert_eq!(
            messages(&endpoint_slice(&new, Some(&old))),
            vec!["addressType: Invalid value: \"IPv6\": field is immutable"]
        );
    }
}
