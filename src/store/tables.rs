//! The redb tables of the store, how their rows are laid out, and the read paths over them.

use std::sync::Arc;

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{Entry, Event, EventKind, Page, Revision, StoreError};

/// Current value of every live key: key → (created, revision, value).
pub(super) const OBJECTS: TableDefinition<&str, (u64, u64, &[u8])> =
    TableDefinition::new("objects");

/// Every change since the last compaction: revision → (key, kind, created, previous revision, value).
/// A deletion stores the key's last value; the previous revision points at the entry holding
/// the value the change replaced (0 for a creation).
pub(super) const LOG: TableDefinition<u64, (&str, u8, u64, u64, &[u8])> =
    TableDefinition::new("log");

/// Counters that must survive a restart.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

pub(super) const META_REVISION: &str = "revision";
pub(super) const META_COMPACTED: &str = "compacted";

pub(super) fn kind_code(kind: EventKind) -> u8 {
    match kind {
        EventKind::Created => 0,
        EventKind::Updated => 1,
        EventKind::Deleted => 2,
    }
}

fn kind_from_code(code: u8) -> EventKind {
    match code {
        0 => EventKind::Created,
        1 => EventKind::Updated,
        _ => EventKind::Deleted,
    }
}

/// Creates the tables on first use and reads back the revision counters.
pub(super) fn initialise(db: &Database) -> Result<(Revision, Revision), StoreError> {
    let tx = db.begin_write().map_err(StoreError::storage)?;
    let counters = {
        tx.open_table(OBJECTS).map_err(StoreError::storage)?;
        tx.open_table(LOG).map_err(StoreError::storage)?;
        let meta = tx.open_table(META).map_err(StoreError::storage)?;
        let read = |name| -> Result<u64, StoreError> {
            Ok(meta
                .get(name)
                .map_err(StoreError::storage)?
                .map(|v| v.value())
                .unwrap_or(0))
        };
        (read(META_REVISION)?, read(META_COMPACTED)?)
    };
    tx.commit().map_err(StoreError::storage)?;
    Ok(counters)
}

pub(super) fn entry(key: &str, (created, revision, value): (u64, u64, &[u8])) -> Entry {
    Entry {
        key: key.to_owned(),
        value: Bytes::copy_from_slice(value),
        created,
        revision,
    }
}

/// Reads up to `limit` entries under `prefix` after `start_after`, in one read transaction so the
/// page and its revision agree.
pub(super) fn list(
    db: &Database,
    prefix: &str,
    start_after: Option<&str>,
    limit: Option<usize>,
) -> Result<Page, StoreError> {
    let tx = db.begin_read().map_err(StoreError::storage)?;
    let revision = tx
        .open_table(META)
        .map_err(StoreError::storage)?
        .get(META_REVISION)
        .map_err(StoreError::storage)?
        .map(|v| v.value())
        .unwrap_or(0);
    let objects = tx.open_table(OBJECTS).map_err(StoreError::storage)?;
    let range = match start_after {
        Some(after) if after >= prefix => {
            objects.range::<&str>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
        }
        _ => objects.range::<&str>(prefix..),
    }
    .map_err(StoreError::storage)?;
    let limit = limit.unwrap_or(usize::MAX);
    let mut entries = Vec::new();
    let mut more = false;
    for row in range {
        let (key, value) = row.map_err(StoreError::storage)?;
        let key = key.value();
        if !key.starts_with(prefix) {
            break;
        }
        if entries.len() == limit {
            more = true;
            break;
        }
        entries.push(entry(key, value.value()));
    }
    Ok(Page {
        entries,
        revision,
        more,
    })
}

/// The logged changes under `prefix` after revision `after`, oldest first.
pub(super) fn replay(
    db: &Database,
    prefix: &str,
    after: Revision,
) -> Result<Vec<Arc<Event>>, StoreError> {
    let tx = db.begin_read().map_err(StoreError::storage)?;
    let log = tx.open_table(LOG).map_err(StoreError::storage)?;
    let mut events = Vec::new();
    for row in log.range(after + 1..).map_err(StoreError::storage)? {
        let (revision, row) = row.map_err(StoreError::storage)?;
        let (key, kind, _created, prev_revision, value) = row.value();
        if !key.starts_with(prefix) {
            continue;
        }
        let prev = match prev_revision {
            0 => None,
            prev => log
                .get(prev)
                .map_err(StoreError::storage)?
                .map(|row| Bytes::copy_from_slice(row.value().4)),
        };
        events.push(Arc::new(Event {
            kind: kind_from_code(kind),
            key: key.to_owned(),
            value: Bytes::copy_from_slice(value),
            revision: revision.value(),
            prev,
            memo: Default::default(),
        }));
    }
    Ok(events)
}
