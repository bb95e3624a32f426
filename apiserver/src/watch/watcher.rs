//! One client's watch: reads the cache from its own cursor and streams the
//! events its filter selects.

use super::cache::Read;
use super::{WatchCache, WatchFilter};
use crate::error::ApiError;
use crate::storage::Revision;
use futures::Stream;
use rk_proto::Resource;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

/// Events are read from the window in batches of this size.
const BATCH: usize = 256;
/// How many events may wait for a slow client before its reader pauses.
const CLIENT_BUFFER: usize = 128;

impl<R: Resource> WatchCache<R> {
    /// Streams the events after `from` (None: from the latest revision) that pass `filter`.
    pub fn watch(
        self: &Arc<Self>,
        from: Option<Revision>,
        filter: WatchFilter,
    ) -> impl Stream<Item = Result<R::WatchEvent, Status>> + Send + 'static {
        let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
        let cursor = from.unwrap_or_else(|| self.latest_revision());
        tokio::spawn(run(Arc::clone(self), cursor, filter, tx));
        ReceiverStream::new(rx)
    }
}

async fn run<R: Resource>(
    cache: Arc<WatchCache<R>>,
    mut cursor: Revision,
    filter: WatchFilter,
    tx: mpsc::Sender<Result<R::WatchEvent, Status>>,
) {
    let mut latest = cache.subscribe();
    loop {
        // Mark the current tick seen before reading, so no push is missed in between.
        latest.borrow_and_update();
        let batch = match cache.read_after(cursor, BATCH) {
            Read::TooOld { oldest } => {
                let _ = tx.send(Err(ApiError::Gone { requested: cursor, oldest }.into())).await;
                return;
            }
            Read::Events(batch) => batch,
        };
        if batch.is_empty() {
            tokio::select! {
                changed = latest.changed() => if changed.is_err() { return },
                _ = tx.closed() => return,
            }
            continue;
        }
        for event in batch {
            cursor = event.revision;
            if let Some(kind) = filter.view(&event) {
                if tx.send(Ok(R::pre_encoded_watch_event(event.encoded(kind)))).await.is_err() {
                    return;
                }
            }
        }
    }
}
