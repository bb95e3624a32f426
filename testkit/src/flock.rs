//! Advisory file locks (flock) shared by test processes: held while the open
//! file lives, and released by the kernel when the process dies.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A held lock on a file; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct Flock {
    _file: File,
}

impl Flock {
    /// Waits for the exclusive lock on `path` (created if missing).
    pub(crate) fn exclusive(path: &Path) -> io::Result<Flock> {
        Self::lock(path, libc::LOCK_EX)?.ok_or_else(|| io::Error::other("flock refused a blocking lock"))
    }

    /// The exclusive lock on `path` if no one else holds it now.
    pub(crate) fn try_exclusive(path: &Path) -> io::Result<Option<Flock>> {
        Self::lock(path, libc::LOCK_EX | libc::LOCK_NB)
    }

    fn lock(path: &Path, operation: libc::c_int) -> io::Result<Option<Flock>> {
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        loop {
            // SAFETY: the descriptor is open for the duration of the call.
            if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
                return Ok(Some(Flock { _file: file }));
            }
            let error = io::Error::last_os_error();
            match error.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(None),
                _ => return Err(error),
            }
        }
    }
}
