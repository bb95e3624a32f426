//! CPU time spent by the apiserver, etcd and this bench, from
//! `/proc/<pid>/stat`. Where all three share a few cores, throughput is
//! bounded by CPU per operation, and this says who spends it.

use anyhow::{bail, Context};
use rk_bench::procfs::Stat;
use std::ops::Sub;
use std::time::Duration;

/// The processes whose CPU time is read.
#[derive(Debug, Clone, Copy)]
pub struct Processes {
    apiserver: u32,
    etcd: u32,
}

/// Cumulative user + system CPU time of each process.
#[derive(Debug, Clone, Copy)]
pub struct CpuTimes {
    pub apiserver: Duration,
    pub etcd: Duration,
    pub bench: Duration,
}

impl Processes {
    /// `apiserver` and the etcd this bench started (its child named `etcd`).
    pub fn find(apiserver: u32) -> anyhow::Result<Processes> {
        let me = std::process::id();
        for entry in std::fs::read_dir("/proc").context("listing /proc")? {
            let Some(pid) = entry?.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
            let Ok(stat) = Stat::read(pid) else { continue };
            if stat.parent == me && stat.name == "etcd" {
                return Ok(Processes { apiserver, etcd: pid });
            }
        }
        bail!("no etcd child of this process found in /proc")
    }

    pub fn sample(&self) -> anyhow::Result<CpuTimes> {
        Ok(CpuTimes {
            apiserver: Stat::read(self.apiserver)?.cpu,
            etcd: Stat::read(self.etcd)?.cpu,
            bench: Stat::read(std::process::id())?.cpu,
        })
    }
}

impl Sub for CpuTimes {
    type Output = CpuTimes;
    fn sub(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            apiserver: self.apiserver.saturating_sub(earlier.apiserver),
            etcd: self.etcd.saturating_sub(earlier.etcd),
            bench: self.bench.saturating_sub(earlier.bench),
        }
    }
}

/// Microseconds of CPU per operation.
pub fn micros_per(cpu: Duration, operations: usize) -> String {
    format!("{:.0}", cpu.as_secs_f64() * 1e6 / operations.max(1) as f64)
}
