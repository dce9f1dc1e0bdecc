//! A snapshot of every role and binding, and the RBAC decision on it: a request is allowed
//! when a ClusterRoleBinding, or a RoleBinding in the request's namespace, gives the user (by
//! name, group or service account) a role with a rule that allows it. Nothing is ever denied
//! outright; what no binding allows is refused by the absence of an allow.

use std::collections::HashMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::rules::{Attributes, allows};
use crate::apiserver::User;

/// Every role and binding at one moment.
#[derive(Debug, Default)]
pub struct Policy {
    cluster_roles: HashMap<String, Vec<PolicyRule>>,
    roles: HashMap<(String, String), Vec<PolicyRule>>,
    cluster_role_bindings: Vec<ClusterRoleBinding>,
    role_bindings: HashMap<String, Vec<RoleBinding>>,
}

/// What RBAC says of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, with upstream's reason: which binding of which role to which subject.
    Allow(String),
    NoOpinion,
}

impl Policy {
    pub fn new(
        cluster_roles: Vec<ClusterRole>,
        roles: Vec<Role>,
        cluster_role_bindings: Vec<ClusterRoleBinding>,
        role_bindings: Vec<RoleBinding>,
    ) -> Policy {
        let mut policy = Policy {
            cluster_role_bindings,
            ..Policy::default()
        };
        for role in cluster_roles {
            let name = role.metadata.name.unwrap_or_default();
            policy
                .cluster_roles
                .insert(name, role.rules.unwrap_or_default());
        }
        for role in roles {
            let key = (
                role.metadata.namespace.unwrap_or_default(),
                role.metadata.name.unwrap_or_default(),
            );
            policy.roles.insert(key, role.rules.unwrap_or_default());
        }
        for binding in role_bindings {
            let namespace = binding.metadata.namespace.clone().unwrap_or_default();
            policy
                .role_bindings
                .entry(namespace)
                .or_default()
                .push(binding);
        }
        policy
    }

    /// Whether RBAC allows `user` to do what `attributes` describe.
    pub fn authorize(&self, user: &User, attributes: &Attributes) -> Decision {
        let mut found = None;
        self.visit(user, attributes.namespace(), |binding, rules| {
            let allowed = rules.iter().any(|rule| allows(rule, attributes));
            if allowed {
                found = Some(binding.reason());
            }
            allowed
        });
        found.map_or(Decision::NoOpinion, Decision::Allow)
    }

    /// Every rule `user` holds in `namespace` (cluster-wide ones included), for rules reviews
    /// and for the escalation check.
    pub fn rules_for(&self, user: &User, namespace: &str) -> Vec<PolicyRule> {
        let mut rules = Vec::new();
        self.visit(user, namespace, |_, found| {
            rules.extend(found.iter().cloned());
            false
        });
        rules
    }

    /// Hands each binding that applies to `user` and its role's rules to `visit` until it
    /// answers true: cluster-wide bindings first, then those of `namespace`.
    fn visit(
        &self,
        user: &User,
        namespace: &str,
        mut visit: impl FnMut(Via<'_>, &[PolicyRule]) -> bool,
    ) {
        for binding in &self.cluster_role_bindings {
            let Some(subject) = applies(binding.subjects.as_deref(), user, "") else {
                continue;
            };
            let rules = self.rules_of(&binding.role_ref, "").unwrap_or_default();
            let via = Via {
                kind: "ClusterRoleBinding",
                binding: binding.metadata.name.as_deref().unwrap_or_default(),
                namespace: "",
                role: &binding.role_ref,
                subject,
            };
            if visit(via, rules) {
                return;
            }
        }
        if namespace.is_empty() {
            return;
        }
        for binding in self.role_bindings.get(namespace).into_iter().flatten() {
            let Some(subject) = applies(binding.subjects.as_deref(), user, namespace) else {
                continue;
            };
            let rules = self
                .rules_of(&binding.role_ref, namespace)
                .unwrap_or_default();
            let via = Via {
                kind: "RoleBinding",
                binding: binding.metadata.name.as_deref().unwrap_or_default(),
                namespace,
                role: &binding.role_ref,
                subject,
            };
            if visit(via, rules) {
                return;
            }
        }
    }

    /// The rules of a ClusterRole, or a Role in `namespace`, as a binding would grant them;
    /// none when the role does not exist (yet).
    pub fn rules_of(&self, role: &RoleRef, namespace: &str) -> Option<&[PolicyRule]> {
        match role.kind.as_str() {
            "ClusterRole" => self.cluster_roles.get(&role.name),
            "Role" => self.roles.get(&(namespace.to_owned(), role.name.clone())),
            _ => None,
        }
        .map(Vec::as_slice)
    }
}

/// The binding a grant came through, for the reason upstream gives.
struct Via<'a> {
    kind: &'static str,
    binding: &'a str,
    namespace: &'a str,
    role: &'a RoleRef,
    subject: &'a Subject,
}

impl Via<'_> {
    /// `RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to
    /// Group "system:masters"`, with `in namespace "x"` for RoleBindings.
    fn reason(&self) -> String {
        let place = if self.namespace.is_empty() {
            String::new()
        } else {
            format!(" in namespace \"{}\"", self.namespace)
        };
        let subject = match self.subject.kind.as_str() {
            "ServiceAccount" => format!(
                "ServiceAccount \"{}/{}\"",
                self.subject.namespace.as_deref().unwrap_or(self.namespace),
                self.subject.name
            ),
            kind => format!("{kind} \"{}\"", self.subject.name),
        };
        format!(
            "RBAC: allowed by {} \"{}\" of {} \"{}\" to {subject}{place}",
            self.kind, self.binding, self.role.kind, self.role.name
        )
    }
}

/// The first subject of a binding that names `user`; a service account subject without a
/// namespace is in the binding's own.
fn applies<'s>(
    subjects: Option<&'s [Subject]>,
    user: &User,
    namespace: &str,
) -> Option<&'s Subject> {
    subjects?
        .iter()
        .find(|subject| match subject.kind.as_str() {
            "User" => subject.name == user.name,
            "Group" => user.groups.contains(&subject.name),
            "ServiceAccount" => {
                let ns = subject
                    .namespace
                    .as_deref()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or(namespace);
                user.name == format!("system:serviceaccount:{ns}:{}", subject.name)
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(str::to_owned),
            ..Default::default()
        }
    }

    fn rule(verbs: &[&str], resources: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            api_groups: Some(vec![String::new()]),
            resources: Some(resources.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    fn subject(kind: &str, name: &str, namespace: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(str::to_owned),
            api_group: None,
        }
    }

    fn role_ref(kind: &str, name: &str) -> RoleRef {
        RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    fn user(name: &str, groups: &[&str]) -> User {
        User {
            name: name.into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn policy() -> Policy {
        Policy::new(
            vec![ClusterRole {
                metadata: meta(None, "reader"),
                rules: Some(vec![rule(&["get", "list"], &["pods"])]),
                ..Default::default()
            }],
            vec![Role {
                metadata: meta(Some("dev"), "deployer"),
                rules: Some(vec![rule(&["create", "delete"], &["pods"])]),
            }],
            vec![ClusterRoleBinding {
                metadata: meta(None, "readers"),
                role_ref: role_ref("ClusterRole", "reader"),
                subjects: Some(vec![subject("Group", "auditors", None)]),
            }],
            vec![
                RoleBinding {
                    metadata: meta(Some("dev"), "deployers"),
                    role_ref: role_ref("Role", "deployer"),
                    subjects: Some(vec![
                        subject("User", "alice", None),
                        subject("ServiceAccount", "ci", None),
                    ]),
                },
                RoleBinding {
                    metadata: meta(Some("dev"), "local-readers"),
                    role_ref: role_ref("ClusterRole", "reader"),
                    subjects: Some(vec![subject("User", "bob", None)]),
                },
            ],
        )
    }

    fn pods(verb: &str, namespace: &str) -> Attributes {
        Attributes::resource(verb, "", "pods", "", namespace, "")
    }

    #[test]
    fn cluster_bindings_apply_everywhere_and_role_bindings_in_their_namespace() {
        let policy = policy();
        let auditor = user("carol", &["auditors"]);
        assert_eq!(
            policy.authorize(&auditor, &pods("list", "")),
            Decision::Allow(
                "RBAC: allowed by ClusterRoleBinding \"readers\" of ClusterRole \"reader\" to Group \"auditors\"".into()
            )
        );
        assert_eq!(
            policy.authorize(&auditor, &pods("delete", "dev")),
            Decision::NoOpinion
        );
        let bob = user("bob", &[]);
        assert!(matches!(
            policy.authorize(&bob, &pods("get", "dev")),
            Decision::Allow(_)
        ));
        assert_eq!(
            policy.authorize(&bob, &pods("get", "prod")),
            Decision::NoOpinion
        );
        assert_eq!(
            policy.authorize(&bob, &pods("list", "")),
            Decision::NoOpinion
        );
    }

    #[test]
    fn users_and_service_accounts_are_matched_by_name() {
        let policy = policy();
        assert_eq!(
            policy.authorize(&user("alice", &[]), &pods("create", "dev")),
            Decision::Allow(
                "RBAC: allowed by RoleBinding \"deployers\" of Role \"deployer\" to User \"alice\" in namespace \"dev\"".into()
            )
        );
        let ci = user("system:serviceaccount:dev:ci", &["system:serviceaccounts"]);
        assert!(matches!(
            policy.authorize(&ci, &pods("delete", "dev")),
            Decision::Allow(_)
        ));
        let other_ci = user("system:serviceaccount:prod:ci", &[]);
        assert_eq!(
            policy.authorize(&other_ci, &pods("delete", "dev")),
            Decision::NoOpinion
        );
    }

    #[test]
    fn rules_for_gathers_cluster_and_namespace_grants() {
        let policy = policy();
        let alice = user("alice", &["auditors"]);
        assert_eq!(policy.rules_for(&alice, "dev").len(), 2);
        assert_eq!(policy.rules_for(&alice, "prod").len(), 1);
    }
}
