//! The manifest of a directory: every directory, regular file and symlink
//! under it (relative paths, sorted, a directory before its contents), with
//! each file's 1 MiB chunk digests, and one digest over all of it.

use super::hash_cache::{HashCache, Stamp};
use super::paths::open_beneath;
use super::sparse::{data_ranges, is_zero, overlaps, read_full_at};
use super::CHUNK_SIZE;
use rk_proto::streaming::{ChunkDigest, DatasetManifest, FileEntry, FileKind};
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

/// How many chunks a file of `size` bytes has.
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK_SIZE)
}

/// The digest a non-zero chunk's bytes must have.
pub fn chunk_hash(data: &[u8]) -> Vec<u8> {
    blake3::hash(data).as_bytes().to_vec()
}

/// Chunks hashed before a part of the manifest goes out (see [`manifest_in_parts`]).
const PART_CHUNKS: usize = 64;

/// The manifest of `dir` as it is now; `cache` supplies the digests of files
/// unchanged since they were last hashed and learns the new ones. Entries
/// that vanish while the walk runs are left out; devices, fifos and sockets
/// are not part of a dataset.
pub fn manifest(dir: &Path, cache: &HashCache) -> io::Result<DatasetManifest> {
    let (mut files, mut digest) = (Vec::new(), Vec::new());
    manifest_in_parts(dir, cache, |part| {
        files.extend(part.files);
        digest = part.digest;
        true
    })?;
    Ok(DatasetManifest { files, digest, chunk_size: CHUNK_SIZE })
}

/// [`manifest`] handed to `send` in parts as the files are hashed: each part
/// holds the next entries in order (about [`PART_CHUNKS`] chunks' worth), the
/// last one (possibly with no entries) also the digest over all of them.
/// `send` returns false to stop (the receiver went away).
pub fn manifest_in_parts(
    dir: &Path,
    cache: &HashCache,
    mut send: impl FnMut(DatasetManifest) -> bool,
) -> io::Result<()> {
    let mut entries = Vec::new();
    walk(dir, "", &mut entries)?;
    entries.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let mut all = Vec::with_capacity(entries.len());
    let mut part = Vec::new();
    let mut part_chunks = 0;
    for (mut file, metadata) in entries {
        if let Some(metadata) = metadata {
            file.chunks = match file_chunks(dir, &file.path, &metadata, cache) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                chunks => chunks?.as_ref().clone(),
            };
        }
        part_chunks += file.chunks.len();
        all.push(file.clone());
        part.push(file);
        if part_chunks >= PART_CHUNKS {
            let files = std::mem::take(&mut part);
            if !send(DatasetManifest { files, digest: Vec::new(), chunk_size: CHUNK_SIZE }) {
                return Ok(());
            }
            part_chunks = 0;
        }
    }
    send(DatasetManifest { files: part, digest: manifest_digest(&all), chunk_size: CHUNK_SIZE });
    Ok(())
}

/// Every entry under `root` without its chunks, with the metadata of regular files (hashed later).
fn walk(root: &Path, relative: &str, files: &mut Vec<(FileEntry, Option<fs::Metadata>)>) -> io::Result<()> {
    let entries = match fs::read_dir(if relative.is_empty() { root.to_path_buf() } else { root.join(relative) }) {
        Err(error) if error.kind() == io::ErrorKind::NotFound && !relative.is_empty() => return Ok(()),
        entries => entries?,
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_str().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("{}: the name is not UTF-8", entry.path().display()))
        })?;
        let path = if relative.is_empty() { name.to_string() } else { format!("{relative}/{name}") };
        let metadata = match entry.path().symlink_metadata() {
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            metadata => metadata?,
        };
        let mut file = FileEntry {
            path,
            mode: metadata.mode() & 0o7777,
            uid: metadata.uid(),
            gid: metadata.gid(),
            ..FileEntry::default()
        };
        let file_type = metadata.file_type();
        if file_type.is_dir() {
            file.kind = FileKind::Directory as i32;
            let path = file.path.clone();
            files.push((file, None));
            walk(root, &path, files)?;
            continue;
        } else if file_type.is_symlink() {
            file.kind = FileKind::Symlink as i32;
            file.mode = 0o777;
            let target = match fs::read_link(entry.path()) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                target => target?,
            };
            file.link_target = target.to_str().map(str::to_string).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("{}: the link is not UTF-8", entry.path().display()))
            })?;
            files.push((file, None));
        } else if file_type.is_file() {
            file.kind = FileKind::Regular as i32;
            file.size = metadata.len();
            files.push((file, Some(metadata)));
        } else {
            tracing::debug!(path = %entry.path().display(), "not a file, directory or symlink: left out of the dataset manifest");
        }
    }
    Ok(())
}

fn file_chunks(
    root: &Path,
    relative: &str,
    metadata: &fs::Metadata,
    cache: &HashCache,
) -> io::Result<Arc<Vec<ChunkDigest>>> {
    let path = &root.join(relative);
    let stamp = Stamp::of(metadata);
    if let Some(chunks) = cache.get(path, &stamp) {
        return Ok(chunks);
    }
    let hashed_at = SystemTime::now();
    let file = open_beneath(root, Path::new(relative))?;
    let chunks = Arc::new(hash_file(&file, metadata.len())?);
    cache.insert(path, stamp, hashed_at, Arc::clone(&chunks));
    Ok(chunks)
}

/// The chunk digests of the first `size` bytes of `file`: holes (SEEK_DATA)
/// are zero chunks without being read; big files are hashed on a few threads.
pub fn hash_file(file: &File, size: u64) -> io::Result<Vec<ChunkDigest>> {
    let count = chunk_count(size) as usize;
    let ranges = data_ranges(file, size);
    let mut chunks: Vec<ChunkDigest> =
        (0..count as u64).map(|index| ChunkDigest { index, ..ChunkDigest::default() }).collect();
    let workers = if count >= 16 { std::thread::available_parallelism().map_or(1, |n| n.get()).min(4) } else { 1 };
    let per_worker = count.div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            chunks.chunks_mut(per_worker).map(|part| scope.spawn(|| hash_chunks(file, size, &ranges, part))).collect();
        workers.into_iter().try_for_each(|worker| worker.join().expect("hashing thread panicked"))
    })?;
    Ok(chunks)
}

fn hash_chunks(file: &File, size: u64, ranges: &[(u64, u64)], chunks: &mut [ChunkDigest]) -> io::Result<()> {
    let mut buffer = vec![0u8; CHUNK_SIZE as usize];
    for chunk in chunks {
        let start = chunk.index * CHUNK_SIZE;
        let end = (start + CHUNK_SIZE).min(size);
        if !overlaps(ranges, start, end) {
            chunk.zero = true;
            continue;
        }
        let read = read_full_at(file, &mut buffer[..(end - start) as usize], start)?;
        let data = &buffer[..read];
        if is_zero(data) {
            chunk.zero = true;
        } else {
            chunk.hash = chunk_hash(data);
        }
    }
    Ok(())
}

/// One digest over every entry's path, kind, mode, owner, size, link target
/// and chunk digests: two trees with equal digests are equal.
pub fn manifest_digest(files: &[FileEntry]) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    let mut bytes = |data: &[u8]| {
        hasher.update(&(data.len() as u64).to_le_bytes());
        hasher.update(data);
    };
    bytes(&CHUNK_SIZE.to_le_bytes());
    for file in files {
        bytes(file.path.as_bytes());
        bytes(&file.kind.to_le_bytes());
        bytes(&file.mode.to_le_bytes());
        bytes(&file.uid.to_le_bytes());
        bytes(&file.gid.to_le_bytes());
        bytes(&file.size.to_le_bytes());
        bytes(file.link_target.as_bytes());
        bytes(&(file.chunks.len() as u64).to_le_bytes());
        for chunk in &file.chunks {
            bytes(&chunk.index.to_le_bytes());
            bytes(if chunk.zero { b"z" } else { b"d" });
            bytes(&chunk.hash);
        }
    }
    hasher.finalize().as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileExt, PermissionsExt};

    #[test]
    fn lists_files_dirs_links_with_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/b/small"), b"hello").unwrap();
        fs::write(root.join("empty"), b"").unwrap();
        fs::set_permissions(root.join("empty"), fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink("a/b/small", root.join("link")).unwrap();
        let big = File::create(root.join("big")).unwrap();
        big.set_len(3 * CHUNK_SIZE + 10).unwrap();
        big.write_all_at(b"x", CHUNK_SIZE + 5).unwrap();

        let manifest = manifest(root, &HashCache::new()).unwrap();
        let paths: Vec<_> = manifest.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a", "a/b", "a/b/small", "big", "empty", "link"]);
        let big = &manifest.files[3];
        assert_eq!(big.chunks.len(), 4);
        assert_eq!(big.chunks.iter().map(|c| c.zero).collect::<Vec<_>>(), [true, false, true, true]);
        assert_eq!(manifest.files[2].chunks[0].hash, chunk_hash(b"hello"));
        assert_eq!(manifest.files[4].mode, 0o600);
        assert!(manifest.files[4].chunks.is_empty());
        assert_eq!(manifest.files[5].link_target, "a/b/small");

        let again = super::manifest(root, &HashCache::new()).unwrap();
        assert_eq!(manifest.digest, again.digest);
        fs::write(root.join("a/b/small"), b"hellp").unwrap();
        assert_ne!(manifest.digest, super::manifest(root, &HashCache::new()).unwrap().digest);
    }

    #[test]
    fn parts_go_out_as_files_are_hashed_and_add_up_to_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("d")).unwrap();
        for name in ["a", "b", "d/c"] {
            let file = File::create(root.join(name)).unwrap();
            file.set_len(PART_CHUNKS as u64 * CHUNK_SIZE).unwrap();
            file.write_all_at(name.as_bytes(), 7).unwrap();
        }
        fs::write(root.join("z"), b"small").unwrap();

        let mut parts = Vec::new();
        manifest_in_parts(root, &HashCache::new(), |part| {
            parts.push(part);
            true
        })
        .unwrap();
        let paths: Vec<Vec<&str>> =
            parts.iter().map(|part| part.files.iter().map(|f| f.path.as_str()).collect()).collect();
        assert_eq!(paths, [vec!["a"], vec!["b"], vec!["d", "d/c"], vec!["z"]]);
        assert!(parts[..3].iter().all(|part| part.digest.is_empty()), "only the last part has the digest");
        let whole = manifest(root, &HashCache::new()).unwrap();
        assert_eq!(parts[3].digest, whole.digest);
        assert_eq!(parts.into_iter().flat_map(|part| part.files).collect::<Vec<_>>(), whole.files);
    }
}
