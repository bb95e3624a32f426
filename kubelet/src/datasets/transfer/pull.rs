//! The target side: pull a dataset from the source kubelet into a staging
//! directory, sending only the chunks the staging directory lacks.
//!
//! A pull (1) gets the manifest; (2) compares it with the staging directory's
//! own manifest (digests from the target's [`HashCache`], which remembers
//! what earlier pulls wrote, else hashed) and removes what the source no
//! longer has, makes directories and symlinks, sizes files (growing a file
//! leaves holes) and punches chunks that became zero; (3) fetches the
//! differing chunks in batches, several Fetch calls in flight, verifies each
//! against the manifest and writes it at its offset: a chunk that does not
//! match, or that a stream left out, is asked for again (a bounded number of
//! times); (4) sets modes and owners and compares the digest of the staging
//! directory's manifest with the source's. Every step is idempotent, and a
//! file's cached digests are dropped before it is touched, so a pull cut off
//! anywhere leaves a directory the next pull completes.
//!
//! A first pass may run while the dataset is in use: a chunk that changed
//! since the manifest keeps mismatching and is left for the final pass
//! (`unresolved_chunks`). The final pass (`final_pass`) is only answered once
//! nothing uses the dataset, and fails unless the result is exact.

use super::hash_cache::{HashCache, Stamp};
use super::manifest::{chunk_count, chunk_hash, manifest};
use super::paths::relative;
use super::sparse::punch_hole;
use super::{DatasetKey, TransferClient, CHUNK_SIZE};
use futures::{StreamExt, TryStreamExt};
use rk_proto::streaming::{ChunkDigest, ChunkRef, DatasetManifest, FetchRequest, FileEntry, FileKind, ManifestRequest};
use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use tonic::{Code, Status};

/// How a pull batches and retries.
#[derive(Clone, Debug)]
pub struct PullOptions {
    /// Chunks per Fetch call.
    pub batch_chunks: usize,
    /// Fetch calls in flight at once.
    pub in_flight: usize,
    /// Times a chunk is asked for before it counts as unresolved.
    pub max_attempts: u32,
}

impl Default for PullOptions {
    fn default() -> PullOptions {
        PullOptions { batch_chunks: 32, in_flight: 4, max_attempts: 4 }
    }
}

/// What a pull did.
#[derive(Clone, Debug, Default)]
pub struct PullReport {
    /// Chunk bytes received (re-sent chunks included).
    pub bytes_sent: u64,
    /// Chunks received (re-sent chunks included).
    pub chunks: u64,
    /// Files, directories and symlinks created or changed.
    pub files: u64,
    /// Entries removed because the source no longer has them.
    pub removed: u64,
    /// Chunks asked for again after a mismatch or a gap in a stream.
    pub retried_chunks: u64,
    /// Chunks that never matched (the source changed them during a first pass).
    pub unresolved_chunks: u64,
    /// The staging directory now equals the manifest (its digest matched).
    pub complete: bool,
    /// The source manifest's digest.
    pub digest: Vec<u8>,
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("source kubelet: {} ({:?})", .0.message(), .0.code())]
    Rpc(#[from] Status),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("the source sent an invalid manifest: {0}")]
    InvalidManifest(String),
    #[error("{0} chunks still did not match their digests after every attempt (first: {1})")]
    Unresolved(u64, String),
    #[error("the staging directory differs from the source after the final pass (digest mismatch)")]
    DigestMismatch,
}

impl PullError {
    /// The source refused a final pass because a running container uses the dataset.
    pub fn is_in_use(&self) -> bool {
        matches!(self, PullError::Rpc(status) if status.code() == Code::FailedPrecondition)
    }
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> PullError {
    let context = context.into();
    move |source| PullError::Io { context, source }
}

/// The digests of what pulls in this process wrote, shared by all of them.
pub fn target_cache() -> Arc<HashCache> {
    static CACHE: OnceLock<Arc<HashCache>> = OnceLock::new();
    Arc::clone(CACHE.get_or_init(|| Arc::new(HashCache::trusting())))
}

/// Pulls dataset `key` into `staging` with the default options and the process's [`target_cache`].
pub async fn pull(
    client: &TransferClient,
    key: &DatasetKey,
    staging: &Path,
    final_pass: bool,
) -> Result<PullReport, PullError> {
    pull_with(client, key, staging, final_pass, &PullOptions::default(), &target_cache()).await
}

/// [`pull`] with explicit options and cache (which must be [`HashCache::trusting`] and only used for staging directories).
pub async fn pull_with(
    client: &TransferClient,
    key: &DatasetKey,
    staging: &Path,
    final_pass: bool,
    options: &PullOptions,
    cache: &Arc<HashCache>,
) -> Result<PullReport, PullError> {
    let started = Instant::now();
    let request = ManifestRequest { namespace: key.namespace.clone(), name: key.name.clone(), r#final: final_pass };
    let manifest = Arc::new(client.clone().manifest(request).await?.into_inner());
    let expected = Arc::new(expected_chunks(&manifest)?);
    let staging = Arc::new(staging.to_path_buf());
    let plan = blocking({
        let (staging, manifest, cache) = (Arc::clone(&staging), Arc::clone(&manifest), Arc::clone(cache));
        move || prepare(&staging, &manifest, &cache)
    })
    .await?;

    let counters = Counters::default();
    let mut pending = plan.wanted;
    let mut retried = 0;
    for attempt in 1.. {
        let failed = fetch_all(client, key, &staging, pending, &expected, options, &counters).await?;
        if failed.is_empty() || attempt >= options.max_attempts {
            pending = failed;
            break;
        }
        tracing::debug!(dataset = %key, chunks = failed.len(), "chunks did not match their digests: asking again");
        retried += failed.len() as u64;
        pending = failed;
    }
    let unresolved: HashSet<(String, u64)> = pending.into_iter().map(|chunk| (chunk.path, chunk.index)).collect();
    let unresolved_count = unresolved.len() as u64;
    let first_unresolved = unresolved.iter().next().map(|(path, index)| format!("{path} chunk {index}"));

    let local_digest = blocking({
        let (staging, manifest, cache) = (Arc::clone(&staging), Arc::clone(&manifest), Arc::clone(cache));
        move || finish(&staging, &manifest, &unresolved, &cache)
    })
    .await?;
    let complete = local_digest == manifest.digest;
    if final_pass && unresolved_count > 0 {
        return Err(PullError::Unresolved(unresolved_count, first_unresolved.unwrap_or_default()));
    }
    if !complete && unresolved_count == 0 {
        return Err(PullError::DigestMismatch);
    }
    Ok(PullReport {
        bytes_sent: counters.bytes.load(Ordering::Relaxed),
        chunks: counters.chunks.load(Ordering::Relaxed),
        files: plan.changed,
        removed: plan.removed,
        retried_chunks: retried,
        unresolved_chunks: unresolved_count,
        complete,
        digest: manifest.digest.clone(),
        duration: started.elapsed(),
    })
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PullError> + Send + 'static,
) -> Result<T, PullError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| PullError::Io {
        context: "dataset pull worker".into(),
        source: io::Error::other(error.to_string()),
    })?
}

/// What each non-zero chunk must be: its digest and length.
type Expected = HashMap<(String, u64), (Vec<u8>, usize)>;

fn expected_chunks(manifest: &DatasetManifest) -> Result<Expected, PullError> {
    if manifest.chunk_size != CHUNK_SIZE {
        return Err(PullError::InvalidManifest(format!("chunk size {} (want {CHUNK_SIZE})", manifest.chunk_size)));
    }
    let mut expected = HashMap::new();
    let mut seen = HashSet::new();
    for file in &manifest.files {
        relative(&file.path).map_err(PullError::InvalidManifest)?;
        if !seen.insert(file.path.as_str()) {
            return Err(PullError::InvalidManifest(format!("{} listed twice", file.path)));
        }
        if file.kind != FileKind::Regular as i32 {
            continue;
        }
        let count = chunk_count(file.size);
        let in_order = file.chunks.iter().enumerate().all(|(i, chunk)| chunk.index == i as u64);
        if file.chunks.len() as u64 != count || !in_order {
            return Err(PullError::InvalidManifest(format!("{}: chunks do not cover its size", file.path)));
        }
        for chunk in file.chunks.iter().filter(|chunk| !chunk.zero) {
            let len = (file.size - chunk.index * CHUNK_SIZE).min(CHUNK_SIZE) as usize;
            expected.insert((file.path.clone(), chunk.index), (chunk.hash.clone(), len));
        }
    }
    Ok(expected)
}

struct Plan {
    wanted: Vec<ChunkRef>,
    changed: u64,
    removed: u64,
}

/// Brings the staging directory's structure in line with the manifest and lists the chunks to fetch.
fn prepare(staging: &Path, manifest: &DatasetManifest, cache: &HashCache) -> Result<Plan, PullError> {
    fs::create_dir_all(staging).map_err(io_error(format!("creating {}", staging.display())))?;
    let local = super::manifest(staging, cache).map_err(io_error(format!("reading {}", staging.display())))?;
    let remote: HashMap<&str, &FileEntry> = manifest.files.iter().map(|file| (file.path.as_str(), file)).collect();
    let mut plan = Plan { wanted: Vec::new(), changed: 0, removed: 0 };
    // Deepest first, so a directory's contents go before it.
    for entry in local.files.iter().rev() {
        if remote.get(entry.path.as_str()).is_none_or(|file| file.kind != entry.kind) {
            let path = staging.join(&entry.path);
            remove(&path, entry.kind).map_err(io_error(format!("removing {}", path.display())))?;
            cache.forget_under(&path);
            plan.removed += 1;
        }
    }
    let local: HashMap<&str, &FileEntry> = local
        .files
        .iter()
        .filter(|file| remote.get(file.path.as_str()).is_some_and(|remote| remote.kind == file.kind))
        .map(|file| (file.path.as_str(), file))
        .collect();
    for file in &manifest.files {
        let path = staging.join(&file.path);
        let local = local.get(file.path.as_str()).copied();
        let changed = match FileKind::try_from(file.kind) {
            Ok(FileKind::Directory) => {
                local.is_none() && make_dir(&path).map_err(io_error(format!("creating {}", path.display())))?
            }
            Ok(FileKind::Symlink) => {
                let changed = local.is_none_or(|local| local.link_target != file.link_target);
                if changed {
                    let _ = fs::remove_file(&path);
                    std::os::unix::fs::symlink(&file.link_target, &path)
                        .map_err(io_error(format!("creating the symlink {}", path.display())))?;
                }
                changed
            }
            Ok(FileKind::Regular) => plan_file(&path, file, local, cache, &mut plan.wanted)
                .map_err(io_error(format!("preparing {}", path.display())))?,
            Err(_) => return Err(PullError::InvalidManifest(format!("{}: unknown kind {}", file.path, file.kind))),
        };
        plan.changed += u64::from(changed);
    }
    Ok(plan)
}

fn remove(path: &Path, kind: i32) -> io::Result<()> {
    let result = if kind == FileKind::Directory as i32 { fs::remove_dir_all(path) } else { fs::remove_file(path) };
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        result => result,
    }
}

fn make_dir(path: &Path) -> io::Result<bool> {
    match fs::create_dir(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(error),
    }
}

/// Sizes the file, punches chunks that became zero and lists those to fetch;
/// whether the file changes.
fn plan_file(
    path: &Path,
    file: &FileEntry,
    local: Option<&FileEntry>,
    cache: &HashCache,
    wanted: &mut Vec<ChunkRef>,
) -> io::Result<bool> {
    let local_chunks = local.map_or(&[][..], |local| &local.chunks[..]);
    let mut punch = Vec::new();
    let before = wanted.len();
    for chunk in &file.chunks {
        let have = local_chunks.get(chunk.index as usize);
        if chunk.zero {
            if have.is_some_and(|have| !have.zero) {
                punch.push(chunk.index);
            }
        } else if have.is_none_or(|have| have.zero || have.hash != chunk.hash) {
            wanted.push(ChunkRef { path: file.path.clone(), index: chunk.index });
        }
    }
    let resized = local.is_none_or(|local| local.size != file.size);
    if !resized && punch.is_empty() && wanted.len() == before {
        return Ok(false);
    }
    cache.forget(path);
    let handle = OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
    let mode = handle.metadata()?.mode();
    if mode & 0o200 == 0 {
        handle.set_permissions(fs::Permissions::from_mode(mode | 0o200))?;
    }
    if resized {
        handle.set_len(file.size)?;
    }
    for index in punch {
        let offset = index * CHUNK_SIZE;
        punch_hole(&handle, offset, CHUNK_SIZE.min(file.size - offset))?;
    }
    Ok(true)
}

#[derive(Default)]
struct Counters {
    bytes: AtomicU64,
    chunks: AtomicU64,
}

/// Fetches `wanted` in batches, several in flight; the chunks that failed to verify or never came.
async fn fetch_all(
    client: &TransferClient,
    key: &DatasetKey,
    staging: &Arc<PathBuf>,
    wanted: Vec<ChunkRef>,
    expected: &Arc<Expected>,
    options: &PullOptions,
    counters: &Counters,
) -> Result<Vec<ChunkRef>, PullError> {
    let batches: Vec<Vec<ChunkRef>> = wanted.chunks(options.batch_chunks.max(1)).map(<[ChunkRef]>::to_vec).collect();
    futures::stream::iter(batches)
        .map(|batch| fetch_batch(client.clone(), key, Arc::clone(staging), batch, Arc::clone(expected), counters))
        .buffer_unordered(options.in_flight.max(1))
        .try_concat()
        .await
}

async fn fetch_batch(
    mut client: TransferClient,
    key: &DatasetKey,
    staging: Arc<PathBuf>,
    batch: Vec<ChunkRef>,
    expected: Arc<Expected>,
    counters: &Counters,
) -> Result<Vec<ChunkRef>, PullError> {
    let mut outstanding: HashSet<(String, u64)> = batch.iter().map(|chunk| (chunk.path.clone(), chunk.index)).collect();
    let request = FetchRequest { namespace: key.namespace.clone(), name: key.name.clone(), chunks: batch };
    let mut stream = client.fetch(request).await?.into_inner();
    let mut failed = Vec::new();
    while let Some(chunk) = stream.message().await? {
        if !outstanding.remove(&(chunk.path.clone(), chunk.index)) {
            continue; // not asked for (or twice): ignored
        }
        counters.bytes.fetch_add(chunk.data.len() as u64, Ordering::Relaxed);
        counters.chunks.fetch_add(1, Ordering::Relaxed);
        let reference = ChunkRef { path: chunk.path.clone(), index: chunk.index };
        let (staging, expected) = (Arc::clone(&staging), Arc::clone(&expected));
        if !blocking(move || verify_and_write(&staging, &expected, chunk.path, chunk.index, &chunk.data)).await? {
            failed.push(reference);
        }
    }
    failed.extend(outstanding.into_iter().map(|(path, index)| ChunkRef { path, index }));
    Ok(failed)
}

/// Writes the chunk if it is what the manifest says; whether it was.
fn verify_and_write(
    staging: &Path,
    expected: &Expected,
    path: String,
    index: u64,
    data: &[u8],
) -> Result<bool, PullError> {
    let key = (path, index);
    let Some((hash, len)) = expected.get(&key) else { return Ok(false) };
    if data.len() != *len || chunk_hash(data) != *hash {
        return Ok(false);
    }
    let path = staging.join(&key.0);
    let file = OpenOptions::new().write(true).open(&path).map_err(io_error(format!("opening {}", path.display())))?;
    file.write_all_at(data, index * CHUNK_SIZE).map_err(io_error(format!("writing {}", path.display())))?;
    Ok(true)
}

/// Sets owners and modes, remembers the digests of what is now on disk, and
/// returns the digest of the staging directory's manifest.
fn finish(
    staging: &Path,
    manifest: &DatasetManifest,
    unresolved: &HashSet<(String, u64)>,
    cache: &HashCache,
) -> Result<Vec<u8>, PullError> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    for file in manifest.files.iter().rev() {
        let path = staging.join(&file.path);
        let context = || format!("setting the mode and owner of {}", path.display());
        let metadata = path.symlink_metadata().map_err(io_error(context()))?;
        if root && (metadata.uid(), metadata.gid()) != (file.uid, file.gid) {
            std::os::unix::fs::lchown(&path, Some(file.uid), Some(file.gid)).map_err(io_error(context()))?;
        }
        if file.kind != FileKind::Symlink as i32 && metadata.mode() & 0o7777 != file.mode {
            fs::set_permissions(&path, fs::Permissions::from_mode(file.mode)).map_err(io_error(context()))?;
        }
        if file.kind == FileKind::Regular as i32 {
            let metadata = path.symlink_metadata().map_err(io_error(context()))?;
            let chunks: Vec<ChunkDigest> = file
                .chunks
                .iter()
                .map(|chunk| match unresolved.contains(&(file.path.clone(), chunk.index)) {
                    true => ChunkDigest { index: chunk.index, ..ChunkDigest::default() },
                    false => chunk.clone(),
                })
                .collect();
            cache.insert(&path, Stamp::of(&metadata), SystemTime::now(), Arc::new(chunks));
        }
    }
    let local = manifest_of(staging, cache)?;
    Ok(local.digest)
}

fn manifest_of(dir: &Path, cache: &HashCache) -> Result<DatasetManifest, PullError> {
    manifest(dir, cache).map_err(io_error(format!("reading {}", dir.display())))
}
