//! Dataset moves between two kubelet streaming servers on 127.0.0.1 (port 0),
//! in temporary directories: trees, sparse files, two-phase moves that send
//! only what changed, authentication, the in-use refusal, corrupted chunks
//! and interrupted pulls.

use rk_kubelet::datasets::transfer::{
    connect, manifest, pull, DatasetKey, HashCache, PullReport, RootDirSource, TransferClient, TransferService,
};
use rk_kubelet::runtime::fake::FakeRuntime;
use rk_proto::streaming::dataset_transfer_server::{DatasetTransfer, DatasetTransferServer};
use rk_proto::streaming::{Chunk, DatasetManifest, FetchRequest, ManifestRequest};
use std::fs::{self, File};
use std::net::SocketAddr;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::StreamExt;
use tonic::{Code, Request, Response, Status};

const TOKEN: &str = "kubelets-shared-secret";
const MIB: u64 = 1 << 20;

/// A kubelet's `<root-dir>/datasets` and its streaming server.
struct Node {
    datasets: TempDir,
    address: SocketAddr,
    in_use: Arc<AtomicBool>,
}

impl Node {
    async fn start() -> Node {
        let datasets = tempfile::tempdir().unwrap();
        let in_use = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&in_use);
        let source = RootDirSource::new(datasets.path()).with_in_use(move |_| flag.load(Ordering::SeqCst));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(rk_kubelet::streaming::serve_with_datasets(
            listener,
            Arc::new(FakeRuntime::new()),
            TOKEN.into(),
            Some(Arc::new(source)),
            std::future::pending(),
        ));
        Node { datasets, address, in_use }
    }

    fn dir(&self, key: &DatasetKey) -> PathBuf {
        let dir = self.datasets.path().join(&key.namespace).join(&key.name);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn staging(&self, key: &DatasetKey) -> PathBuf {
        self.datasets.path().join(".incoming").join(&key.namespace).join(&key.name)
    }

    async fn client(&self) -> TransferClient {
        connect(&format!("http://{}", self.address), TOKEN).await.unwrap()
    }
}

fn key() -> DatasetKey {
    DatasetKey::new("default", "data")
}

/// Bytes that do not compress or repeat: a xorshift stream from `seed`.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn digest(dir: &Path) -> Vec<u8> {
    manifest(dir, &HashCache::new()).unwrap().digest
}

/// The digest and every entry's mtime and ctime: any change to the source shows.
type Snapshot = (Vec<u8>, Vec<(String, i64, i64, i64, i64)>);

fn snapshot(dir: &Path) -> Snapshot {
    let manifest = manifest(dir, &HashCache::new()).unwrap();
    let times = manifest
        .files
        .iter()
        .map(|file| {
            let metadata = dir.join(&file.path).symlink_metadata().unwrap();
            (file.path.clone(), metadata.mtime(), metadata.mtime_nsec(), metadata.ctime(), metadata.ctime_nsec())
        })
        .collect();
    (manifest.digest, times)
}

fn small_tree(dir: &Path) {
    fs::create_dir_all(dir.join("conf/nested/deeper")).unwrap();
    fs::create_dir_all(dir.join("empty-dir")).unwrap();
    fs::write(dir.join("conf/app.yaml"), b"replicas: 3\n").unwrap();
    fs::write(dir.join("conf/nested/deeper/leaf"), noise(3 * MIB as usize + 17, 1)).unwrap();
    fs::write(dir.join("empty"), b"").unwrap();
    fs::write(dir.join("secret"), b"s3cret").unwrap();
    fs::write(dir.join("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(dir.join("secret"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(dir.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dir.join("conf/nested"), fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::symlink("conf/app.yaml", dir.join("app.yaml")).unwrap();
}

#[tokio::test]
async fn a_small_tree_arrives_exactly() {
    let (source, target) = (Node::start().await, Node::start().await);
    let dir = source.dir(&key());
    small_tree(&dir);
    let before = snapshot(&dir);

    let report = pull(&source.client().await, &key(), &target.staging(&key()), true).await.unwrap();

    let staging = target.staging(&key());
    assert!(report.complete);
    assert_eq!(digest(&staging), before.0);
    assert_eq!(fs::read(staging.join("conf/app.yaml")).unwrap(), b"replicas: 3\n");
    assert_eq!(fs::read(staging.join("conf/nested/deeper/leaf")).unwrap(), noise(3 * MIB as usize + 17, 1));
    assert_eq!(fs::metadata(staging.join("empty")).unwrap().len(), 0);
    assert!(staging.join("empty-dir").is_dir());
    assert_eq!(fs::metadata(staging.join("secret")).unwrap().mode() & 0o7777, 0o600);
    assert_eq!(fs::metadata(staging.join("run.sh")).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(fs::metadata(staging.join("conf/nested")).unwrap().mode() & 0o7777, 0o750);
    assert_eq!(fs::read_link(staging.join("app.yaml")).unwrap(), Path::new("conf/app.yaml"));
    assert_eq!(report.bytes_sent, 12 + 3 * MIB + 17 + 6 + 18);
    assert_eq!(snapshot(&dir), before, "the source is never modified");

    // Nothing changed: a second pull sends nothing.
    let again = pull(&source.client().await, &key(), &staging, true).await.unwrap();
    assert_eq!((again.bytes_sent, again.files, again.removed), (0, 0, 0));
}

#[tokio::test]
async fn a_4_gib_sparse_file_moves_quickly_and_stays_sparse() {
    let (source, target) = (Node::start().await, Node::start().await);
    let dir = source.dir(&key());
    let file = File::create(dir.join("disk.img")).unwrap();
    file.set_len(4 << 30).unwrap();
    let offsets = [0, 700 * MIB + 123, 2 << 30, (3 << 30) + 5, (4 << 30) - MIB];
    for (i, offset) in offsets.iter().enumerate() {
        file.write_all_at(&noise(MIB as usize, i as u64 + 10), *offset).unwrap();
    }
    drop(file);

    let started = std::time::Instant::now();
    let report = pull(&source.client().await, &key(), &target.staging(&key()), true).await.unwrap();
    let elapsed = started.elapsed();

    let copy = target.staging(&key()).join("disk.img");
    let metadata = fs::metadata(&copy).unwrap();
    assert_eq!(metadata.len(), 4 << 30);
    assert!(metadata.blocks() * 512 <= 16 * MIB, "the copy is not sparse: {} bytes allocated", metadata.blocks() * 512);
    // Data at an unaligned offset spans two chunks.
    assert_eq!(report.bytes_sent, 7 * MIB, "{report:?}");
    assert_eq!(digest(&target.staging(&key())), digest(&dir));
    let copy = File::open(&copy).unwrap();
    for (i, offset) in offsets.iter().enumerate() {
        let mut data = vec![0u8; MIB as usize];
        copy.read_exact_at(&mut data, *offset).unwrap();
        assert_eq!(data, noise(MIB as usize, i as u64 + 10), "data at {offset}");
    }
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

#[tokio::test]
async fn the_final_pass_sends_only_what_changed() {
    let (source, target) = (Node::start().await, Node::start().await);
    let dir = source.dir(&key());
    fs::create_dir_all(dir.join("old-dir/inner")).unwrap();
    fs::write(dir.join("old-dir/inner/x"), b"x").unwrap();
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        fs::write(dir.join(name), noise(50 * MIB as usize, i as u64)).unwrap();
    }
    let staging = target.staging(&key());
    let first = pull(&source.client().await, &key(), &staging, false).await.unwrap();
    assert!(first.complete);
    assert_eq!(first.bytes_sent, 200 * MIB + 1);

    // While the old pod still runs: 2 of 200 chunks rewritten, a file added, a file and a directory deleted.
    File::options().write(true).open(dir.join("a")).unwrap().write_all_at(&noise(MIB as usize, 99), 7 * MIB).unwrap();
    File::options().write(true).open(dir.join("c")).unwrap().write_all_at(b"changed", 33 * MIB + 500).unwrap();
    fs::write(dir.join("new"), noise(100 << 10, 5)).unwrap();
    fs::remove_file(dir.join("d")).unwrap();
    fs::remove_dir_all(dir.join("old-dir")).unwrap();
    // The last write before the old pod stops.
    File::options().write(true).open(dir.join("b")).unwrap().write_all_at(b"last words", 50 * MIB).unwrap();

    let last = pull(&source.client().await, &key(), &staging, true).await.unwrap();
    assert!(last.complete);
    assert_eq!(last.bytes_sent, 2 * MIB + (100 << 10) + 10, "{last:?}");
    assert_eq!(last.chunks, 4);
    assert_eq!(last.removed, 4, "d, old-dir, old-dir/inner, old-dir/inner/x");
    assert_eq!(digest(&staging), digest(&dir));
    assert!(fs::read(staging.join("b")).unwrap().ends_with(b"last words"));
    assert!(!staging.join("d").exists() && !staging.join("old-dir").exists());
}

#[tokio::test]
async fn entries_that_change_kind_are_replaced() {
    let (source, target) = (Node::start().await, Node::start().await);
    let dir = source.dir(&key());
    fs::write(dir.join("x"), noise(3 * MIB as usize, 1)).unwrap();
    fs::create_dir(dir.join("y")).unwrap();
    fs::write(dir.join("y/f"), b"f").unwrap();
    let staging = target.staging(&key());
    assert!(pull(&source.client().await, &key(), &staging, false).await.unwrap().complete);

    // The file becomes a directory, the directory a symlink.
    fs::remove_file(dir.join("x")).unwrap();
    fs::create_dir(dir.join("x")).unwrap();
    fs::write(dir.join("x/in"), noise(MIB as usize + 1, 2)).unwrap();
    fs::remove_dir_all(dir.join("y")).unwrap();
    std::os::unix::fs::symlink("x/in", dir.join("y")).unwrap();

    let last = pull(&source.client().await, &key(), &staging, true).await.unwrap();
    assert!(last.complete);
    assert_eq!(last.removed, 3, "x, y and y/f: {last:?}");
    assert_eq!(digest(&staging), digest(&dir));
}

#[tokio::test]
async fn calls_without_the_shared_token_are_refused() {
    let source = Node::start().await;
    source.dir(&key());
    let staging = tempfile::tempdir().unwrap();
    for token in ["", "guess", &TOKEN[1..]] {
        let client = connect(&format!("http://{}", source.address), token).await.unwrap();
        let error = pull(&client, &key(), staging.path(), false).await.unwrap_err();
        let rk_kubelet::datasets::transfer::PullError::Rpc(status) = &error else { panic!("{error}") };
        assert_eq!(status.code(), Code::Unauthenticated, "token {token:?}: {error}");
        let fetch = FetchRequest { namespace: "default".into(), name: "data".into(), chunks: vec![] };
        assert_eq!(client.clone().fetch(fetch).await.unwrap_err().code(), Code::Unauthenticated);
    }
}

#[tokio::test]
async fn the_final_pass_is_refused_while_the_dataset_is_in_use() {
    let (source, target) = (Node::start().await, Node::start().await);
    fs::write(source.dir(&key()).join("f"), b"data").unwrap();
    source.in_use.store(true, Ordering::SeqCst);
    let client = source.client().await;
    let staging = target.staging(&key());

    assert!(pull(&client, &key(), &staging, false).await.unwrap().complete, "a first pass runs while in use");
    let error = pull(&client, &key(), &staging, true).await.unwrap_err();
    assert!(error.is_in_use(), "{error}");
    assert!(error.to_string().contains("in use"), "{error}");

    source.in_use.store(false, Ordering::SeqCst);
    assert!(pull(&client, &key(), &staging, true).await.unwrap().complete);
    let missing = pull(&client, &DatasetKey::new("default", "nope"), &staging, false).await.unwrap_err();
    assert!(missing.to_string().contains("not on this node"), "{missing}");
}

/// The real service, but the first chunk it sends has one byte flipped.
struct Corrupting {
    inner: TransferService,
    flipped: Arc<AtomicBool>,
}

#[tonic::async_trait]
impl DatasetTransfer for Corrupting {
    type FetchStream = futures::stream::BoxStream<'static, Result<Chunk, Status>>;
    type ManifestPartsStream = futures::stream::BoxStream<'static, Result<DatasetManifest, Status>>;

    async fn manifest(&self, request: Request<ManifestRequest>) -> Result<Response<DatasetManifest>, Status> {
        self.inner.manifest(request).await
    }

    /// Like a source from before `ManifestParts`: the pull falls back to `Manifest`.
    async fn manifest_parts(&self, _: Request<ManifestRequest>) -> Result<Response<Self::ManifestPartsStream>, Status> {
        Err(Status::unimplemented("ManifestParts"))
    }

    async fn fetch(&self, request: Request<FetchRequest>) -> Result<Response<Self::FetchStream>, Status> {
        let flipped = Arc::clone(&self.flipped);
        let stream = self.inner.fetch(request).await?.into_inner().map(move |chunk| {
            let mut chunk = chunk?;
            if !chunk.data.is_empty() && !flipped.swap(true, Ordering::SeqCst) {
                let at = 1000 % chunk.data.len();
                chunk.data[at] ^= 0x40;
            }
            Ok(chunk)
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

#[tokio::test]
async fn a_corrupted_chunk_is_detected_and_sent_again() {
    let (source, target) = (Node::start().await, Node::start().await);
    let dir = source.dir(&key());
    fs::write(dir.join("f"), noise(5 * MIB as usize, 3)).unwrap();
    let flipped = Arc::new(AtomicBool::new(false));
    let corrupting = Corrupting {
        inner: TransferService::new(Arc::new(RootDirSource::new(source.datasets.path()))),
        flipped: Arc::clone(&flipped),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DatasetTransferServer::new(corrupting).max_encoding_message_size(64 << 20))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let client = connect(&format!("http://{address}"), "").await.unwrap();

    let report = pull(&client, &key(), &target.staging(&key()), true).await.unwrap();

    assert!(flipped.load(Ordering::SeqCst));
    assert_eq!(report.retried_chunks, 1, "{report:?}");
    assert_eq!(report.bytes_sent, 6 * MIB, "the corrupted chunk came twice");
    assert_eq!(digest(&target.staging(&key())), digest(&dir));
}

/// Forwards one connection to `upstream` and cuts it once `limit` bytes came back.
async fn cutting_proxy(upstream: SocketAddr, limit: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = TcpStream::connect(upstream).await.unwrap();
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        let forwarded = AtomicU64::new(0);
        let upstream_copy = tokio::io::copy(&mut client_read, &mut server_write);
        let downstream_copy = async {
            let mut buffer = vec![0u8; 64 << 10];
            loop {
                let n = server_read.read(&mut buffer).await.unwrap_or(0);
                if n == 0 || forwarded.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > limit {
                    return;
                }
                if client_write.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        };
        tokio::select! { _ = upstream_copy => {}, () = downstream_copy => {} }
        // Dropping both halves of both sockets cuts the connection.
    });
    address
}

#[tokio::test]
async fn an_interrupted_pull_is_completed_by_the_next_one() {
    let (source, target) = (Node::start().await, Node::start().await);
    let dir = source.dir(&key());
    small_tree(&dir);
    for name in ["x", "y"] {
        fs::write(dir.join(name), noise(20 * MIB as usize, name.len() as u64 + name.as_bytes()[0] as u64)).unwrap();
    }
    let before = snapshot(&dir);
    let staging = target.staging(&key());
    let total = 40 * MIB + 3 * MIB + 17 + 36;

    // The connection drops a third of the way.
    let proxy = cutting_proxy(source.address, 15 * MIB).await;
    let client = connect(&format!("http://{proxy}"), TOKEN).await.unwrap();
    let error = pull(&client, &key(), &staging, true).await.unwrap_err();
    assert!(matches!(error, rk_kubelet::datasets::transfer::PullError::Rpc(_)), "{error}");
    assert_eq!(snapshot(&dir), before, "the source is never modified");

    let resumed = pull(&source.client().await, &key(), &staging, true).await.unwrap();
    assert!(resumed.complete);
    assert!(resumed.bytes_sent < total, "what arrived before the cut is kept: {resumed:?}");
    assert_eq!(digest(&staging), before.0);
    assert_eq!(snapshot(&dir), before);
}

#[tokio::test]
async fn a_pull_killed_midway_is_completed_by_the_next_one() {
    let (source, target) = (Node::start().await, Node::start().await);
    let dir = source.dir(&key());
    fs::write(dir.join("big"), noise(60 * MIB as usize, 8)).unwrap();
    small_tree(&dir);
    let staging = target.staging(&key());

    // Killed once a few chunks are on disk (the task is dropped wherever it is).
    let client = source.client().await;
    let task = tokio::spawn({
        let (client, staging) = (client.clone(), staging.clone());
        async move { pull(&client, &key(), &staging, false).await }
    });
    let big = staging.join("big");
    rk_testkit::eventually("some chunks written", Duration::from_secs(30), || {
        let allocated = fs::metadata(&big).map(|m| m.blocks() * 512).unwrap_or(0);
        async move { (allocated >= 4 * MIB).then_some(()) }
    })
    .await;
    task.abort();
    let _ = task.await;

    let report: PullReport = pull(&client, &key(), &staging, true).await.unwrap();
    assert!(report.complete);
    assert!(report.bytes_sent < 60 * MIB, "{report:?}");
    assert_eq!(digest(&staging), digest(&dir));
}
