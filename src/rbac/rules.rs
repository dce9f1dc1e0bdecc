//! What one policy rule allows, as upstream's RBAC evaluates it: verbs, API groups, resources
//! (with `*`, `resource/subresource` and `*/subresource`), resource names, and non-resource
//! URLs (exact, or a prefix ending in `*`). And whether a set of rules covers another rule,
//! the test that keeps a user from granting more than they hold.

use k8s_openapi::api::rbac::v1::PolicyRule;

/// One request's attributes, as an authorizer sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    pub verb: String,
    pub target: Target,
}

/// What a request acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Resource {
        group: String,
        resource: String,
        subresource: String,
        /// Empty for cluster-scoped resources and for requests across every namespace.
        namespace: String,
        /// Empty for lists, watches and creates without a name.
        name: String,
    },
    NonResource {
        path: String,
    },
}

impl Attributes {
    pub fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        namespace: &str,
        name: &str,
    ) -> Attributes {
        Attributes {
            verb: verb.to_owned(),
            target: Target::Resource {
                group: group.to_owned(),
                resource: resource.to_owned(),
                subresource: subresource.to_owned(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            },
        }
    }

    pub fn non_resource(verb: &str, path: &str) -> Attributes {
        Attributes {
            verb: verb.to_owned(),
            target: Target::NonResource {
                path: path.to_owned(),
            },
        }
    }

    /// The namespace a resource request is in, if any.
    pub fn namespace(&self) -> &str {
        match &self.target {
            Target::Resource { namespace, .. } => namespace,
            Target::NonResource { .. } => "",
        }
    }
}

fn has(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == value)
}

fn has_or_all(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == "*" || item == value)
}

/// Whether `rule` allows `attributes`.
pub fn allows(rule: &PolicyRule, attributes: &Attributes) -> bool {
    if !has_or_all(&rule.verbs, &attributes.verb) {
        return false;
    }
    match &attributes.target {
        Target::Resource {
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            has_or_all(rule.api_groups.as_deref().unwrap_or_default(), group)
                && resource_matches(
                    rule.resources.as_deref().unwrap_or_default(),
                    resource,
                    subresource,
                )
                && names_match(rule.resource_names.as_deref().unwrap_or_default(), name)
        }
        Target::NonResource { path } => {
            url_matches(rule.non_resource_urls.as_deref().unwrap_or_default(), path)
        }
    }
}

fn resource_matches(resources: &[String], resource: &str, subresource: &str) -> bool {
    resources.iter().any(|item| {
        if subresource.is_empty() {
            item == "*" || item == resource
        } else {
            item == "*"
                || item
                    .split_once('/')
                    .is_some_and(|(r, s)| (r == resource || r == "*") && s == subresource)
        }
    })
}

/// A rule naming resources applies to requests for those names only.
fn names_match(names: &[String], name: &str) -> bool {
    names.is_empty() || has(names, name)
}

fn url_matches(urls: &[String], path: &str) -> bool {
    urls.iter().any(|url| match url.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => url == path,
    })
}

/// Whether `owned` allows everything `requested` does: each of `requested`'s single grants
/// (one verb on one group, resource and name, or one verb on one URL) is allowed by some rule
/// of `owned`, wildcards matching wildcards only where the owned rule has them too.
pub fn covers(owned: &[PolicyRule], requested: &PolicyRule) -> bool {
    uncovered(owned, std::slice::from_ref(requested)).is_empty()
}

/// The single grants of `requested` that no rule of `owned` covers.
pub fn uncovered(owned: &[PolicyRule], requested: &[PolicyRule]) -> Vec<PolicyRule> {
    requested
        .iter()
        .flat_map(breakdown)
        .filter(|simple| !owned.iter().any(|rule| rule_covers(rule, simple)))
        .collect()
}

/// A rule as upstream prints it in refusals: `{APIGroups:[""], Resources:["pods"],
/// Verbs:["delete"]}`, listing only the fields it has.
pub fn compact(rule: &PolicyRule) -> String {
    let quoted = |items: &[String]| {
        let items: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", items.join(" "))
    };
    let fields = [
        ("APIGroups", rule.api_groups.as_deref()),
        ("Resources", rule.resources.as_deref()),
        ("NonResourceURLs", rule.non_resource_urls.as_deref()),
        ("ResourceNames", rule.resource_names.as_deref()),
        ("Verbs", Some(rule.verbs.as_slice())),
    ];
    let parts: Vec<String> = fields
        .into_iter()
        .filter_map(|(name, items)| {
            items
                .filter(|i| !i.is_empty())
                .map(|i| format!("{name}:{}", quoted(i)))
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Upstream's `BreakdownRule`: one rule per verb and group/resource/name, or verb and URL.
fn breakdown(rule: &PolicyRule) -> Vec<PolicyRule> {
    let one = |s: &String| Some(vec![s.clone()]);
    let mut simple = Vec::new();
    for verb in &rule.verbs {
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                let names = rule.resource_names.as_deref().unwrap_or_default();
                if names.is_empty() {
                    simple.push(PolicyRule {
                        verbs: vec![verb.clone()],
                        api_groups: one(group),
                        resources: one(resource),
                        ..Default::default()
                    });
                }
                for name in names {
                    simple.push(PolicyRule {
                        verbs: vec![verb.clone()],
                        api_groups: one(group),
                        resources: one(resource),
                        resource_names: one(name),
                        ..Default::default()
                    });
                }
            }
        }
        for url in rule.non_resource_urls.iter().flatten() {
            simple.push(PolicyRule {
                verbs: vec![verb.clone()],
                non_resource_urls: one(url),
                ..Default::default()
            });
        }
    }
    simple
}

/// Whether one owned rule covers one simple rule.
fn rule_covers(owner: &PolicyRule, simple: &PolicyRule) -> bool {
    let list = |field: &Option<Vec<String>>| field.as_deref().unwrap_or_default().to_vec();
    let verbs_ok = simple.verbs.iter().all(|v| has_or_all(&owner.verbs, v));
    let groups_ok = list(&simple.api_groups)
        .iter()
        .all(|g| has_or_all(&list(&owner.api_groups), g));
    let resources_ok = list(&simple.resources).iter().all(|r| {
        let owned = list(&owner.resources);
        match r.split_once('/') {
            Some((resource, sub)) => {
                has(&owned, "*")
                    || has(&owned, r)
                    || has(&owned, &format!("*/{sub}"))
                    || (resource == "*" && has(&owned, "*"))
            }
            None => has(&owned, "*") || has(&owned, r),
        }
    });
    let owner_names = list(&owner.resource_names);
    let names_ok = owner_names.is_empty()
        || list(&simple.resource_names)
            .iter()
            .all(|n| has(&owner_names, n))
            && !list(&simple.resource_names).is_empty();
    let urls_ok = list(&simple.non_resource_urls).iter().all(|u| {
        list(&owner.non_resource_urls).iter().any(|owned| {
            owned == "*" || owned == u || owned.strip_suffix('*').is_some_and(|p| u.starts_with(p))
        })
    });
    verbs_ok && groups_ok && resources_ok && names_ok && urls_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        let strings = |items: &[&str]| Some(items.iter().map(|s| s.to_string()).collect());
        PolicyRule {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            api_groups: strings(groups),
            resources: strings(resources),
            resource_names: (!names.is_empty()).then(|| strings(names)).flatten(),
            non_resource_urls: None,
        }
    }

    fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            non_resource_urls: Some(urls.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn verbs_groups_and_resources_must_all_match() {
        let read_pods = rule(&["get", "list"], &[""], &["pods"], &[]);
        let get = |res: &str, sub: &str| Attributes::resource("get", "", res, sub, "default", "p");
        assert!(allows(&read_pods, &get("pods", "")));
        assert!(!allows(&read_pods, &get("pods", "log")));
        assert!(!allows(&read_pods, &get("secrets", "")));
        assert!(!allows(
            &read_pods,
            &Attributes::resource("delete", "", "pods", "", "default", "p")
        ));
        assert!(!allows(
            &read_pods,
            &Attributes::resource("get", "apps", "pods", "", "default", "p")
        ));
    }

    #[test]
    fn subresources_match_by_their_own_name_or_a_wildcard() {
        let get = |res: &str, sub: &str| Attributes::resource("get", "", res, sub, "", "p");
        assert!(allows(
            &rule(&["get"], &[""], &["pods/log"], &[]),
            &get("pods", "log")
        ));
        assert!(allows(
            &rule(&["get"], &[""], &["*/log"], &[]),
            &get("pods", "log")
        ));
        assert!(allows(
            &rule(&["*"], &["*"], &["*"], &[]),
            &get("pods", "log")
        ));
        assert!(!allows(
            &rule(&["get"], &[""], &["pods/log"], &[]),
            &get("pods", "exec")
        ));
    }

    #[test]
    fn resource_names_narrow_a_rule() {
        let one = rule(&["get"], &[""], &["configmaps"], &["settings"]);
        let get = |name: &str| Attributes::resource("get", "", "configmaps", "", "ns", name);
        assert!(allows(&one, &get("settings")));
        assert!(!allows(&one, &get("other")));
        assert!(
            !allows(&one, &get("")),
            "a list is not one of the named objects"
        );
    }

    #[test]
    fn urls_match_exactly_or_by_star_prefix() {
        let health = url_rule(&["get"], &["/healthz", "/apis/*"]);
        assert!(allows(
            &health,
            &Attributes::non_resource("get", "/healthz")
        ));
        assert!(allows(
            &health,
            &Attributes::non_resource("get", "/apis/apps/v1")
        ));
        assert!(!allows(
            &health,
            &Attributes::non_resource("get", "/healthz/x")
        ));
        assert!(!allows(
            &health,
            &Attributes::non_resource("post", "/healthz")
        ));
        let pods = rule(&["get"], &[""], &["pods"], &[]);
        assert!(!allows(&pods, &Attributes::non_resource("get", "/api")));
    }

    #[test]
    fn covering_needs_every_grant_of_the_requested_rule() {
        let owned = vec![
            rule(&["get", "list"], &[""], &["pods", "services"], &[]),
            rule(&["*"], &["apps"], &["deployments"], &[]),
            url_rule(&["get"], &["/metrics*"]),
        ];
        assert!(covers(&owned, &rule(&["get"], &[""], &["pods"], &[])));
        assert!(covers(&owned, &rule(&["get"], &[""], &["pods"], &["one"])));
        assert!(covers(
            &owned,
            &rule(&["delete", "update"], &["apps"], &["deployments"], &[])
        ));
        assert!(covers(&owned, &url_rule(&["get"], &["/metrics/cadvisor"])));
        assert!(!covers(&owned, &rule(&["delete"], &[""], &["pods"], &[])));
        assert!(!covers(&owned, &rule(&["get"], &["*"], &["pods"], &[])));
        assert!(!covers(&owned, &rule(&["get"], &[""], &["pods/log"], &[])));
        assert_eq!(
            uncovered(&owned, &[rule(&["get", "delete"], &[""], &["pods"], &[])])
                .iter()
                .map(compact)
                .collect::<Vec<_>>(),
            vec!["{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}"]
        );
        let named = vec![rule(&["get"], &[""], &["secrets"], &["a"])];
        assert!(covers(&named, &rule(&["get"], &[""], &["secrets"], &["a"])));
        assert!(!covers(&named, &rule(&["get"], &[""], &["secrets"], &[])));
    }
}
