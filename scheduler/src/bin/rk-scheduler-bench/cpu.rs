//! CPU time of each component, from /proc: the apiserver's, the scheduler's
//! and the controller manager's runtime threads (by name), the rest of this process (the
//! bench's load and watch), and the etcd child process. All share the same
//! cores, so CPU per pod is what bounds throughput here.

use crate::cluster::{APISERVER_THREADS, CONTROLLER_MANAGER_THREADS, SCHEDULER_THREADS};
use anyhow::Context;
use std::ops::Sub;
use std::time::Duration;

/// Linux reports utime and stime in USER_HZ ticks, 100 per second.
const TICKS_PER_SECOND: u64 = 100;

#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTimes {
    pub apiserver: Duration,
    pub scheduler: Duration,
    pub controller_manager: Duration,
    pub etcd: Duration,
    pub bench: Duration,
}

impl CpuTimes {
    pub fn sample(etcd_pid: u32) -> anyhow::Result<CpuTimes> {
        let mut times = CpuTimes { etcd: stat(&format!("/proc/{etcd_pid}"))?.1, ..Default::default() };
        for task in std::fs::read_dir("/proc/self/task").context("listing this process's threads")? {
            let Ok((name, cpu)) = stat(&task?.path().to_string_lossy()) else { continue };
            match name.as_str() {
                APISERVER_THREADS => times.apiserver += cpu,
                SCHEDULER_THREADS => times.scheduler += cpu,
                CONTROLLER_MANAGER_THREADS => times.controller_manager += cpu,
                _ => times.bench += cpu,
            }
        }
        Ok(times)
    }
}

impl Sub for CpuTimes {
    type Output = CpuTimes;
    fn sub(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            apiserver: self.apiserver.saturating_sub(earlier.apiserver),
            scheduler: self.scheduler.saturating_sub(earlier.scheduler),
            controller_manager: self.controller_manager.saturating_sub(earlier.controller_manager),
            etcd: self.etcd.saturating_sub(earlier.etcd),
            bench: self.bench.saturating_sub(earlier.bench),
        }
    }
}

/// The etcd process this bench runs: its living child named `etcd`.
pub fn etcd_pid() -> anyhow::Result<u32> {
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").context("listing /proc")? {
        let Some(pid) = entry?.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let (name, rest) = split_stat(&text)?;
        // An earlier run's etcd may linger as a zombie until it is reaped.
        let alive = rest.first() != Some(&"Z");
        if name == "etcd" && alive && rest.get(1).and_then(|ppid| ppid.parse::<u32>().ok()) == Some(me) {
            return Ok(pid);
        }
    }
    anyhow::bail!("no etcd child of this process in /proc")
}

/// The name and user + system CPU time in `<dir>/stat` (a process or a thread).
fn stat(dir: &str) -> anyhow::Result<(String, Duration)> {
    let text = std::fs::read_to_string(format!("{dir}/stat")).with_context(|| format!("reading {dir}/stat"))?;
    let (name, fields) = split_stat(&text)?;
    // After the name: state, ppid, ..., utime and stime are fields 14 and 15 of stat(5).
    let ticks = |field: usize| fields.get(field - 3).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
    Ok((name, Duration::from_millis((ticks(14) + ticks(15)) * 1000 / TICKS_PER_SECOND)))
}

/// `pid (name) state ppid ...` split into the name and the fields after it
/// (the name may hold spaces and parentheses, so it ends at the last ')').
fn split_stat(text: &str) -> anyhow::Result<(String, Vec<&str>)> {
    let open = text.find('(').context("malformed stat")?;
    let close = text.rfind(')').context("malformed stat")?;
    Ok((text[open + 1..close].to_string(), text[close + 1..].split_whitespace().collect()))
}
