//! Roles, ClusterRoles and their bindings (upstream's `pkg/apis/rbac/validation`): the policy
//! rules a role grants, how a ClusterRole aggregates others, the role a binding refers to (fixed
//! once the binding exists) and the subjects it grants that role to.

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
    Subject,
};

use super::field::{ErrorList, FieldError, Path};
use super::go::{self, Rendered};
use super::meta::{Selector, label_selector, object_meta_of_write};
use super::names::NameRule;
use super::{opt_slice, text};

/// The API group every role reference and every user or group subject must name.
const GROUP: &str = "rbac.authorization.k8s.io";

/// Roles, bindings and the roles they refer to only need names that can be a URL path segment
/// (upstream's `ValidateRBACName`), so names such as `system:controller:foo` stay valid.
const RBAC_NAME: NameRule = NameRule::PathSegment;

const SUBJECT_KINDS: [&str; 3] = ["ServiceAccount", "User", "Group"];

/// Validates a Role on create (`old` is `None`) or update.
pub fn role(new: &Role, old: Option<&Role>) -> ErrorList {
    let mut errs = object_meta_of_write(&new.metadata, true, RBAC_NAME, old.map(|o| &o.metadata));
    errs.extend(rules(opt_slice(&new.rules), true));
    errs
}

/// Validates a ClusterRole on create (`old` is `None`) or update.
pub fn cluster_role(new: &ClusterRole, old: Option<&ClusterRole>) -> ErrorList {
    let mut errs = object_meta_of_write(&new.metadata, false, RBAC_NAME, old.map(|o| &o.metadata));
    errs.extend(rules(opt_slice(&new.rules), false));
    if let Some(aggregation) = &new.aggregation_rule {
        errs.extend(aggregation_rule(aggregation));
    }
    errs
}

/// Validates a RoleBinding on create (`old` is `None`) or update; it may refer to a Role of its
/// namespace or to a ClusterRole.
pub fn role_binding(new: &RoleBinding, old: Option<&RoleBinding>) -> ErrorList {
    let mut errs = object_meta_of_write(&new.metadata, true, RBAC_NAME, old.map(|o| &o.metadata));
    errs.extend(binding(
        &new.role_ref,
        opt_slice(&new.subjects),
        &["Role", "ClusterRole"],
        true,
    ));
    if let Some(old) = old {
        errs.extend(role_ref_unchanged(&new.role_ref, &old.role_ref));
    }
    errs
}

/// Validates a ClusterRoleBinding on create (`old` is `None`) or update; it may only refer to
/// a ClusterRole, and its service accounts must name their namespace.
pub fn cluster_role_binding(
    new: &ClusterRoleBinding,
    old: Option<&ClusterRoleBinding>,
) -> ErrorList {
    let mut errs = object_meta_of_write(&new.metadata, false, RBAC_NAME, old.map(|o| &o.metadata));
    errs.extend(binding(
        &new.role_ref,
        opt_slice(&new.subjects),
        &["ClusterRole"],
        false,
    ));
    if let Some(old) = old {
        errs.extend(role_ref_unchanged(&new.role_ref, &old.role_ref));
    }
    errs
}

fn rules(rules: &[PolicyRule], namespaced: bool) -> ErrorList {
    let path = Path::new("rules");
    rules
        .iter()
        .enumerate()
        .flat_map(|(i, rule)| policy_rule(rule, namespaced, &path.index(i)))
        .collect()
}

/// A rule grants verbs either on resources of API groups or on non-resource URLs, never both;
/// non-resource URLs are not namespaced, so only cluster roles may name them.
fn policy_rule(rule: &PolicyRule, namespaced: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if rule.verbs.is_empty() {
        errs.push(FieldError::required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }
    let groups = opt_slice(&rule.api_groups);
    let resources = opt_slice(&rule.resources);
    if !opt_slice(&rule.non_resource_urls).is_empty() {
        let urls_path = path.child("nonResourceURLs");
        let urls = go::strings(rule.non_resource_urls.as_deref());
        if namespaced {
            errs.push(FieldError::invalid(
                &urls_path,
                urls.clone(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !groups.is_empty()
            || !resources.is_empty()
            || !opt_slice(&rule.resource_names).is_empty()
        {
            errs.push(FieldError::invalid(
                &urls_path,
                urls,
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if groups.is_empty() {
        errs.push(FieldError::required(
            &path.child("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if resources.is_empty() {
        errs.push(FieldError::required(
            &path.child("resources"),
            "resource rules must supply at least one resource",
        ));
    }
    errs
}

/// An aggregating ClusterRole collects the rules of the ClusterRoles its selectors match, so it
/// needs at least one selector and each must be usable for matching.
fn aggregation_rule(rule: &AggregationRule) -> ErrorList {
    let path = Path::new("aggregationRule").child("clusterRoleSelectors");
    let selectors = opt_slice(&rule.cluster_role_selectors);
    let mut errs = ErrorList::new();
    if selectors.is_empty() {
        errs.push(FieldError::required(
            &path,
            "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ));
    }
    for (i, selector) in selectors.iter().enumerate() {
        let selector_path = path.index(i);
        errs.extend(label_selector(Some(selector), &selector_path));
        if Selector::parse(Some(selector)).is_none() {
            // Upstream reports the converted selector, which is nil when conversion fails.
            errs.push(FieldError::invalid(
                &selector_path,
                Rendered("null".into()),
                "invalid label selector.",
            ));
        }
    }
    errs
}

fn binding(
    role_ref: &RoleRef,
    subjects: &[Subject],
    kinds: &[&str],
    namespaced: bool,
) -> ErrorList {
    let ref_path = Path::new("roleRef");
    let mut errs = ErrorList::new();
    if role_ref.api_group != GROUP {
        errs.push(FieldError::not_supported(
            &ref_path.child("apiGroup"),
            &role_ref.api_group,
            &[GROUP],
        ));
    }
    if !kinds.contains(&role_ref.kind.as_str()) {
        errs.push(FieldError::not_supported(
            &ref_path.child("kind"),
            &role_ref.kind,
            kinds,
        ));
    }
    let name_path = ref_path.child("name");
    if role_ref.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(
            RBAC_NAME
                .check(&role_ref.name, false)
                .into_iter()
                .map(|m| FieldError::invalid(&name_path, &role_ref.name, m)),
        );
    }
    let subjects_path = Path::new("subjects");
    for (i, s) in subjects.iter().enumerate() {
        errs.extend(subject(s, namespaced, &subjects_path.index(i)));
    }
    errs
}

/// Service accounts are named like the objects they are (and, in a ClusterRoleBinding, by
/// namespace too) and belong to the core group; users and groups belong to the RBAC group and
/// their names are not checked further.
fn subject(subject: &Subject, namespaced: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name_path = path.child("name");
    if subject.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    }
    let api_group = text(&subject.api_group);
    let group_path = path.child("apiGroup");
    match subject.kind.as_str() {
        "ServiceAccount" => {
            if !subject.name.is_empty() {
                errs.extend(
                    NameRule::DnsSubdomain
                        .check(&subject.name, false)
                        .into_iter()
                        .map(|m| FieldError::invalid(&name_path, &subject.name, m)),
                );
            }
            if !api_group.is_empty() {
                errs.push(FieldError::not_supported(&group_path, api_group, &[""]));
            }
            if !namespaced && text(&subject.namespace).is_empty() {
                errs.push(FieldError::required(&path.child("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if api_group != GROUP {
                errs.push(FieldError::not_supported(&group_path, api_group, &[GROUP]));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("kind"),
            other,
            &SUBJECT_KINDS,
        )),
    }
    errs
}

/// A binding's role may not change: what it grants is decided when it is created, so granting
/// another role takes a new binding.
fn role_ref_unchanged(new: &RoleRef, old: &RoleRef) -> Option<FieldError> {
    (new != old).then(|| {
        FieldError::invalid(
            &Path::new("roleRef"),
            role_ref_value(new),
            "cannot change roleRef",
        )
    })
}

fn role_ref_value(role_ref: &RoleRef) -> Rendered {
    Rendered(format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        go::quote(&role_ref.api_group),
        go::quote(&role_ref.kind),
        go::quote(&role_ref.name)
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{messages, namespaced_meta, stored};
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
        LabelSelector, LabelSelectorRequirement, ObjectMeta,
    };
    use std::collections::BTreeMap;

    fn list(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(ToString::to_string).collect())
    }

    fn cluster_meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    fn resource_rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            api_groups: list(groups),
            resources: list(resources),
            verbs: list(verbs).unwrap_or_default(),
            ..Default::default()
        }
    }

    /// The shape of ingress-nginx's namespaced Role.
    fn valid_role() -> Role {
        Role {
            metadata: namespaced_meta("ingress-nginx"),
            rules: Some(vec![
                resource_rule(&[""], &["namespaces"], &["get"]),
                PolicyRule {
                    resource_names: list(&["ingress-nginx-leader"]),
                    ..resource_rule(&["coordination.k8s.io"], &["leases"], &["get", "update"])
                },
            ]),
        }
    }

    fn subject_of(kind: &str, name: &str, api_group: &str, namespace: Option<&str>) -> Subject {
        Subject {
            api_group: Some(api_group.into()),
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(Into::into),
        }
    }

    fn valid_role_binding() -> RoleBinding {
        RoleBinding {
            metadata: namespaced_meta("ingress-nginx"),
            role_ref: RoleRef {
                api_group: GROUP.into(),
                kind: "Role".into(),
                name: "ingress-nginx".into(),
            },
            subjects: Some(vec![subject_of(
                "ServiceAccount",
                "ingress-nginx",
                "",
                Some("ingress-nginx"),
            )]),
        }
    }

    #[test]
    fn a_valid_role_passes() {
        assert!(role(&valid_role(), None).is_empty());
        let mut named = valid_role();
        named.metadata.name = Some("system:controller:bootstrap-signer".into());
        assert!(role(&named, None).is_empty());
    }

    #[test]
    fn names_need_only_be_path_segments() {
        let mut r = valid_role();
        r.metadata.name = Some("a/b".into());
        assert_eq!(
            messages(&role(&r, None)),
            vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
    }

    #[test]
    fn rule_checks() {
        let mut r = valid_role();
        r.rules = Some(vec![
            PolicyRule {
                non_resource_urls: list(&["/healthz"]),
                ..resource_rule(&[""], &[], &[])
            },
            resource_rule(&[], &[], &["get"]),
        ]);
        assert_eq!(
            messages(&role(&r, None)),
            vec![
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: rules cannot apply to both regular resources and non-resource URLs",
                "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[1].resources: Required value: resource rules must supply at least one resource",
            ]
        );
    }

    #[test]
    fn cluster_roles_may_name_urls_and_aggregate() {
        let mut cr = ClusterRole {
            metadata: cluster_meta("cert-manager-view"),
            rules: Some(vec![PolicyRule {
                non_resource_urls: list(&["/healthz", "/metrics"]),
                verbs: vec!["get".into()],
                ..Default::default()
            }]),
            aggregation_rule: None,
        };
        assert!(cluster_role(&cr, None).is_empty());
        cr.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    "rbac.authorization.k8s.io/aggregate-to-view".into(),
                    "true".into(),
                )])),
                match_expressions: None,
            }]),
        });
        assert!(cluster_role(&cr, None).is_empty());

        cr.aggregation_rule = Some(AggregationRule::default());
        assert_eq!(
            messages(&cluster_role(&cr, None)),
            vec![
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"
            ]
        );
        cr.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: None,
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "Bad".into(),
                    values: None,
                }]),
            }]),
        });
        assert_eq!(
            messages(&cluster_role(&cr, None)),
            vec![
                "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator: Invalid value: \"Bad\": not a valid selector operator",
                "aggregationRule.clusterRoleSelectors[0]: Invalid value: null: invalid label selector.",
            ]
        );
    }

    #[test]
    fn cluster_roles_are_cluster_scoped() {
        let cr = ClusterRole {
            metadata: namespaced_meta("viewer"),
            ..Default::default()
        };
        assert_eq!(
            messages(&cluster_role(&cr, None)),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }

    #[test]
    fn a_valid_role_binding_passes() {
        assert!(role_binding(&valid_role_binding(), None).is_empty());
    }

    #[test]
    fn role_refs_and_subjects() {
        let mut rb = valid_role_binding();
        rb.role_ref = RoleRef {
            api_group: "rbac".into(),
            kind: "User".into(),
            name: String::new(),
        };
        rb.subjects = Some(vec![
            subject_of("ServiceAccount", "Bad_Name", "v1", None),
            subject_of("User", "jane", "", None),
            subject_of("Robot", "", "", None),
        ]);
        assert_eq!(
            messages(&role_binding(&rb, None)),
            vec![
                "roleRef.apiGroup: Unsupported value: \"rbac\": supported values: \"rbac.authorization.k8s.io\"",
                "roleRef.kind: Unsupported value: \"User\": supported values: \"Role\", \"ClusterRole\"",
                "roleRef.name: Required value",
                "subjects[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "subjects[0].apiGroup: Unsupported value: \"v1\": supported values: \"\"",
                "subjects[1].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
                "subjects[2].name: Required value",
                "subjects[2].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            ]
        );
    }

    #[test]
    fn cluster_role_bindings_need_cluster_roles_and_namespaced_accounts() {
        let mut crb = ClusterRoleBinding {
            metadata: cluster_meta("cert-manager-controller-issuers"),
            role_ref: RoleRef {
                api_group: GROUP.into(),
                kind: "ClusterRole".into(),
                name: "cert-manager-controller-issuers".into(),
            },
            subjects: Some(vec![
                subject_of("ServiceAccount", "cert-manager", "", Some("cert-manager")),
                subject_of("Group", "system:masters", GROUP, None),
            ]),
        };
        assert!(cluster_role_binding(&crb, None).is_empty());
        crb.role_ref.kind = "Role".into();
        crb.subjects = Some(vec![subject_of("ServiceAccount", "cert-manager", "", None)]);
        assert_eq!(
            messages(&cluster_role_binding(&crb, None)),
            vec![
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value",
            ]
        );
    }

    #[test]
    fn the_role_of_a_binding_is_fixed() {
        let old = RoleBinding {
            metadata: stored(namespaced_meta("ingress-nginx")),
            ..valid_role_binding()
        };
        let mut new = old.clone();
        new.subjects = None;
        assert!(role_binding(&new, Some(&old)).is_empty());
        new.role_ref.kind = "ClusterRole".into();
        new.role_ref.name = "edit".into();
        assert_eq!(
            messages(&role_binding(&new, Some(&old))),
            vec![
                "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"
            ]
        );
    }
}
