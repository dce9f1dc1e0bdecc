//! Exits as they happen: the engine's `die` and `oom` events of the node's containers, as the
//! pods they belong to. The event stream is opened again with back-off whenever it ends (an
//! engine restart), from the time of the last event seen, so no exit is missed meanwhile.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::EventMessage;
use bollard::query_parameters::EventsOptionsBuilder;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use jiff::Timestamp;

use super::labels::{self, Instance};
use crate::runtime::PodKey;

const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(30);

struct Subscription {
    docker: Docker,
    node: String,
    events: Option<BoxStream<'static, Result<EventMessage, bollard::errors::Error>>>,
    /// Where the next (re)connection starts: the subscription's start, then the last event.
    since: Timestamp,
    retry: Duration,
}

/// The pods of `node` whose containers exit from now on.
pub fn changes(docker: Docker, node: String) -> impl Stream<Item = PodKey> + Send + 'static {
    let subscription = Subscription {
        docker,
        node,
        events: None,
        since: Timestamp::now(),
        retry: FIRST_RETRY,
    };
    futures::stream::unfold(subscription, |mut s| async move {
        loop {
            let events = s
                .events
                .get_or_insert_with(|| open(&s.docker, &s.node, s.since));
            match events.next().await {
                Some(Ok(event)) => {
                    s.retry = FIRST_RETRY;
                    if let Some(at) = event
                        .time_nano
                        .and_then(|n| Timestamp::from_nanosecond(n.into()).ok())
                    {
                        s.since = at;
                    }
                    if let Some(pod) = pod_of(&event) {
                        return Some((pod, s));
                    }
                }
                ended => {
                    if let Some(Err(error)) = ended {
                        tracing::warn!(%error, "watching the engine's events failed; reconnecting");
                    }
                    s.events = None;
                    tokio::time::sleep(s.retry).await;
                    s.retry = (s.retry * 2).min(LAST_RETRY);
                }
            }
        }
    })
}

fn open(
    docker: &Docker,
    node: &str,
    since: Timestamp,
) -> BoxStream<'static, Result<EventMessage, bollard::errors::Error>> {
    let filters = HashMap::from([
        ("type", vec!["container".to_owned()]),
        ("event", vec!["die".to_owned(), "oom".to_owned()]),
        ("label", vec![format!("{}={node}", labels::NODE)]),
    ]);
    let since = format!("{}.{:09}", since.as_second(), since.subsec_nanosecond());
    let options = EventsOptionsBuilder::default()
        .since(&since)
        .filters(&filters)
        .build();
    docker.events(Some(options)).boxed()
}

/// The pod an event's container belongs to; its labels come with the event.
fn pod_of(event: &EventMessage) -> Option<PodKey> {
    let attributes = event.actor.as_ref()?.attributes.as_ref()?;
    Some(Instance::parse(attributes)?.pod)
}
