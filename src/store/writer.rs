//! The single writer of the store: one thread that takes every pending write, applies them in one
//! redb transaction, commits once durably, then answers each caller and broadcasts the changes.
//!
//! Grouping is what makes durable writes cheap: with many concurrent callers, one fsync serves
//! them all, and a lone caller still commits at once because the writer never waits for more.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use redb::{Database, ReadableTable, Table, WriteTransaction};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::tables::{self, LOG, META, META_COMPACTED, META_REVISION, OBJECTS};
use super::{Event, EventKind, Revision, StoreError};

/// A request to the writer: a change to one key, or a compaction of the log.
pub(super) enum Op {
    Write { key: String, change: Change },
    Compact { revision: Revision },
}

/// A change to one key; `expected` is the revision the key must still be at.
pub(super) enum Change {
    Create(Bytes),
    Update(Bytes, Option<Revision>),
    Delete(Option<Revision>),
}

/// A write and where to send its outcome: the new revision and, for a deletion, the last value.
pub(super) struct Request {
    pub op: Op,
    pub reply: oneshot::Sender<Result<(Revision, Bytes), StoreError>>,
}

pub(super) struct Writer {
    pub db: Arc<Database>,
    pub events: broadcast::Sender<Arc<[Arc<Event>]>>,
    pub revision: Arc<AtomicU64>,
    pub compacted: Arc<AtomicU64>,
    pub commits: Arc<AtomicU64>,
    pub max_batch: usize,
}

/// Starts the writer thread; it ends when every sender is dropped.
pub(super) fn spawn(
    writer: Writer,
) -> Result<(mpsc::UnboundedSender<Request>, std::thread::JoinHandle<()>), StoreError> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let handle = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || writer.run(receiver))
        .map_err(|err| StoreError::Storage(err.into()))?;
    Ok((sender, handle))
}

/// The result of one op inside a transaction: applied (with its event, if it made one) or refused
/// by a precondition, leaving the transaction untouched.
type Applied = Result<(Revision, Bytes, Option<Event>), StoreError>;

impl Writer {
    fn run(self, mut receiver: mpsc::UnboundedReceiver<Request>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        while let Some(first) = receiver.blocking_recv() {
            batch.push(first);
            while batch.len() < self.max_batch {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.commit(std::mem::take(&mut batch));
        }
    }

    /// Applies a batch in one transaction and publishes the outcome.
    fn commit(&self, batch: Vec<Request>) {
        let (ops, replies): (Vec<Op>, Vec<_>) = batch.into_iter().map(|r| (r.op, r.reply)).unzip();
        match self.apply_all(ops) {
            Ok((outcomes, events)) => {
                if !events.is_empty() {
                    // No receivers is fine: nobody is watching.
                    let _ = self.events.send(events.into());
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome.map(|(revision, value, _)| (revision, value)));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "store commit failed");
                let message = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::CommitFailed(message.clone())));
                }
            }
        }
    }

    /// Runs every op in one durable transaction. A storage error aborts them all.
    #[allow(clippy::type_complexity)]
    fn apply_all(&self, ops: Vec<Op>) -> Result<(Vec<Applied>, Vec<Arc<Event>>), redb::Error> {
        let tx = self.db.begin_write()?;
        let start = self.revision.load(Ordering::Acquire);
        let mut next = start;
        let mut compacted = None;
        let mut outcomes = Vec::with_capacity(ops.len());
        {
            let mut objects = tx.open_table(OBJECTS)?;
            let mut log = tx.open_table(LOG)?;
            for op in ops {
                let outcome = match op {
                    Op::Compact { revision } => {
                        let target = revision.min(next);
                        compact(&tx, &mut log, target)?;
                        compacted = Some(target);
                        Ok((target, Bytes::new(), None))
                    }
                    Op::Write { key, change } => {
                        apply(&mut objects, &mut log, key, change, next + 1)?
                    }
                };
                if matches!(outcome, Ok((_, _, Some(_)))) {
                    next += 1;
                }
                outcomes.push(outcome);
            }
            if next != start {
                tx.open_table(META)?.insert(META_REVISION, next)?;
            }
        }
        tx.commit()?;
        self.commits.fetch_add(1, Ordering::AcqRel);
        self.revision.store(next, Ordering::Release);
        if let Some(target) = compacted {
            self.compacted.fetch_max(target, Ordering::AcqRel);
        }
        let events = outcomes
            .iter_mut()
            .filter_map(|outcome| outcome.as_mut().ok().and_then(|(_, _, e)| e.take()))
            .map(Arc::new)
            .collect();
        Ok((outcomes, events))
    }
}

type Objects<'t> = Table<'t, &'static str, (u64, u64, &'static [u8])>;
type Log<'t> = Table<'t, u64, (&'static str, u8, u64, u64, &'static [u8])>;

/// Applies one write at `revision`, checking its precondition first so a refusal changes nothing.
fn apply(
    objects: &mut Objects,
    log: &mut Log,
    key: String,
    change: Change,
    revision: Revision,
) -> Result<Applied, redb::Error> {
    let (value, expected, kind) = match change {
        Change::Create(value) => (Some(value), None, EventKind::Created),
        Change::Update(value, expected) => (Some(value), expected, EventKind::Updated),
        Change::Delete(expected) => (None, expected, EventKind::Deleted),
    };
    let current = objects.get(key.as_str())?.map(|row| {
        let (created, rev, value) = row.value();
        (created, rev, Bytes::copy_from_slice(value))
    });
    let (created, prev_revision, prev) = match (kind, current) {
        (EventKind::Created, Some(_)) => return Ok(Err(StoreError::AlreadyExists(key))),
        (EventKind::Created, None) => (revision, 0, None),
        (_, None) => return Ok(Err(StoreError::NotFound(key))),
        (_, Some((_, actual, _))) if expected.is_some_and(|e| e != actual) => {
            let expected = expected.unwrap_or_default();
            return Ok(Err(StoreError::Conflict {
                key,
                expected,
                actual,
            }));
        }
        (_, Some((created, actual, prev))) => (created, actual, Some(prev)),
    };
    let logged = match (&value, &prev) {
        (Some(value), _) => {
            objects.insert(key.as_str(), (created, revision, value.as_ref()))?;
            value.clone()
        }
        (None, Some(prev)) => {
            objects.remove(key.as_str())?;
            prev.clone()
        }
        (None, None) => Bytes::new(),
    };
    log.insert(
        revision,
        (
            key.as_str(),
            tables::kind_code(kind),
            created,
            prev_revision,
            logged.as_ref(),
        ),
    )?;
    let reply = if kind == EventKind::Deleted {
        logged.clone()
    } else {
        Bytes::new()
    };
    let event = Event {
        kind,
        key,
        value: logged,
        revision,
        prev,
        memo: Default::default(),
    };
    Ok(Ok((revision, reply, Some(event))))
}

/// Drops log entries up to `target` and records the new floor.
fn compact(tx: &WriteTransaction, log: &mut Log, target: Revision) -> Result<(), redb::Error> {
    log.retain_in(..=target, |_, _| false)?;
    let mut meta = tx.open_table(META)?;
    let floor = meta.get(META_COMPACTED)?.map(|v| v.value()).unwrap_or(0);
    meta.insert(META_COMPACTED, floor.max(target))?;
    Ok(())
}
