//! A watcher's view of the store: the logged changes after its starting revision, then the live
//! broadcast of every commit, deduplicated by revision and filtered by key prefix.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use super::{Event, Revision, StoreError};

/// The changes under one prefix, in revision order.
pub struct EventStream {
    prefix: String,
    /// The newest revision handed out; anything at or below it is a duplicate.
    last: Revision,
    pending: VecDeque<Arc<Event>>,
    live: broadcast::Receiver<Arc<[Arc<Event>]>>,
    ended: bool,
}

impl EventStream {
    pub(super) fn new(
        prefix: String,
        after: Revision,
        replay: Vec<Arc<Event>>,
        live: broadcast::Receiver<Arc<[Arc<Event>]>>,
    ) -> EventStream {
        EventStream {
            prefix,
            last: after,
            pending: replay.into(),
            live,
            ended: false,
        }
    }

    /// The next change, `Some(Err(TooSlow))` once if this watcher fell behind the broadcast
    /// buffer (the writer never waits for it), and `None` when the stream is over.
    pub async fn next(&mut self) -> Option<Result<Arc<Event>, StoreError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if event.revision > self.last {
                    self.last = event.revision;
                    return Some(Ok(event));
                }
                continue;
            }
            if self.ended {
                return None;
            }
            match self.live.recv().await {
                Ok(batch) => self.pending.extend(
                    batch
                        .iter()
                        .filter(|event| event.key.starts_with(&self.prefix))
                        .cloned(),
                ),
                Err(RecvError::Lagged(_)) => {
                    self.ended = true;
                    return Some(Err(StoreError::TooSlow));
                }
                Err(RecvError::Closed) => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }

    /// The newest revision this stream has delivered (or started after).
    pub fn revision(&self) -> Revision {
        self.last
    }
}
