//! A bounded, ordered window of the latest events of one kind.
//!
//! A single task follows storage from the revision the cache started at and
//! appends every event, decoded once. Client watches read the window from
//! their own cursor, so a slow client never holds others up and never misses
//! an event: if its cursor falls out of the window it is told the revision is
//! too old (OUT_OF_RANGE) and relists, exactly like etcd compaction.

use crate::registry::codec;
use crate::storage::{EventKind, Revision, Storage, StorageError};
use bytes::Bytes;
use futures::StreamExt;
use rk_proto::watch_event::encode_watch_event;
use rk_proto::Resource;
use rk_proto::WatchEventType;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// One change to an object, decoded once and shared by every watcher; its
/// encodings too, so every watcher is sent the same bytes.
#[derive(Debug)]
pub struct CachedEvent<R> {
    pub revision: Revision,
    pub kind: EventKind,
    /// The object after a put, or as it was when deleted (with the delete's resourceVersion).
    pub object: R,
    /// The object before this event, if it existed.
    pub previous: Option<R>,
    /// `object`, encoded.
    encoded_object: Bytes,
    /// The whole watch event as ADDED, MODIFIED and DELETED, made on first use.
    encoded_events: [OnceLock<Bytes>; 3],
}

impl<R> CachedEvent<R> {
    /// This change as a watch event of type `kind`, encoded once for all watchers.
    pub fn encoded(&self, kind: WatchEventType) -> Bytes {
        let slot = match kind {
            WatchEventType::Added => 0,
            WatchEventType::Modified => 1,
            WatchEventType::Deleted => 2,
        };
        self.encoded_events[slot].get_or_init(|| encode_watch_event(kind.as_str(), &self.encoded_object)).clone()
    }
}

struct Window<R> {
    events: VecDeque<Arc<CachedEvent<R>>>,
    /// Every event after this revision is in `events`.
    complete_after: Revision,
    /// The revision of the latest event seen (or the start revision).
    latest: Revision,
}

pub struct WatchCache<R> {
    window: Mutex<Window<R>>,
    capacity: usize,
    /// Ticks with the latest revision so idle watchers wake up.
    latest_tx: watch::Sender<Revision>,
}

pub(super) enum Read<R> {
    Events(Vec<Arc<CachedEvent<R>>>),
    TooOld { oldest: Revision },
}

impl<R: Resource> WatchCache<R> {
    /// Starts following `prefix` in storage; `capacity` events are kept.
    pub async fn start(storage: Arc<dyn Storage>, prefix: String, capacity: usize) -> Result<Arc<Self>, StorageError> {
        let start = storage.current_revision().await?;
        let (latest_tx, _) = watch::channel(start);
        let cache = Arc::new(WatchCache {
            window: Mutex::new(Window { events: VecDeque::new(), complete_after: start, latest: start }),
            capacity: capacity.max(1),
            latest_tx,
        });
        tokio::spawn(follow(Arc::downgrade(&cache), storage, prefix));
        Ok(cache)
    }

    /// The revision of the latest event the cache has seen.
    pub fn latest_revision(&self) -> Revision {
        self.window.lock().unwrap().latest
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Revision> {
        self.latest_tx.subscribe()
    }

    /// Up to `max` events after `cursor`, or TooOld if some of them are gone.
    pub(super) fn read_after(&self, cursor: Revision, max: usize) -> Read<R> {
        let window = self.window.lock().unwrap();
        if cursor < window.complete_after {
            return Read::TooOld { oldest: window.complete_after };
        }
        let start = window.events.partition_point(|e| e.revision <= cursor);
        Read::Events(window.events.range(start..).take(max).cloned().collect())
    }

    fn push(&self, event: CachedEvent<R>) {
        let revision = event.revision;
        {
            let mut window = self.window.lock().unwrap();
            window.events.push_back(Arc::new(event));
            window.latest = revision;
            while window.events.len() > self.capacity {
                let dropped = window.events.pop_front().expect("non-empty");
                window.complete_after = dropped.revision;
            }
        }
        self.latest_tx.send_replace(revision);
    }

    /// After a gap we cannot replay, everything before `revision` is too old.
    fn restart_at(&self, revision: Revision) {
        let mut window = self.window.lock().unwrap();
        window.events.clear();
        window.complete_after = revision;
        window.latest = revision;
    }
}

/// Follows storage for as long as the cache is alive, re-watching after errors.
async fn follow<R: Resource>(cache: std::sync::Weak<WatchCache<R>>, storage: Arc<dyn Storage>, prefix: String) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(from) = cache.upgrade().map(|c| c.latest_revision() + 1) else { return };
        match storage.watch(&prefix, from).await {
            Ok(mut stream) => {
                while let Some(item) = stream.next().await {
                    let Some(cache) = cache.upgrade() else { return };
                    match item {
                        Ok(event) => match decode_event(event) {
                            Ok(event) => cache.push(event),
                            Err(error) => tracing::error!(%prefix, %error, "undecodable object in storage"),
                        },
                        Err(error) => {
                            handle_watch_error(&cache, &*storage, &prefix, error).await;
                            break;
                        }
                    }
                    backoff = Duration::from_millis(100);
                }
            }
            Err(error) => {
                if let Some(cache) = cache.upgrade() {
                    handle_watch_error(&cache, &*storage, &prefix, error).await;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn handle_watch_error<R: Resource>(
    cache: &WatchCache<R>,
    storage: &dyn Storage,
    prefix: &str,
    error: StorageError,
) {
    tracing::warn!(%prefix, %error, "storage watch failed; re-watching");
    if matches!(error, StorageError::Compacted { .. }) {
        // Events were lost: watchers behind the current revision must relist.
        if let Ok(revision) = storage.current_revision().await {
            cache.restart_at(revision);
        }
    }
}

fn decode_event<R: Resource>(event: crate::storage::StorageEvent) -> Result<CachedEvent<R>, prost::DecodeError> {
    let previous = event.prev_value.as_deref().map(|bytes| codec::decode::<R>(bytes, event.revision)).transpose()?;
    let object = match event.kind {
        EventKind::Put => codec::decode::<R>(&event.value, event.revision)?,
        EventKind::Delete => previous.clone().unwrap_or_default(),
    };
    let encoded_object = Bytes::from(object.encode_to_vec());
    Ok(CachedEvent {
        revision: event.revision,
        kind: event.kind,
        object,
        previous,
        encoded_object,
        encoded_events: Default::default(),
    })
}
