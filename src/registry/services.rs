//! Services: defaults, validation, and the allocation of ClusterIPs (from 10.96.0.0/12) and
//! NodePorts (30000-32767).
//!
//! What is allocated is read back from the Services themselves, so deleting a Service releases
//! its addresses with no bookkeeping to drift; the API server serialises allocating writes.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::{LoadBalancerStatus, Service, ServiceStatus};
use serde_json::{Value, json};

use super::{Kind, Resource, Subresource, Typed};
use crate::validation::{self, ErrorKind, ErrorList, FieldError};

pub struct Services;

impl Kind for Services {
    type Object = Service;

    const RESERVES_ADDRESSES: bool = true;

    fn defaults(object: &mut Service) {
        crate::defaults::service(object);
    }

    fn prepare_create(object: &mut Service) {
        object.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus::default()),
            ..ServiceStatus::default()
        });
    }

    fn validate(object: &Service, old: Option<&Service>) -> ErrorList {
        validation::service(object, old)
    }
}

pub static RESOURCE: Resource = Resource {
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    singular: "service",
    short_names: &["svc"],
    categories: &["all"],
    namespaced: true,
    subresources: &[Subresource::Status],
    field_labels: &[("spec.clusterIP", ""), ("spec.type", "")],
    generation: false,
    returns_deleted_object: true,
    create_only: false,
    strategy: &Typed::<Services>::NEW,
};

/// The address ranges Services draw from.
#[derive(Debug, Clone, Copy)]
pub struct ServiceAllocator {
    network: u32,
    prefix: u8,
    node_ports: (u16, u16),
}

impl Default for ServiceAllocator {
    fn default() -> Self {
        ServiceAllocator {
            network: u32::from(Ipv4Addr::new(10, 96, 0, 0)),
            prefix: 12,
            node_ports: (30000, 32767),
        }
    }
}

/// What other Services hold.
#[derive(Debug, Default)]
pub struct Allocation {
    ips: BTreeSet<u32>,
    node_ports: BTreeSet<u16>,
}

impl Allocation {
    /// Collects what `services` hold.
    pub fn of<'a>(services: impl IntoIterator<Item = &'a Value>) -> Allocation {
        let mut held = Allocation::default();
        for service in services {
            let spec = &service["spec"];
            for ip in cluster_ips(spec) {
                if let Ok(ip) = ip.parse::<Ipv4Addr>() {
                    held.ips.insert(ip.into());
                }
            }
            for port in spec["ports"].as_array().into_iter().flatten() {
                if let Some(p) = port["nodePort"]
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                {
                    held.node_ports.insert(p);
                }
            }
        }
        held
    }
}

fn cluster_ips(spec: &Value) -> Vec<String> {
    let mut ips: Vec<String> = spec["clusterIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|ip| ip.as_str().map(str::to_owned))
        .collect();
    if let Some(ip) = spec["clusterIP"]
        .as_str()
        .filter(|ip| !ips.iter().any(|i| i == ip))
    {
        ips.insert(0, ip.to_owned());
    }
    ips.retain(|ip| !ip.is_empty() && ip != "None");
    ips
}

impl ServiceAllocator {
    /// The service range in CIDR notation, for messages.
    pub fn range(&self) -> String {
        format!("{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }

    /// The first address of the range, which the `kubernetes` Service holds.
    pub fn first_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network + 1)
    }

    /// Fills in `service`'s ClusterIP and NodePorts, keeping what `old` had when the update left
    /// them out, and refusing requested values that are taken or out of range.
    pub fn allocate(
        &self,
        service: &mut Value,
        old: Option<&Value>,
        held: &Allocation,
    ) -> ErrorList {
        let mut errors = Vec::new();
        if let Some(old) = old {
            carry_over(service, old);
        }
        let kind = service["spec"]["type"]
            .as_str()
            .unwrap_or("ClusterIP")
            .to_owned();
        if kind != "ExternalName" {
            self.allocate_ip(&mut service["spec"], held, &mut errors);
        }
        if kind == "NodePort" || kind == "LoadBalancer" {
            self.allocate_node_ports(&mut service["spec"], held, &mut errors);
        } else if let Some(ports) = service["spec"]["ports"].as_array_mut() {
            // Only NodePort and LoadBalancer Services hold node ports.
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                port.remove("nodePort");
            }
        }
        errors
    }

    fn contains(&self, ip: u32) -> bool {
        let mask = u32::MAX << (32 - u32::from(self.prefix));
        ip & mask == self.network && ip != self.network && ip != self.network | !mask
    }

    fn allocate_ip(&self, spec: &mut Value, held: &Allocation, errors: &mut ErrorList) {
        let requested = cluster_ips(spec);
        if spec["clusterIP"].as_str() == Some("None") {
            spec["clusterIPs"] = json!(["None"]);
            return;
        }
        let ip = match requested.first() {
            Some(text) => match text.parse::<Ipv4Addr>().map(u32::from) {
                Ok(ip) if !self.contains(ip) => {
                    errors.push(self.ip_error(text, format!(
                        "failed to allocate IP {text}: the provided IP ({text}) is not in the valid range. The range of valid IPs is {}",
                        self.range()
                    )));
                    return;
                }
                Ok(ip) if held.ips.contains(&ip) => {
                    errors.push(self.ip_error(
                        text,
                        format!("failed to allocate IP {text}: provided IP is already allocated"),
                    ));
                    return;
                }
                Ok(ip) => ip,
                // Malformed addresses are validation's to report.
                Err(_) => return,
            },
            None => {
                let mask = u32::MAX << (32 - u32::from(self.prefix));
                let last = self.network | !mask;
                match (self.network + 1..last).find(|ip| !held.ips.contains(ip)) {
                    Some(ip) => ip,
                    None => {
                        errors.push(self.ip_error("", "range is full".into()));
                        return;
                    }
                }
            }
        };
        let ip = Ipv4Addr::from(ip).to_string();
        spec["clusterIP"] = json!(ip);
        spec["clusterIPs"] = json!([ip]);
    }

    fn ip_error(&self, ip: &str, detail: String) -> FieldError {
        FieldError {
            kind: ErrorKind::Invalid,
            field: "spec.clusterIPs".into(),
            value: Some(format!("[]string{{{ip:?}}}")),
            detail,
        }
    }

    fn allocate_node_ports(&self, spec: &mut Value, held: &Allocation, errors: &mut ErrorList) {
        let (low, high) = self.node_ports;
        let mut taken = held.node_ports.clone();
        let Some(ports) = spec["ports"].as_array_mut() else {
            return;
        };
        for (i, port) in ports.iter_mut().enumerate() {
            match port["nodePort"].as_u64() {
                Some(requested) => {
                    let field = format!("spec.ports[{i}].nodePort");
                    let detail = match u16::try_from(requested) {
                        Ok(p) if (low..=high).contains(&p) && taken.insert(p) => continue,
                        Ok(p) if (low..=high).contains(&p) => {
                            "provided port is already allocated".to_owned()
                        }
                        _ => format!(
                            "provided port is not in the valid range. The range of valid ports is {low}-{high}"
                        ),
                    };
                    errors.push(FieldError {
                        kind: ErrorKind::Invalid,
                        field,
                        value: Some(requested.to_string()),
                        detail,
                    });
                }
                None => match (low..=high).find(|p| !taken.contains(p)) {
                    Some(p) => {
                        taken.insert(p);
                        port["nodePort"] = json!(p);
                    }
                    None => errors.push(FieldError {
                        kind: ErrorKind::Invalid,
                        field: format!("spec.ports[{i}].nodePort"),
                        value: None,
                        detail: "range is full".into(),
                    }),
                },
            }
        }
    }
}

/// Keeps the old ClusterIP and NodePorts where an update leaves them unset, as upstream does,
/// so `replace` with a manifest that never named them works.
fn carry_over(service: &mut Value, old: &Value) {
    let spec = &mut service["spec"];
    if cluster_ips(spec).is_empty() && spec["clusterIP"].as_str() != Some("None") {
        for field in ["clusterIP", "clusterIPs"] {
            if !old["spec"][field].is_null() {
                spec[field] = old["spec"][field].clone();
            }
        }
    }
    let old_ports = old["spec"]["ports"].as_array().cloned().unwrap_or_default();
    for port in spec["ports"].as_array_mut().into_iter().flatten() {
        if !port["nodePort"].is_null() {
            continue;
        }
        let same = old_ports
            .iter()
            .find(|o| o["port"] == port["port"] && o["protocol"] == port["protocol"]);
        if let Some(node_port) = same.map(|o| o["nodePort"].clone()).filter(|p| !p.is_null()) {
            port["nodePort"] = node_port;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(spec: Value) -> Value {
        json!({"metadata": {"name": "s"}, "spec": spec})
    }

    #[test]
    fn allocates_the_lowest_free_address_and_skips_held_ones() {
        let alloc = ServiceAllocator::default();
        let held = Allocation::of(&[service(json!({"clusterIP": "10.96.0.1"}))]);
        let mut svc = service(json!({"type": "ClusterIP", "ports": [{"port": 80}]}));
        assert!(alloc.allocate(&mut svc, None, &held).is_empty());
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.2");
        assert_eq!(svc["spec"]["clusterIPs"], json!(["10.96.0.2"]));
    }

    #[test]
    fn refuses_taken_and_out_of_range_addresses() {
        let alloc = ServiceAllocator::default();
        let held = Allocation::of(&[service(json!({"clusterIP": "10.96.0.7"}))]);
        let mut taken = service(json!({"clusterIP": "10.96.0.7"}));
        let errors = alloc.allocate(&mut taken, None, &held);
        assert_eq!(
            errors[0].to_string(),
            "spec.clusterIPs: Invalid value: []string{\"10.96.0.7\"}: failed to allocate IP 10.96.0.7: provided IP is already allocated"
        );
        let mut outside = service(json!({"clusterIP": "192.168.0.1"}));
        let errors = alloc.allocate(&mut outside, None, &held);
        assert!(
            errors[0]
                .detail
                .contains("is not in the valid range. The range of valid IPs is 10.96.0.0/12")
        );
    }

    #[test]
    fn headless_and_external_name_services_get_no_address() {
        let alloc = ServiceAllocator::default();
        let mut headless = service(json!({"clusterIP": "None"}));
        assert!(
            alloc
                .allocate(&mut headless, None, &Allocation::default())
                .is_empty()
        );
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        let mut external = service(json!({"type": "ExternalName", "externalName": "example.com"}));
        alloc.allocate(&mut external, None, &Allocation::default());
        assert!(external["spec"]["clusterIP"].is_null());
    }

    #[test]
    fn node_ports_are_allocated_checked_and_dropped_with_the_type() {
        let alloc = ServiceAllocator::default();
        let held = Allocation::of(&[service(
            json!({"type": "NodePort", "ports": [{"port": 1, "nodePort": 30000}]}),
        )]);
        let mut svc = service(
            json!({"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "nodePort": 31000}]}),
        );
        assert!(alloc.allocate(&mut svc, None, &held).is_empty());
        assert_eq!(svc["spec"]["ports"][0]["nodePort"], 30001);
        assert_eq!(svc["spec"]["ports"][1]["nodePort"], 31000);

        let mut clash =
            service(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30000}]}));
        let errors = alloc.allocate(&mut clash, None, &held);
        assert_eq!(
            errors[0].to_string(),
            "spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated"
        );

        let mut back = service(
            json!({"type": "ClusterIP", "clusterIP": "10.96.0.9", "ports": [{"port": 80, "nodePort": 30001}]}),
        );
        alloc.allocate(&mut back, None, &Allocation::default());
        assert!(back["spec"]["ports"][0]["nodePort"].is_null());
    }

    #[test]
    fn updates_keep_what_they_leave_unset() {
        let alloc = ServiceAllocator::default();
        let old = service(
            json!({"type": "NodePort", "clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"], "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30500}]}),
        );
        let mut new =
            service(json!({"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}));
        assert!(
            alloc
                .allocate(&mut new, Some(&old), &Allocation::default())
                .is_empty()
        );
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.5");
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30500);
    }
}
