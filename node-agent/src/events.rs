//! The Events a kubelet records about its pods (`Pulling`, `Pulled`, `Created`, `Started`,
//! `Killing`, `Unhealthy`, `BackOff`, `Failed`), as core/v1 Events with `source.component:
//! kubelet` and the node as `source.host`, the shape `kubectl describe pod` shows.
//!
//! Recording hands the event to a bounded queue and returns: a sync never waits for the API
//! server, and when the queue is full the event is dropped (an event is a hint, not state).
//! One task writes them, one at a time, so a busy node adds at most one request in flight.
//! As upstream's event correlator does, a repeat of the same event on the same object raises
//! the count of the Event already written, and a per-object token bucket (a burst of 25, then
//! one more every five minutes) bounds how many distinct Events one pod gets.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::runtime::ContainerRole;

/// The component the kubelet's events name as their source.
const COMPONENT: &str = "kubelet";
/// Events waiting to be written before new ones are dropped.
const QUEUE: usize = 1024;
const BURST: u32 = 25;
const REFILL: Duration = Duration::from_secs(300);
/// Events remembered for counting repeats (and objects for their buckets) before the memory
/// is cleared; a repeat after that is written as a new Event.
const REMEMBERED: usize = 4096;

/// Normal or Warning, as the Event's `type` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Normal,
    Warning,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Normal => "Normal",
            Kind::Warning => "Warning",
        }
    }
}

/// What an event is about: a pod on a node, or one of the pod's containers.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub node: String,
    pub object: ObjectReference,
}

impl Subject {
    /// The pod itself.
    pub fn pod(pod: &Pod, node: &str) -> Subject {
        Subject {
            node: node.to_owned(),
            object: ObjectReference {
                api_version: Some("v1".to_owned()),
                kind: Some("Pod".to_owned()),
                name: pod.metadata.name.clone(),
                namespace: pod.metadata.namespace.clone(),
                uid: pod.metadata.uid.clone(),
                resource_version: pod.metadata.resource_version.clone(),
                ..ObjectReference::default()
            },
        }
    }

    /// One of the pod's containers, named by its place in the spec as upstream's container
    /// references are: `spec.containers{web}`.
    pub fn container(&self, role: ContainerRole, name: &str) -> Subject {
        let list = match role {
            ContainerRole::Init => "initContainers",
            ContainerRole::Main => "containers",
        };
        let mut subject = self.clone();
        subject.object.field_path = Some(format!("spec.{list}{{{name}}}"));
        subject
    }
}

/// One event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub subject: Subject,
    pub kind: Kind,
    pub reason: &'static str,
    pub message: String,
    /// When it happened; a repeat moves the Event's `lastTimestamp` to this.
    pub at: Timestamp,
}

impl Note {
    pub fn normal(subject: &Subject, reason: &'static str, message: String) -> Note {
        Note::new(subject, Kind::Normal, reason, message)
    }

    pub fn warning(subject: &Subject, reason: &'static str, message: String) -> Note {
        Note::new(subject, Kind::Warning, reason, message)
    }

    fn new(subject: &Subject, kind: Kind, reason: &'static str, message: String) -> Note {
        Note {
            subject: subject.clone(),
            kind,
            reason,
            message,
            at: Timestamp::now(),
        }
    }

    /// The same note, dated `at`.
    pub fn at(self, at: Timestamp) -> Note {
        Note { at, ..self }
    }
}

/// Hands events to the writer; cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Note>,
}

/// The writer's end of the queue.
pub struct Writer {
    client: Client,
    queue: mpsc::Receiver<Note>,
}

/// A recorder and the writer that sends what it records to the API server.
pub fn recorder(client: Client) -> (Recorder, Writer) {
    let (recorder, queue) = Recorder::queue(QUEUE);
    (recorder, Writer { client, queue })
}

impl Recorder {
    /// A recorder whose events go to the returned queue.
    pub(crate) fn queue(capacity: usize) -> (Recorder, mpsc::Receiver<Note>) {
        let (queue, receiver) = mpsc::channel(capacity);
        (Recorder { queue }, receiver)
    }

    /// Records `note` unless the queue is full or the writer has stopped.
    pub fn record(&self, note: Note) {
        if let Err(error) = self.queue.try_send(note) {
            let reason = match &error {
                mpsc::error::TrySendError::Full(note) | mpsc::error::TrySendError::Closed(note) => {
                    note.reason
                }
            };
            tracing::debug!(reason, "event dropped: the event queue is full or closed");
        }
    }
}

impl Writer {
    /// Writes events until `shutdown`, or until every recorder is gone. A failed write is
    /// logged and forgotten.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut memory = Memory::default();
        loop {
            let note = tokio::select! {
                () = shutdown.cancelled() => return,
                note = self.queue.recv() => match note {
                    Some(note) => note,
                    None => return,
                },
            };
            let key = Key::of(&note);
            let written = match memory.decide(&key, Instant::now()) {
                Decision::Drop => continue,
                Decision::Create => self.create(&note).await,
                Decision::Count { name, count } => match self.count(&note, &name, count).await {
                    // The Event is gone (expired, or deleted): write it anew.
                    Err(kube::Error::Api(status)) if status.is_not_found() => {
                        self.create(&note).await
                    }
                    other => other.map(|()| (name, count)),
                },
            };
            match written {
                Ok((name, count)) => memory.remember(key, name, count),
                Err(error) => {
                    tracing::debug!(reason = note.reason, %error, "event not recorded");
                    memory.forget(&key);
                }
            }
        }
    }

    /// Writes a new Event and returns its name and count.
    async fn create(&self, note: &Note) -> Result<(String, i32), kube::Error> {
        let event = event(note);
        let namespace = event.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let created = api.create(&PostParams::default(), &event).await?;
        Ok((created.name_any(), 1))
    }

    /// Raises the count of the Event `name` to `count`.
    async fn count(&self, note: &Note, name: &str, count: i32) -> Result<(), kube::Error> {
        let namespace = note
            .subject
            .object
            .namespace
            .as_deref()
            .unwrap_or("default");
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let patch = json!({"count": count, "lastTimestamp": Time(note.at)});
        api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map(drop)
    }
}

/// The Event a note is first written as.
fn event(note: &Note) -> Event {
    let object = &note.subject.object;
    let namespace = object.namespace.clone().unwrap_or_else(|| "default".into());
    let time = Time(note.at);
    Event {
        metadata: ObjectMeta {
            // Upstream's naming: the object's name and the time in hexadecimal nanoseconds.
            name: Some(format!(
                "{}.{:x}",
                object.name.as_deref().unwrap_or_default(),
                unique_nanos()
            )),
            namespace: Some(namespace),
            ..ObjectMeta::default()
        },
        involved_object: object.clone(),
        reason: Some(note.reason.to_owned()),
        message: Some(note.message.clone()),
        source: Some(EventSource {
            component: Some(COMPONENT.to_owned()),
            host: Some(note.subject.node.clone()),
        }),
        first_timestamp: Some(time.clone()),
        last_timestamp: Some(time),
        count: Some(1),
        type_: Some(note.kind.as_str().to_owned()),
        reporting_component: Some(COMPONENT.to_owned()),
        reporting_instance: Some(note.subject.node.clone()),
        ..Event::default()
    }
}

/// The clock in nanoseconds, never the same twice in this process.
fn unique_nanos() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = u128::try_from(Timestamp::now().as_nanosecond()).unwrap_or_default();
    nanos + u128::from(COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// What makes two events the same event: upstream's aggregation key without the timestamps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    node: String,
    uid: String,
    field_path: Option<String>,
    kind: Kind,
    reason: &'static str,
    message: String,
}

impl Key {
    fn of(note: &Note) -> Key {
        let object = &note.subject.object;
        Key {
            node: note.subject.node.clone(),
            uid: object.uid.clone().unwrap_or_default(),
            field_path: object.field_path.clone(),
            kind: note.kind,
            reason: note.reason,
            message: note.message.clone(),
        }
    }
}

/// What to do with one event.
#[derive(Debug, PartialEq)]
enum Decision {
    Create,
    /// Raise the count of the Event already written.
    Count {
        name: String,
        count: i32,
    },
    Drop,
}

/// The Events written so far and each object's token bucket.
#[derive(Default)]
struct Memory {
    /// By event: the Event's name and its count.
    written: HashMap<Key, (String, i32)>,
    /// By node and object UID: tokens left, and when the bucket was last refilled.
    buckets: HashMap<(String, String), (u32, Instant)>,
}

impl Memory {
    fn decide(&mut self, key: &Key, now: Instant) -> Decision {
        if self.written.len() > REMEMBERED || self.buckets.len() > REMEMBERED {
            self.written.clear();
            self.buckets.clear();
        }
        if let Some((name, count)) = self.written.get_mut(key) {
            *count = count.saturating_add(1);
            return Decision::Count {
                name: name.clone(),
                count: *count,
            };
        }
        let (tokens, refilled) = self
            .buckets
            .entry((key.node.clone(), key.uid.clone()))
            .or_insert((BURST, now));
        let earned = now.duration_since(*refilled).as_secs() / REFILL.as_secs();
        if earned > 0 {
            *tokens = u32::try_from(earned)
                .unwrap_or(BURST)
                .saturating_add(*tokens)
                .min(BURST);
            *refilled = now;
        }
        if *tokens == 0 {
            return Decision::Drop;
        }
        *tokens -= 1;
        Decision::Create
    }

    /// The event was written as the Event `name`, which now counts `count`.
    fn remember(&mut self, key: Key, name: String, count: i32) {
        self.written.insert(key, (name, count));
    }

    /// Writing the event failed: its next repeat is written anew.
    fn forget(&mut self, key: &Key) {
        self.written.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1",
                         "resourceVersion": "7"},
        }))
        .unwrap()
    }

    fn key(message: &str) -> Key {
        let subject = Subject::pod(&pod(), "node-1").container(ContainerRole::Main, "nginx");
        Key::of(&Note::warning(&subject, "Unhealthy", message.to_owned()))
    }

    #[test]
    fn an_event_names_its_pod_container_and_node_as_a_kubelet_does() {
        let subject = Subject::pod(&pod(), "node-1").container(ContainerRole::Init, "setup");
        let note = Note::normal(&subject, "Started", "Started container setup".into())
            .at("2025-01-01T00:00:00Z".parse().unwrap());
        let written = serde_json::to_value(event(&note)).unwrap();
        assert!(
            written["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("web.")
        );
        assert_eq!(written["metadata"]["namespace"], "default");
        assert_eq!(
            written["involvedObject"],
            json!({"apiVersion": "v1", "kind": "Pod", "name": "web", "namespace": "default",
                   "uid": "u1", "resourceVersion": "7",
                   "fieldPath": "spec.initContainers{setup}"})
        );
        assert_eq!(
            written["source"],
            json!({"component": "kubelet", "host": "node-1"})
        );
        assert_eq!(written["reportingComponent"], "kubelet");
        assert_eq!(written["reportingInstance"], "node-1");
        assert_eq!(written["type"], "Normal");
        assert_eq!(written["count"], 1);
        assert_eq!(written["firstTimestamp"], "2025-01-01T00:00:00Z");
    }

    #[tokio::test(start_paused = true)]
    async fn repeats_raise_the_count_and_a_busy_pod_is_throttled_then_refilled() {
        let mut memory = Memory::default();
        let now = Instant::now();
        assert_eq!(memory.decide(&key("down"), now), Decision::Create);
        memory.remember(key("down"), "web.1".into(), 1);
        assert_eq!(
            memory.decide(&key("down"), now),
            Decision::Count {
                name: "web.1".into(),
                count: 2
            }
        );
        memory.remember(key("down"), "web.1".into(), 2);
        assert_eq!(
            memory.decide(&key("down"), now),
            Decision::Count {
                name: "web.1".into(),
                count: 3
            }
        );
        for i in 1..BURST {
            assert_eq!(memory.decide(&key(&i.to_string()), now), Decision::Create);
        }
        assert_eq!(memory.decide(&key("one too many"), now), Decision::Drop);
        // Repeats still count while new events wait for tokens.
        assert!(matches!(
            memory.decide(&key("down"), now),
            Decision::Count { count: 4, .. }
        ));
        tokio::time::advance(REFILL).await;
        assert_eq!(
            memory.decide(&key("later"), Instant::now()),
            Decision::Create
        );
        assert_eq!(
            memory.decide(&key("later still"), Instant::now()),
            Decision::Drop
        );
    }

    #[test]
    fn a_failed_write_is_written_anew_next_time() {
        let mut memory = Memory::default();
        let now = Instant::now();
        assert_eq!(memory.decide(&key("down"), now), Decision::Create);
        memory.forget(&key("down"));
        assert_eq!(memory.decide(&key("down"), now), Decision::Create);
    }

    #[test]
    fn a_full_queue_drops_events_instead_of_waiting() {
        let (recorder, mut queue) = Recorder::queue(1);
        let subject = Subject::pod(&pod(), "node-1");
        recorder.record(Note::normal(&subject, "Pulled", "first".into()));
        recorder.record(Note::normal(&subject, "Pulled", "second".into()));
        assert_eq!(queue.try_recv().unwrap().message, "first");
        assert!(queue.try_recv().is_err());
    }
}
