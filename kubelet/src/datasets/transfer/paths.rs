//! Paths inside a dataset: what a manifest or a fetch may name, and opening a
//! file beneath the dataset's directory without following any symlink (a
//! container that swaps a directory for a symlink to /etc must not make the
//! kubelet send /etc's files).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// `path` as a relative path of plain components (no `.`, `..`, root or empty parts).
pub fn relative(path: &str) -> Result<PathBuf, String> {
    let plain = |part: &str| !part.is_empty() && part != "." && part != ".." && !part.contains('\0');
    if path.split('/').all(plain) {
        Ok(PathBuf::from(path))
    } else {
        Err(format!("invalid dataset path {path:?}"))
    }
}

fn openat(dir: Option<&OwnedFd>, name: &std::ffi::OsStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let name = CString::new(name.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let dirfd = dir.map_or(libc::AT_FDCWD, |fd| fd.as_raw_fd());
    // SAFETY: a valid NUL-terminated name; the returned descriptor is owned by us.
    let fd = unsafe { libc::openat(dirfd, name.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        // SAFETY: a fresh descriptor nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// Opens `root/relative` for reading, refusing symlinks on the way (ELOOP or ENOTDIR).
pub fn open_beneath(root: &Path, relative: &Path) -> io::Result<File> {
    let mut dir = openat(None, root.as_os_str(), libc::O_PATH | libc::O_DIRECTORY)?;
    let mut components = relative.components().peekable();
    while let Some(component) = components.next() {
        let Component::Normal(name) = component else {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        };
        if components.peek().is_some() {
            dir = openat(Some(&dir), name, libc::O_PATH | libc::O_DIRECTORY)?;
        } else {
            return Ok(File::from(openat(Some(&dir), name, libc::O_RDONLY)?));
        }
    }
    Err(io::Error::from(io::ErrorKind::InvalidInput))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths() {
        assert!(relative("a/b.txt").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/"] {
            assert!(relative(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn symlinks_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/f"), b"inside").unwrap();
        std::fs::write(dir.path().join("secret"), b"outside").unwrap();
        let root = dir.path().join("d");
        assert!(open_beneath(&root, Path::new("f")).is_ok());
        std::os::unix::fs::symlink("../secret", root.join("link")).unwrap();
        std::os::unix::fs::symlink("..", root.join("up")).unwrap();
        assert!(open_beneath(&root, Path::new("link")).is_err());
        assert!(open_beneath(&root, Path::new("up/secret")).is_err());
    }
}
