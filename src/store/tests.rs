//! The store's rules, each checked on a real database in a temporary directory.

use std::sync::Arc;

use bytes::Bytes;

use super::*;

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("store.redb"), Options::default()).expect("open store")
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[tokio::test]
async fn every_write_takes_the_next_global_revision() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let a = store.create("/a", b("1")).await.unwrap();
    let b2 = store.create("/b", b("1")).await.unwrap();
    let a2 = store.update("/a", b("2"), Some(a)).await.unwrap();
    let (d, last) = store.delete("/b", None).await.unwrap();
    assert_eq!((a, b2, a2, d), (1, 2, 3, 4));
    assert_eq!(last, b("1"));
    assert_eq!(store.revision(), 4);
    let entry = store.get("/a").await.unwrap().unwrap();
    assert_eq!((entry.created, entry.revision, entry.value), (1, 3, b("2")));
    assert_eq!(store.get("/b").await.unwrap(), None);
}

#[tokio::test]
async fn preconditions_refuse_without_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let rev = store.create("/a", b("1")).await.unwrap();
    assert!(matches!(
        store.create("/a", b("x")).await,
        Err(StoreError::AlreadyExists(k)) if k == "/a"
    ));
    assert!(matches!(
        store.update("/a", b("x"), Some(rev + 7)).await,
        Err(StoreError::Conflict {
            expected: 8,
            actual: 1,
            ..
        })
    ));
    assert!(matches!(
        store.delete("/a", Some(99)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.update("/missing", b("x"), None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete("/missing", None).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.revision(), 1, "refused writes allocate no revision");
    assert_eq!(store.get("/a").await.unwrap().unwrap().value, b("1"));
    // An unconditional update still works.
    assert_eq!(store.update("/a", b("2"), None).await.unwrap(), 2);
}

#[tokio::test]
async fn lists_pages_under_a_prefix_in_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for key in ["/p/b", "/p/a", "/q/a", "/p/c", "/o/z"] {
        store.create(key, b(key)).await.unwrap();
    }
    let first = store.list("/p/", None, Some(2)).await.unwrap();
    let keys: Vec<_> = first.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["/p/a", "/p/b"]);
    assert!(first.more);
    assert_eq!(first.revision, 5);
    let rest = store.list("/p/", Some("/p/b"), Some(2)).await.unwrap();
    let keys: Vec<_> = rest.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["/p/c"]);
    assert!(!rest.more);
    let all = store.list("/", None, None).await.unwrap();
    assert_eq!(all.entries.len(), 5);
}

#[tokio::test]
async fn watch_replays_the_log_then_follows_live_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let r1 = store.create("/w/a", b("1")).await.unwrap();
    store.create("/x/a", b("other prefix")).await.unwrap();
    store.update("/w/a", b("2"), Some(r1)).await.unwrap();
    let mut watch = store.watch("/w/", r1).await.unwrap();
    store.delete("/w/a", None).await.unwrap();
    store.create("/w/b", b("3")).await.unwrap();

    let seen: Vec<Arc<Event>> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(watch.next().await.unwrap().unwrap());
        }
        v
    };
    let summary: Vec<_> = seen
        .iter()
        .map(|e| {
            (
                e.kind,
                e.key.as_str(),
                e.revision,
                e.value.clone(),
                e.prev.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (EventKind::Updated, "/w/a", 3, b("2"), Some(b("1"))),
            (EventKind::Deleted, "/w/a", 4, b("2"), Some(b("2"))),
            (EventKind::Created, "/w/b", 5, b("3"), None),
        ]
    );
    assert_eq!(watch.revision(), 5);
}

#[tokio::test]
async fn a_watch_started_during_writes_sees_each_change_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                store.create(&format!("/k/{i:03}"), b("v")).await.unwrap();
            }
        })
    };
    tokio::task::yield_now().await;
    let mut watch = store.watch("/k/", 0).await.unwrap();
    let mut revisions = Vec::new();
    while revisions.len() < 200 {
        revisions.push(watch.next().await.unwrap().unwrap().revision);
    }
    writer.await.unwrap();
    assert_eq!(revisions, (1..=200).collect::<Vec<_>>());
}

#[tokio::test]
async fn compaction_expires_old_revisions_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for i in 0..10 {
        store.create(&format!("/c/{i}"), b("v")).await.unwrap();
    }
    store.compact(6).await.unwrap();
    assert_eq!(store.compacted(), 6);
    assert!(matches!(
        store.watch("/c/", 5).await,
        Err(StoreError::Compacted {
            requested: 5,
            compacted: 6
        })
    ));
    let mut watch = store.watch("/c/", 6).await.unwrap();
    assert_eq!(watch.next().await.unwrap().unwrap().revision, 7);
    drop(watch);
    store.close().await.unwrap();

    let store = open(&dir);
    assert_eq!((store.revision(), store.compacted()), (10, 6));
    assert!(store.watch("/c/", 2).await.is_err());
    assert_eq!(
        store.list("/c/", None, None).await.unwrap().entries.len(),
        10
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_close_and_reopen_with_their_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let r = store.create("/d/a", b("kept")).await.unwrap();
    store.create("/d/b", b("gone")).await.unwrap();
    store.delete("/d/b", None).await.unwrap();
    store.close().await.unwrap();

    let store = open(&dir);
    let entry = store.get("/d/a").await.unwrap().unwrap();
    assert_eq!((entry.revision, entry.value), (r, b("kept")));
    assert_eq!(store.get("/d/b").await.unwrap(), None);
    assert_eq!(store.create("/d/c", b("next")).await.unwrap(), 4);
    // The history from before the restart is still there to watch.
    let mut watch = store.watch("/d/", 0).await.unwrap();
    assert_eq!(watch.next().await.unwrap().unwrap().key, "/d/a");
}

#[tokio::test]
async fn close_refuses_while_other_handles_live() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let other = store.clone();
    assert!(matches!(store.close().await, Err(StoreError::InUse)));
    // The refused handle is gone, so the remaining one is now the last.
    other.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let writes = 256;
    let tasks: Vec<_> = (0..writes)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.create(&format!("/g/{i}"), b("v")).await })
        })
        .collect();
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.push(task.await.unwrap().unwrap());
    }
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=writes).collect::<Vec<_>>());
    assert!(
        store.commits() < writes / 2,
        "{} commits for {writes} concurrent writes",
        store.commits()
    );
}

#[tokio::test]
async fn a_slow_watcher_is_cut_off_and_never_blocks_writers() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        watch_buffer: 4,
        ..Options::default()
    };
    let store = Store::open(&dir.path().join("store.redb"), options).unwrap();
    let mut watch = store.watch("/s/", 0).await.unwrap();
    for i in 0..50 {
        store.create(&format!("/s/{i}"), b("v")).await.unwrap();
    }
    let mut outcome = Vec::new();
    while let Some(item) = watch.next().await {
        outcome.push(item.map(|e| e.revision));
    }
    assert!(matches!(outcome.last(), Some(Err(StoreError::TooSlow))));
    assert!(outcome.len() < 50);
}
