//! Recording core/v1 Events, the ones `kubectl describe` and `kubectl get events` show.
//!
//! Like upstream's event recorder, a repeat of the same event on the same object raises the
//! count of the existing Event instead of writing a new one, and a per-object token bucket
//! (a burst of 25, then one more every five minutes) keeps a busy object from flooding the
//! store: a ReplicaSet creating ten thousand pods leaves a readable trail, not ten thousand
//! Events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::time::Instant;

const BURST: u32 = 25;
const REFILL: Duration = Duration::from_secs(300);
/// Objects tracked before the oldest state is dropped.
const TRACKED: usize = 4096;

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Publishes events on behalf of one component.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    component: &'static str,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Per object uid: tokens left and when the bucket was last refilled.
    buckets: HashMap<String, (u32, Instant)>,
    /// Per (object uid, reason, message): the Event recording it and its count.
    recorded: HashMap<(String, String, String), (String, String, i32)>,
}

/// What to do with one event.
enum Decision {
    Create,
    Count {
        namespace: String,
        name: String,
        count: i32,
    },
    Drop,
}

impl State {
    fn decide(&mut self, uid: &str, reason: &str, message: &str, now: Instant) -> Decision {
        if self.buckets.len() > TRACKED {
            self.buckets.clear();
            self.recorded.clear();
        }
        let key = (uid.to_owned(), reason.to_owned(), message.to_owned());
        if let Some((namespace, name, count)) = self.recorded.get_mut(&key) {
            *count += 1;
            return Decision::Count {
                namespace: namespace.clone(),
                name: name.clone(),
                count: *count,
            };
        }
        let (tokens, refilled) = self.buckets.entry(uid.to_owned()).or_insert((BURST, now));
        let earned = (now.duration_since(*refilled).as_secs() / REFILL.as_secs()) as u32;
        if earned > 0 {
            *tokens = (*tokens + earned).min(BURST);
            *refilled = now;
        }
        if *tokens == 0 {
            return Decision::Drop;
        }
        *tokens -= 1;
        Decision::Create
    }

    fn remember(&mut self, uid: &str, reason: &str, message: &str, namespace: &str, name: &str) {
        let key = (uid.to_owned(), reason.to_owned(), message.to_owned());
        self.recorded
            .insert(key, (namespace.to_owned(), name.to_owned(), 1));
    }
}

impl Recorder {
    pub fn new(client: Client, component: &'static str) -> Recorder {
        Recorder {
            client,
            component,
            state: Arc::default(),
        }
    }

    /// Records `reason`/`message` on `object`. Failures are logged, never returned: an event
    /// that cannot be written must not fail the work it describes.
    pub async fn publish<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        kind: Kind,
        reason: &str,
        message: String,
    ) {
        let reference = object.object_ref(&());
        let uid = reference.uid.clone().unwrap_or_default();
        let decision = match self.state.lock() {
            Ok(mut state) => state.decide(&uid, reason, &message, Instant::now()),
            Err(_) => return,
        };
        let outcome = match decision {
            Decision::Drop => return,
            Decision::Create => self.create(reference, kind, reason, &message).await,
            Decision::Count {
                namespace,
                name,
                count,
            } => self.count(&namespace, &name, count).await,
        };
        if let Err(err) = outcome {
            tracing::debug!(reason, error = %err, "event not recorded");
        }
    }

    async fn create(
        &self,
        involved: ObjectReference,
        kind: Kind,
        reason: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let namespace = involved
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let now = Time(jiff::Timestamp::now());
        let object_name = involved.name.clone().unwrap_or_default();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{object_name}.{:x}", unique_suffix())),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: involved.clone(),
            reason: Some(reason.to_owned()),
            message: Some(message.to_owned()),
            source: Some(EventSource {
                component: Some(self.component.to_owned()),
                host: None,
            }),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            type_: Some(kind.as_str().to_owned()),
            reporting_component: Some(self.component.to_owned()),
            reporting_instance: Some(self.component.to_owned()),
            ..Event::default()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let created = api.create(&PostParams::default(), &event).await?;
        if let Ok(mut state) = self.state.lock() {
            let uid = involved.uid.unwrap_or_default();
            state.remember(&uid, reason, message, &namespace, &created.name_any());
        }
        Ok(())
    }

    async fn count(&self, namespace: &str, name: &str, count: i32) -> Result<(), kube::Error> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let now = Time(jiff::Timestamp::now());
        let patch = json!({"count": count, "lastTimestamp": now});
        api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map(drop)
    }
}

/// Upstream names events `<object>.<nanoseconds in hex>`; the clock alone is unique enough
/// within one process when paired with a counter.
fn unique_suffix() -> u128 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = jiff::Timestamp::now().as_nanosecond() as u128;
    nanos + u128::from(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn repeats_count_and_a_busy_object_is_throttled_then_refilled() {
        let mut state = State::default();
        let now = Instant::now();
        assert!(matches!(
            state.decide("u", "Created", "pod a", now),
            Decision::Create
        ));
        state.remember("u", "Created", "pod a", "ns", "u.1");
        assert!(matches!(
            state.decide("u", "Created", "pod a", now),
            Decision::Count { count: 2, .. }
        ));
        for i in 1..BURST {
            assert!(
                matches!(
                    state.decide("u", "Created", &format!("pod {i}x"), now),
                    Decision::Create
                ),
                "{i}"
            );
        }
        assert!(matches!(
            state.decide("u", "Created", "one too many", now),
            Decision::Drop
        ));
        assert!(matches!(
            state.decide("other", "Created", "fine", now),
            Decision::Create
        ));
        tokio::time::advance(REFILL).await;
        assert!(matches!(
            state.decide("u", "Created", "later", Instant::now()),
            Decision::Create
        ));
    }
}
