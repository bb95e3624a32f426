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
