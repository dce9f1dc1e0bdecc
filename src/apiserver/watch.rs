//! Watch: a chunked stream of newline-delimited `{"type","object"}` events, as upstream serves.
//!
//! A watch without a resourceVersion (or with "0") starts with ADDED events for what exists;
//! with one, it replays the store's log after it, and a compacted revision is answered in-band
//! with an ERROR event carrying a 410 Expired Status, which clients take as the cue to relist.
//! Selectors are applied to both the new and the previous state of each object, so an object
//! that stops matching is seen as DELETED. The stream ends at `timeoutSeconds`, at shutdown, or
//! when the watcher is too slow to keep up.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::codec::{Accept, Output, partial_metadata};
use super::handlers::Request;
use super::handlers::read::{Filter, include, select};
use super::storage::{decode_event, decode_previous};
use super::{ApiError, ApiState, table};
use crate::registry::Resource;
use crate::store::{EventKind, EventStream, StoreError};

/// How long a watch lasts when the client names no timeout (upstream's minimum request timeout).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often an idle watch that accepts bookmarks is told the current revision.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

pub async fn serve(state: &Arc<ApiState>, request: &Request) -> Result<Response, ApiError> {
    let r = request.info.resource;
    let filter = Filter::from_request(request)?;
    let params = &request.params;
    let mut initial = VecDeque::new();
    let from = match params.resource_version.as_deref() {
        None | Some("0") => {
            let mut listing_request = Request {
                info: request.info.clone(),
                user: request.user.clone(),
                params: params.clone(),
                accept: request.accept,
                headers: request.headers.clone(),
                body: Bytes::new(),
            };
            listing_request.params.limit = None;
            listing_request.params.continue_token = None;
            let listing = select(state, &listing_request, &filter).await?;
            initial.extend(listing.items.into_iter().map(|o| ("ADDED", o)));
            listing.revision
        }
        Some(rv) => rv
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("invalid resource version: {rv:?}")))?,
    };
    let timeout = params
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let events = match state.objects.watch(r, request.info.namespace(), from).await {
        Ok(events) => Some(events),
        Err(err @ ApiError::Expired(_)) => {
            let status = serde_json::to_value(err.status()).unwrap_or_default();
            initial.push_back(("ERROR", status));
            None
        }
        Err(err) => return Err(err),
    };
    let stream = Stream {
        resource: r,
        filter,
        accept: request.accept,
        include: include(request),
        bookmarks: params.allow_watch_bookmarks,
        initial_end: params.send_initial_events && params.allow_watch_bookmarks && events.is_some(),
        initial,
        events,
        revision: from,
        deadline: crate::deadline::instant_after(timeout),
        next_bookmark: Instant::now() + BOOKMARK_INTERVAL,
        shutdown: state.shutdown.clone(),
        columns_sent: false,
    };
    let body = futures::stream::unfold(stream, |mut stream| async move {
        let line = stream.next_line().await?;
        Some((Ok::<_, std::convert::Infallible>(line), stream))
    });
    let mut response = (StatusCode::OK, Body::from_stream(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The state of one watch stream.
struct Stream {
    resource: &'static Resource,
    filter: Filter,
    accept: Accept,
    include: super::codec::IncludeObject,
    bookmarks: bool,
    /// Whether the initial events end with the `k8s.io/initial-events-end` bookmark.
    initial_end: bool,
    initial: VecDeque<(&'static str, Value)>,
    events: Option<EventStream>,
    revision: u64,
    deadline: Instant,
    next_bookmark: Instant,
    shutdown: tokio_util::sync::CancellationToken,
    columns_sent: bool,
}

impl Stream {
    /// The next line of the stream, or `None` when it is over.
    async fn next_line(&mut self) -> Option<Bytes> {
        if let Some((kind, object)) = self.initial.pop_front() {
            return Some(self.encode(kind, object));
        }
        if std::mem::take(&mut self.initial_end) {
            let mut bookmark = self.bookmark();
            bookmark["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            return Some(line("BOOKMARK", bookmark));
        }
        loop {
            let events = self.events.as_mut()?;
            let wake = if self.bookmarks {
                self.next_bookmark.min(self.deadline)
            } else {
                self.deadline
            };
            let event = tokio::select! {
                event = events.next() => event,
                () = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= self.deadline {
                        return None;
                    }
                    self.next_bookmark = Instant::now() + BOOKMARK_INTERVAL;
                    return Some(line("BOOKMARK", self.bookmark()));
                }
                () = self.shutdown.cancelled() => return None,
            };
            match event {
                Some(Ok(event)) => {
                    self.revision = event.revision;
                    if let Some((kind, rendered)) = self.classify(&event) {
                        return Some(self.encode_rendered(kind, &rendered));
                    }
                }
                Some(Err(StoreError::TooSlow)) => {
                    tracing::debug!(resource = self.resource.plural, "watcher cut off: too slow");
                    return None;
                }
                Some(Err(err)) => {
                    tracing::warn!(error = %err, "watch ended by the store");
                    return None;
                }
                None => return None,
            }
        }
    }

    /// What a store event is to this watcher, given its selectors.
    fn classify(&self, event: &crate::store::Event) -> Option<(&'static str, Arc<Rendered>)> {
        let r = self.resource;
        let rendered = Rendered::of(r, event)?;
        let now = self.filter.matches(r, &rendered.object);
        let kind = match event.kind {
            EventKind::Created => now.then_some("ADDED"),
            EventKind::Deleted => now.then_some("DELETED"),
            EventKind::Updated if self.filter.is_empty() => Some("MODIFIED"),
            EventKind::Updated => {
                let before = decode_previous(r, event).map(|prev| self.filter.matches(r, &prev));
                match (before, now) {
                    (Some(false), true) => Some("ADDED"),
                    (Some(true), false) => Some("DELETED"),
                    (_, true) => Some("MODIFIED"),
                    (_, false) => None,
                }
            }
        }?;
        Some((kind, rendered))
    }

    fn bookmark(&self) -> Value {
        json!({
            "kind": self.resource.kind,
            "apiVersion": self.resource.api_version(),
            "metadata": {"resourceVersion": self.revision.to_string()},
        })
    }

    /// One event in the shape the client accepts.
    fn encode(&mut self, kind: &str, object: Value) -> Bytes {
        if kind == "ERROR" {
            return line(kind, object);
        }
        let object = match self.accept.output {
            Output::Object => object,
            Output::PartialMetadata => partial_metadata(&object),
            Output::Table => {
                let now = jiff::Timestamp::now();
                let columns = if std::mem::replace(&mut self.columns_sent, true) {
                    Vec::new()
                } else {
                    table::column_definitions(self.resource)
                };
                json!({
                    "kind": "Table",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"resourceVersion": object["metadata"]["resourceVersion"]},
                    "columnDefinitions": columns,
                    "rows": [table::row(self.resource, &object, self.include, now)],
                })
            }
        };
        line(kind, object)
    }
}

/// An event as every watcher of it needs it: decoded once, and encoded once per output shape.
struct Rendered {
    /// The version the object is in: watchers of one resource through different versions
    /// see it differently.
    api_version: String,
    object: Value,
    json: OnceLock<Bytes>,
    metadata_json: OnceLock<Bytes>,
}

impl Rendered {
    /// The event's rendering in `r`'s version, made once by the first watcher that needs it
    /// (and apart for a watcher through another version of the resource).
    fn of(r: &Resource, event: &crate::store::Event) -> Option<Arc<Rendered>> {
        let render = || {
            decode_event(r, event).ok().map(|object| {
                Arc::new(Rendered {
                    api_version: r.api_version(),
                    object,
                    json: OnceLock::new(),
                    metadata_json: OnceLock::new(),
                })
            })
        };
        let memo = event.memo.get_or_init(|| Arc::new(render()));
        let shared = memo.downcast_ref::<Option<Arc<Rendered>>>()?.clone()?;
        if shared.api_version == r.api_version() {
            return Some(shared);
        }
        render()
    }

    fn encoded(cell: &OnceLock<Bytes>, value: impl FnOnce() -> Value) -> Bytes {
        cell.get_or_init(|| Bytes::from(serde_json::to_vec(&value()).unwrap_or_default()))
            .clone()
    }
}

impl Stream {
    /// One event in the shape the client accepts, reusing what other watchers encoded.
    fn encode_rendered(&mut self, kind: &str, rendered: &Rendered) -> Bytes {
        let object = match self.accept.output {
            Output::Object => Rendered::encoded(&rendered.json, || rendered.object.clone()),
            Output::PartialMetadata => Rendered::encoded(&rendered.metadata_json, || {
                partial_metadata(&rendered.object)
            }),
            Output::Table => return self.encode(kind, rendered.object.clone()),
        };
        let mut line = Vec::with_capacity(object.len() + 32);
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(kind.as_bytes());
        line.extend_from_slice(b"\",\"object\":");
        line.extend_from_slice(&object);
        line.extend_from_slice(b"}\n");
        Bytes::from(line)
    }
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut bytes =
        serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}
