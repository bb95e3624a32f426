//! One dockerd shared by every test run on the machine, started on first use
//! and left running: starting a dockerd takes seconds and its images (built
//! once) are worth keeping between runs.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::flock::Flock;

const RUN_DIR: &str = "/run/rk-test-docker";
const SOCKET: &str = "/run/rk-test-docker/docker.sock";
const DATA_ROOT: &str = "/var/lib/rk-test-docker";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared test dockerd.
#[derive(Debug, Clone)]
pub struct TestDocker {
    host: String,
}

impl TestDocker {
    /// The Docker host, `unix:///run/rk-test-docker/docker.sock`.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// The shared test dockerd, started (detached, under a lock so concurrent
/// tests start only one) when its socket does not answer.
///
/// Panics with dockerd's log when it cannot be started: tests cannot go on.
pub fn shared_dockerd() -> TestDocker {
    let docker = TestDocker { host: format!("unix://{SOCKET}") };
    if ping(Path::new(SOCKET)) {
        return docker;
    }
    std::fs::create_dir_all(RUN_DIR).unwrap_or_else(|e| panic!("creating {RUN_DIR}: {e}"));
    let lock_path = Path::new(RUN_DIR).join("lock");
    let _lock = Flock::exclusive(&lock_path).unwrap_or_else(|e| panic!("locking {}: {e}", lock_path.display()));
    // Another test may have started it while this one waited for the lock.
    if !ping(Path::new(SOCKET)) {
        start_dockerd();
    }
    docker
}

// dockerd is meant to outlive the test that started it: it is not waited for.
#[allow(clippy::zombie_processes)]
fn start_dockerd() {
    let log_path = Path::new(RUN_DIR).join("dockerd.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", log_path.display()));
    let log_err = log.try_clone().unwrap_or_else(|e| panic!("duplicating {}: {e}", log_path.display()));
    let mut command = Command::new("dockerd");
    command
        .arg(format!("--host=unix://{SOCKET}"))
        .arg(format!("--data-root={DATA_ROOT}"))
        .arg(format!("--exec-root={RUN_DIR}/exec"))
        .arg(format!("--pidfile={RUN_DIR}/docker.pid"))
        // No default docker0 bridge: tests make their own networks in leased CIDRs.
        .arg("--bridge=none")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err));
    // SAFETY: setsid is async-signal-safe. Its own session keeps dockerd out of
    // the test's process group, which the test runner kills on a timeout.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting dockerd ({e}): run scripts/setup, which installs docker.io"));
    let deadline = Instant::now() + START_TIMEOUT;
    while !ping(Path::new(SOCKET)) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("dockerd exited ({status}) before answering; its log:\n{}", log_tail(&log_path));
        }
        if Instant::now() > deadline {
            panic!("dockerd did not answer on {SOCKET} within {START_TIMEOUT:?}; its log:\n{}", log_tail(&log_path));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Whether a dockerd answers `GET /_ping` with `OK` on `socket`.
fn ping(socket: &Path) -> bool {
    let answer = (|| -> std::io::Result<String> {
        let mut stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(PING_TIMEOUT))?;
        stream.set_write_timeout(Some(PING_TIMEOUT))?;
        stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    })();
    answer.is_ok_and(|text| text.starts_with("HTTP/1.") && text.contains(" 200 ") && text.ends_with("OK"))
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Where `scripts/build-images` puts the static programs of rk's images:
/// `$CARGO_TARGET_DIR` (or the workspace's `target`) + `x86_64-unknown-linux-gnu/release`.
pub fn static_images_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testkit sits in the workspace").join("target")
    });
    target.join("x86_64-unknown-linux-gnu").join("release")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_dockerd_answers_pings() {
        let docker = shared_dockerd();
        assert_eq!(docker.host(), format!("unix://{SOCKET}"));
        assert!(ping(Path::new(SOCKET)));
        assert!(!ping(Path::new("/nonexistent/docker.sock")));
    }
}
