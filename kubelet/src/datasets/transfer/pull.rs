//! The target side: pull a dataset from the source kubelet into a staging
//! directory, sending only the chunks the staging directory lacks.
//!
//! A pull (1) asks for the manifest in parts (`ManifestParts`: each part goes
//! out as soon as the source has hashed its files; a source without it
//! answers `Manifest`, one part) while it lists the staging directory's own
//! manifest (digests from the target's [`HashCache`], which remembers what
//! earlier pulls wrote, else hashed); (2) for each part as it arrives, makes
//! directories and symlinks (removing an entry of another kind first), sizes
//! files (growing a file leaves holes), punches chunks that became zero and
//! queues the differing chunks with their digests; (3) meanwhile fetches the
//! queue in batches, several Fetch calls in flight, verifies each chunk
//! against the manifest's digest and writes it at its offset: a chunk that
//! does not match, or that a stream left out, is asked for again (a bounded
//! number of times) once the manifest is complete and its digest checked
//! against its entries; (4) removes what the source no longer has, sets modes
//! and owners and compares the digest of the staging directory's manifest
//! with the source's. Every step is idempotent, and a file's cached digests
//! are dropped before it is touched, so a pull cut off anywhere leaves a
//! directory the next pull completes.
//!
//! A first pass may run while the dataset is in use: a chunk that changed
//! since the manifest keeps mismatching and is left for the final pass
//! (`unresolved_chunks`). The final pass (`final_pass`) is only answered once
//! nothing uses the dataset, and fails unless the result is exact.

use super::hash_cache::{HashCache, Stamp};
use super::manifest::{chunk_count, chunk_hash, manifest, manifest_digest};
use super::paths::relative;
use super::sparse::punch_hole;
use super::{DatasetKey, TransferClient, CHUNK_SIZE};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use rk_proto::streaming::{ChunkDigest, ChunkRef, DatasetManifest, FetchRequest, FileEntry, FileKind, ManifestRequest};
use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
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

impl PullOptions {
    /// For a first pass: a chunk that still mismatches when asked for a
    /// second time most likely changed on the source since it was hashed;
    /// it is left to the final pass instead of being fetched again and again.
    pub fn first_pass() -> PullOptions {
        PullOptions { max_attempts: 2, ..PullOptions::default() }
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

/// Pulls dataset `key` into `staging` with the default options (a first
/// pass asks for a mismatching chunk only twice: [`PullOptions::first_pass`])
/// and the process's [`target_cache`].
pub async fn pull(
    client: &TransferClient,
    key: &DatasetKey,
    staging: &Path,
    final_pass: bool,
) -> Result<PullReport, PullError> {
    let options = if final_pass { PullOptions::default() } else { PullOptions::first_pass() };
    pull_with(client, key, staging, final_pass, &options, &target_cache()).await
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
    let staging = Arc::new(staging.to_path_buf());
    let (parts, local) = tokio::join!(
        manifest_parts(client, request),
        blocking({
            let (staging, cache) = (Arc::clone(&staging), Arc::clone(cache));
            move || local_entries(&staging, &cache)
        })
    );
    let (parts, local) = (parts?, Arc::new(local?));

    // The parts are planned as they come, and their chunks fetched meanwhile.
    let counters = Counters::default();
    let (wanted_tx, wanted_rx) = mpsc::unbounded_channel();
    let planner = plan_parts(parts, &staging, &local, cache, wanted_tx);
    let fetcher = fetch_all(client, key, UnboundedReceiverStream::new(wanted_rx), &staging, options, &counters);
    let (plan, mut pending) = tokio::try_join!(planner, fetcher)?;
    let mut retried = 0;
    for _ in 1..options.max_attempts {
        if pending.is_empty() {
            break;
        }
        tracing::debug!(dataset = %key, chunks = pending.len(), "chunks did not match their digests: asking again");
        retried += pending.len() as u64;
        pending = fetch_all(client, key, futures::stream::iter(pending), &staging, options, &counters).await?;
    }
    let unresolved: HashSet<(String, u64)> =
        pending.into_iter().map(|wanted| (wanted.chunk.path, wanted.chunk.index)).collect();
    let unresolved_count = unresolved.len() as u64;
    let first_unresolved = unresolved.iter().next().map(|(path, index)| format!("{path} chunk {index}"));

    let manifest = Arc::new(plan.manifest);
    let (removed, local_digest) = blocking({
        let (staging, manifest, cache) = (Arc::clone(&staging), Arc::clone(&manifest), Arc::clone(cache));
        move || {
            let removed = remove_stale(&staging, &manifest, &local, &cache)?;
            Ok((removed, finish(&staging, &manifest, &unresolved, &cache)?))
        }
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
        removed: plan.removed + removed,
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

/// The source's manifest in parts; a source without `ManifestParts` answers `Manifest`, taken as one part.
async fn manifest_parts(
    client: &TransferClient,
    request: ManifestRequest,
) -> Result<BoxStream<'static, Result<DatasetManifest, Status>>, PullError> {
    match client.clone().manifest_parts(request.clone()).await {
        Ok(parts) => Ok(parts.into_inner().boxed()),
        Err(status) if status.code() == Code::Unimplemented => {
            let manifest = client.clone().manifest(request).await?.into_inner();
            Ok(futures::stream::once(async { Ok(manifest) }).boxed())
        }
        Err(status) => Err(status.into()),
    }
}

/// A chunk to fetch and what its bytes must be: the manifest's digest and length.
#[derive(Clone, Debug)]
struct Wanted {
    chunk: ChunkRef,
    hash: Vec<u8>,
    len: usize,
}

/// The staging directory's entries (created if missing) by path.
fn local_entries(staging: &Path, cache: &HashCache) -> Result<HashMap<String, FileEntry>, PullError> {
    fs::create_dir_all(staging).map_err(io_error(format!("creating {}", staging.display())))?;
    let local = super::manifest(staging, cache).map_err(io_error(format!("reading {}", staging.display())))?;
    Ok(local.files.into_iter().map(|file| (file.path.clone(), file)).collect())
}

/// The whole manifest once its last part came, and what planning it did.
#[derive(Default)]
struct Plan {
    manifest: DatasetManifest,
    changed: u64,
    removed: u64,
}

/// Checks each part, brings the staging directory's structure in line with
/// it and sends the chunks to fetch to `wanted`; the manifest once complete.
async fn plan_parts(
    mut parts: BoxStream<'static, Result<DatasetManifest, Status>>,
    staging: &Arc<PathBuf>,
    local: &Arc<HashMap<String, FileEntry>>,
    cache: &Arc<HashCache>,
    wanted: mpsc::UnboundedSender<Wanted>,
) -> Result<Plan, PullError> {
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    while let Some(part) = parts.try_next().await? {
        if !plan.manifest.digest.is_empty() {
            return Err(PullError::InvalidManifest("a part came after the last one".into()));
        }
        check_part(&part, &mut seen)?;
        let (staging, local, cache) = (Arc::clone(staging), Arc::clone(local), Arc::clone(cache));
        let (files, part_plan, chunks) = blocking(move || {
            let (part_plan, chunks) = prepare(&staging, &part.files, &local, &cache)?;
            Ok((part.files, part_plan, chunks))
        })
        .await?;
        for chunk in chunks {
            let _ = wanted.send(chunk); // the fetcher only stops on an error, which ends the pull
        }
        plan.changed += part_plan.changed;
        plan.removed += part_plan.removed;
        plan.manifest.files.extend(files);
        plan.manifest.digest = part.digest;
    }
    if plan.manifest.digest.is_empty() {
        return Err(PullError::InvalidManifest("it ended before its last part".into()));
    }
    if manifest_digest(&plan.manifest.files) != plan.manifest.digest {
        return Err(PullError::InvalidManifest("its digest does not match its entries".into()));
    }
    plan.manifest.chunk_size = CHUNK_SIZE;
    Ok(plan)
}

/// A part names the chunk size, valid paths (each once in the manifest), and every chunk of each regular file.
fn check_part(part: &DatasetManifest, seen: &mut HashSet<String>) -> Result<(), PullError> {
    if part.chunk_size != CHUNK_SIZE {
        return Err(PullError::InvalidManifest(format!("chunk size {} (want {CHUNK_SIZE})", part.chunk_size)));
    }
    for file in &part.files {
        relative(&file.path).map_err(PullError::InvalidManifest)?;
        if !seen.insert(file.path.clone()) {
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
    }
    Ok(())
}

/// Brings the staging directory's entries for `files` in line with them
/// (an entry of another kind is removed first); the chunks to fetch.
fn prepare(
    staging: &Path,
    files: &[FileEntry],
    local: &HashMap<String, FileEntry>,
    cache: &HashCache,
) -> Result<(Plan, Vec<Wanted>), PullError> {
    let mut plan = Plan::default();
    let mut wanted = Vec::new();
    for file in files {
        let path = staging.join(&file.path);
        let mut local = local.get(&file.path);
        if let Some(entry) = local.filter(|entry| entry.kind != file.kind) {
            remove(&path, entry.kind).map_err(io_error(format!("removing {}", path.display())))?;
            cache.forget_under(&path);
            plan.removed += 1;
            local = None;
        }
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
            Ok(FileKind::Regular) => plan_file(&path, file, local, cache, &mut wanted)
                .map_err(io_error(format!("preparing {}", path.display())))?,
            Err(_) => return Err(PullError::InvalidManifest(format!("{}: unknown kind {}", file.path, file.kind))),
        };
        plan.changed += u64::from(changed);
    }
    Ok((plan, wanted))
}

/// Removes what the staging directory had and the source no longer has
/// (deepest first); how many entries. What lay under an entry that planning
/// replaced with one of another kind went with it: its path may now lead
/// through a symlink, so it is not touched again.
fn remove_stale(
    staging: &Path,
    manifest: &DatasetManifest,
    local: &HashMap<String, FileEntry>,
    cache: &HashCache,
) -> Result<u64, PullError> {
    let remote: HashMap<&str, i32> = manifest.files.iter().map(|file| (file.path.as_str(), file.kind)).collect();
    let replaced = |path: &str| remote.get(path).is_some_and(|kind| local.get(path).is_some_and(|l| l.kind != *kind));
    let mut stale: Vec<&FileEntry> = local.values().filter(|entry| !remote.contains_key(entry.path.as_str())).collect();
    stale.sort_by(|a, b| b.path.cmp(&a.path));
    for entry in &stale {
        if entry.path.match_indices('/').any(|(at, _)| replaced(&entry.path[..at])) {
            continue;
        }
        let path = staging.join(&entry.path);
        remove(&path, entry.kind).map_err(io_error(format!("removing {}", path.display())))?;
        cache.forget_under(&path);
    }
    Ok(stale.len() as u64)
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
    wanted: &mut Vec<Wanted>,
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
            let len = (file.size - chunk.index * CHUNK_SIZE).min(CHUNK_SIZE) as usize;
            let chunk_ref = ChunkRef { path: file.path.clone(), index: chunk.index };
            wanted.push(Wanted { chunk: chunk_ref, hash: chunk.hash.clone(), len });
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
    wanted: impl Stream<Item = Wanted>,
    staging: &Arc<PathBuf>,
    options: &PullOptions,
    counters: &Counters,
) -> Result<Vec<Wanted>, PullError> {
    wanted
        .ready_chunks(options.batch_chunks.max(1))
        .map(|batch| fetch_batch(client.clone(), key, Arc::clone(staging), batch, counters))
        .buffer_unordered(options.in_flight.max(1))
        .try_concat()
        .await
}

async fn fetch_batch(
    mut client: TransferClient,
    key: &DatasetKey,
    staging: Arc<PathBuf>,
    batch: Vec<Wanted>,
    counters: &Counters,
) -> Result<Vec<Wanted>, PullError> {
    let chunks = batch.iter().map(|wanted| wanted.chunk.clone()).collect();
    let mut outstanding: HashMap<(String, u64), Wanted> =
        batch.into_iter().map(|wanted| ((wanted.chunk.path.clone(), wanted.chunk.index), wanted)).collect();
    let request = FetchRequest { namespace: key.namespace.clone(), name: key.name.clone(), chunks };
    let mut stream = client.fetch(request).await?.into_inner();
    let mut failed = Vec::new();
    while let Some(chunk) = stream.message().await? {
        let Some(wanted) = outstanding.remove(&(chunk.path, chunk.index)) else {
            continue; // not asked for (or twice): ignored
        };
        counters.bytes.fetch_add(chunk.data.len() as u64, Ordering::Relaxed);
        counters.chunks.fetch_add(1, Ordering::Relaxed);
        let staging = Arc::clone(&staging);
        let (wanted, written) = blocking(move || {
            let written = verify_and_write(&staging, &wanted, &chunk.data)?;
            Ok((wanted, written))
        })
        .await?;
        if !written {
            failed.push(wanted);
        }
    }
    failed.extend(outstanding.into_values());
    Ok(failed)
}

/// Writes the chunk if it is what the manifest says; whether it was.
fn verify_and_write(staging: &Path, wanted: &Wanted, data: &[u8]) -> Result<bool, PullError> {
    if data.len() != wanted.len || chunk_hash(data) != wanted.hash {
        return Ok(false);
    }
    let path = staging.join(&wanted.chunk.path);
    let file = OpenOptions::new().write(true).open(&path).map_err(io_error(format!("opening {}", path.display())))?;
    file.write_all_at(data, wanted.chunk.index * CHUNK_SIZE)
        .map_err(io_error(format!("writing {}", path.display())))?;
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
