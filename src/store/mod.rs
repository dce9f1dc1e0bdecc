//! The revisioned key-value store under the API server: redb tables holding the current value of
//! every key and a log of every change, in the manner of kine's revision log.
//!
//! The store speaks bytes and revisions and knows nothing of Kubernetes. Every write allocates the
//! next global revision inside the write transaction that changes the value and appends the log
//! entry; that revision becomes the object's `resourceVersion` one layer up. Writes from many tasks
//! are grouped into one durable commit by a single writer thread ([`writer`]), and every commit
//! is broadcast to watchers ([`watch`]), which replay the log first when they start in the past.

pub mod mirror;
mod tables;
mod watch;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use redb::{Database, ReadableDatabase};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use watch::EventStream;
use writer::{Change, Op, Request};

/// A position in the global history of the store; every write gets the next one.
pub type Revision = u64;

/// What can go wrong in the store. Precondition failures are ordinary outcomes the API maps to
/// Kubernetes statuses; `Storage` is the database failing underneath.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("key {0:?} already exists")]
    AlreadyExists(String),
    #[error("key {0:?} not found")]
    NotFound(String),
    #[error("key {key:?} is at revision {actual}, not {expected}")]
    Conflict {
        key: String,
        expected: Revision,
        actual: Revision,
    },
    #[error("revision {requested} is compacted; the oldest available is {compacted}")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    #[error("the watcher fell too far behind and was cut off")]
    TooSlow,
    #[error("the store is closed")]
    Closed,
    #[error("the store is still in use by other handles")]
    InUse,
    #[error("the commit carrying this write failed: {0}")]
    CommitFailed(String),
    #[error("storage failure: {0}")]
    Storage(#[from] redb::Error),
}

impl StoreError {
    fn storage(err: impl Into<redb::Error>) -> Self {
        StoreError::Storage(err.into())
    }
}

/// The current value of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: Bytes,
    /// The revision that created the key (its first write since it last did not exist).
    pub created: Revision,
    /// The revision of the latest write to the key.
    pub revision: Revision,
}

/// What a change did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Updated,
    Deleted,
}

/// One change, as watchers see it. A deletion carries the last value the key held.
#[derive(Debug)]
pub struct Event {
    pub kind: EventKind,
    pub key: String,
    pub value: Bytes,
    pub revision: Revision,
    /// The value before this change, when known: watchers with a filter need it to tell that an
    /// object stopped matching. Unknown for creations and when the older entry was compacted.
    pub prev: Option<Bytes>,
    /// Whatever the first watcher to handle this event derived from it (its decoded and
    /// encoded forms, say), kept for every other watcher of the same event so that work is
    /// done once per change rather than once per watcher.
    pub memo: std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
}

/// One page of a listing, read at a single revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// The store's revision when the page was read.
    pub revision: Revision,
    /// True when more keys under the prefix follow the last entry.
    pub more: bool,
}

/// Tuning of a store; the defaults suit a small cluster.
#[derive(Debug, Clone)]
pub struct Options {
    /// Commits buffered for each watcher before a watcher that does not keep up is cut off.
    pub watch_buffer: usize,
    /// The largest number of writes grouped into one commit.
    pub max_batch: usize,
    /// Bytes of database pages kept in memory. Recent objects and log entries are what is read;
    /// redb's own default (1 GiB) would let the cache grow with the history.
    pub cache_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            watch_buffer: 128,
            max_batch: 512,
            cache_bytes: 32 << 20,
        }
    }
}

/// A handle to the store; clones share one database and one writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    requests: mpsc::UnboundedSender<Request>,
    writer: std::thread::JoinHandle<()>,
    commits: Arc<AtomicU64>,
    events: broadcast::Sender<Arc<[Arc<Event>]>>,
    revision: Arc<AtomicU64>,
    compacted: Arc<AtomicU64>,
}

impl Store {
    /// Opens the database at `path`, creating it if needed, and starts the writer thread.
    pub fn open(path: &Path, options: Options) -> Result<Store, StoreError> {
        let db = Database::builder()
            .set_cache_size(options.cache_bytes)
            .create(path)
            .map_err(StoreError::storage)?;
        let (revision, compacted) = tables::initialise(&db)?;
        let db = Arc::new(db);
        let revision = Arc::new(AtomicU64::new(revision));
        let compacted = Arc::new(AtomicU64::new(compacted));
        let commits = Arc::new(AtomicU64::new(0));
        let (events, _) = broadcast::channel(options.watch_buffer.max(1));
        let (requests, writer) = writer::spawn(writer::Writer {
            db: db.clone(),
            events: events.clone(),
            revision: revision.clone(),
            compacted: compacted.clone(),
            commits: commits.clone(),
            max_batch: options.max_batch.max(1),
        })?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                requests,
                writer,
                commits,
                events,
                revision,
                compacted,
            }),
        })
    }

    /// The revision of the latest acknowledged write.
    pub fn revision(&self) -> Revision {
        self.inner.revision.load(Ordering::Acquire)
    }

    /// The newest revision no longer in the log; watches must start after it.
    pub fn compacted(&self) -> Revision {
        self.inner.compacted.load(Ordering::Acquire)
    }

    /// How many transactions the writer has committed; with concurrent writers it is fewer than
    /// the writes, which is the point of grouping them.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Acquire)
    }

    /// Stops the writer after the writes already submitted and releases the database file, so
    /// it can be opened again. Fails if other handles to this store are still alive.
    pub async fn close(self) -> Result<(), StoreError> {
        let inner = Arc::try_unwrap(self.inner).map_err(|_| StoreError::InUse)?;
        let Inner {
            requests, writer, ..
        } = inner;
        drop(requests);
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(|_| StoreError::Closed)?
            .map_err(|_| StoreError::CommitFailed("the writer thread panicked".into()))
    }

    /// Creates `key`; fails with `AlreadyExists` if it holds a value.
    pub async fn create(&self, key: &str, value: Bytes) -> Result<Revision, StoreError> {
        self.write(key, Change::Create(value))
            .await
            .map(|(revision, _)| revision)
    }

    /// Replaces the value of `key`. With `expected`, only if the key is still at that revision.
    pub async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Option<Revision>,
    ) -> Result<Revision, StoreError> {
        self.write(key, Change::Update(value, expected))
            .await
            .map(|(revision, _)| revision)
    }

    /// Deletes `key`, returning the deletion's revision and the last value. With `expected`, only
    /// if the key is still at that revision.
    pub async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
    ) -> Result<(Revision, Bytes), StoreError> {
        self.write(key, Change::Delete(expected)).await
    }

    /// Drops the log up to and including `revision`: watches from before it get `Compacted`.
    pub async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.submit(Op::Compact { revision }).await.map(|_| ())
    }

    async fn write(&self, key: &str, change: Change) -> Result<(Revision, Bytes), StoreError> {
        let key = key.to_owned();
        self.submit(Op::Write { key, change }).await
    }

    async fn submit(&self, op: Op) -> Result<(Revision, Bytes), StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.inner
            .requests
            .send(Request { op, reply })
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }

    /// The current value of `key`.
    ///
    /// One key is read in place: a lookup in redb's page cache costs less than handing it to
    /// another thread.
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let tx = self.inner.db.begin_read().map_err(StoreError::storage)?;
        let objects = tx
            .open_table(tables::OBJECTS)
            .map_err(StoreError::storage)?;
        let row = objects.get(key).map_err(StoreError::storage)?;
        Ok(row.map(|row| tables::entry(key, row.value())))
    }

    /// Up to `limit` keys under `prefix` in key order, starting after `start_after`.
    pub async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Page, StoreError> {
        let db = self.inner.db.clone();
        let prefix = prefix.to_owned();
        let start_after = start_after.map(str::to_owned);
        blocking(move || tables::list(&db, &prefix, start_after.as_deref(), limit)).await
    }

    /// Every change under `prefix` after revision `after`, replayed from the log and then live.
    /// The stream ends with `TooSlow` if the consumer falls behind, and `Compacted` is returned
    /// at once when `after` is older than the log.
    pub async fn watch(&self, prefix: &str, after: Revision) -> Result<EventStream, StoreError> {
        // Subscribe before reading the log so no commit falls between the two; the stream drops
        // the revisions it sees twice.
        let live = self.inner.events.subscribe();
        let compacted = self.compacted();
        if after < compacted {
            return Err(StoreError::Compacted {
                requested: after,
                compacted,
            });
        }
        let db = self.inner.db.clone();
        let owned_prefix = prefix.to_owned();
        let replay = blocking(move || tables::replay(&db, &owned_prefix, after)).await?;
        Ok(EventStream::new(prefix.to_owned(), after, replay, live))
    }
}

/// Runs a redb read on the blocking pool: reads may touch the disk.
async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|_| StoreError::Closed)?
}

#[cfg(test)]
mod tests;
