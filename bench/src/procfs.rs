//! A process's resident memory and CPU time, read from `/proc/<pid>/status`
//! and `/proc/<pid>/stat`, and the machine's load average.

use std::io::{Error, ErrorKind};
use std::time::Duration;

/// Linux reports utime and stime in USER_HZ ticks, 100 per second on every architecture it supports.
const TICKS_PER_SECOND: u64 = 100;

/// Resident memory of a process.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// VmRSS: resident now.
    pub rss_kib: u64,
    /// VmHWM: the most it was ever resident.
    pub peak_kib: u64,
}

impl Memory {
    pub fn read(pid: u32) -> std::io::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> std::io::Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse().ok())
                .ok_or_else(|| malformed(pid, &format!("no {name} in status")))
        };
        Ok(Memory { rss_kib: field("VmRSS:")?, peak_kib: field("VmHWM:")? })
    }

    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    pub fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }
}

/// The fields of `/proc/<pid>/stat` the benchmarks use.
#[derive(Debug, Clone)]
pub struct Stat {
    /// The executable's name (at most 15 characters).
    pub name: String,
    pub parent: u32,
    /// User + system CPU time since the process started.
    pub cpu: Duration,
}

impl Stat {
    pub fn read(pid: u32) -> std::io::Result<Stat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The name is in parentheses and may hold spaces; the other fields follow the last ')'.
        let (head, rest) = text.rsplit_once(')').ok_or_else(|| malformed(pid, "no ')' in stat"))?;
        let name = head.split_once('(').map(|(_, name)| name.to_string()).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After the name: state(0) ppid(1) ... utime(11) stime(12).
        let field = |i: usize| -> std::io::Result<u64> {
            fields.get(i).and_then(|field| field.parse().ok()).ok_or_else(|| malformed(pid, "short stat"))
        };
        let ticks = field(11)? + field(12)?;
        Ok(Stat { name, parent: field(1)? as u32, cpu: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND) })
    }
}

/// The 1-minute load average (NaN when unreadable): how busy other work kept the shared CPUs.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The 1-, 5- and 15-minute load averages, comma-separated ("unknown" when unreadable).
pub fn load_averages() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    match fields.len() {
        3 => fields.join(", "),
        _ => "unknown".into(),
    }
}

fn malformed(pid: u32, what: &str) -> Error {
    Error::new(ErrorKind::InvalidData, format!("/proc/{pid}: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let memory = Memory::read(std::process::id()).unwrap();
        assert!(memory.rss_kib > 0 && memory.peak_kib >= memory.rss_kib, "{memory:?}");
        let stat = Stat::read(std::process::id()).unwrap();
        assert!(!stat.name.is_empty());
        assert_eq!(stat.parent, std::os::unix::process::parent_id());
    }

    #[test]
    fn a_missing_process_is_an_error() {
        assert!(Memory::read(u32::MAX).is_err());
        assert!(Stat::read(u32::MAX).is_err());
    }
}
