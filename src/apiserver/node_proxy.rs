//! The pod subresources served by the node a pod runs on: `log`, `exec`, `attach` and
//! `portforward`. The API server finds the pod's node and forwards the request to the node's
//! own port (a kubelet's 10250) as the API server. Streams that upgrade the connection (exec,
//! attach, port-forward, in SPDY or WebSocket) are forwarded byte for byte once the node has
//! accepted the upgrade, so the protocol is the node's business, as upstream's proxying is. A
//! node whose runtime runs no processes (the simulated one) is answered for, naming its
//! runtime and what it does not serve.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use super::admission::{self, Attributes, Operation};
use super::handlers::Request;
use super::node_client::{NodeClient, NodeClientError};
use super::request::Verb;
use super::{ApiError, ApiState};
use crate::registry::{self, Subresource};

/// The runtime scheme of nodes that run no processes.
const SIMULATED: &str = "simulated://";

/// Where a pod's node serves its streams.
struct NodeTarget {
    pod: Value,
    node: String,
    runtime: String,
    addr: Option<SocketAddr>,
}

/// `pods/<name>/log`: the container's log, streamed from its node.
pub async fn logs(state: &Arc<ApiState>, request: &Request) -> Result<Response, ApiError> {
    let target = target(state, request).await?;
    let (client, addr) = reachable(state, &target, request)?;
    let name = request.info.name();
    let namespace = request.info.namespace().unwrap_or("default");
    let container = container(&target.pod, name, request.params.log.container.as_deref())?;
    let path = format!(
        "/containerLogs/{namespace}/{name}/{container}{}",
        log_query(&request.params.log)
    );
    let forwarded = hyper::Request::get(path)
        .header("host", addr.to_string())
        .body(Body::empty())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let answered = client
        .send(addr, forwarded)
        .await
        .map_err(|e| unreachable(&target, &e))?;
    if answered.status().is_success() {
        return Response::builder()
            .header("content-type", "text/plain")
            .body(Body::new(answered.into_body()))
            .map_err(|e| ApiError::Internal(e.to_string()));
    }
    let text = http_body_util::BodyExt::collect(answered.into_body())
        .await
        .map(|body| String::from_utf8_lossy(&body.to_bytes()).trim().to_owned())
        .unwrap_or_default();
    Err(ApiError::BadRequest(text))
}

/// The container a log request names, or the pod's only container; upstream's message when
/// the pod has several and none was named.
fn container<'a>(pod: &'a Value, name: &str, asked: Option<&'a str>) -> Result<&'a str, ApiError> {
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod["spec"]["initContainers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|c| c["name"].as_str())
        .collect();
    match asked {
        Some(asked) if names.contains(&asked) => Ok(asked),
        Some(asked) => Err(ApiError::BadRequest(format!(
            "container {asked} is not valid for pod {name}"
        ))),
        None => match pod["spec"]["containers"].as_array().map(Vec::as_slice) {
            Some([only]) => Ok(only["name"].as_str().unwrap_or_default()),
            _ => Err(ApiError::BadRequest(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            ))),
        },
    }
}

/// The query the node's `containerLogs` reads, as upstream's kubelet names its parameters.
fn log_query(log: &super::params::LogParams) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, on) in [
        ("follow", log.follow),
        ("previous", log.previous),
        ("timestamps", log.timestamps),
    ] {
        if on {
            query.append_pair(key, "true");
        }
    }
    for (key, value) in [
        ("tailLines", log.tail_lines),
        ("sinceSeconds", log.since_seconds),
        ("limitBytes", log.limit_bytes),
    ] {
        if let Some(value) = value {
            query.append_pair(key, &value.to_string());
        }
    }
    let query = query.finish();
    if query.is_empty() {
        query
    } else {
        format!("?{query}")
    }
}

/// The pod, its node, the node's runtime and the address of the node's port.
async fn target(state: &ApiState, request: &Request) -> Result<NodeTarget, ApiError> {
    let r = request.info.resource;
    let name = request.info.name();
    let pod = state.objects.get(r, request.info.namespace(), name).await?;
    let Some(node) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) else {
        return Err(ApiError::BadRequest(format!(
            "pod {name} does not have a host assigned"
        )));
    };
    let node = node.to_owned();
    let nodes = registry::find("", "v1", "nodes").ok_or(ApiError::NoSuchPath)?;
    let (runtime, addr) = match state.objects.get(nodes, None, &node).await {
        Ok(found) => (
            found["status"]["nodeInfo"]["containerRuntimeVersion"]
                .as_str()
                .filter(|v| !v.is_empty())
                .map_or_else(|| "an unknown runtime".to_owned(), |v| format!("{v:?}")),
            node_port(&found),
        ),
        Err(ApiError::NotFound { .. }) => ("no runtime (the node is gone)".to_owned(), None),
        Err(err) => return Err(err),
    };
    Ok(NodeTarget {
        pod,
        node,
        runtime,
        addr,
    })
}

/// The node's InternalIP and the port its status names for it.
fn node_port(node: &Value) -> Option<SocketAddr> {
    let ip: IpAddr = node["status"]["addresses"]
        .as_array()?
        .iter()
        .find(|a| a["type"] == "InternalIP")?["address"]
        .as_str()?
        .parse()
        .ok()?;
    let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"].as_u64()?;
    Some(SocketAddr::new(ip, u16::try_from(port).ok()?))
}

/// `exec`, `attach` and `portforward`: the upgrade is asked of the node; once the node has
/// switched protocols, the client's connection and the node's are joined.
pub async fn stream(
    state: &Arc<ApiState>,
    request: &Request,
    query: Option<&str>,
    upgrade: Option<OnUpgrade>,
) -> Result<Response, ApiError> {
    // Admission comes first, as upstream's connect handler runs it before the pod is looked up.
    let attributes = Attributes::new(
        request,
        Operation::Connect,
        request.info.namespace(),
        request.info.name(),
        None,
    );
    let asked = connect_options(request.info.subresource, query);
    let options =
        admission::admit_posted(state, &attributes, asked.clone(), &mut Vec::new()).await?;
    // The node is asked what admission let through: the client's query as it came, or the
    // options a webhook changed.
    let query = if options == asked {
        query.map(str::to_owned)
    } else {
        Some(connect_query(&options))
    };
    let target = target(state, request).await?;
    let (client, addr) = reachable(state, &target, request)?;
    let Some(upgrade) = upgrade.filter(|_| request.headers.contains_key(header::UPGRADE)) else {
        return Err(ApiError::BadRequest("Upgrade request required".into()));
    };
    let name = request.info.name();
    let namespace = request.info.namespace().unwrap_or("default");
    let path = match request.info.subresource {
        Some(Subresource::PortForward) => format!("/portForward/{namespace}/{name}"),
        Some(sub) => {
            let container = container(&target.pod, name, options["container"].as_str())?;
            format!("/{}/{namespace}/{name}/{container}", sub.name())
        }
        None => return Err(ApiError::MethodNotAllowed),
    };
    let path = match query {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut forwarded = hyper::Request::builder()
        .method(if request.info.verb == Verb::Create {
            Method::POST
        } else {
            Method::GET
        })
        .uri(path)
        .header(header::HOST, addr.to_string());
    for (key, value) in &request.headers {
        if upgrade_header(key) {
            forwarded = forwarded.header(key, value);
        }
    }
    let forwarded = forwarded
        .body(Body::empty())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let answered = client
        .send(addr, forwarded)
        .await
        .map_err(|e| unreachable(&target, &e))?;
    let (parts, body) = answered.into_parts();
    if parts.status != StatusCode::SWITCHING_PROTOCOLS {
        // The node's refusal as it gave it: a client refused a WebSocket falls back to SPDY.
        return Ok(Response::from_parts(parts, Body::new(body)));
    }
    let node_side = hyper::upgrade::on(hyper::Response::from_parts(parts.clone(), body));
    tokio::spawn(async move {
        match tokio::try_join!(upgrade, node_side) {
            Ok((client, node)) => {
                let _ = tokio::io::copy_bidirectional(
                    &mut TokioIo::new(client),
                    &mut TokioIo::new(node),
                )
                .await;
            }
            Err(error) => tracing::debug!(%error, "joining an upgraded stream failed"),
        }
    });
    Ok(Response::from_parts(parts, Body::empty()))
}

/// The headers that carry an upgrade and its protocol negotiation to the node.
/// The options of a connect as upstream's types name them (`PodExecOptions`,
/// `PodAttachOptions`, `PodPortForwardOptions`), read from its query: what admission sees.
fn connect_options(subresource: Option<Subresource>, query: Option<&str>) -> Value {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let all = |key: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let flag = |key: &str| all(key).last().is_some_and(|v| *v == "true" || *v == "1");
    let kind = match subresource {
        Some(Subresource::PortForward) => {
            let ports: Vec<i64> = all("ports")
                .iter()
                .flat_map(|p| p.split(','))
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            return json!({"apiVersion": "v1", "kind": "PodPortForwardOptions", "ports": ports});
        }
        Some(Subresource::Attach) => "PodAttachOptions",
        _ => "PodExecOptions",
    };
    let mut options = json!({
        "apiVersion": "v1", "kind": kind,
        "stdin": flag("stdin"), "stdout": flag("stdout"), "stderr": flag("stderr"), "tty": flag("tty"),
    });
    if let Some(container) = all("container").last() {
        options["container"] = json!(container);
    }
    if kind == "PodExecOptions" {
        options["command"] = json!(all("command"));
    }
    options
}

/// The query a connect's options are asked with, as clients write it.
fn connect_query(options: &Value) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for port in options["ports"].as_array().into_iter().flatten() {
        query.append_pair("ports", &port.to_string());
    }
    for flag in ["stdin", "stdout", "stderr", "tty"] {
        if options[flag] == true {
            query.append_pair(flag, "true");
        }
    }
    if let Some(container) = options["container"].as_str() {
        query.append_pair("container", container);
    }
    for command in options["command"].as_array().into_iter().flatten() {
        query.append_pair("command", command.as_str().unwrap_or_default());
    }
    query.finish()
}

fn upgrade_header(name: &HeaderName) -> bool {
    let name = name.as_str();
    name == "connection"
        || name == "upgrade"
        || name.starts_with("x-stream-protocol-version")
        || name.starts_with("sec-websocket-")
}

/// The client for nodes and the node's port, unless the node's runtime runs no processes.
fn reachable<'a>(
    state: &'a ApiState,
    target: &NodeTarget,
    request: &Request,
) -> Result<(&'a NodeClient, SocketAddr), ApiError> {
    match (state.nodes.as_ref(), target.addr) {
        (Some(client), Some(addr)) if !target.runtime.contains(SIMULATED) => Ok((client, addr)),
        _ => Err(not_served(target, request)),
    }
}

fn unreachable(target: &NodeTarget, error: &NodeClientError) -> ApiError {
    ApiError::Internal(format!("reaching node {:?}: {error}", target.node))
}

/// The error for a pod subresource its node does not serve, naming the node's runtime as the
/// node reports it.
fn not_served(target: &NodeTarget, request: &Request) -> ApiError {
    let what = request.info.subresource.map_or("", |s| s.name());
    ApiError::Unavailable(format!(
        "pod {:?} runs on node {:?}, whose container runtime, {}, does not serve {what}",
        request.info.name(),
        target.node,
        target.runtime
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_options_are_asked_as_they_were_read() {
        for (subresource, query) in [
            (
                Subresource::Exec,
                "command=sh&command=-c&command=echo+a%26b&container=web&stdin=true&stdout=true&tty=true",
            ),
            (Subresource::Attach, "container=web&stdout=true&stderr=true"),
            (Subresource::PortForward, "ports=8080&ports=443"),
        ] {
            let options = connect_options(Some(subresource), Some(query));
            assert_eq!(
                connect_options(Some(subresource), Some(&connect_query(&options))),
                options,
                "{query}"
            );
        }
        let exec = connect_options(Some(Subresource::Exec), Some("command=ls&container=c"));
        assert_eq!(exec["command"], json!(["ls"]));
        assert_eq!(exec["container"], "c");
        assert_eq!(exec["stdin"], false);
    }
}
