//! OpenAPI v3: an index of group-versions and, for each, a document with the real schemas of its
//! kinds (for `kubectl explain` and kubectl's patch computations) and a PATCH operation per kind
//! that lists `fieldValidation`, which is how kubectl learns that the server validates fields
//! itself and sends `fieldValidation=Strict` instead of failing every `-f` command.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{ApiError, ApiState};
use crate::crd::Crds;
use crate::registry::{self, Resource};

/// The built-in kinds' documents, built on first use: their schemas never change while the
/// server runs.
fn built_in() -> &'static BTreeMap<String, Vec<u8>> {
    static DOCUMENTS: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    DOCUMENTS.get_or_init(|| documents(registry::RESOURCES.iter().copied()))
}

/// The documents of the group-versions of `resources`.
fn documents(resources: impl IntoIterator<Item = &'static Resource>) -> BTreeMap<String, Vec<u8>> {
    let mut groups: BTreeMap<String, Vec<&Resource>> = BTreeMap::new();
    for r in resources {
        groups
            .entry(document_path(r.group, r.version))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|(path, resources)| {
            let body = serde_json::to_vec(&document(&resources)).unwrap_or_default();
            (path, body)
        })
        .collect()
}

/// The documents of the custom resources of one moment, which change with their CRDs.
fn custom(crds: &Crds) -> &BTreeMap<String, Vec<u8>> {
    crds.openapi
        .get_or_init(|| documents(crds.served.custom().iter().copied()))
}

fn document_path(group: &str, version: &str) -> String {
    match group {
        "" => format!("api/{version}"),
        group => format!("apis/{group}/{version}"),
    }
}

/// A digest of a document, so clients can cache it by URL for as long as it does not change.
fn hash(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("{:016X}", hasher.finish())
}

/// `/openapi/v2`: a valid document that describes no definitions. kubectl 1.27 and 1.28
/// refuse `apply` without one; the schemas themselves are served in OpenAPI v3, which those
/// versions also read, and for patches they fall back to their built-in type information.
pub async fn v2(headers: HeaderMap) -> Response {
    let wants_protobuf = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("protobuf"));
    if !wants_protobuf {
        let body = json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": super::VERSION}, "paths": {}, "definitions": {}});
        return json_response(serde_json::to_vec(&body).unwrap_or_default());
    }
    let mut response = (StatusCode::OK, v2_protobuf()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
    );
    response
}

/// The OpenAPI v2 `Document` message with `swagger: "2.0"` and its `info` (title, version).
fn v2_protobuf() -> Vec<u8> {
    fn field(tag: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![tag << 3 | 2];
        let mut len = bytes.len();
        while len >= 0x80 {
            out.push((len as u8) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(bytes);
        out
    }
    let info = [field(1, b"Kubernetes"), field(2, super::VERSION.as_bytes())].concat();
    [field(1, b"2.0"), field(2, &info)].concat()
}

/// `/openapi/v3`: where each group-version's document is.
pub async fn index(State(state): State<Arc<ApiState>>) -> Response {
    let crds = state.served();
    let paths: Map<String, Value> = built_in()
        .iter()
        .chain(custom(&crds))
        .map(|(path, body)| {
            let url = format!("/openapi/v3/{path}?hash={}", hash(body));
            (path.clone(), json!({"serverRelativeURL": url}))
        })
        .collect();
    json_response(serde_json::to_vec(&json!({"paths": paths})).unwrap_or_default())
}

/// `/openapi/v3/<path>`: one group-version's document.
pub async fn document_handler(
    State(state): State<Arc<ApiState>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let path = path.trim_matches('/');
    if let Some(body) = built_in().get(path) {
        return Ok(json_response(body.clone()));
    }
    let crds = state.served();
    let body = custom(&crds).get(path).ok_or(ApiError::NoSuchPath)?;
    Ok(json_response(body.clone()))
}

fn json_response(body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// One group-version's document: its kinds' schemas and their patch operations.
fn document(resources: &[&Resource]) -> Value {
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let mut paths = Map::new();
    for r in resources {
        r.strategy.schema(&mut generator);
        paths.insert(patch_path(r), patch_operation(r));
    }
    let mut schemas = generator.take_definitions(true);
    for r in resources {
        let name = r.strategy.schema_name();
        if let Some(Value::Object(schema)) = schemas.get_mut(&name) {
            schema.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([{"group": r.group, "kind": r.kind, "version": r.version}]),
            );
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

fn patch_path(r: &Resource) -> String {
    let base = match r.group {
        "" => format!("/api/{}", r.version),
        group => format!("/apis/{group}/{}", r.version),
    };
    match r.namespaced {
        true => format!("{base}/namespaces/{{namespace}}/{}/{{name}}", r.plural),
        false => format!("{base}/{}/{{name}}", r.plural),
    }
}

fn patch_operation(r: &Resource) -> Value {
    json!({
        "patch": {
            "operationId": format!("patch{}", r.kind),
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
            "parameters": [
                {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}},
            ],
            "responses": {"200": {"description": "OK"}},
        }
    })
}
