//! Discovery of aggregated group-versions: what their servers say they serve, cached in
//! aggregated discovery's form, and the order in which discovery lists every group, this
//! server's own and aggregated ones, as upstream's aggregator orders them.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use serde_json::{Value, json};

use super::{ApiServices, GROUP};
use crate::registry::version_priority;

/// The priority upstream gives the aggregator's own group: above any APIService's, so it is
/// listed first.
const OWN_GROUP_PRIORITY: i32 = 20001;

/// What each aggregated APIService's server last said it serves, as aggregated discovery's
/// `APIResourceDiscovery` entries, by APIService name. One whose server has not answered
/// (or no longer does) has none.
#[derive(Debug, Default)]
pub struct DiscoveryCache {
    entries: RwLock<HashMap<String, Arc<Vec<Value>>>>,
}

impl DiscoveryCache {
    pub fn get(&self, name: &str) -> Option<Arc<Vec<Value>>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(name).cloned()
    }

    pub(super) fn put(&self, name: &str, resources: Vec<Value>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.insert(name.to_owned(), Arc::new(resources));
    }

    pub(super) fn forget(&self, name: &str) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.remove(name);
    }

    /// Forgets every APIService `keep` does not name.
    pub(super) fn retain(&self, keep: impl Fn(&str) -> bool) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|name, _| keep(name.as_str()));
    }
}

/// The resources of a server's legacy `APIResourceList` in aggregated discovery's form, as
/// upstream's aggregator converts them: a subresource (`name/sub`) goes under its resource,
/// and kinds name the list's group-version unless they say otherwise.
pub(super) fn backend_resources(list: &Value, group: &str, version: &str) -> Vec<Value> {
    let mut resources: Vec<Value> = Vec::new();
    for r in list["resources"].as_array().into_iter().flatten() {
        let Some(name) = r["name"].as_str() else {
            continue;
        };
        let scope = if r["namespaced"].as_bool().unwrap_or(false) {
            "Namespaced"
        } else {
            "Cluster"
        };
        let (parent, sub) = match name.split_once('/') {
            Some((parent, sub)) => (parent, Some(sub)),
            None => (name, None),
        };
        let index = match resources.iter().position(|e| e["resource"] == parent) {
            Some(index) => index,
            None => {
                // A subresource listed before (or without) its resource gets a placeholder.
                resources.push(json!({"resource": parent, "responseKind": {}, "scope": scope}));
                resources.len() - 1
            }
        };
        let entry = &mut resources[index];
        let verbs = match &r["verbs"] {
            Value::Array(verbs) => json!(verbs),
            _ => json!([]),
        };
        let kind = response_kind(r, group, version);
        match sub {
            Some(sub) => {
                let mut subresource = json!({"subresource": sub, "verbs": verbs});
                if let Some(kind) = kind {
                    subresource["responseKind"] = kind;
                }
                if let Some(subresources) = entry["subresources"].as_array_mut() {
                    subresources.push(subresource);
                } else {
                    entry["subresources"] = json!([subresource]);
                }
            }
            None => {
                entry["responseKind"] = kind.unwrap_or_else(|| json!({}));
                entry["singularResource"] = json!(r["singularName"].as_str().unwrap_or(""));
                entry["verbs"] = verbs;
                for (from, to) in [("shortNames", "shortNames"), ("categories", "categories")] {
                    if r[from].as_array().is_some_and(|list| !list.is_empty()) {
                        entry[to] = r[from].clone();
                    }
                }
            }
        }
    }
    resources
}

/// The kind a resource of the list answers with, when it names one.
fn response_kind(r: &Value, group: &str, version: &str) -> Option<Value> {
    let kind = r["kind"].as_str().filter(|k| !k.is_empty())?;
    let field = |name: &str, default: &str| {
        let given = r[name].as_str().filter(|v| !v.is_empty());
        json!(given.unwrap_or(default))
    };
    let (group, version) = (field("group", group), field("version", version));
    Some(json!({"group": group, "version": version, "kind": kind}))
}

/// One named group as discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    pub name: String,
    /// Preferred first.
    pub versions: Vec<ListedVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVersion {
    pub version: String,
    /// The APIService whose server serves it, when this server does not.
    pub aggregated: Option<String>,
}

/// The named groups and their versions, `served` here (in the order they are served) or by
/// an APIService's server (which takes over a group-version served here too, as upstream's
/// proxy does), listed in upstream's order: the aggregator's own group first, then by the
/// highest group priority of each group's APIServices (ties by APIService name), versions by
/// their APIService's version priority, then newest first. A group or version no APIService
/// names yet (a CRD's, for a moment) comes after those that have one, in the order served.
pub fn listing(served: &[(&str, &str)], services: &ApiServices) -> Vec<ListedGroup> {
    let local = served.iter().map(|&(g, v)| (g, v, None::<&str>));
    let aggregated = services
        .all()
        .iter()
        .filter(|s| s.backend.is_some() && s.group != GROUP)
        .map(|s| (s.group.as_str(), s.version.as_str(), Some(s.name.as_str())));
    let mut groups: Vec<ListedGroup> = Vec::new();
    for (group, version, aggregated) in local.chain(aggregated) {
        if group.is_empty() {
            continue;
        }
        let index = match groups.iter().position(|g| g.name == group) {
            Some(index) => index,
            None => {
                groups.push(ListedGroup {
                    name: group.to_owned(),
                    versions: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let aggregated = aggregated.map(str::to_owned);
        let versions = &mut groups[index].versions;
        match versions.iter_mut().find(|v| v.version == version) {
            Some(listed) => listed.aggregated = aggregated,
            None => versions.push(ListedVersion {
                version: version.to_owned(),
                aggregated,
            }),
        }
    }
    for group in &mut groups {
        let priority = |v: &ListedVersion| {
            let of = |s: &&super::Registered| s.group == group.name && s.version == v.version;
            services.all().iter().find(of).map(|s| s.version_priority)
        };
        group.versions.sort_by(|a, b| {
            priority(b)
                .cmp(&priority(a))
                .then_with(|| version_priority(&a.version, &b.version))
        });
    }
    groups.sort_by_cached_key(|g| match group_priority(&g.name, services) {
        Some((priority, name)) => (Reverse(Some(priority)), name),
        None => (Reverse(None), String::new()),
    });
    groups
}

/// The group's priority and the name of the APIService that gives it, as upstream sorts
/// APIServices: highest priority first, then by name.
fn group_priority(group: &str, services: &ApiServices) -> Option<(i32, String)> {
    if group == GROUP {
        return Some((OWN_GROUP_PRIORITY, String::new()));
    }
    services
        .all()
        .iter()
        .filter(|s| s.group == group)
        .map(|s| (s.group_priority, s.name.clone()))
        .min_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)))
}

#[cfg(test)]
mod tests {
    use super::super::{Backend, Registered};
    use super::*;
    use crate::apiserver::service_client::ServiceReference;

    fn registered(group: &str, version: &str, priorities: (i32, i32), remote: bool) -> Registered {
        Registered {
            name: format!("{version}.{group}"),
            group: group.into(),
            version: version.into(),
            group_priority: priorities.0,
            version_priority: priorities.1,
            backend: remote.then(|| Backend {
                service: ServiceReference {
                    namespace: "default".into(),
                    name: "api".into(),
                    port: 443,
                },
                ca_bundle: Vec::new(),
                insecure: true,
            }),
            managed: None,
            conditions: Vec::new(),
        }
    }

    fn names(groups: &[ListedGroup]) -> Vec<(&str, Vec<(&str, bool)>)> {
        groups
            .iter()
            .map(|g| {
                let versions = g.versions.iter();
                let versions = versions.map(|v| (v.version.as_str(), v.aggregated.is_some()));
                (g.name.as_str(), versions.collect())
            })
            .collect()
    }

    #[test]
    fn groups_and_versions_follow_their_priorities() {
        let served = [
            ("", "v1"),
            (GROUP, "v1"),
            ("apps", "v1"),
            ("batch", "v1"),
            ("example.com", "v1"),
            ("example.com", "v2beta1"),
            ("late.example.com", "v1"),
        ];
        let services = ApiServices {
            all: vec![
                registered("", "v1", (18000, 1), false),
                registered("batch", "v1", (17400, 15), false),
                registered("apps", "v1", (17800, 15), false),
                registered("example.com", "v1", (1000, 100), false),
                registered("example.com", "v2beta1", (1000, 100), false),
                registered("example.com", "v2", (1000, 200), true),
                registered("metrics.k8s.io", "v1beta1", (100, 10), true),
                registered("metrics.k8s.io", "v1", (100, 15), true),
                registered("a.example.com", "v1", (1000, 15), true),
            ],
        };
        assert_eq!(
            names(&listing(&served, &services)),
            [
                (GROUP, vec![("v1", false)]),
                ("apps", vec![("v1", false)]),
                ("batch", vec![("v1", false)]),
                ("a.example.com", vec![("v1", true)]),
                (
                    "example.com",
                    vec![("v2", true), ("v1", false), ("v2beta1", false)]
                ),
                ("metrics.k8s.io", vec![("v1", true), ("v1beta1", true)]),
                ("late.example.com", vec![("v1", false)]),
            ]
        );
    }

    #[test]
    fn without_apiservices_groups_keep_the_order_they_are_served_in() {
        let served = [("", "v1"), (GROUP, "v1"), ("apps", "v1"), ("batch", "v1")];
        let listed = listing(&served, &ApiServices::default());
        let order: Vec<&str> = listed.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(order, [GROUP, "apps", "batch"]);
    }

    #[test]
    fn an_apiservice_with_a_service_takes_a_served_version_over() {
        let served = [("apps", "v1")];
        let services = ApiServices {
            all: vec![registered("apps", "v1", (17800, 15), true)],
        };
        let listed = listing(&served, &services);
        assert_eq!(listed[0].versions[0].aggregated.as_deref(), Some("v1.apps"));
    }

    #[test]
    fn a_server_s_resource_list_becomes_aggregated_discovery() {
        let list = json!({
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": "metrics.k8s.io/v1beta1",
            "resources": [
                {"name": "nodes/status", "namespaced": false, "kind": "NodeMetrics",
                    "verbs": ["get"]},
                {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics",
                    "verbs": ["get", "list"]},
                {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "PodMetrics",
                    "verbs": ["get", "list"], "shortNames": ["pm"], "categories": []},
                {"name": "pods/scale", "namespaced": true, "group": "autoscaling", "version": "v1",
                    "kind": "Scale", "verbs": ["get", "update"]},
            ],
        });
        let resources = backend_resources(&list, "metrics.k8s.io", "v1beta1");
        let gv = ("metrics.k8s.io", "v1beta1");
        let metrics = |kind: &str| json!({"group": gv.0, "version": gv.1, "kind": kind});
        assert_eq!(
            resources,
            [
                json!({"resource": "nodes", "scope": "Cluster", "singularResource": "",
                    "responseKind": metrics("NodeMetrics"), "verbs": ["get", "list"],
                    "subresources": [{"subresource": "status", "verbs": ["get"],
                        "responseKind": metrics("NodeMetrics")}]}),
                json!({"resource": "pods", "scope": "Namespaced", "singularResource": "pod",
                    "responseKind": metrics("PodMetrics"), "verbs": ["get", "list"],
                    "shortNames": ["pm"],
                    "subresources": [{"subresource": "scale", "verbs": ["get", "update"],
                        "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}}]}),
            ]
        );
    }

    #[test]
    fn the_cache_forgets_what_it_is_told_to() {
        let cache = DiscoveryCache::default();
        cache.put("v1.a.com", vec![json!({"resource": "xs"})]);
        cache.put("v1.b.com", Vec::new());
        cache.retain(|name| name == "v1.a.com");
        assert!(cache.get("v1.b.com").is_none());
        assert_eq!(cache.get("v1.a.com").unwrap().len(), 1);
        cache.forget("v1.a.com");
        assert!(cache.get("v1.a.com").is_none());
    }
}
