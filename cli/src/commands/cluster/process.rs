//! Child processes that outlive rkctl: started in their own process group,
//! tracked by pid files, stopped with SIGTERM then SIGKILL.

use super::components::Component;
use anyhow::Context;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn pid_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.pid"))
}

pub fn log_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("logs").join(format!("{name}.log"))
}

pub fn spawn(dir: &Path, component: &Component) -> anyhow::Result<()> {
    remove_stale_own_pid_file(component)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path(dir, &component.name))
        .with_context(|| format!("opening the log of {}", component.name))?;
    let child = Command::new(&component.program)
        .args(&component.args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C in rkctl's terminal must not stop the cluster.
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", component.program.display()))?;
    std::fs::write(pid_path(dir, &component.name), child.id().to_string())?;
    Ok(())
}

/// A program that keeps a pid file of its own (`--pidfile=PATH`, dockerd)
/// refuses to start while the pid in it exists, and a daemon killed a moment
/// ago lingers as a zombie for a while: a file naming a process that is not
/// running is removed first.
fn remove_stale_own_pid_file(component: &Component) -> anyhow::Result<()> {
    let Some(path) = component.args.iter().find_map(|arg| arg.strip_prefix("--pidfile=")) else {
        return Ok(());
    };
    let recorded = std::fs::read_to_string(path).ok().and_then(|text| text.trim().parse::<i32>().ok());
    if recorded.is_some_and(|pid| !alive(pid)) {
        std::fs::remove_file(path).with_context(|| format!("removing the stale pid file {path}"))?;
    }
    Ok(())
}

/// The pid of the component if it is running.
pub fn running(dir: &Path, name: &str) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_path(dir, name)).ok()?.trim().parse().ok()?;
    alive(pid).then_some(pid)
}

fn alive(pid: i32) -> bool {
    // Signal 0 checks for existence; a zombie child of ours would not be reaped, but
    // our components are never our children once rkctl has exited.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    exists && !is_zombie(pid)
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Stops the component; true if it was running.
pub fn stop(dir: &Path, name: &str) -> anyhow::Result<bool> {
    let Some(pid) = running(dir, name) else {
        let _ = std::fs::remove_file(pid_path(dir, name));
        return Ok(false);
    };
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    std::fs::remove_file(pid_path(dir, name))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon(pid_file: &Path) -> Component {
        Component {
            name: "dockerd".into(),
            program: "dockerd".into(),
            args: vec![format!("--pidfile={}", pid_file.display())],
            health_url: String::new(),
        }
    }

    #[test]
    fn a_pid_file_naming_a_gone_process_is_removed_and_a_live_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("docker-daemon.pid");
        let mut gone = Command::new("true").spawn().unwrap();
        let gone_pid = gone.id();
        gone.wait().unwrap();
        std::fs::write(&pid_file, gone_pid.to_string()).unwrap();
        remove_stale_own_pid_file(&daemon(&pid_file)).unwrap();
        assert!(!pid_file.exists(), "the stale pid file is gone");

        std::fs::write(&pid_file, std::process::id().to_string()).unwrap();
        remove_stale_own_pid_file(&daemon(&pid_file)).unwrap();
        assert!(pid_file.exists(), "a running process's pid file stays");
    }
}
