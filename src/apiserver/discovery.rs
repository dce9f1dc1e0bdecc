//! Discovery: what groups, versions and resources the server has, both in the legacy form
//! (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`) and aggregated (one `APIGroupDiscoveryList`
//! for `/api` or `/apis`, which kubectl 1.27+ asks for first), derived from the registry and,
//! for the group-versions APIServices hand to other servers, from what those servers say
//! (their `/apis/<g>/<v>` is proxied to them).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

use super::aggregation::{ListedGroup, ListedVersion};
use super::{ApiError, ApiState};
use crate::registry::{Resource, Served};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// The verbs of a resource: every verb for stored ones, `create` for the reviews.
fn verbs(r: &Resource) -> &'static [&'static str] {
    if r.create_only { &["create"] } else { &VERBS }
}

/// The aggregated discovery version a client asked for, if any (v2, or v2beta1 for 1.27/1.28).
fn aggregated_version(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(header::ACCEPT)?.to_str().ok()?;
    for media in accept.split(',') {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        let has = |p: &str| params.contains(&p);
        if has("g=apidiscovery.k8s.io") && has("as=APIGroupDiscoveryList") {
            if has("v=v2") {
                return Some("v2");
            }
            if has("v=v2beta1") {
                return Some("v2beta1");
            }
        }
    }
    None
}

fn json_response(body: &Value, content_type: &str) -> Response {
    let mut response =
        (StatusCode::OK, serde_json::to_vec(body).unwrap_or_default()).into_response();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn aggregated(
    state: &ApiState,
    served: &Served,
    groups: &[ListedGroup],
    version: &str,
) -> Response {
    let items: Vec<Value> = groups
        .iter()
        .map(|g| group_discovery(state, served, g))
        .collect();
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    });
    let content_type =
        format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList");
    json_response(&body, &content_type)
}

/// `/api`: the core group's versions.
pub async fn core(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    if let Some(version) = aggregated_version(&headers) {
        let core = ListedGroup {
            name: String::new(),
            versions: vec![ListedVersion {
                version: "v1".into(),
                aggregated: None,
            }],
        };
        return aggregated(&state, &state.served().served, &[core], version);
    }
    let body = json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": state.advertised}],
    });
    json_response(&body, "application/json")
}

/// The named groups, this server's and aggregated ones, in discovery's order.
async fn named_groups(state: &ApiState, served: &Served) -> Vec<ListedGroup> {
    state.apiservices.loaded().await;
    super::aggregation::listing(&served.group_versions(), &state.apiservices.get())
}

/// `/apis`: every named group.
pub async fn groups(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> Response {
    let crds = state.served();
    let named = named_groups(&state, &crds.served).await;
    if let Some(version) = aggregated_version(&headers) {
        return aggregated(&state, &crds.served, &named, version);
    }
    let groups: Vec<Value> = named.iter().map(api_group).collect();
    json_response(
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
        "application/json",
    )
}

/// `/apis/<group>`.
pub async fn group(
    State(state): State<Arc<ApiState>>,
    Path(group): Path<String>,
) -> Result<Response, ApiError> {
    let crds = state.served();
    let named = named_groups(&state, &crds.served).await;
    let listed = named
        .iter()
        .find(|g| g.name == group)
        .ok_or(ApiError::NoSuchPath)?;
    let mut body = api_group(listed);
    body["kind"] = json!("APIGroup");
    body["apiVersion"] = json!("v1");
    Ok(json_response(&body, "application/json"))
}

/// `/api/v1`.
pub async fn core_resources(State(state): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    resource_list(&state.served().served, "", "v1")
}

/// `/apis/<group>/<version>`.
pub async fn group_resources(
    State(state): State<Arc<ApiState>>,
    Path((group, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    resource_list(&state.served().served, &group, &version)
}

fn resource_list(served: &Served, group: &str, version: &str) -> Result<Response, ApiError> {
    let mut resources = Vec::new();
    for r in served.in_group_version(group, version) {
        resources.push(api_resource(r));
        for sub in r.subresources {
            let mut entry = json!({
                "name": format!("{}/{}", r.plural, sub.name()),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": sub.verbs(),
            });
            if let Some((g, v, kind)) = sub.kind() {
                entry["group"] = json!(g);
                entry["version"] = json!(v);
                entry["kind"] = json!(kind);
            }
            resources.push(entry);
        }
    }
    if resources.is_empty() {
        return Err(ApiError::NoSuchPath);
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let body = json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources});
    Ok(json_response(&body, "application/json"))
}

fn api_group(group: &ListedGroup) -> Value {
    let versions: Vec<Value> = group
        .versions
        .iter()
        .map(|v| {
            let version = &v.version;
            json!({"groupVersion": format!("{}/{version}", group.name), "version": version})
        })
        .collect();
    json!({"name": group.name, "versions": versions, "preferredVersion": versions.first()})
}

fn api_resource(r: &Resource) -> Value {
    let mut entry = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": verbs(r),
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    entry
}

fn group_discovery(state: &ApiState, served: &Served, group: &ListedGroup) -> Value {
    let versions: Vec<Value> = group
        .versions
        .iter()
        .map(|listed| version_discovery(state, served, &group.name, listed))
        .collect();
    let metadata = if group.name.is_empty() {
        json!({})
    } else {
        json!({"name": group.name})
    };
    json!({"metadata": metadata, "versions": versions})
}

/// One version's resources: this server's, or those its server last said it serves; a
/// version whose server has not said is listed stale, without resources, as upstream lists a
/// server it cannot reach.
fn version_discovery(
    state: &ApiState,
    served: &Served,
    group: &str,
    listed: &ListedVersion,
) -> Value {
    let version = listed.version.as_str();
    let resources: Vec<Value> = match &listed.aggregated {
        None => served
            .in_group_version(group, version)
            .map(resource_discovery)
            .collect(),
        Some(name) => match state.backends.discovery.get(name) {
            Some(resources) => resources.to_vec(),
            None => return json!({"version": version, "freshness": "Stale"}),
        },
    };
    json!({"version": version, "resources": resources, "freshness": "Current"})
}

fn resource_discovery(r: &Resource) -> Value {
    let subresources: Vec<Value> = r
        .subresources
        .iter()
        .map(|sub| {
            let (group, version, kind) = sub.kind().unwrap_or((r.group, r.version, r.kind));
            json!({
                "subresource": sub.name(),
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": sub.verbs(),
            })
        })
        .collect();
    let mut entry = json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": verbs(r),
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    if !subresources.is_empty() {
        entry["subresources"] = json!(subresources);
    }
    entry
}
