//! Loopback ports for servers under test. Tests hand port numbers to the
//! processes they start, so a port must stay theirs between the moment it is
//! picked and the moment the server binds it. Two things could take it:
//! another test process picking the same number, and the kernel giving it to
//! an outgoing connection. Ports therefore come from below the kernel's
//! ephemeral range (and below the NodePort range), and each is leased with an
//! flock that this process holds until it exits.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::flock::Flock;

/// Shared by every test process on the machine; tests run as root, and a
/// user without /run falls back to a directory of the temp dir.
const LOCK_DIR: &str = "/run/rk-test-ports";
/// Under the ephemeral range (32768 up by default) and NodePorts (30000 up).
const PORTS: std::ops::Range<u16> = 20000..30000;

/// Leases held for the life of the process: a test's servers may bind late,
/// and a test process is short-lived.
static HELD: Mutex<Vec<Flock>> = Mutex::new(Vec::new());
static PICKED: AtomicU32 = AtomicU32::new(0);

/// A loopback TCP port that no other test process holds and nothing listens on.
///
/// Panics when every port of the range is taken: tests cannot go on.
pub fn free_port() -> u16 {
    // Processes start at different places so they rarely contend for a lock.
    let start = std::process::id().wrapping_mul(7919).wrapping_add(PICKED.fetch_add(1, Ordering::Relaxed) * 13);
    let Some((port, lock)) = lease(PORTS, start) else {
        panic!("every port in {PORTS:?} is leased by a test process or in use (locks in {})", lock_dir().display())
    };
    HELD.lock().unwrap().push(lock);
    port
}

/// The first port of `ports`, counting round from `start`, that is free and
/// not leased, with its lease.
fn lease(ports: std::ops::Range<u16>, start: u32) -> Option<(u16, Flock)> {
    let dir = lock_dir();
    let span = u32::from(ports.end - ports.start);
    (0..span).find_map(|step| {
        let port = ports.start + ((start.wrapping_add(step)) % span) as u16;
        let path = dir.join(format!("{port}.lock"));
        let lock = Flock::try_exclusive(&path).unwrap_or_else(|e| panic!("locking {}: {e}", path.display()))?;
        // Held by no test, but a server left running (or anything else) may listen there.
        TcpListener::bind(("0.0.0.0", port)).ok().map(|_| (port, lock))
    })
}

/// Where the leases' lock files are, created when missing.
fn lock_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let fallback = std::env::temp_dir().join("rk-test-ports");
        let dir = if std::fs::create_dir_all(LOCK_DIR).is_ok() { PathBuf::from(LOCK_DIR) } else { fallback };
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        dir
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_picked_in_turn_differ_stay_leased_and_are_bindable() {
        let ports: Vec<u16> = (0..20).map(|_| free_port()).collect();
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
        for port in ports {
            assert!(PORTS.contains(&port), "{port}");
            let path = lock_dir().join(format!("{port}.lock"));
            assert!(Flock::try_exclusive(&path).unwrap().is_none(), "port {port} is still leased");
            TcpListener::bind(("127.0.0.1", port)).unwrap();
        }
    }

    #[test]
    fn a_port_someone_listens_on_is_not_leased() {
        let (port, lock) = lease(PORTS, std::process::id()).unwrap();
        drop(lock);
        let _server_left_running = TcpListener::bind(("127.0.0.1", port)).unwrap();
        assert!(lease(port..port + 1, 0).is_none());
    }
}
