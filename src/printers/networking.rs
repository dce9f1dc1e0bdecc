//! Tables of networking.k8s.io: ingresses (their class, hosts, addresses and ports), ingress
//! classes (the controller behind each) and network policies (the pods each applies to).

use jiff::Timestamp;
use k8s_openapi::api::networking::v1::{
    Ingress, IngressClass, IngressClassParametersReference, IngressRule, IngressStatus,
    NetworkPolicy,
};
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::labels::format_selector;
use super::{Column, Printer};

pub(super) static INGRESSES: Printer = Printer {
    columns: &INGRESS_COLUMNS,
    row: ingress_row,
};
pub(super) static INGRESS_CLASSES: Printer = Printer {
    columns: &INGRESS_CLASS_COLUMNS,
    row: ingress_class_row,
};
pub(super) static NETWORK_POLICIES: Printer = Printer {
    columns: &NETWORK_POLICY_COLUMNS,
    row: network_policy_row,
};

const INGRESS_COLUMNS: [Column; 6] = [
    NAME,
    Column::string(
        "Class",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    Column::string(
        "Hosts",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    Column::string(
        "Address",
        "Address is a list containing ingress points for the load-balancer",
    ),
    Column::string("Ports", "Ports of TLS configurations that open"),
    AGE,
];

const INGRESS_CLASS_COLUMNS: [Column; 4] = [
    NAME,
    Column::string(
        "Controller",
        "Controller that is responsible for handling this class",
    ),
    Column::string(
        "Parameters",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

const NETWORK_POLICY_COLUMNS: [Column; 3] = [
    NAME,
    Column::string(
        "Pod-Selector",
        "Selects the pods to which this NetworkPolicy object applies.  The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods.  In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.",
    ),
    AGE,
];

fn ingress_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let ingress: Ingress = common::parse(object)?;
    let spec = ingress.spec.unwrap_or_default();
    let class = spec
        .ingress_class_name
        .unwrap_or_else(|| "<none>".to_owned());
    // Every ingress serves plain HTTP; one with TLS sections serves HTTPS as well.
    let ports = if spec.tls.as_ref().is_some_and(|tls| !tls.is_empty()) {
        "80, 443"
    } else {
        "80"
    };
    Some(vec![
        common::name(&ingress.metadata),
        class.into(),
        hosts(spec.rules.as_deref().unwrap_or_default()).into(),
        ingress_address(ingress.status.as_ref()).into(),
        ports.into(),
        common::age(&ingress.metadata, now),
    ])
}

/// The first three rules' hosts, `*` when none names a host. Once three are shown, every further
/// rule counts in the " + N more..." tail, with a host or without, as upstream counts them.
fn hosts(rules: &[IngressRule]) -> String {
    const SHOWN: usize = 3;
    let mut hosts: Vec<&str> = Vec::with_capacity(SHOWN);
    let mut more = false;
    for rule in rules {
        if hosts.len() == SHOWN {
            more = true;
            break;
        }
        if let Some(host) = rule.host.as_deref().filter(|host| !host.is_empty()) {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".to_owned();
    }
    let joined = hosts.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - SHOWN)
    } else {
        joined
    }
}

/// The load balancer's addresses, comma-separated; empty until it has some.
fn ingress_address(status: Option<&IngressStatus>) -> String {
    let points = status
        .and_then(|status| status.load_balancer.as_ref())
        .and_then(|balancer| balancer.ingress.as_deref())
        .unwrap_or_default();
    common::ingress_addresses(
        points
            .iter()
            .map(|point| (point.ip.as_deref(), point.hostname.as_deref())),
    )
    .join(",")
}

fn ingress_class_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let class: IngressClass = common::parse(object)?;
    let spec = class.spec.unwrap_or_default();
    let parameters = spec
        .parameters
        .as_ref()
        .map_or_else(|| "<none>".to_owned(), parameters_text);
    Some(vec![
        common::name(&class.metadata),
        spec.controller.unwrap_or_default().into(),
        parameters.into(),
        common::age(&class.metadata, now),
    ])
}

/// "Kind.group/name", or "Kind/name" for a core kind.
fn parameters_text(parameters: &IngressClassParametersReference) -> String {
    match &parameters.api_group {
        Some(group) => format!("{}.{group}/{}", parameters.kind, parameters.name),
        None => format!("{}/{}", parameters.kind, parameters.name),
    }
}

fn network_policy_row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let policy: NetworkPolicy = common::parse(object)?;
    let selector = policy
        .spec
        .as_ref()
        .and_then(|spec| spec.pod_selector.as_ref());
    Some(vec![
        common::name(&policy.metadata),
        format_selector(selector).into(),
        common::age(&policy.metadata, now),
    ])
}
