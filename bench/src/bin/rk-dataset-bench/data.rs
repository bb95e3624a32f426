//! The dataset: files of random data, and the rewrites made while it moves.

use rk_kubelet::datasets::transfer::CHUNK_SIZE;
use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub struct Dataset {
    /// Node A's `<root-dir>/datasets`.
    pub datasets_root: PathBuf,
    pub files: Vec<PathBuf>,
    pub file_mib: u64,
}

/// A fast pseudo-random stream (xorshift): incompressible, not repeating.
pub fn noise(buffer: &mut [u8], seed: &mut u64) {
    for word in buffer.chunks_mut(8) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        word.copy_from_slice(&seed.to_le_bytes()[..word.len()]);
    }
}

impl Dataset {
    pub fn generate(root: &Path, files: u64, file_mib: u64) -> anyhow::Result<Dataset> {
        let datasets_root = root.join("datasets");
        let dir = datasets_root.join("bench/data");
        fs::create_dir_all(&dir)?;
        let mut seed = 0x5eed_u64;
        let mut buffer = vec![0u8; CHUNK_SIZE as usize];
        let mut paths = Vec::new();
        for i in 0..files {
            let path = dir.join(format!("part-{i:03}"));
            let mut file = std::io::BufWriter::new(fs::File::create(&path)?);
            for _ in 0..file_mib {
                noise(&mut buffer, &mut seed);
                file.write_all(&buffer)?;
            }
            file.into_inner()?.sync_all()?;
            paths.push(path);
        }
        Ok(Dataset { datasets_root, files: paths, file_mib })
    }

    pub fn chunks(&self) -> u64 {
        self.files.len() as u64 * self.file_mib
    }

    pub fn bytes(&self) -> u64 {
        self.chunks() * CHUNK_SIZE
    }

    /// Overwrites chunk `n` of the dataset (counted across its files) with new random data.
    pub fn rewrite(&self, n: u64, seed: &mut u64) -> std::io::Result<()> {
        let mut buffer = vec![0u8; CHUNK_SIZE as usize];
        noise(&mut buffer, seed);
        let file = fs::File::options().write(true).open(&self.files[(n / self.file_mib) as usize])?;
        file.write_all_at(&buffer, (n % self.file_mib) * CHUNK_SIZE)
    }
}
