//! Services and Endpoints: types, ports, cluster IPs and their immutability, traffic policies,
//! and endpoint addresses (upstream's `ValidateService*` and `ValidateEndpoints*`).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::container::{dns1123_label, port_num_or_name, port_number, protocol, qualified_name};
use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{labels, object_meta, object_meta_revalidated};
use super::names::NameRule;
use super::net::{endpoint_ip, is_dual_stack, is_ipv6, legacy_cidr, legacy_ip, parse_ip};
use super::{opt_slice, text};

const SERVICE_TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const SESSION_AFFINITIES: [&str; 2] = ["ClientIP", "None"];
const IP_FAMILIES: [&str; 2] = ["IPv4", "IPv6"];
const IP_FAMILY_POLICIES: [&str; 3] = ["PreferDualStack", "RequireDualStack", "SingleStack"];
const TRAFFIC_POLICIES: [&str; 2] = ["Cluster", "Local"];
const MAX_CLIENT_IP_AFFINITY_SECONDS: i32 = 86400;
/// The node port range the API server allocates from.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<i32> = 30000..=32767;

/// Validates a Service on create (`old` is `None`) or update.
pub fn service(new: &Service, old: Option<&Service>) -> ErrorList {
    let default_spec = ServiceSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let old_spec = old.map(|o| o.spec.as_ref().unwrap_or(&default_spec));
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::Dns1035Label,
        old.map(|o| &o.metadata),
    );
    if let Some(old_spec) = old_spec {
        errs.extend(cluster_ips_update(spec, old_spec));
        errs.extend(ip_families_update(spec, old_spec));
        errs.extend(load_balancer_class_update(spec, old_spec));
        errs.extend(health_check_node_port_update(spec, old_spec));
    }
    errs.extend(service_spec(spec, old_spec));
    errs
}

fn service_type(spec: &ServiceSpec) -> &str {
    text(&spec.type_)
}

fn is_headless(spec: &ServiceSpec) -> bool {
    matches!(opt_slice(&spec.cluster_ips), [ip] if ip == "None")
}

/// Whether traffic can reach the service from outside the cluster.
fn externally_accessible(spec: &ServiceSpec) -> bool {
    matches!(service_type(spec), "LoadBalancer" | "NodePort")
        || service_type(spec) == "ClusterIP" && !opt_slice(&spec.external_ips).is_empty()
}

fn needs_health_check(spec: &ServiceSpec) -> bool {
    service_type(spec) == "LoadBalancer" && text(&spec.external_traffic_policy) == "Local"
}

fn cluster_ips_list(spec: &ServiceSpec) -> Rendered {
    go::strings(spec.cluster_ips.as_deref())
}

fn service_spec(spec: &ServiceSpec, old: Option<&ServiceSpec>) -> ErrorList {
    let path = Path::new("spec");
    let ports = opt_slice(&spec.ports);
    let kind = service_type(spec);
    let mut errs = ErrorList::new();
    if ports.is_empty() && !is_headless(spec) && kind != "ExternalName" {
        errs.push(FieldError::required(&path.child("ports"), ""));
    }
    errs.extend(type_specific(spec, &path));
    let mut port_names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        errs.extend(service_port(
            port,
            ports.len() > 1,
            &mut port_names,
            &path.child("ports").index(i),
        ));
    }
    if spec.selector.is_some() {
        errs.extend(labels(spec.selector.as_ref(), &path.child("selector")));
    }
    errs.extend(session_affinity(spec, &path));
    errs.extend(cluster_ips(spec, old));
    let previous_external = old.map(|o| opt_slice(&o.external_ips)).unwrap_or_default();
    for (i, ip) in opt_slice(&spec.external_ips).iter().enumerate() {
        let ip_path = path.child("externalIPs").index(i);
        let ip_errs = legacy_ip(&ip_path, ip, previous_external);
        if ip_errs.is_empty() {
            errs.extend(endpoint_ip(ip, &ip_path));
        }
        errs.extend(ip_errs);
    }
    errs.extend(type_field(kind, &path.child("type")));
    errs.extend(node_ports(spec, &path.child("ports")));
    errs.extend(duplicate_ports(ports, &path.child("ports")));
    errs.extend(source_ranges(spec, old, &path));
    errs.extend(load_balancer_fields(spec, &path));
    errs.extend(traffic_policies(spec, &path));
    errs
}

fn type_specific(spec: &ServiceSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    match service_type(spec) {
        kind @ ("LoadBalancer" | "NodePort") if is_headless(spec) => {
            errs.push(FieldError::invalid(
                &path.child("clusterIPs").index(0),
                "None",
                format!("may not be set to 'None' for {kind} services"),
            ))
        }
        "ExternalName" => {
            let forbidden = [
                ("clusterIPs", !opt_slice(&spec.cluster_ips).is_empty()),
                ("ipFamilies", !opt_slice(&spec.ip_families).is_empty()),
                ("ipFamilyPolicy", spec.ip_family_policy.is_some()),
            ];
            for (field, _) in forbidden.into_iter().filter(|(_, set)| *set) {
                errs.push(FieldError::forbidden(
                    &path.child(field),
                    "may not be set for ExternalName services",
                ));
            }
            let cname = text(&spec.external_name);
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            let name_path = path.child("externalName");
            if cname.is_empty() {
                errs.push(FieldError::required(&name_path, ""));
            } else {
                errs.extend(
                    NameRule::DnsSubdomain
                        .check(cname, false)
                        .into_iter()
                        .map(|m| FieldError::invalid(&name_path, cname, m)),
                );
            }
        }
        _ => {}
    }
    errs
}

fn service_port(
    port: &ServicePort,
    require_name: bool,
    names: &mut BTreeSet<String>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = text(&port.name);
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(dns1123_label(name, &path.child("name")));
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(&path.child("name"), name));
        }
    }
    errs.extend(port_number(port.port, &path.child("port")));
    errs.extend(protocol(text(&port.protocol), &path.child("protocol")));
    errs.extend(port_num_or_name(
        &target_port(port),
        &path.child("targetPort"),
    ));
    if let Some(app_protocol) = &port.app_protocol {
        errs.extend(qualified_name(app_protocol, &path.child("appProtocol")));
    }
    errs
}

/// An unset target port reads as zero, as in upstream's internal type.
fn target_port(port: &ServicePort) -> IntOrString {
    port.target_port.clone().unwrap_or(IntOrString::Int(0))
}

fn session_affinity(spec: &ServiceSpec, path: &Path) -> ErrorList {
    let affinity_path = path.child("sessionAffinity");
    let config_path = path.child("sessionAffinityConfig");
    match text(&spec.session_affinity) {
        "" => vec![FieldError::required(&affinity_path, "")],
        "ClientIP" => client_ip_config(spec, &config_path),
        "None" if spec.session_affinity_config.is_some() => {
            vec![FieldError::forbidden(
                &config_path,
                "must not be set when session affinity is None",
            )]
        }
        "None" => ErrorList::new(),
        other => vec![FieldError::not_supported(
            &affinity_path,
            other,
            &SESSION_AFFINITIES,
        )],
    }
}

fn client_ip_config(spec: &ServiceSpec, path: &Path) -> ErrorList {
    const DETAIL: &str = "when session affinity type is ClientIP";
    let Some(config) = &spec.session_affinity_config else {
        return vec![FieldError::required(path, DETAIL)];
    };
    let Some(client_ip) = &config.client_ip else {
        return vec![FieldError::required(&path.child("clientIP"), DETAIL)];
    };
    let timeout_path = path.child("clientIP").child("timeoutSeconds");
    match client_ip.timeout_seconds {
        None => vec![FieldError::required(&timeout_path, DETAIL)],
        Some(timeout) if timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS => {
            vec![FieldError::invalid(
                &timeout_path,
                timeout,
                format!("must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}"),
            )]
        }
        Some(_) => ErrorList::new(),
    }
}

/// `clusterIP`, `clusterIPs`, `ipFamilies` and `ipFamilyPolicy` on their own and together.
fn cluster_ips(spec: &ServiceSpec, old: Option<&ServiceSpec>) -> ErrorList {
    if service_type(spec) == "ExternalName" {
        return ErrorList::new();
    }
    let path = Path::new("spec");
    let ips_path = path.child("clusterIPs");
    let ips = opt_slice(&spec.cluster_ips);
    let mut errs = ErrorList::new();
    let cluster_ip = text(&spec.cluster_ip);
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required(&ips_path, ""));
        } else if ips[0] != cluster_ip {
            errs.push(FieldError::invalid(
                &ips_path,
                cluster_ips_list(spec),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            &ips_path,
            cluster_ips_list(spec),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    errs.extend(ip_families(spec, &path.child("ipFamilies")));
    if let Some(policy) = spec
        .ip_family_policy
        .as_deref()
        .filter(|p| !IP_FAMILY_POLICIES.contains(p))
    {
        errs.push(FieldError::not_supported(
            &path.child("ipFamilyPolicy"),
            policy,
            &IP_FAMILY_POLICIES,
        ));
    }
    let previous = old.map(|o| opt_slice(&o.cluster_ips)).unwrap_or_default();
    let mut invalid_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                invalid_ips = true;
                errs.push(FieldError::invalid(
                    &ips_path,
                    cluster_ips_list(spec),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        let ip_errs = legacy_ip(&ips_path.index(i), ip, previous);
        invalid_ips |= !ip_errs.is_empty();
        errs.extend(ip_errs);
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            &ips_path,
            cluster_ips_list(spec),
            "may only hold up to 2 values",
        ));
    }
    if invalid_ips {
        return errs;
    }
    errs.extend(ips_match_families(spec, &ips_path));
    errs
}

fn ip_families(spec: &ServiceSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen = BTreeSet::new();
    for (i, family) in opt_slice(&spec.ip_families).iter().enumerate() {
        if !IP_FAMILIES.contains(&family.as_str()) {
            errs.push(FieldError::not_supported(
                &path.index(i),
                family,
                &IP_FAMILIES,
            ));
        }
        if !seen.insert(family.as_str()) {
            errs.push(FieldError::duplicate(&path.index(i), family));
        }
    }
    errs
}

fn ips_match_families(spec: &ServiceSpec, path: &Path) -> ErrorList {
    let ips = opt_slice(&spec.cluster_ips);
    let mut errs = ErrorList::new();
    if ips.len() > 1 {
        let parsed: Vec<_> = ips.iter().filter_map(|ip| parse_ip(ip)).collect();
        if !is_dual_stack(&parsed) {
            errs.push(FieldError::invalid(
                path,
                cluster_ips_list(spec),
                "may specify no more than one IP for each IP family",
            ));
        }
    }
    if is_headless(spec) {
        return errs;
    }
    for (i, (ip, family)) in ips.iter().zip(opt_slice(&spec.ip_families)).enumerate() {
        let v6 = parse_ip(ip).is_some_and(is_ipv6);
        let expected = match (family.as_str(), v6) {
            ("IPv4", true) => "IPv4",
            ("IPv6", false) => "IPv6",
            _ => continue,
        };
        errs.push(FieldError::invalid(
            &path.index(i),
            ip,
            format!("expected an {expected} value as indicated by `ipFamilies[{i}]`"),
        ));
    }
    errs
}

fn type_field(kind: &str, path: &Path) -> Option<FieldError> {
    match kind {
        "" => Some(FieldError::required(path, "")),
        k if SERVICE_TYPES.contains(&k) => None,
        other => Some(FieldError::not_supported(path, other, &SERVICE_TYPES)),
    }
}

/// Node ports: none on ClusterIP services, inside the allocation range, unique per protocol.
fn node_ports(spec: &ServiceSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen = BTreeSet::new();
    for (i, port) in opt_slice(&spec.ports).iter().enumerate() {
        let node_port = port.node_port.unwrap_or(0);
        if node_port == 0 {
            continue;
        }
        let port_path = path.index(i).child("nodePort");
        if service_type(spec) == "ClusterIP" {
            errs.push(FieldError::forbidden(
                &port_path,
                "may not be used when `type` is 'ClusterIP'",
            ));
        } else if !NODE_PORT_RANGE.contains(&node_port) {
            errs.push(FieldError::invalid(
                &port_path,
                node_port,
                format!(
                    "provided port is not in the valid range. The range of valid ports is {}-{}",
                    NODE_PORT_RANGE.start(),
                    NODE_PORT_RANGE.end()
                ),
            ));
        }
        if !seen.insert((text(&port.protocol).to_string(), node_port)) {
            errs.push(FieldError::duplicate(&port_path, node_port));
        }
    }
    errs
}

/// The same port and protocol may appear once; upstream prints the whole key struct.
fn duplicate_ports(ports: &[ServicePort], path: &Path) -> ErrorList {
    let mut seen = BTreeSet::new();
    let mut errs = ErrorList::new();
    for (i, port) in ports.iter().enumerate() {
        let protocol = text(&port.protocol);
        if !seen.insert((protocol, port.port)) {
            let key = format!(
                "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
                go::quote(protocol),
                port.port
            );
            errs.push(FieldError::duplicate(&path.index(i), Rendered(key)));
        }
    }
    errs
}

fn source_ranges(spec: &ServiceSpec, old: Option<&ServiceSpec>, path: &Path) -> ErrorList {
    let ranges = opt_slice(&spec.load_balancer_source_ranges);
    if ranges.is_empty() {
        return ErrorList::new();
    }
    let ranges_path = path.child("LoadBalancerSourceRanges");
    let mut errs = ErrorList::new();
    if service_type(spec) != "LoadBalancer" {
        errs.push(FieldError::forbidden(
            &ranges_path,
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    let previous: Vec<String> = old
        .map(|o| {
            opt_slice(&o.load_balancer_source_ranges)
                .iter()
                .map(|r| r.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    for (i, range) in ranges.iter().enumerate() {
        errs.extend(legacy_cidr(&ranges_path.index(i), range.trim(), &previous));
    }
    errs
}

fn load_balancer_fields(spec: &ServiceSpec, path: &Path) -> ErrorList {
    let is_lb = service_type(spec) == "LoadBalancer";
    let mut errs = ErrorList::new();
    match (spec.allocate_load_balancer_node_ports, is_lb) {
        (Some(_), false) => errs.push(FieldError::forbidden(
            &path.child("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        )),
        (None, true) => errs.push(FieldError::required(
            &Path::new("allocateLoadBalancerNodePorts"),
            "",
        )),
        _ => {}
    }
    let class_path = path.child("loadBalancerClass");
    match (spec.load_balancer_class.as_deref(), is_lb) {
        (Some(class), true) => errs.extend(qualified_name(class, &class_path)),
        (Some(_), false) => errs.push(FieldError::forbidden(
            &class_path,
            "may only be used when `type` is 'LoadBalancer'",
        )),
        (None, _) => {}
    }
    errs
}

fn traffic_policies(spec: &ServiceSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let external = text(&spec.external_traffic_policy);
    let external_path = path.child("externalTrafficPolicy");
    if !externally_accessible(spec) {
        if !external.is_empty() {
            errs.push(FieldError::invalid(
                &external_path,
                external,
                "may only be set for externally-accessible services",
            ));
        }
    } else if external.is_empty() {
        errs.push(FieldError::required(&external_path, ""));
    } else if !TRAFFIC_POLICIES.contains(&external) {
        errs.push(FieldError::not_supported(
            &external_path,
            external,
            &TRAFFIC_POLICIES,
        ));
    }
    let health_port = spec.health_check_node_port.unwrap_or(0);
    let health_path = path.child("healthCheckNodePort");
    if !needs_health_check(spec) {
        if health_port != 0 {
            errs.push(FieldError::invalid(
                &health_path,
                health_port,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if health_port == 0 {
        errs.push(FieldError::required(&health_path, ""));
    } else {
        errs.extend(port_number(health_port, &health_path));
    }
    let internal_path = path.child("internalTrafficPolicy");
    match spec.internal_traffic_policy.as_deref() {
        None if matches!(
            service_type(spec),
            "NodePort" | "LoadBalancer" | "ClusterIP"
        ) =>
        {
            errs.push(FieldError::required(&internal_path, ""));
        }
        Some(policy) if !TRAFFIC_POLICIES.contains(&policy) => {
            errs.push(FieldError::not_supported(
                &internal_path,
                policy,
                &TRAFFIC_POLICIES,
            ));
        }
        _ => {}
    }
    if let Some(distribution) = spec
        .traffic_distribution
        .as_deref()
        .filter(|d| *d != "PreferClose")
    {
        errs.push(FieldError::not_supported(
            &path.child("trafficDistribution"),
            distribution,
            &["PreferClose"],
        ));
    }
    errs
}

/// Allocated cluster IPs stay; a secondary one may be added or released.
fn cluster_ips_update(new: &ServiceSpec, old: &ServiceSpec) -> ErrorList {
    if service_type(new) == "ExternalName"
        || service_type(old) == "ExternalName"
        || is_headless(new) && is_headless(old)
    {
        return ErrorList::new();
    }
    let path = Path::new("spec").child("clusterIPs");
    let (new_ips, old_ips) = (opt_slice(&new.cluster_ips), opt_slice(&old.cluster_ips));
    let changed = |i: usize| {
        FieldError::invalid(
            &path.index(i),
            cluster_ips_list(new),
            "may not change once set",
        )
    };
    let mut errs = ErrorList::new();
    if new_ips.len() == old_ips.len() {
        errs.extend(
            (0..old_ips.len())
                .filter(|&i| old_ips[i] != new_ips[i])
                .map(changed),
        );
    } else if new_ips.len() < old_ips.len() {
        if new_ips.is_empty() {
            errs.push(FieldError::invalid(
                &path.index(0),
                cluster_ips_list(new),
                "primary clusterIP can not be unset",
            ));
        } else if new_ips[0] != old_ips[0] {
            errs.push(changed(0));
        }
        if new_ips.len() == 1 && new.ip_family_policy.as_deref() != Some("SingleStack") {
            errs.push(FieldError::invalid(
                &Path::new("spec").child("ipFamilyPolicy"),
                new.ip_family_policy.as_deref(),
                "must be set to 'SingleStack' when releasing the secondary clusterIP",
            ));
        }
    } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
        errs.push(changed(0));
    }
    errs
}

fn ip_families_update(new: &ServiceSpec, old: &ServiceSpec) -> ErrorList {
    if service_type(new) == "ExternalName"
        || service_type(old) == "ExternalName"
        || is_headless(new)
        || is_headless(old)
    {
        return ErrorList::new();
    }
    let path = Path::new("spec").child("ipFamilies").index(0);
    let (new_families, old_families) = (opt_slice(&new.ip_families), opt_slice(&old.ip_families));
    let families = || {
        go::slice(
            "core.IPFamily",
            new.ip_families
                .as_ref()
                .map(|f| f.iter().map(|s| go::quote(s))),
        )
    };
    let mut errs = ErrorList::new();
    if new_families.len() == old_families.len() {
        if old_families.iter().zip(new_families).any(|(a, b)| a != b) {
            errs.push(FieldError::invalid(
                &path,
                families(),
                "may not change once set",
            ));
        }
    } else if new_families.len() < old_families.len() {
        if opt_slice(&new.cluster_ips).is_empty() {
            errs.push(FieldError::invalid(
                &path,
                families(),
                "primary ipFamily can not be unset",
            ));
        }
        if new_families
            .first()
            .is_some_and(|f| Some(f) != old_families.first())
        {
            errs.push(FieldError::invalid(
                &path,
                cluster_ips_list(new),
                "may not change once set",
            ));
        }
        if new_families.len() == 1 && new.ip_family_policy.as_deref() != Some("SingleStack") {
            errs.push(FieldError::invalid(
                &Path::new("spec").child("ipFamilyPolicy"),
                new.ip_family_policy.as_deref(),
                "must be set to 'SingleStack' when releasing the secondary ipFamily",
            ));
        }
    } else if old_families
        .first()
        .is_some_and(|f| Some(f) != new_families.first())
    {
        errs.push(FieldError::invalid(
            &path,
            cluster_ips_list(new),
            "may not change once set",
        ));
    }
    errs
}

fn load_balancer_class_update(new: &ServiceSpec, old: &ServiceSpec) -> Option<FieldError> {
    let both_lb = service_type(new) == "LoadBalancer" && service_type(old) == "LoadBalancer";
    (both_lb && new.load_balancer_class != old.load_balancer_class).then(|| {
        FieldError::invalid(
            &Path::new("spec").child("loadBalancerClass"),
            new.load_balancer_class.as_deref(),
            "may not change once set",
        )
    })
}

fn health_check_node_port_update(new: &ServiceSpec, old: &ServiceSpec) -> Option<FieldError> {
    let changed =
        new.health_check_node_port.unwrap_or(0) != old.health_check_node_port.unwrap_or(0);
    (needs_health_check(new) && needs_health_check(old) && changed).then(|| {
        FieldError::forbidden(
            &Path::new("spec").child("healthCheckNodePort"),
            "field is immutable",
        )
    })
}

/// Validates Endpoints on create (`old` is `None`) or update; on update, subsets that did not
/// change are accepted as stored.
pub fn endpoints(new: &Endpoints, old: Option<&Endpoints>) -> ErrorList {
    let mut errs = object_meta_revalidated(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    let unchanged = old.is_some_and(|old| old.subsets == new.subsets);
    if !unchanged {
        errs.extend(subsets(opt_slice(&new.subsets), &Path::new("subsets")));
    }
    errs
}

fn subsets(subsets: &[EndpointSubset], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, subset) in subsets.iter().enumerate() {
        let subset_path = path.index(i);
        let (ready, not_ready) = (
            opt_slice(&subset.addresses),
            opt_slice(&subset.not_ready_addresses),
        );
        if ready.is_empty() && not_ready.is_empty() {
            errs.push(FieldError::required(
                &subset_path,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for (field, addresses) in [("addresses", ready), ("notReadyAddresses", not_ready)] {
            for (j, address) in addresses.iter().enumerate() {
                errs.extend(endpoint_address(
                    address,
                    &subset_path.child(field).index(j),
                ));
            }
        }
        let ports = opt_slice(&subset.ports);
        for (j, port) in ports.iter().enumerate() {
            errs.extend(endpoint_port(
                port,
                ports.len() > 1,
                &subset_path.child("ports").index(j),
            ));
        }
    }
    errs
}

fn endpoint_address(address: &EndpointAddress, path: &Path) -> ErrorList {
    let ip_path = path.child("ip");
    let mut errs = legacy_ip(&ip_path, &address.ip, &[]);
    let hostname = text(&address.hostname);
    if !hostname.is_empty() {
        errs.extend(dns1123_label(hostname, &path.child("hostname")));
    }
    if let Some(node) = &address.node_name {
        let node_path = path.child("nodeName");
        errs.extend(
            NameRule::DnsSubdomain
                .check(node, false)
                .into_iter()
                .map(|m| FieldError::invalid(&node_path, node, m)),
        );
    }
    errs.extend(endpoint_ip(&address.ip, &ip_path));
    errs
}

fn endpoint_port(port: &EndpointPort, require_name: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = text(&port.name);
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(dns1123_label(name, &path.child("name")));
    }
    errs.extend(port_number(port.port, &path.child("port")));
    errs.extend(protocol(text(&port.protocol), &path.child("protocol")));
    if let Some(app_protocol) = &port.app_protocol {
        errs.extend(qualified_name(app_protocol, &path.child("appProtocol")));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{app_labels, messages, namespaced_meta, stored};
    use super::*;

    /// `kubectl create service clusterip web --tcp=80:8080` after defaulting and allocation.
    fn valid_service() -> Service {
        Service {
            metadata: namespaced_meta("web"),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(app_labels()),
                ports: Some(vec![ServicePort {
                    name: Some("80-8080".into()),
                    port: 80,
                    protocol: Some("TCP".into()),
                    target_port: Some(IntOrString::Int(8080)),
                    ..Default::default()
                }]),
                session_affinity: Some("None".into()),
                cluster_ip: Some("10.96.0.10".into()),
                cluster_ips: Some(vec!["10.96.0.10".into()]),
                ip_families: Some(vec!["IPv4".into()]),
                ip_family_policy: Some("SingleStack".into()),
                internal_traffic_policy: Some("Cluster".into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn spec_mut(service: &mut Service) -> &mut ServiceSpec {
        service.spec.as_mut().expect("spec")
    }

    #[test]
    fn a_defaulted_service_is_valid() {
        assert!(service(&valid_service(), None).is_empty());
    }

    #[test]
    fn names_are_dns1035_labels() {
        let mut svc = valid_service();
        svc.metadata.name = Some("1web".into());
        assert_eq!(
            messages(&service(&svc, None)),
            vec![
                "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
    }

    #[test]
    fn ports_types_and_node_ports() {
        let mut svc = valid_service();
        let spec = spec_mut(&mut svc);
        spec.type_ = Some("Bogus".into());
        spec.ports = Some(vec![
            ServicePort {
                port: 0,
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::Int(80)),
                ..Default::default()
            },
            ServicePort {
                name: Some("b".into()),
                port: 81,
                protocol: Some("TCP".into()),
                node_port: Some(80),
                target_port: Some(IntOrString::Int(81)),
                ..Default::default()
            },
        ]);
        assert_eq!(
            messages(&service(&svc, None)),
            vec![
                "spec.ports[0].name: Required value",
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.type: Unsupported value: \"Bogus\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                "spec.ports[1].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
            ]
        );
    }

    #[test]
    fn cluster_ip_services_take_no_node_ports_and_select_by_labels() {
        let mut svc = valid_service();
        let spec = spec_mut(&mut svc);
        spec.ports.as_mut().expect("ports")[0].node_port = Some(30080);
        spec.selector = Some([("app".to_string(), "web app".to_string())].into());
        let errs = messages(&service(&svc, None));
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0].starts_with("spec.selector: Invalid value: \"web app\": a valid label must be")
        );
        assert_eq!(
            errs[1],
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
        );
    }

    #[test]
    fn ports_are_required_except_for_headless_and_external_name() {
        let mut svc = valid_service();
        spec_mut(&mut svc).ports = None;
        assert_eq!(
            messages(&service(&svc, None)),
            vec!["spec.ports: Required value"]
        );
        let spec = spec_mut(&mut svc);
        spec.cluster_ip = Some("None".into());
        spec.cluster_ips = Some(vec!["None".into()]);
        assert!(service(&svc, None).is_empty());
    }

    #[test]
    fn duplicate_ports_print_the_key() {
        let mut svc = valid_service();
        let port = spec_mut(&mut svc).ports.as_ref().expect("ports")[0].clone();
        spec_mut(&mut svc).ports = Some(vec![
            port.clone(),
            ServicePort {
                name: Some("other".into()),
                ..port
            },
        ]);
        assert_eq!(
            messages(&service(&svc, None)),
            vec![
                "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"
            ]
        );
    }

    #[test]
    fn cluster_ip_is_immutable() {
        let old = Service {
            metadata: stored(namespaced_meta("web")),
            ..valid_service()
        };
        let mut new = old.clone();
        let spec = spec_mut(&mut new);
        spec.cluster_ip = Some("10.96.0.11".into());
        spec.cluster_ips = Some(vec!["10.96.0.11".into()]);
        assert_eq!(
            messages(&service(&new, Some(&old))),
            vec![
                "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set"
            ]
        );
    }

    #[test]
    fn external_name_and_traffic_policies() {
        let mut svc = valid_service();
        let spec = spec_mut(&mut svc);
        spec.type_ = Some("ExternalName".into());
        spec.external_name = Some("Example.COM".into());
        spec.internal_traffic_policy = None;
        spec.external_traffic_policy = Some("Local".into());
        let errs = messages(&service(&svc, None));
        assert_eq!(
            errs[0],
            "spec.clusterIPs: Forbidden: may not be set for ExternalName services"
        );
        assert!(errs[3].starts_with(
            "spec.externalName: Invalid value: \"Example.COM\": a lowercase RFC 1123 subdomain"
        ));
        assert_eq!(
            errs[4],
            "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services"
        );
    }

    #[test]
    fn endpoints_addresses_and_ports() {
        let eps = Endpoints {
            metadata: namespaced_meta("web"),
            subsets: Some(vec![
                EndpointSubset::default(),
                EndpointSubset {
                    addresses: Some(vec![EndpointAddress {
                        ip: "127.0.0.1".into(),
                        ..Default::default()
                    }]),
                    ports: Some(vec![
                        EndpointPort {
                            port: 80,
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        };
                        2
                    ]),
                    ..Default::default()
                },
            ]),
        };
        assert_eq!(
            messages(&endpoints(&eps, None)),
            vec![
                "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
                "subsets[1].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                "subsets[1].ports[0].name: Required value",
                "subsets[1].ports[1].name: Required value",
            ]
        );
    }
}
