//! NetworkPolicies, Ingresses and IngressClasses (networking.k8s.io/v1), following upstream's
//! `pkg/apis/networking/validation`: selectors and peers, ports and port ranges, CIDR blocks,
//! ingress hosts, paths and backends, and the controller an IngressClass names.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::TypedLocalObjectReference;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, IPBlock, Ingress, IngressBackend, IngressClass,
    IngressClassParametersReference, IngressClassSpec, IngressRule, IngressServiceBackend,
    IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::container::{port_num_or_name, port_number};
use super::field::{ErrorList, FieldError, Path};
use super::go;
use super::meta::{immutable, label_selector, object_meta, object_meta_revalidated};
use super::names::{NameRule, is_dns1123_subdomain, is_valid_port_name};
use super::net::{legacy_cidr, parse_cidr, parse_ip};
use super::pod_spec::subdomain;
use super::{opt_slice, text};

/// Network policies name their protocols in this order, unlike container ports.
const POLICY_PROTOCOLS: [&str; 3] = ["TCP", "UDP", "SCTP"];
const POLICY_TYPES: [&str; 2] = ["Ingress", "Egress"];
const PATH_TYPES: [&str; 3] = ["Exact", "ImplementationSpecific", "Prefix"];
const PARAMETER_SCOPES: [&str; 2] = ["Cluster", "Namespace"];
const INVALID_PATH_SEQUENCES: [&str; 5] = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: [&str; 2] = ["/..", "/."];
const INGRESS_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
const MAX_CONTROLLER_LENGTH: usize = 250;
const MAX_SUBDOMAIN_LENGTH: usize = 253;
const WILDCARD_SUBDOMAIN_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const HTTP_PATH_MSG: &str =
    "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')";
const DOMAIN_PREFIXED_PATH_MSG: &str = "must be a domain-prefixed path (such as \"acme.io/foo\")";

/// Validates a NetworkPolicy on create (`old` is `None`) or update.
///
/// On update every CIDR the stored policy already holds stays acceptable, valid or not: the
/// rules may have been rearranged arbitrarily, so a stored value cannot be told from a new one.
pub fn network_policy(new: &NetworkPolicy, old: Option<&NetworkPolicy>) -> ErrorList {
    let default_spec = NetworkPolicySpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let stored = old
        .map(|o| stored_cidrs(o.spec.as_ref().unwrap_or(&default_spec)))
        .unwrap_or_default();
    let mut errs = object_meta(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(network_policy_spec(spec, &stored, &Path::new("spec")));
    errs
}

/// Every `cidr` and `except` value of the policy's IP blocks.
fn stored_cidrs(spec: &NetworkPolicySpec) -> Vec<String> {
    let from = opt_slice(&spec.ingress)
        .iter()
        .flat_map(|rule| opt_slice(&rule.from));
    let to = opt_slice(&spec.egress)
        .iter()
        .flat_map(|rule| opt_slice(&rule.to));
    from.chain(to)
        .filter_map(|peer| peer.ip_block.as_ref())
        .flat_map(|block| {
            std::iter::once(block.cidr.clone()).chain(opt_slice(&block.except).iter().cloned())
        })
        .collect()
}

fn network_policy_spec(spec: &NetworkPolicySpec, stored: &[String], path: &Path) -> ErrorList {
    let mut errs = label_selector(spec.pod_selector.as_ref(), &path.child("podSelector"));
    for (i, rule) in opt_slice(&spec.ingress).iter().enumerate() {
        let rule_path = path.child("ingress").index(i);
        errs.extend(policy_ports(
            opt_slice(&rule.ports),
            &rule_path.child("ports"),
        ));
        errs.extend(peers(
            opt_slice(&rule.from),
            stored,
            &rule_path.child("from"),
        ));
    }
    for (i, rule) in opt_slice(&spec.egress).iter().enumerate() {
        let rule_path = path.child("egress").index(i);
        errs.extend(policy_ports(
            opt_slice(&rule.ports),
            &rule_path.child("ports"),
        ));
        errs.extend(peers(opt_slice(&rule.to), stored, &rule_path.child("to")));
    }
    errs.extend(policy_types(
        opt_slice(&spec.policy_types),
        &path.child("policyTypes"),
    ));
    errs
}

fn policy_ports(ports: &[NetworkPolicyPort], path: &Path) -> ErrorList {
    ports
        .iter()
        .enumerate()
        .flat_map(|(i, port)| policy_port(port, &path.index(i)))
        .collect()
}

/// A protocol (unset means TCP), a port by number or name, and a port range only above a
/// numbered port.
fn policy_port(port: &NetworkPolicyPort, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(protocol) = port
        .protocol
        .as_deref()
        .filter(|p| !POLICY_PROTOCOLS.contains(p))
    {
        errs.push(FieldError::not_supported(
            &path.child("protocol"),
            protocol,
            &POLICY_PROTOCOLS,
        ));
    }
    let port_path = path.child("port");
    let end_path = path.child("endPort");
    match (&port.port, port.end_port) {
        (Some(IntOrString::Int(number)), end) => {
            errs.extend(port_number(*number, &port_path));
            if let Some(end) = end {
                if end < *number {
                    errs.push(FieldError::invalid(
                        &end_path,
                        end,
                        "must be greater than or equal to `port`",
                    ));
                }
                errs.extend(port_number(end, &end_path));
            }
        }
        (Some(named @ IntOrString::String(_)), end) => {
            if let Some(end) = end {
                errs.push(FieldError::invalid(
                    &end_path,
                    end,
                    "may not be specified when `port` is non-numeric",
                ));
            }
            errs.extend(port_num_or_name(named, &port_path));
        }
        (None, Some(end)) => errs.push(FieldError::invalid(
            &end_path,
            end,
            "may not be specified when `port` is not specified",
        )),
        (None, None) => {}
    }
    errs
}

fn peers(peers: &[NetworkPolicyPeer], stored: &[String], path: &Path) -> ErrorList {
    peers
        .iter()
        .enumerate()
        .flat_map(|(i, p)| peer(p, stored, &path.index(i)))
        .collect()
}

/// A peer selects pods, namespaces or both, or else is an IP block and nothing more.
fn peer(peer: &NetworkPolicyPeer, stored: &[String], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut kinds = 0;
    if let Some(selector) = &peer.pod_selector {
        kinds += 1;
        errs.extend(label_selector(Some(selector), &path.child("podSelector")));
    }
    if let Some(selector) = &peer.namespace_selector {
        kinds += 1;
        errs.extend(label_selector(
            Some(selector),
            &path.child("namespaceSelector"),
        ));
    }
    if let Some(block) = &peer.ip_block {
        kinds += 1;
        errs.extend(ip_block(block, stored, &path.child("ipBlock")));
    }
    if kinds == 0 {
        errs.push(FieldError::required(path, "must specify a peer"));
    } else if kinds > 1 && peer.ip_block.is_some() {
        errs.push(FieldError::forbidden(
            path,
            "may not specify both ipBlock and another peer",
        ));
    }
    errs
}

/// A CIDR, and exceptions that are strictly smaller networks inside it.
fn ip_block(block: &IPBlock, stored: &[String], path: &Path) -> ErrorList {
    let cidr_path = path.child("cidr");
    if block.cidr.is_empty() {
        return vec![FieldError::required(&cidr_path, "")];
    }
    let mut errs = legacy_cidr(&cidr_path, &block.cidr, stored);
    // A stored CIDR that does not parse has nothing to hold exceptions.
    let Some(network) = parse_cidr(&block.cidr) else {
        return errs;
    };
    for (i, except) in opt_slice(&block.except).iter().enumerate() {
        let except_path = path.child("except").index(i);
        errs.extend(legacy_cidr(&except_path, except, stored));
        let Some((address, prefix)) = parse_cidr(except) else {
            continue;
        };
        if !network_contains(network, address) || network.1 >= prefix {
            errs.push(FieldError::invalid(
                &except_path,
                except,
                "must be a strict subset of `cidr`",
            ));
        }
    }
    errs
}

/// Whether `ip` lies in the network of `address/prefix`; addresses of the other family never do.
fn network_contains((address, prefix): (IpAddr, u8), ip: IpAddr) -> bool {
    let (width, network, candidate) = match (address, ip) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (32, u128::from(u32::from(a)), u128::from(u32::from(b))),
        (IpAddr::V6(a), IpAddr::V6(b)) => (128, u128::from(a), u128::from(b)),
        _ => return false,
    };
    let host_bits = width - u32::from(prefix);
    network.checked_shr(host_bits).unwrap_or(0) == candidate.checked_shr(host_bits).unwrap_or(0)
}

/// At most the two kinds of policy, each named correctly.
fn policy_types(types: &[String], path: &Path) -> ErrorList {
    if types.len() > POLICY_TYPES.len() {
        let value = go::slice(
            "networking.PolicyType",
            Some(types.iter().map(|t| go::quote(t))),
        );
        return vec![FieldError::invalid(
            path,
            value,
            "may not specify more than two policyTypes",
        )];
    }
    types
        .iter()
        .enumerate()
        .filter(|(_, t)| !POLICY_TYPES.contains(&t.as_str()))
        .map(|(i, t)| FieldError::not_supported(&path.index(i), t, &POLICY_TYPES))
        .collect()
}

/// Leniencies an update grants so that objects stored before a rule was tightened stay
/// updatable.
struct IngressOptions {
    /// The stored Ingress already names an invalid TLS secret.
    allow_invalid_secret_name: bool,
    /// The stored Ingress already has an invalid rule under a wildcard host.
    allow_invalid_wildcard_host_rule: bool,
}

/// Validates an Ingress on create (`old` is `None`) or update; an update is also checked as a
/// create, as upstream does.
pub fn ingress(new: &Ingress, old: Option<&Ingress>) -> ErrorList {
    let default_spec = IngressSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let old_spec = old.map(|o| o.spec.as_ref().unwrap_or(&default_spec));
    let opts = IngressOptions {
        allow_invalid_secret_name: old_spec.is_some_and(has_invalid_secret_name),
        allow_invalid_wildcard_host_rule: old_spec.is_some_and(has_invalid_wildcard_rule),
    };
    let mut errs = object_meta_revalidated(
        &new.metadata,
        true,
        NameRule::DnsSubdomain,
        old.map(|o| &o.metadata),
    );
    errs.extend(ingress_spec(spec, &opts, &Path::new("spec")));
    if old.is_none() {
        errs.extend(class_annotation_matches(new, spec));
    }
    errs
}

/// The legacy class annotation and the class field must agree when both are given.
fn class_annotation_matches(ingress: &Ingress, spec: &IngressSpec) -> Option<FieldError> {
    let annotation = ingress
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(INGRESS_CLASS_ANNOTATION))?;
    let class = spec.ingress_class_name.as_deref()?;
    (annotation != class).then(|| {
        FieldError::invalid(
            &Path::new("annotations").child(INGRESS_CLASS_ANNOTATION),
            annotation,
            "must match `ingressClassName` when both are specified",
        )
    })
}

fn has_invalid_secret_name(spec: &IngressSpec) -> bool {
    opt_slice(&spec.tls)
        .iter()
        .any(|tls| !tls_secret_name(text(&tls.secret_name)).is_empty())
}

fn has_invalid_wildcard_rule(spec: &IngressSpec) -> bool {
    opt_slice(&spec.rules)
        .iter()
        .any(|rule| text(&rule.host).contains('*') && !rule_value(rule, &Path::new("")).is_empty())
}

fn ingress_spec(spec: &IngressSpec, opts: &IngressOptions, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let rules = opt_slice(&spec.rules);
    if rules.is_empty() && spec.default_backend.is_none() {
        let value = go::slice(
            "networking.IngressRule",
            spec.rules.as_ref().map(|_| Vec::<String>::new()),
        );
        errs.push(FieldError::invalid(
            path,
            value,
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(backend) = &spec.default_backend {
        errs.extend(ingress_backend(backend, &path.child("defaultBackend")));
    }
    errs.extend(ingress_rules(rules, opts, &path.child("rules")));
    errs.extend(ingress_tls(opt_slice(&spec.tls), opts, &path.child("tls")));
    if let Some(class) = spec.ingress_class_name.as_deref() {
        errs.extend(subdomain(class, &path.child("ingressClassName")));
    }
    errs
}

/// Hosts are DNS names, possibly behind one leading `*.`, never IP addresses.
fn ingress_rules(rules: &[IngressRule], opts: &IngressOptions, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, rule) in rules.iter().enumerate() {
        let rule_path = path.index(i);
        let host = text(&rule.host);
        let mut wildcard = false;
        if !host.is_empty() {
            let host_path = rule_path.child("host");
            if parse_ip(host).is_some() {
                errs.push(FieldError::invalid(
                    &host_path,
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            wildcard = host.contains('*');
            errs.extend(host_errors(host, &host_path));
        }
        if !wildcard || !opts.allow_invalid_wildcard_host_rule {
            errs.extend(rule_value(rule, &rule_path));
        }
    }
    errs
}

/// A host name, or a wildcard one when it holds a `*`.
fn host_errors(host: &str, path: &Path) -> ErrorList {
    let msgs = if host.contains('*') {
        is_wildcard_dns1123_subdomain(host)
    } else {
        is_dns1123_subdomain(host)
    };
    msgs.into_iter()
        .map(|m| FieldError::invalid(path, host, m))
        .collect()
}

/// `*.` followed by a DNS subdomain.
fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    if value.len() > MAX_SUBDOMAIN_LENGTH {
        msgs.push(format!(
            "must be no more than {MAX_SUBDOMAIN_LENGTH} characters"
        ));
    }
    // Only the format counts here: the length is reported above, for the whole value.
    let well_formed = value.strip_prefix("*.").is_some_and(|rest| {
        is_dns1123_subdomain(rest)
            .iter()
            .all(|m| m.starts_with("must be no more than"))
    });
    if !well_formed {
        msgs.push(WILDCARD_SUBDOMAIN_MSG.to_string());
    }
    msgs
}

fn rule_value(rule: &IngressRule, path: &Path) -> ErrorList {
    let Some(http) = &rule.http else {
        return ErrorList::new();
    };
    let http_path = path.child("http");
    let paths_path = http_path.child("paths");
    let mut errs = ErrorList::new();
    if http.paths.is_empty() {
        errs.push(FieldError::required(&paths_path, ""));
    }
    for (i, p) in http.paths.iter().enumerate() {
        errs.extend(http_ingress_path(p, &paths_path.index(i)));
    }
    errs
}

/// A path type is required; exact and prefix paths are clean absolute paths.
fn http_ingress_path(p: &HTTPIngressPath, path: &Path) -> ErrorList {
    if p.path_type.is_empty() {
        return vec![FieldError::required(
            &path.child("pathType"),
            "pathType must be specified",
        )];
    }
    let value = text(&p.path);
    let value_path = path.child("path");
    let mut errs = ErrorList::new();
    match p.path_type.as_str() {
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errs.push(FieldError::invalid(
                    &value_path,
                    value,
                    "must be an absolute path",
                ));
            }
            if !value.is_empty() {
                for sequence in INVALID_PATH_SEQUENCES {
                    if value.contains(sequence) {
                        errs.push(FieldError::invalid(
                            &value_path,
                            value,
                            format!("must not contain '{sequence}'"),
                        ));
                    }
                }
                for suffix in INVALID_PATH_SUFFIXES {
                    if value.ends_with(suffix) {
                        errs.push(FieldError::invalid(
                            &value_path,
                            value,
                            format!("cannot end with '{suffix}'"),
                        ));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(FieldError::invalid(
                    &value_path,
                    value,
                    "must be an absolute path",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("pathType"),
            other,
            &PATH_TYPES,
        )),
    }
    errs.extend(ingress_backend(&p.backend, &path.child("backend")));
    errs
}

/// Exactly one of a service and a resource.
fn ingress_backend(backend: &IngressBackend, path: &Path) -> ErrorList {
    match (&backend.resource, &backend.service) {
        (Some(_), Some(_)) => vec![FieldError::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )],
        (Some(resource), None) => typed_local_object_reference(resource, &path.child("resource")),
        (None, Some(service)) => service_backend(service, path),
        (None, None) => vec![FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )],
    }
}

/// A Service by its DNS-1035 name, and a port by exactly one of name and number.
fn service_backend(service: &IngressServiceBackend, path: &Path) -> ErrorList {
    let service_path = path.child("service");
    let name_path = service_path.child("name");
    let mut errs = ErrorList::new();
    if service.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(
            NameRule::Dns1035Label
                .check(&service.name, false)
                .into_iter()
                .map(|m| FieldError::invalid(&name_path, &service.name, m)),
        );
    }
    let port = service.port.as_ref();
    let name = port.map_or("", |p| text(&p.name));
    let number = port.and_then(|p| p.number).unwrap_or(0);
    let port_path = service_path.child("port");
    match (!name.is_empty(), number != 0) {
        (true, true) => errs.push(FieldError::invalid(
            path,
            "",
            "cannot set both port name & port number",
        )),
        (true, false) => {
            let name_path = port_path.child("name");
            errs.extend(
                is_valid_port_name(name)
                    .into_iter()
                    .map(|m| FieldError::invalid(&name_path, name, m)),
            );
        }
        (false, true) => errs.extend(port_number(number, &port_path.child("number"))),
        (false, false) => errs.push(FieldError::required(
            path,
            "port name or number is required",
        )),
    }
    errs
}

/// A resource backend: an optional API group, and a kind and name usable in a URL path.
fn typed_local_object_reference(reference: &TypedLocalObjectReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(group) = reference.api_group.as_deref() {
        let group_path = path.child("apiGroup");
        errs.extend(
            is_dns1123_subdomain(group)
                .into_iter()
                .map(|m| FieldError::invalid(&group_path, group, m)),
        );
    }
    errs.extend(path_segment("kind", &reference.kind, path));
    errs.extend(path_segment("name", &reference.name, path));
    errs
}

/// A required value that must be usable as a URL path segment.
fn path_segment(field: &str, value: &str, path: &Path) -> ErrorList {
    let field_path = path.child(field);
    if value.is_empty() {
        return vec![FieldError::required(&field_path, "")];
    }
    NameRule::PathSegment
        .check(value, false)
        .into_iter()
        .map(|m| FieldError::invalid(&field_path, value, m))
        .collect()
}

/// TLS hosts as rule hosts, and secret names as Secret names.
fn ingress_tls(tls: &[IngressTLS], opts: &IngressOptions, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (t, entry) in tls.iter().enumerate() {
        let entry_path = path.index(t);
        for (i, host) in opt_slice(&entry.hosts).iter().enumerate() {
            errs.extend(host_errors(host, &entry_path.child("hosts").index(i)));
        }
        if !opts.allow_invalid_secret_name {
            let name = text(&entry.secret_name);
            let name_path = entry_path.child("secretName");
            errs.extend(
                tls_secret_name(name)
                    .into_iter()
                    .map(|m| FieldError::invalid(&name_path, name, m)),
            );
        }
    }
    errs
}

/// An unset secret name is allowed (TLS by the controller's default certificate).
fn tls_secret_name(name: &str) -> Vec<String> {
    if name.is_empty() {
        Vec::new()
    } else {
        NameRule::DnsSubdomain.check(name, false)
    }
}

/// Validates an IngressClass on create (`old` is `None`) or update; the controller never
/// changes, and an update is also checked as a create, as upstream does.
pub fn ingress_class(new: &IngressClass, old: Option<&IngressClass>) -> ErrorList {
    let default_spec = IngressClassSpec::default();
    let spec = new.spec.as_ref().unwrap_or(&default_spec);
    let path = Path::new("spec");
    let mut errs = ErrorList::new();
    if let Some(old) = old {
        let old_spec = old.spec.as_ref().unwrap_or(&default_spec);
        errs.extend(object_meta(
            &new.metadata,
            false,
            NameRule::DnsSubdomain,
            Some(&old.metadata),
        ));
        errs.extend(immutable(
            text(&spec.controller),
            text(&old_spec.controller),
            &path.child("controller"),
        ));
    }
    errs.extend(object_meta(
        &new.metadata,
        false,
        NameRule::DnsSubdomain,
        None,
    ));
    errs.extend(ingress_class_spec(spec, &path));
    errs
}

fn ingress_class_spec(spec: &IngressClassSpec, path: &Path) -> ErrorList {
    let controller = text(&spec.controller);
    let controller_path = path.child("controller");
    let mut errs = ErrorList::new();
    if controller.is_empty() {
        errs.push(FieldError::required(&controller_path, ""));
    } else {
        if controller.len() > MAX_CONTROLLER_LENGTH {
            errs.push(FieldError::too_long(
                &controller_path,
                MAX_CONTROLLER_LENGTH,
            ));
        }
        errs.extend(domain_prefixed_path(controller, &controller_path));
    }
    if let Some(parameters) = &spec.parameters {
        errs.extend(class_parameters(parameters, &path.child("parameters")));
    }
    errs
}

/// `example.com/some/path`: a DNS subdomain, a slash, and URL path characters.
fn domain_prefixed_path(value: &str, path: &Path) -> ErrorList {
    let Some((host, rest)) = value
        .split_once('/')
        .filter(|(host, rest)| !host.is_empty() && !rest.is_empty())
    else {
        return vec![FieldError::invalid(path, value, DOMAIN_PREFIXED_PATH_MSG)];
    };
    let mut errs: ErrorList = is_dns1123_subdomain(host)
        .into_iter()
        .map(|m| FieldError::invalid(path, host, m))
        .collect();
    if !rest.chars().all(is_http_path_char) {
        errs.push(FieldError::invalid(path, rest, HTTP_PATH_MSG));
    }
    errs
}

/// The characters RFC 3986 allows in a URL path.
fn is_http_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-._~%!$&'()*+,;=:".contains(c)
}

/// The controller's parameters: a kind and name, and a namespace exactly when the scope is
/// `Namespace`.
fn class_parameters(parameters: &IngressClassParametersReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(group) = parameters.api_group.as_deref() {
        let group_path = path.child("apiGroup");
        errs.extend(
            is_dns1123_subdomain(group)
                .into_iter()
                .map(|m| FieldError::invalid(&group_path, group, m)),
        );
    }
    errs.extend(path_segment("kind", &parameters.kind, path));
    errs.extend(path_segment("name", &parameters.name, path));
    let Some(scope) = parameters.scope.as_deref() else {
        errs.push(FieldError::required(&path.child("scope"), ""));
        return errs;
    };
    let namespace_path = path.child("namespace");
    match (scope, parameters.namespace.as_deref()) {
        ("Namespace", None) => errs.push(FieldError::required(
            &namespace_path,
            "`parameters.scope` is set to 'Namespace'",
        )),
        ("Namespace", Some(namespace)) => errs.extend(
            NameRule::DnsLabel
                .check(namespace, false)
                .into_iter()
                .map(|m| FieldError::invalid(&namespace_path, namespace, m)),
        ),
        ("Cluster", Some(_)) => errs.push(FieldError::forbidden(
            &namespace_path,
            "`parameters.scope` is set to 'Cluster'",
        )),
        ("Cluster", None) => {}
        (other, _) => errs.push(FieldError::not_supported(
            &path.child("scope"),
            other,
            &PARAMETER_SCOPES,
        )),
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta, stored};
    use super::super::names::is_dns1035_label;
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    fn policy(spec: serde_json::Value) -> NetworkPolicy {
        NetworkPolicy {
            metadata: namespaced_meta("allow"),
            spec: Some(serde_json::from_value(spec).expect("policy spec")),
        }
    }

    /// argo-cd's policy for its Redis, with the defaulted protocol.
    fn argocd_redis_policy() -> NetworkPolicy {
        NetworkPolicy {
            metadata: ObjectMeta {
                namespace: Some("argocd".into()),
                ..namespaced_meta("argocd-redis-network-policy")
            },
            ..policy(json!({
                "ingress": [{
                    "from": [
                        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "argocd-server"}}},
                        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "argocd-repo-server"}}},
                    ],
                    "ports": [{"port": 6379, "protocol": "TCP"}],
                }, {
                    "from": [{"namespaceSelector": {}}],
                    "ports": [{"port": 8082, "protocol": "TCP"}],
                }],
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "argocd-redis"}},
                "policyTypes": ["Ingress"],
            }))
        }
    }

    #[test]
    fn argocd_policies_are_valid() {
        assert!(network_policy(&argocd_redis_policy(), None).is_empty());
    }

    #[test]
    fn ports_peers_and_policy_types() {
        let p = policy(json!({
            "podSelector": {},
            "ingress": [{
                "ports": [{"protocol": "ICMP", "port": "http", "endPort": 90}],
                "from": [{
                    "podSelector": {},
                    "ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24", "10.0.5.0/24"]},
                }],
            }],
            "policyTypes": ["Ingress", "Sideways"],
        }));
        assert_eq!(
            messages(&network_policy(&p, None)),
            vec![
                "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
                "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
                "spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"10.1.0.0/24\": must be a strict subset of `cidr`",
                "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer",
                "spec.policyTypes[1]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"",
            ]
        );
    }

    #[test]
    fn port_ranges_cidrs_and_too_many_types() {
        let p = policy(json!({
            "podSelector": {},
            "egress": [{
                "ports": [{"port": 8080, "endPort": 80}, {"endPort": 90}],
                "to": [{}, {"ipBlock": {"cidr": "10.0.0.0"}}, {"ipBlock": {"cidr": ""}}],
            }],
            "policyTypes": ["Ingress", "Egress", "Ingress"],
        }));
        assert_eq!(
            messages(&network_policy(&p, None)),
            vec![
                "spec.egress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`",
                "spec.egress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is not specified",
                "spec.egress[0].to[0]: Required value: must specify a peer",
                "spec.egress[0].to[1].ipBlock.cidr: Invalid value: \"10.0.0.0\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                "spec.egress[0].to[2].ipBlock.cidr: Required value",
                "spec.policyTypes: Invalid value: []networking.PolicyType{\"Ingress\", \"Egress\", \"Ingress\"}: may not specify more than two policyTypes",
            ]
        );
    }

    #[test]
    fn stored_cidrs_stay_acceptable() {
        let spec = json!({
            "podSelector": {},
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0"}}]}],
        });
        let old = NetworkPolicy {
            metadata: stored(namespaced_meta("allow")),
            ..policy(spec.clone())
        };
        assert!(network_policy(&old.clone(), Some(&old)).is_empty());
        assert_eq!(network_policy(&policy(spec), None).len(), 1);
    }

    fn ingress_of(spec: serde_json::Value) -> Ingress {
        Ingress {
            metadata: namespaced_meta("web"),
            spec: Some(serde_json::from_value(spec).expect("ingress spec")),
            status: None,
        }
    }

    fn service_backend_json(name: &str) -> serde_json::Value {
        json!({"service": {"name": name, "port": {"number": 80}}})
    }

    #[test]
    fn a_routed_ingress_is_valid() {
        let ing = ingress_of(json!({
            "ingressClassName": "nginx",
            "rules": [{
                "host": "*.example.com",
                "http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": service_backend_json("web")},
                    {"pathType": "ImplementationSpecific", "backend": {"service": {"name": "api", "port": {"name": "http"}}}},
                ]},
            }],
            "tls": [{"hosts": ["www.example.com"], "secretName": "web-tls"}],
        }));
        assert!(ingress(&ing, None).is_empty());
    }

    #[test]
    fn hosts_paths_and_backends() {
        let ing = ingress_of(json!({
            "rules": [{
                "host": "1.2.3.4",
                "http": {"paths": [
                    {"path": "/", "backend": service_backend_json("web")},
                    {"path": "api", "pathType": "Prefix", "backend": {}},
                    {"path": "/a//b", "pathType": "Exact", "backend": service_backend_json("Web")},
                    {"path": "/", "pathType": "Regex", "backend": {"service": {"name": "web"}}},
                ]},
            }, {
                "host": "*.*.example.com",
            }],
        }));
        assert_eq!(
            messages(&ingress(&ing, None)),
            vec![
                "spec.rules[0].host: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address".to_string(),
                "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified".to_string(),
                "spec.rules[0].http.paths[1].path: Invalid value: \"api\": must be an absolute path".to_string(),
                "spec.rules[0].http.paths[1].backend: Invalid value: \"\": resource or service backend is required".to_string(),
                "spec.rules[0].http.paths[2].path: Invalid value: \"/a//b\": must not contain '//'".to_string(),
                format!(
                    "spec.rules[0].http.paths[2].backend.service.name: Invalid value: \"Web\": {}",
                    is_dns1035_label("Web")[0]
                ),
                "spec.rules[0].http.paths[3].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"".to_string(),
                "spec.rules[0].http.paths[3].backend: Required value: port name or number is required".to_string(),
                format!("spec.rules[1].host: Invalid value: \"*.*.example.com\": {WILDCARD_SUBDOMAIN_MSG}"),
            ]
        );
    }

    #[test]
    fn either_a_default_backend_or_rules() {
        assert_eq!(
            messages(&ingress(&ingress_of(json!({})), None)),
            vec![
                "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"
            ]
        );
        let both_ports = ingress_of(json!({
            "defaultBackend": {"service": {"name": "web", "port": {"name": "http", "number": 80}}},
        }));
        assert_eq!(
            messages(&ingress(&both_ports, None)),
            vec![
                "spec.defaultBackend: Invalid value: \"\": cannot set both port name & port number"
            ]
        );
        let resource = ingress_of(json!({
            "defaultBackend": {"resource": {"apiGroup": "k8s.example.com", "kind": "", "name": "a/b"}},
        }));
        assert_eq!(
            messages(&ingress(&resource, None)),
            vec![
                "spec.defaultBackend.resource.kind: Required value",
                "spec.defaultBackend.resource.name: Invalid value: \"a/b\": may not contain '/'",
            ]
        );
    }

    #[test]
    fn the_class_annotation_must_match_on_create() {
        let mut ing = ingress_of(json!({
            "ingressClassName": "nginx",
            "defaultBackend": service_backend_json("web"),
        }));
        ing.metadata.annotations =
            Some([(INGRESS_CLASS_ANNOTATION.to_string(), "traefik".to_string())].into());
        assert_eq!(
            messages(&ingress(&ing, None)),
            vec![
                "annotations.kubernetes.io/ingress.class: Invalid value: \"traefik\": must match `ingressClassName` when both are specified"
            ]
        );
        let old = Ingress {
            metadata: stored(ing.metadata.clone()),
            ..ing.clone()
        };
        let updated = Ingress {
            metadata: old.metadata.clone(),
            ..ing
        };
        assert!(ingress(&updated, Some(&old)).is_empty());
    }

    fn class(controller: Option<&str>) -> IngressClass {
        IngressClass {
            metadata: ObjectMeta {
                name: Some("nginx".into()),
                ..Default::default()
            },
            spec: Some(IngressClassSpec {
                controller: controller.map(Into::into),
                parameters: None,
            }),
        }
    }

    #[test]
    fn ingress_nginx_class_is_valid() {
        assert!(ingress_class(&class(Some("k8s.io/ingress-nginx")), None).is_empty());
    }

    #[test]
    fn controllers_are_domain_prefixed_paths() {
        assert_eq!(
            messages(&ingress_class(&class(None), None)),
            vec!["spec.controller: Required value"]
        );
        assert_eq!(
            messages(&ingress_class(&class(Some("nginx")), None)),
            vec![
                "spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")"
            ]
        );
        assert_eq!(
            messages(&ingress_class(&class(Some("k8s.io/ingress nginx")), None)),
            vec![
                "spec.controller: Invalid value: \"ingress nginx\": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"
            ]
        );
        let long = format!("example.com/{}", "a".repeat(MAX_CONTROLLER_LENGTH));
        assert_eq!(
            messages(&ingress_class(&class(Some(&long)), None)),
            vec!["spec.controller: Too long: may not be more than 250 bytes"]
        );
    }

    #[test]
    fn controllers_are_immutable_and_parameters_scoped() {
        let old = IngressClass {
            metadata: stored(class(None).metadata),
            ..class(Some("k8s.io/ingress-nginx"))
        };
        let mut new = IngressClass {
            metadata: old.metadata.clone(),
            ..class(Some("example.com/other"))
        };
        assert_eq!(
            messages(&ingress_class(&new, Some(&old))),
            vec!["spec.controller: Invalid value: \"example.com/other\": field is immutable"]
        );
        new.spec = Some(IngressClassSpec {
            controller: Some("k8s.io/ingress-nginx".into()),
            parameters: Some(IngressClassParametersReference {
                kind: String::new(),
                name: "config".into(),
                scope: Some("Namespace".into()),
                ..Default::default()
            }),
        });
        assert_eq!(
            messages(&ingress_class(&new, Some(&old))),
            vec![
                "spec.parameters.kind: Required value",
                "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
            ]
        );
    }
}
