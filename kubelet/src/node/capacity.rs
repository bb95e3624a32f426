//! What the node offers to pods: cpus, memory and a pod count, read from the
//! host and written as Kubernetes quantities.

use super::NodeError;
use std::collections::BTreeMap;

const MEMINFO: &str = "/proc/meminfo";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub pods: u32,
}

/// Kept back from pods for the system and the kubelet (Kubernetes'
/// system-reserved and kube-reserved). Nothing yet; a flag would fill it.
pub const RESERVED: Resources = Resources { cpu_millis: 0, memory_bytes: 0, pods: 0 };

impl Resources {
    /// This machine: the cpus this process may run on, MemTotal, and `max_pods`.
    pub fn of_host(max_pods: u32) -> Result<Resources, NodeError> {
        let cpus = std::thread::available_parallelism().map_err(|e| NodeError::host("the number of cpus", e))?;
        let meminfo = std::fs::read_to_string(MEMINFO).map_err(|e| NodeError::host(MEMINFO, e))?;
        let memory_bytes = mem_total_bytes(&meminfo).ok_or_else(|| NodeError::host(MEMINFO, "no MemTotal line"))?;
        Ok(Resources { cpu_millis: cpus.get() as u64 * 1000, memory_bytes, pods: max_pods })
    }

    /// What is left for pods once `reserved` is kept back.
    pub fn minus(&self, reserved: &Resources) -> Resources {
        Resources {
            cpu_millis: self.cpu_millis.saturating_sub(reserved.cpu_millis),
            memory_bytes: self.memory_bytes.saturating_sub(reserved.memory_bytes),
            pods: self.pods.saturating_sub(reserved.pods),
        }
    }

    /// As a Node's `capacity` / `allocatable` map.
    pub fn to_quantities(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("cpu".to_string(), cpu_quantity(self.cpu_millis)),
            ("memory".to_string(), binary_quantity(self.memory_bytes)),
            ("pods".to_string(), self.pods.to_string()),
        ])
    }
}

/// MemTotal of /proc/meminfo in bytes (the file says `kB` and means KiB).
pub fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
    let kib = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kib.checked_mul(1024)
}

/// Whole cores as `4`, otherwise millicores as `1500m`.
fn cpu_quantity(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// Bytes the way Kubernetes writes a binary quantity: with the largest of
/// Ki, Mi, Gi, ... that divides the value exactly (`24Gi`, `25165820Ki`).
pub fn binary_quantity(bytes: u64) -> String {
    let mut value = bytes;
    let mut suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].iter();
    let mut suffix = suffixes.next().unwrap();
    while value != 0 && value.is_multiple_of(1024) {
        match suffixes.next() {
            Some(next) => (value, suffix) = (value / 1024, next),
            None => break,
        }
    }
    format!("{value}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO_SAMPLE: &str =
        "MemTotal:       16369420 kB\nMemFree:         1234567 kB\nMemAvailable:    9876543 kB\n";

    #[test]
    fn mem_total_is_read_in_bytes() {
        assert_eq!(mem_total_bytes(MEMINFO_SAMPLE), Some(16369420 * 1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None, "no MemTotal");
        assert_eq!(mem_total_bytes("MemTotal: lots kB\n"), None);
        assert_eq!(mem_total_bytes("MemTotal: 12\n"), None, "the unit is required");
    }

    #[test]
    fn memory_is_written_with_the_largest_exact_binary_suffix() {
        assert_eq!(binary_quantity(16369420 * 1024), "16369420Ki");
        assert_eq!(binary_quantity(24576 * 1024 * 1024), "24Gi");
        assert_eq!(binary_quantity(24577 * 1024 * 1024), "24577Mi");
        assert_eq!(binary_quantity(1000), "1000");
        assert_eq!(binary_quantity(0), "0");
        for bytes in [1, 1023, 1024, 3 << 20, (5 << 30) + 4096, u64::MAX] {
            let written = binary_quantity(bytes);
            assert_eq!(rk_proto::quantity::parse(&written).unwrap().value(), i128::from(bytes), "{written}");
        }
    }

    #[test]
    fn quantities_are_what_a_node_reports() {
        let capacity = Resources { cpu_millis: 4000, memory_bytes: 8 << 30, pods: 110 };
        let expected = [("cpu", "4"), ("memory", "8Gi"), ("pods", "110")];
        let expected: BTreeMap<String, String> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(capacity.to_quantities(), expected);
        assert_eq!(capacity.minus(&RESERVED), capacity);
        let reserved = Resources { cpu_millis: 500, memory_bytes: 1 << 30, pods: 200 };
        let allocatable = capacity.minus(&reserved).to_quantities();
        assert_eq!((allocatable["cpu"].as_str(), allocatable["memory"].as_str()), ("3500m", "7Gi"));
        assert_eq!(allocatable["pods"], "0", "never below zero");
    }

    #[test]
    fn this_host_has_cpus_and_memory() {
        let host = Resources::of_host(110).unwrap();
        assert!(host.cpu_millis >= 1000 && host.memory_bytes > 64 << 20, "{host:?}");
        assert_eq!(host.pods, 110);
    }
}
