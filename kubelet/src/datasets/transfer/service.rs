//! The source side: the DatasetTransfer gRPC service, answering Manifest and
//! Fetch for the datasets the kubelet's [`DatasetSource`] finds. It only ever
//! reads the dataset's directory.

use super::manifest::{manifest, manifest_in_parts};
use super::paths::{open_beneath, relative};
use super::{DatasetKey, DatasetSource, HashCache, CHUNK_SIZE, MAX_MESSAGE_SIZE};
use crate::streaming::Authenticator;
use rk_proto::streaming::dataset_transfer_server::{DatasetTransfer, DatasetTransferServer};
use rk_proto::streaming::{Chunk, DatasetManifest, FetchRequest, ManifestRequest};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status};

/// Most chunks one Fetch may ask for.
pub const MAX_FETCH_CHUNKS: usize = 4096;

/// Chunks read ahead of the network per Fetch.
const READ_AHEAD: usize = 4;

/// Manifest parts hashed ahead of the network.
const PARTS_AHEAD: usize = 4;

/// The service behind the streaming endpoint's bearer-token check.
pub type TransferServer = InterceptedService<DatasetTransferServer<TransferService>, Authenticator>;

/// Serves the datasets of one node.
#[derive(Clone)]
pub struct TransferService {
    source: Arc<dyn DatasetSource>,
    cache: Arc<HashCache>,
}

impl TransferService {
    pub fn new(source: Arc<dyn DatasetSource>) -> TransferService {
        TransferService { source, cache: Arc::new(HashCache::new()) }
    }

    /// The gRPC service, accepting only calls that carry `token` (like logs and exec).
    pub fn into_server(self, token: String) -> TransferServer {
        InterceptedService::new(self.into_unauthenticated_server(), Authenticator::new(token))
    }

    /// The gRPC service without the token check (for wrappers that add their own).
    pub fn into_unauthenticated_server(self) -> DatasetTransferServer<TransferService> {
        DatasetTransferServer::new(self)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn directory(&self, namespace: String, name: String) -> Result<(DatasetKey, PathBuf), Status> {
        let key = DatasetKey::new(namespace, name);
        key.validate()?;
        let dir = self
            .source
            .directory(&key)
            .ok_or_else(|| Status::not_found(format!("dataset {key} is not on this node")))?;
        Ok((key, dir))
    }

    fn refuse_if_in_use(&self, key: &DatasetKey) -> Result<(), Status> {
        refuse_if_in_use(self.source.as_ref(), key)
    }
}

fn refuse_if_in_use(source: &dyn DatasetSource, key: &DatasetKey) -> Result<(), Status> {
    if source.in_use(key) {
        Err(Status::failed_precondition(format!(
            "dataset {key} is in use by a running container on this node: the final pass waits until it stops"
        )))
    } else {
        Ok(())
    }
}

#[tonic::async_trait]
impl DatasetTransfer for TransferService {
    type FetchStream = ReceiverStream<Result<Chunk, Status>>;
    type ManifestPartsStream = ReceiverStream<Result<DatasetManifest, Status>>;

    async fn manifest(&self, request: Request<ManifestRequest>) -> Result<Response<DatasetManifest>, Status> {
        let request = request.into_inner();
        let (key, dir) = self.directory(request.namespace, request.name)?;
        if request.r#final {
            self.refuse_if_in_use(&key)?;
        }
        let cache = Arc::clone(&self.cache);
        let manifest = tokio::task::spawn_blocking(move || manifest(&dir, &cache))
            .await
            .map_err(|error| Status::internal(format!("hashing dataset {key}: {error}")))?
            .map_err(|error| Status::internal(format!("reading dataset {key}: {error}")))?;
        // A container started while hashing would make the final manifest stale.
        if request.r#final {
            self.refuse_if_in_use(&key)?;
        }
        Ok(Response::new(manifest))
    }

    async fn manifest_parts(
        &self,
        request: Request<ManifestRequest>,
    ) -> Result<Response<Self::ManifestPartsStream>, Status> {
        let request = request.into_inner();
        let (key, dir) = self.directory(request.namespace, request.name)?;
        let check = request.r#final.then(|| Arc::clone(&self.source));
        if let Some(source) = &check {
            refuse_if_in_use(source.as_ref(), &key)?;
        }
        let (sender, receiver) = mpsc::channel(PARTS_AHEAD);
        let cache = Arc::clone(&self.cache);
        tokio::task::spawn_blocking(move || {
            let sent = manifest_in_parts(&dir, &cache, |part| {
                // A container started while hashing would make the final manifest stale.
                let last = !part.digest.is_empty();
                let part = match &check {
                    Some(source) if last => refuse_if_in_use(source.as_ref(), &key).map(|()| part),
                    _ => Ok(part),
                };
                sender.blocking_send(part).is_ok()
            });
            if let Err(error) = sent {
                let _ = sender.blocking_send(Err(Status::internal(format!("reading dataset {key}: {error}"))));
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn fetch(&self, request: Request<FetchRequest>) -> Result<Response<Self::FetchStream>, Status> {
        let request = request.into_inner();
        let (_, dir) = self.directory(request.namespace, request.name)?;
        if request.chunks.len() > MAX_FETCH_CHUNKS {
            return Err(Status::invalid_argument(format!(
                "{} chunks asked for; at most {MAX_FETCH_CHUNKS} per Fetch",
                request.chunks.len()
            )));
        }
        for chunk in &request.chunks {
            relative(&chunk.path).map_err(Status::invalid_argument)?;
        }
        let (sender, receiver) = mpsc::channel(READ_AHEAD);
        tokio::task::spawn_blocking(move || {
            let mut open: Option<(String, Option<File>)> = None;
            for chunk in request.chunks {
                if open.as_ref().is_none_or(|(path, _)| *path != chunk.path) {
                    let file = open_beneath(&dir, &relative(&chunk.path).unwrap_or_default());
                    if let Err(error) = &file {
                        tracing::debug!(path = chunk.path, %error, "dataset chunk asked for cannot be read");
                    }
                    open = Some((chunk.path.clone(), file.ok()));
                }
                // An unreadable chunk goes out empty: the target sees it does not match and asks again.
                let data = match (&open, chunk.index.checked_mul(CHUNK_SIZE)) {
                    (Some((_, Some(file))), Some(offset)) => read_chunk(file, offset).unwrap_or_default(),
                    _ => Vec::new(),
                };
                if sender.blocking_send(Ok(Chunk { path: chunk.path, index: chunk.index, data })).is_err() {
                    return; // the caller went away
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// The chunk at `offset` (shorter at the end of the file), read straight into
/// a fresh buffer (no zeroing first). The fetch thread owns `file`'s offset.
fn read_chunk(mut file: &File, offset: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::with_capacity(CHUNK_SIZE as usize);
    file.seek(SeekFrom::Start(offset))?;
    file.take(CHUNK_SIZE).read_to_end(&mut data)?;
    Ok(data)
}
