//! The roles of mkc's own components that upstream has no counterpart for: the cluster DNS
//! server runs inside `mkc server` as `system:mkc-dns`. It reads what CoreDNS's `kubernetes`
//! plugin reads (upstream clusters bind CoreDNS to `system:coredns`, made by their installer,
//! not by the API server) and keeps the `kube-dns` Service, Endpoints and EndpointSlice that
//! an installer would otherwise write. Made with the bootstrap policy, marked as it is.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::GROUP;

/// The user the DNS server acts as.
pub const DNS_USER: &str = "system:mkc-dns";
const DNS_ROLE: &str = "system:mkc:dns";

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        labels: Some(
            [(
                "kubernetes.io/bootstrapping".to_string(),
                "rbac-defaults".to_string(),
            )]
            .into(),
        ),
        annotations: Some(
            [(
                "rbac.authorization.kubernetes.io/autoupdate".to_string(),
                "true".to_string(),
            )]
            .into(),
        ),
        ..Default::default()
    }
}

fn rule(verbs: &[&str], group: &str, resources: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PolicyRule {
        verbs: strings(verbs),
        api_groups: Some(vec![group.to_string()]),
        resources: Some(strings(resources)),
        ..Default::default()
    }
}

pub fn cluster_roles() -> Vec<ClusterRole> {
    vec![ClusterRole {
        metadata: meta(DNS_ROLE),
        rules: Some(vec![
            rule(&["list", "watch"], "", &["namespaces", "services"]),
            rule(&["list", "watch"], "discovery.k8s.io", &["endpointslices"]),
            rule(
                &["get", "create", "patch", "update"],
                "",
                &["services", "endpoints"],
            ),
            rule(
                &["get", "create", "patch", "update"],
                "discovery.k8s.io",
                &["endpointslices"],
            ),
        ]),
        aggregation_rule: None,
    }]
}

pub fn cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![ClusterRoleBinding {
        metadata: meta(DNS_ROLE),
        role_ref: RoleRef {
            api_group: GROUP.into(),
            kind: "ClusterRole".into(),
            name: DNS_ROLE.into(),
        },
        subjects: Some(vec![Subject {
            api_group: Some(GROUP.into()),
            kind: "User".into(),
            name: DNS_USER.into(),
            namespace: None,
        }]),
    }]
}
