//! The node authorizer: what a node agent (`system:node:NAME` in `system:nodes`) may do, as
//! upstream's Node authorizer and NodeRestriction admission decide together. A node reads the
//! secrets, config maps and claims of pods bound to it and nothing else of theirs, writes its
//! own Node and Lease and the status of its own pods, and otherwise holds the rules of the
//! `system:node` role, with those of `system:node-proxier` because the agent is also the node's
//! Service proxy.

use std::sync::OnceLock;

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::rules::{Attributes, Target, allows};

const NODES_GROUP: &str = "system:nodes";
const NODE_PREFIX: &str = "system:node:";
const LEASE_NAMESPACE: &str = "kube-node-lease";

/// The node a user is, if it is one.
pub fn node_name<'a>(name: &'a str, groups: &[String]) -> Option<&'a str> {
    let node = name.strip_prefix(NODE_PREFIX)?;
    (groups.iter().any(|g| g == NODES_GROUP) && !node.is_empty()).then_some(node)
}

/// What the node authorizer needs to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeCheck {
    Allow,
    Deny(String),
    /// Allowed if a pod bound to the node uses this object (`kind` is the pod's word for it:
    /// `secret`, `configmap`, `persistentvolumeclaim`, `serviceaccount`).
    UsedByPodOnNode {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    /// Allowed if this pod is bound to the node.
    PodOnNode {
        namespace: String,
        name: String,
    },
}

/// Classifies a node's request.
pub fn check(node: &str, attributes: &Attributes) -> NodeCheck {
    let verb = attributes.verb.as_str();
    let Target::Resource {
        group,
        resource,
        subresource,
        namespace,
        name,
    } = &attributes.target
    else {
        return by_rules(attributes);
    };
    let used_by_pod = |kind| {
        if verb == "get" && !name.is_empty() {
            NodeCheck::UsedByPodOnNode {
                kind,
                namespace: namespace.clone(),
                name: name.clone(),
            }
        } else {
            NodeCheck::Deny("can only get individual resources of this type".into())
        }
    };
    match (group.as_str(), resource.as_str(), subresource.as_str()) {
        ("", "secrets", "") => used_by_pod("secret"),
        ("", "configmaps", "") => used_by_pod("configmap"),
        ("", "persistentvolumeclaims", "") => used_by_pod("persistentvolumeclaim"),
        ("", "serviceaccounts", "token") if verb == "create" => NodeCheck::UsedByPodOnNode {
            kind: "serviceaccount",
            namespace: namespace.clone(),
            name: name.clone(),
        },
        ("", "nodes", _) if is_write(verb) && verb != "create" => own(node, name, "node"),
        ("coordination.k8s.io", "leases", "") if namespace == LEASE_NAMESPACE => {
            if verb == "create" || name == node {
                NodeCheck::Allow
            } else {
                NodeCheck::Deny(format!("node {node:?} may only use its own lease"))
            }
        }
        ("", "pods", "status") if is_write(verb) => pod_on_node(namespace, name),
        ("", "pods", "") if verb == "delete" => pod_on_node(namespace, name),
        ("", "pods", "") if verb == "create" => {
            NodeCheck::Deny("a node may not create pods".into())
        }
        _ => by_rules(attributes),
    }
}

fn is_write(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

fn own(node: &str, name: &str, what: &str) -> NodeCheck {
    if name == node {
        NodeCheck::Allow
    } else {
        NodeCheck::Deny(format!(
            "node {node:?} is not allowed to modify {what} {name:?}"
        ))
    }
}

fn pod_on_node(namespace: &str, name: &str) -> NodeCheck {
    NodeCheck::PodOnNode {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

/// The rules every node holds: the `system:node` and `system:node-proxier` bootstrap roles.
fn node_rules() -> &'static [PolicyRule] {
    static RULES: OnceLock<Vec<PolicyRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        super::bootstrap::cluster_roles()
            .into_iter()
            .filter(|role| {
                matches!(
                    role.metadata.name.as_deref(),
                    Some("system:node" | "system:node-proxier")
                )
            })
            .flat_map(|role| role.rules.unwrap_or_default())
            .collect()
    })
}

fn by_rules(attributes: &Attributes) -> NodeCheck {
    if node_rules().iter().any(|rule| allows(rule, attributes)) {
        NodeCheck::Allow
    } else {
        NodeCheck::Deny(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(resource: &str, namespace: &str, name: &str) -> Attributes {
        Attributes::resource("get", "", resource, "", namespace, name)
    }

    #[test]
    fn only_users_in_the_nodes_group_are_nodes() {
        let nodes = vec!["system:nodes".to_string()];
        assert_eq!(node_name("system:node:w1", &nodes), Some("w1"));
        assert_eq!(node_name("system:node:w1", &[]), None);
        assert_eq!(node_name("alice", &nodes), None);
        assert_eq!(node_name("system:node:", &nodes), None);
    }

    #[test]
    fn secrets_are_read_one_at_a_time_through_a_pod() {
        assert_eq!(
            check("w1", &get("secrets", "default", "db")),
            NodeCheck::UsedByPodOnNode {
                kind: "secret",
                namespace: "default".into(),
                name: "db".into()
            }
        );
        let list = Attributes::resource("list", "", "secrets", "", "default", "");
        assert_eq!(
            check("w1", &list),
            NodeCheck::Deny("can only get individual resources of this type".into())
        );
    }

    #[test]
    fn a_node_writes_its_own_node_lease_and_pods() {
        let patch = |resource: &str, sub: &str, ns: &str, name: &str| {
            Attributes::resource("patch", "", resource, sub, ns, name)
        };
        assert_eq!(
            check("w1", &patch("nodes", "status", "", "w1")),
            NodeCheck::Allow
        );
        assert!(matches!(
            check("w1", &patch("nodes", "", "", "w2")),
            NodeCheck::Deny(_)
        ));
        let lease = |name: &str| {
            Attributes::resource(
                "update",
                "coordination.k8s.io",
                "leases",
                "",
                LEASE_NAMESPACE,
                name,
            )
        };
        assert_eq!(check("w1", &lease("w1")), NodeCheck::Allow);
        assert!(matches!(check("w1", &lease("w2")), NodeCheck::Deny(_)));
        assert_eq!(
            check("w1", &patch("pods", "status", "default", "web")),
            NodeCheck::PodOnNode {
                namespace: "default".into(),
                name: "web".into()
            }
        );
    }

    #[test]
    fn other_requests_follow_the_node_roles() {
        let watch_services = Attributes::resource("watch", "", "services", "", "", "");
        assert_eq!(check("w1", &watch_services), NodeCheck::Allow);
        let slices = Attributes::resource("list", "discovery.k8s.io", "endpointslices", "", "", "");
        assert_eq!(check("w1", &slices), NodeCheck::Allow);
        let delete_deployments =
            Attributes::resource("delete", "apps", "deployments", "", "default", "web");
        assert_eq!(
            check("w1", &delete_deployments),
            NodeCheck::Deny(String::new())
        );
    }
}
