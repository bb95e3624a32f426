//! Holes: where a file's data lies (SEEK_DATA/SEEK_HOLE), whether a buffer is
//! all zeros, and punching a chunk back into a hole.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

/// The `[start, end)` ranges of `file` (of `size` bytes) that may hold data.
/// A filesystem without SEEK_DATA reports the whole file as data.
pub fn data_ranges(file: &File, size: u64) -> Vec<(u64, u64)> {
    let fd = file.as_raw_fd();
    let mut ranges = Vec::new();
    let mut offset = 0u64;
    while offset < size {
        // SAFETY: lseek on a descriptor we own; only the file offset changes, and reads use pread.
        let data = unsafe { libc::lseek(fd, offset as libc::off_t, libc::SEEK_DATA) };
        if data < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO) {
                break; // only a hole from `offset` to the end
            }
            return vec![(0, size)];
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        let end = if hole < 0 { size } else { (hole as u64).min(size) };
        if (data as u64) >= end {
            break;
        }
        ranges.push((data as u64, end));
        offset = end;
    }
    ranges
}

/// Whether `[start, end)` overlaps one of `ranges` (sorted, as from [`data_ranges`]).
pub fn overlaps(ranges: &[(u64, u64)], start: u64, end: u64) -> bool {
    let first = ranges.partition_point(|&(_, range_end)| range_end <= start);
    ranges.get(first).is_some_and(|&(range_start, _)| range_start < end)
}

/// Whether every byte is zero (word at a time, so it vectorises).
pub fn is_zero(buffer: &[u8]) -> bool {
    let mut words = buffer.chunks_exact(64);
    let mut any = 0u8;
    for block in &mut words {
        any |= block.iter().fold(0u8, |acc, &b| acc | b);
        if any != 0 {
            return false;
        }
    }
    words.remainder().iter().all(|&b| b == 0)
}

/// Turns `[offset, offset + len)` into a hole (zeros where holes are not supported).
pub fn punch_hole(file: &File, offset: u64, len: u64) -> io::Result<()> {
    // SAFETY: fallocate on a descriptor we own.
    let result = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset as libc::off_t,
            len as libc::off_t,
        )
    };
    if result == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EOPNOTSUPP) {
        file.write_all_at(&vec![0u8; len as usize], offset)
    } else {
        Err(error)
    }
}

/// Reads up to `buffer.len()` bytes at `offset`, fewer only at end of file.
pub fn read_full_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read_at(&mut buffer[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn zero_checks() {
        assert!(is_zero(&[]));
        assert!(is_zero(&[0; 1000]));
        let mut buffer = vec![0u8; 1000];
        buffer[999] = 1;
        assert!(!is_zero(&buffer));
        buffer[999] = 0;
        buffer[3] = 1;
        assert!(!is_zero(&buffer));
    }

    #[test]
    fn holes_are_found_and_punched() {
        let dir = tempfile::tempdir().unwrap();
        let file =
            File::options().read(true).write(true).create(true).truncate(true).open(dir.path().join("f")).unwrap();
        let mib = 1 << 20;
        file.set_len(64 * mib).unwrap();
        file.write_all_at(&[7u8; 4096], 10 * mib).unwrap();
        let ranges = data_ranges(&file, 64 * mib);
        assert!(overlaps(&ranges, 10 * mib, 11 * mib), "{ranges:?}");
        assert!(!overlaps(&ranges, 40 * mib, 41 * mib), "{ranges:?}");
        punch_hole(&file, 10 * mib, mib).unwrap();
        let mut buffer = vec![1u8; 4096];
        read_full_at(&file, &mut buffer, 10 * mib).unwrap();
        assert!(is_zero(&buffer));
        assert!(file.metadata().unwrap().blocks() * 512 < mib);
    }
}
