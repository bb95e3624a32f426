//! The storage conformance suite: every case is written once against
//! `Arc<dyn Storage>` and runs on both MemoryStorage and EtcdStorage (a real
//! etcd per test, started by rk-testkit).

use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use rk_apiserver::storage::etcd::EtcdStorage;
use rk_apiserver::storage::memory::MemoryStorage;
use rk_apiserver::storage::{
    guaranteed_update, EventKind, KeyValue, Result, Revision, Storage, StorageError, StorageEvent,
};
use rk_testkit::TestEtcd;

type Store = Arc<dyn Storage>;

/// How long a test waits for something that should happen promptly.
const DEADLINE: Duration = Duration::from_secs(10);

/// A backend under test. Holds the etcd process (if any) for the test's lifetime.
struct Backend {
    storage: Store,
    _etcd: Option<TestEtcd>,
}

async fn memory() -> Backend {
    Backend { storage: Arc::new(MemoryStorage::new()), _etcd: None }
}

async fn etcd() -> Backend {
    let etcd = TestEtcd::start().await.expect("start etcd");
    let storage = EtcdStorage::connect(&[etcd.endpoint()]).await.expect("connect to etcd");
    Backend { storage: Arc::new(storage), _etcd: Some(etcd) }
}

/// Generates `memory::<case>` and `etcd::<case>` tests for each case function.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::memory().await.storage).await;
                }
            )*
        }
        mod etcd {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = super::etcd().await;
                    super::$case(backend.storage.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    create_then_get,
    create_existing_fails,
    create_in_requires_the_parent,
    missing_key_is_not_found,
    update_with_current_revision_succeeds,
    update_with_stale_revision_conflicts_and_changes_nothing,
    delete_without_precondition_returns_deleted_value,
    delete_with_precondition,
    list_is_in_key_order_and_isolated_by_prefix,
    list_paginates_with_limit_and_start_key,
    list_at_older_revision_returns_old_state,
    compacted_revision_fails_list_and_watch,
    watch_from_revision_delivers_following_events_in_order,
    watch_from_now_sees_only_new_events,
    guaranteed_update_loses_no_increment_under_contention,
    guaranteed_update_returns_closure_error_and_skips_no_op,
);

fn b(value: &str) -> Vec<u8> {
    value.as_bytes().to_vec()
}

fn event(kind: EventKind, key: &str, value: &str, prev_value: Option<&str>, revision: Revision) -> StorageEvent {
    StorageEvent { kind, key: key.into(), value: b(value), prev_value: prev_value.map(b), revision }
}

fn keys(items: &[KeyValue]) -> Vec<&str> {
    items.iter().map(|kv| kv.key.as_str()).collect()
}

/// The next `n` events, failing the test if they do not arrive within [`DEADLINE`].
async fn next_events(stream: &mut BoxStream<'static, Result<StorageEvent>>, n: usize) -> Vec<StorageEvent> {
    let mut events = Vec::with_capacity(n);
    while events.len() < n {
        let item = tokio::time::timeout(DEADLINE, stream.next()).await.expect("event within deadline");
        events.push(item.expect("stream still open").expect("event, not error"));
    }
    events
}

/// A write under `prefix` whose event must be the next one: proves no other event came first.
async fn assert_next_is_marker(store: &Store, stream: &mut BoxStream<'static, Result<StorageEvent>>, prefix: &str) {
    let key = format!("{prefix}zz-marker");
    let revision = store.create(&key, b("marker")).await.unwrap();
    let marker = next_events(stream, 1).await.remove(0);
    assert_eq!((marker.key.as_str(), marker.revision), (key.as_str(), revision), "unexpected event {marker:?}");
}

async fn create_then_get(store: Store) {
    let revision = store.create("/registry/pods/default/a", b("v1")).await.unwrap();
    assert!(revision > 0);
    let kv = store.get("/registry/pods/default/a").await.unwrap();
    assert_eq!(kv, KeyValue { key: "/registry/pods/default/a".into(), value: b("v1"), mod_revision: revision });
    assert_eq!(store.current_revision().await.unwrap(), revision);
    let next = store.create("/registry/pods/default/b", b("v1")).await.unwrap();
    assert!(next > revision, "revisions increase with every write");
}

async fn create_existing_fails(store: Store) {
    let revision = store.create("/k", b("v1")).await.unwrap();
    let err = store.create("/k", b("v2")).await.unwrap_err();
    assert_eq!(err, StorageError::AlreadyExists { key: "/k".into() });
    assert_eq!(store.get("/k").await.unwrap().value, b("v1"));
    assert_eq!(store.current_revision().await.unwrap(), revision);
}

async fn create_in_requires_the_parent(store: Store) {
    let parent = "/registry/namespaces/team";
    let key = "/registry/pods/team/a";
    let before = store.current_revision().await.unwrap();
    assert_eq!(store.create_in(parent, key, b("v1")).await.unwrap_err(), StorageError::NotFound { key: parent.into() });
    assert_eq!(store.current_revision().await.unwrap(), before, "nothing was written");
    store.create(parent, b("ns")).await.unwrap();
    let revision = store.create_in(parent, key, b("v1")).await.unwrap();
    assert_eq!(store.get(key).await.unwrap().mod_revision, revision);
    assert_eq!(
        store.create_in(parent, key, b("v2")).await.unwrap_err(),
        StorageError::AlreadyExists { key: key.into() }
    );
    assert_eq!(store.get(key).await.unwrap().value, b("v1"));
}

async fn missing_key_is_not_found(store: Store) {
    let not_found = StorageError::NotFound { key: "/missing".into() };
    assert_eq!(store.get("/missing").await.unwrap_err(), not_found);
    assert_eq!(store.update("/missing", b("v"), 1).await.unwrap_err(), not_found);
    assert_eq!(store.update("/missing", b("v"), 0).await.unwrap_err(), not_found);
    assert_eq!(store.delete("/missing", None).await.unwrap_err(), not_found);
    assert_eq!(store.delete("/missing", Some(1)).await.unwrap_err(), not_found);
    let revision = store.create("/gone", b("v")).await.unwrap();
    store.delete("/gone", None).await.unwrap();
    let gone = StorageError::NotFound { key: "/gone".into() };
    assert_eq!(store.get("/gone").await.unwrap_err(), gone);
    assert_eq!(store.update("/gone", b("v"), revision).await.unwrap_err(), gone);
}

async fn update_with_current_revision_succeeds(store: Store) {
    let created = store.create("/k", b("v1")).await.unwrap();
    let updated = store.update("/k", b("v2"), created).await.unwrap();
    assert!(updated > created);
    assert_eq!(store.get("/k").await.unwrap(), KeyValue { key: "/k".into(), value: b("v2"), mod_revision: updated });
}

async fn update_with_stale_revision_conflicts_and_changes_nothing(store: Store) {
    let created = store.create("/k", b("v1")).await.unwrap();
    let updated = store.update("/k", b("v2"), created).await.unwrap();
    let err = store.update("/k", b("v3"), created).await.unwrap_err();
    assert_eq!(err, StorageError::Conflict { key: "/k".into(), expected: created, actual: updated });
    assert_eq!(store.get("/k").await.unwrap(), KeyValue { key: "/k".into(), value: b("v2"), mod_revision: updated });
    assert_eq!(store.current_revision().await.unwrap(), updated, "a failed update must not write");
}

async fn delete_without_precondition_returns_deleted_value(store: Store) {
    let created = store.create("/k", b("v1")).await.unwrap();
    let deleted = store.delete("/k", None).await.unwrap();
    assert_eq!(deleted.key, "/k");
    assert_eq!(deleted.value, b("v1"));
    assert!(deleted.mod_revision > created);
    assert_eq!(deleted.mod_revision, store.current_revision().await.unwrap(), "the delete's revision");
    assert!(matches!(store.get("/k").await, Err(StorageError::NotFound { .. })));
    store.create("/k", b("again")).await.expect("a deleted key can be created again");
}

async fn delete_with_precondition(store: Store) {
    let created = store.create("/k", b("v1")).await.unwrap();
    let updated = store.update("/k", b("v2"), created).await.unwrap();
    let err = store.delete("/k", Some(created)).await.unwrap_err();
    assert_eq!(err, StorageError::Conflict { key: "/k".into(), expected: created, actual: updated });
    assert_eq!(store.get("/k").await.unwrap().value, b("v2"), "a failed delete must not delete");
    let deleted = store.delete("/k", Some(updated)).await.unwrap();
    assert_eq!((deleted.value, deleted.mod_revision > updated), (b("v2"), true));
    assert!(matches!(store.get("/k").await, Err(StorageError::NotFound { .. })));
}

async fn list_is_in_key_order_and_isolated_by_prefix(store: Store) {
    for key in ["/registry/pods/b", "/registry/podsx/a", "/registry/pods/a", "/registry/pod", "/registry/pods/c/d"] {
        store.create(key, b(key)).await.unwrap();
    }
    let list = store.list("/registry/pods/", None, 0, 0).await.unwrap();
    assert_eq!(keys(&list.items), ["/registry/pods/a", "/registry/pods/b", "/registry/pods/c/d"]);
    assert_eq!(list.items[0].value, b("/registry/pods/a"));
    assert!(!list.more);
    assert_eq!(list.revision, store.current_revision().await.unwrap());
    let others = store.list("/registry/podsx/", None, 0, 0).await.unwrap();
    assert_eq!(keys(&others.items), ["/registry/podsx/a"]);
    assert!(store.list("/registry/nodes/", None, 0, 0).await.unwrap().items.is_empty());
}

async fn list_paginates_with_limit_and_start_key(store: Store) {
    for name in ["e", "c", "a", "d", "b"] {
        store.create(&format!("/p/{name}"), b(name)).await.unwrap();
    }
    store.create("/q/a", b("other prefix")).await.unwrap();
    let first = store.list("/p/", None, 2, 0).await.unwrap();
    assert_eq!((keys(&first.items), first.more), (vec!["/p/a", "/p/b"], true));
    // Writes between pages must not show up when paging at the first page's revision.
    store.create("/p/bb", b("late")).await.unwrap();
    let mut seen = keys(&first.items).into_iter().map(String::from).collect::<Vec<_>>();
    let mut start = format!("{}\0", seen.last().unwrap());
    loop {
        let page = store.list("/p/", Some(&start), 2, first.revision).await.unwrap();
        assert_eq!(page.revision, first.revision);
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|kv| kv.key.clone()));
        if !page.more {
            break;
        }
        start = format!("{}\0", seen.last().unwrap());
    }
    assert_eq!(seen, ["/p/a", "/p/b", "/p/c", "/p/d", "/p/e"]);
    let exact = store.list("/p/", Some("/p/c"), 10, 0).await.unwrap();
    assert_eq!((keys(&exact.items), exact.more), (vec!["/p/c", "/p/d", "/p/e"], false), "start_key is inclusive");
}

async fn list_at_older_revision_returns_old_state(store: Store) {
    let a = store.create("/p/a", b("a1")).await.unwrap();
    let old = store.create("/p/b", b("b1")).await.unwrap();
    store.update("/p/a", b("a2"), a).await.unwrap();
    store.delete("/p/b", None).await.unwrap();
    store.create("/p/c", b("c1")).await.unwrap();

    let then = store.list("/p/", None, 0, old).await.unwrap();
    assert_eq!(then.revision, old);
    assert_eq!(
        then.items,
        [
            KeyValue { key: "/p/a".into(), value: b("a1"), mod_revision: a },
            KeyValue { key: "/p/b".into(), value: b("b1"), mod_revision: old },
        ]
    );
    let now = store.list("/p/", None, 0, 0).await.unwrap();
    assert_eq!(keys(&now.items), ["/p/a", "/p/c"]);
    assert_eq!(now.items[0].value, b("a2"));
}

async fn compacted_revision_fails_list_and_watch(store: Store) {
    let first = store.create("/p/a", b("1")).await.unwrap();
    let mut latest = first;
    for value in ["2", "3", "4"] {
        latest = store.update("/p/a", b(value), latest).await.unwrap();
    }
    store.compact(latest).await.unwrap();

    let err = store.list("/p/", None, 0, first).await.unwrap_err();
    assert!(matches!(err, StorageError::Compacted { requested, .. } if requested == first), "{err:?}");
    let err = match store.watch("/p/", first).await {
        Err(err) => err,
        Ok(mut stream) => {
            let item = tokio::time::timeout(DEADLINE, stream.next()).await.expect("an answer within deadline");
            item.expect("an error item, not the end").expect_err("Compacted, not an event")
        }
    };
    assert!(matches!(err, StorageError::Compacted { requested, .. } if requested == first), "{err:?}");

    // The compaction revision itself and later ones still work.
    let at_latest = store.list("/p/", None, 0, latest).await.unwrap();
    assert_eq!(at_latest.items[0].value, b("4"));
    let mut stream = store.watch("/p/", latest + 1).await.unwrap();
    store.update("/p/a", b("5"), latest).await.unwrap();
    assert_eq!(next_events(&mut stream, 1).await[0].value, b("5"));
}

async fn watch_from_revision_delivers_following_events_in_order(store: Store) {
    let created = store.create("/w/a", b("a1")).await.unwrap();
    let updated = store.update("/w/a", b("a2"), created).await.unwrap();
    store.create("/wx/other", b("not watched")).await.unwrap();
    let deleted = store.delete("/w/a", None).await.unwrap().mod_revision;
    let b_created = store.create("/w/b", b("b1")).await.unwrap();

    let mut stream = store.watch("/w/", updated).await.unwrap();
    let events = next_events(&mut stream, 3).await;
    let expected = [
        event(EventKind::Put, "/w/a", "a2", Some("a1"), updated),
        event(EventKind::Delete, "/w/a", "", Some("a2"), deleted),
        event(EventKind::Put, "/w/b", "b1", None, b_created),
    ];
    assert_eq!(events, expected);

    // Live events follow the replayed ones without a gap.
    let live = store.update("/w/b", b("b2"), b_created).await.unwrap();
    let event = next_events(&mut stream, 1).await.remove(0);
    assert_eq!((event.key.as_str(), event.revision, event.prev_value), ("/w/b", live, Some(b("b1"))));
    assert_next_is_marker(&store, &mut stream, "/w/").await;
}

async fn watch_from_now_sees_only_new_events(store: Store) {
    let created = store.create("/w/a", b("old")).await.unwrap();
    let mut stream = store.watch("/w/", 0).await.unwrap();
    let updated = store.update("/w/a", b("new"), created).await.unwrap();
    store.create("/wx/other", b("not watched")).await.unwrap();
    let b_created = store.create("/w/b", b("b1")).await.unwrap();

    let events = next_events(&mut stream, 2).await;
    let summary: Vec<_> = events.iter().map(|e| (e.kind, e.key.as_str(), e.revision)).collect();
    assert_eq!(summary, [(EventKind::Put, "/w/a", updated), (EventKind::Put, "/w/b", b_created)]);
    assert_eq!(events[0].prev_value, Some(b("old")));
    assert_next_is_marker(&store, &mut stream, "/w/").await;
}

async fn guaranteed_update_loses_no_increment_under_contention(store: Store) {
    const WRITERS: u64 = 20;
    const INCREMENTS: u64 = 5;
    store.create("/counter", b("0")).await.unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..INCREMENTS {
                    guaranteed_update(store.as_ref(), "/counter", |current| {
                        let n: u64 = String::from_utf8(current.value).unwrap().parse().unwrap();
                        Ok::<_, StorageError>(b(&(n + 1).to_string()))
                    })
                    .await
                    .expect("increment");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let total = store.get("/counter").await.unwrap();
    assert_eq!(total.value, b(&(WRITERS * INCREMENTS).to_string()));
}

#[derive(Debug, PartialEq)]
enum UpdateError {
    Storage(StorageError),
    Rejected(String),
}

impl From<StorageError> for UpdateError {
    fn from(e: StorageError) -> Self {
        UpdateError::Storage(e)
    }
}

async fn guaranteed_update_returns_closure_error_and_skips_no_op(store: Store) {
    let created: Revision = store.create("/k", b("v1")).await.unwrap();
    let rejected =
        guaranteed_update(store.as_ref(), "/k", |_| Err(UpdateError::Rejected("invalid".into()))).await.unwrap_err();
    assert_eq!(rejected, UpdateError::Rejected("invalid".into()));

    let unchanged = guaranteed_update(store.as_ref(), "/k", |kv| Ok::<_, StorageError>(kv.value)).await.unwrap();
    assert_eq!(unchanged.mod_revision, created, "a no-op update writes nothing");
    assert_eq!(store.current_revision().await.unwrap(), created);

    let updated = guaranteed_update(store.as_ref(), "/k", |_| Ok::<_, StorageError>(b("v2"))).await.unwrap();
    assert_eq!(updated, store.get("/k").await.unwrap());
    assert_eq!(updated.value, b("v2"));

    let missing = guaranteed_update(store.as_ref(), "/missing", |kv| Ok::<_, UpdateError>(kv.value)).await;
    assert_eq!(missing.unwrap_err(), UpdateError::Storage(StorageError::NotFound { key: "/missing".into() }));
}

#[tokio::test]
async fn etcd_connect_to_dead_endpoint_is_unavailable() {
    let endpoint = format!("http://127.0.0.1:{}", rk_testkit::free_port());
    let started = std::time::Instant::now();
    let err = EtcdStorage::connect(std::slice::from_ref(&endpoint)).await.err().expect("no etcd there");
    assert!(matches!(&err, StorageError::Unavailable(message) if message.contains(&endpoint)), "{err}");
    assert!(started.elapsed() < DEADLINE, "took {:?}", started.elapsed());
}
