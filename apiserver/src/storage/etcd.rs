//! etcd implementation of [`super::Storage`].
//!
//! Every conditional write is one etcd transaction, so compare-and-swap is
//! atomic on the server; the failure branch reads the key back in the same
//! transaction to tell Conflict from NotFound without a second round trip.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{
    Client, CompactionOptions, Compare, CompareOp, ConnectOptions, DeleteOptions, EventType, GetOptions, KvClient,
    ResponseHeader, Txn, TxnOp, TxnOpResponse, TxnResponse, WatchClient, WatchOptions, WatchResponse, WatchStream,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::{EventKind, KeyValue, ListResult, Result, Revision, Storage, StorageError, StorageEvent};

/// Bounds every unary request: the client connects lazily and would
/// otherwise wait for a dead etcd forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest etcd response accepted (etcd's own request limit is 1.5 MiB; responses are not bounded).
const MAX_RESPONSE_BYTES: usize = 256 << 20;

/// What etcd says when a read or watch asks for a compacted revision.
const COMPACTED_MESSAGE: &str = "required revision has been compacted";

/// [`Storage`] on etcd v3.
pub struct EtcdStorage {
    client: Client,
}

impl EtcdStorage {
    /// Connects to `endpoints` (e.g. `http://127.0.0.1:2379`) and checks that
    /// etcd answers, so a dead or wrong address fails here with Unavailable.
    pub async fn connect(endpoints: &[String]) -> Result<Self> {
        let options = ConnectOptions::new().with_connect_timeout(REQUEST_TIMEOUT);
        let client = rpc(Client::connect(endpoints, Some(options))).await?;
        let storage = Self { client };
        storage.current_revision().await.map_err(|e| match e {
            StorageError::Unavailable(reason) => {
                StorageError::Unavailable(format!("cannot reach etcd at {}: {reason}", endpoints.join(",")))
            }
            other => other,
        })?;
        Ok(storage)
    }

    /// The KV client, accepting responses past tonic's 4 MiB default: a page
    /// of objects of up to 1.5 MiB each can be larger.
    fn kv(&self) -> KvClient {
        self.client.kv_client().max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    /// The watch client, with the same limit: one watch response may batch many events.
    fn watcher(&self) -> WatchClient {
        self.client.watch_client().max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        rpc(self.kv().txn(txn)).await
    }
}

#[async_trait]
impl Storage for EtcdStorage {
    async fn create(&self, key: &str, value: Vec<u8>) -> Result<Revision> {
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)]);
        let response = self.txn(txn).await?;
        if !response.succeeded() {
            return Err(StorageError::AlreadyExists { key: key.to_owned() });
        }
        Ok(header_revision(response.header()))
    }

    async fn create_in(&self, parent: &str, key: &str, value: Vec<u8>) -> Result<Revision> {
        let txn = Txn::new()
            .when([
                Compare::create_revision(parent, CompareOp::Greater, 0),
                Compare::create_revision(key, CompareOp::Equal, 0),
            ])
            .and_then([TxnOp::put(key, value, None)])
            // On failure, tell which condition failed in the same round trip.
            .or_else([TxnOp::get(parent, Some(GetOptions::new().with_count_only()))]);
        let response = self.txn(txn).await?;
        if response.succeeded() {
            return Ok(header_revision(response.header()));
        }
        let parent_exists = response.op_responses().into_iter().any(|op| match op {
            TxnOpResponse::Get(get) => get.count() > 0,
            _ => false,
        });
        if parent_exists {
            Err(StorageError::AlreadyExists { key: key.to_owned() })
        } else {
            Err(not_found(parent))
        }
    }

    async fn get(&self, key: &str) -> Result<KeyValue> {
        let mut response = rpc(self.kv().get(key, None)).await?;
        response.take_kvs().into_iter().next().map(key_value).ok_or_else(|| not_found(key))
    }

    async fn list(&self, prefix: &str, start_key: Option<&str>, limit: i64, revision: Revision) -> Result<ListResult> {
        let from = start_key.filter(|start| *start > prefix).unwrap_or(prefix);
        let options =
            GetOptions::new().with_range(prefix_end(prefix)).with_limit(limit.max(0)).with_revision(revision.max(0));
        let mut response =
            rpc(self.kv().get(range_start(from), Some(options))).await.map_err(|e| compacted_or(e, revision))?;
        let read_at = if revision > 0 { revision } else { header_revision(response.header()) };
        let more = response.more();
        let items = response.take_kvs().into_iter().map(key_value).collect();
        Ok(ListResult { items, revision: read_at, more })
    }

    async fn update(&self, key: &str, value: Vec<u8>, expected_revision: Revision) -> Result<Revision> {
        let txn = Txn::new()
            .when(unchanged_since(key, expected_revision))
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        let response = self.txn(txn).await?;
        if !response.succeeded() {
            return Err(failed_precondition(key, expected_revision, &response));
        }
        Ok(header_revision(response.header()))
    }

    async fn delete(&self, key: &str, expected_revision: Option<Revision>) -> Result<KeyValue> {
        let delete = DeleteOptions::new().with_prev_key();
        let (revision, mut deleted) = match expected_revision {
            None => {
                let mut response = rpc(self.kv().delete(key, Some(delete))).await?;
                (header_revision(response.header()), response.take_prev_kvs())
            }
            Some(expected) => {
                let txn = Txn::new()
                    .when(unchanged_since(key, expected))
                    .and_then([TxnOp::delete(key, Some(delete))])
                    .or_else([TxnOp::get(key, None)]);
                let response = self.txn(txn).await?;
                if !response.succeeded() {
                    return Err(failed_precondition(key, expected, &response));
                }
                let deleted = match response.op_responses().pop() {
                    Some(TxnOpResponse::Delete(mut delete)) => delete.take_prev_kvs(),
                    _ => Vec::new(),
                };
                (header_revision(response.header()), deleted)
            }
        };
        let previous = deleted.pop().ok_or_else(|| not_found(key))?;
        Ok(KeyValue { mod_revision: revision, ..key_value(previous) })
    }

    async fn watch(&self, prefix: &str, from_revision: Revision) -> Result<BoxStream<'static, Result<StorageEvent>>> {
        let start = if from_revision > 0 { from_revision } else { self.current_revision().await? + 1 };
        let options = WatchOptions::new().with_range(prefix_end(prefix)).with_prev_key().with_start_revision(start);
        let watch = rpc(self.watcher().watch(range_start(prefix), Some(options))).await?;
        // The WatchStream moves into the stream: dropping the stream cancels the watch.
        let batches = stream::try_unfold(watch, move |mut watch: WatchStream| async move {
            let batch = match watch.message().await {
                Ok(Some(response)) => events(response, start)?,
                Ok(None) => return Err(StorageError::Unavailable("etcd closed the watch stream".into())),
                Err(e) => return Err(StorageError::Unavailable(e.to_string())),
            };
            Ok(Some((batch, watch)))
        });
        Ok(batches.map_ok(|batch| stream::iter(batch.into_iter().map(Ok))).try_flatten().boxed())
    }

    async fn current_revision(&self) -> Result<Revision> {
        let options = GetOptions::new().with_count_only();
        let response = rpc(self.kv().get("/", Some(options))).await?;
        Ok(header_revision(response.header()))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let options = CompactionOptions::new().with_physical();
        rpc(self.kv().compact(revision, Some(options))).await.map_err(|e| compacted_or(e, revision))?;
        Ok(())
    }
}

/// Runs one etcd request with [`REQUEST_TIMEOUT`], mapping every failure to Unavailable.
async fn rpc<T>(request: impl Future<Output = std::result::Result<T, etcd_client::Error>>) -> Result<T> {
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Ok(result) => result.map_err(|e| StorageError::Unavailable(e.to_string())),
        Err(_) => Err(StorageError::Unavailable(format!("etcd did not answer within {REQUEST_TIMEOUT:?}"))),
    }
}

/// Turns etcd's "compacted" error into Compacted; etcd does not say up to
/// which revision it compacted, so `compacted` is 0 (unknown).
fn compacted_or(error: StorageError, requested: Revision) -> StorageError {
    match error {
        StorageError::Unavailable(message) if message.contains(COMPACTED_MESSAGE) => {
            StorageError::Compacted { requested, compacted: 0 }
        }
        other => other,
    }
}

/// The compares of a CAS on `key`: it exists and was last written at `expected`.
/// Without the existence check, `expected = 0` would match a missing key.
fn unchanged_since(key: &str, expected: Revision) -> [Compare; 2] {
    [Compare::create_revision(key, CompareOp::Greater, 0), Compare::mod_revision(key, CompareOp::Equal, expected)]
}

/// The error for a failed [`unchanged_since`] transaction whose else branch read `key`.
fn failed_precondition(key: &str, expected: Revision, response: &TxnResponse) -> StorageError {
    let current = match response.op_responses().pop() {
        Some(TxnOpResponse::Get(get)) => get.kvs().first().map(|kv| kv.mod_revision()),
        _ => None,
    };
    match current {
        Some(actual) => StorageError::Conflict { key: key.to_owned(), expected, actual },
        None => not_found(key),
    }
}

/// Converts one watch response; a compaction or cancellation ends the watch with an error.
fn events(response: WatchResponse, requested: Revision) -> Result<Vec<StorageEvent>> {
    if response.compact_revision() != 0 {
        return Err(StorageError::Compacted { requested, compacted: response.compact_revision() });
    }
    if response.canceled() {
        return Err(StorageError::Unavailable(format!("etcd canceled the watch: {}", response.cancel_reason())));
    }
    let events = response.events().iter().filter_map(|event| {
        let kv = event.kv()?;
        let kind = match event.event_type() {
            EventType::Put => EventKind::Put,
            EventType::Delete => EventKind::Delete,
        };
        Some(StorageEvent {
            kind,
            key: String::from_utf8_lossy(kv.key()).into_owned(),
            value: kv.value().to_vec(),
            prev_value: event.prev_kv().map(|prev| prev.value().to_vec()),
            revision: kv.mod_revision(),
        })
    });
    Ok(events.collect())
}

fn key_value(kv: etcd_client::KeyValue) -> KeyValue {
    let mod_revision = kv.mod_revision();
    let (key, value) = kv.into_key_value();
    KeyValue { key: String::from_utf8_lossy(&key).into_owned(), value, mod_revision }
}

fn header_revision(header: Option<&ResponseHeader>) -> Revision {
    header.map_or(0, ResponseHeader::revision)
}

/// etcd rejects an empty key; "\0" is the smallest key there is.
fn range_start(key: &str) -> Vec<u8> {
    if key.is_empty() {
        vec![0]
    } else {
        key.as_bytes().to_vec()
    }
}

/// The first key after every key starting with `prefix` ("\0" = no end).
fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn not_found(key: &str) -> StorageError {
    StorageError::NotFound { key: key.to_owned() }
}
