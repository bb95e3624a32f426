//! Address space for tests that create networks: each test process leases its
//! own /16 out of 10.128.0.0/9, so Docker networks and node CIDRs of tests
//! running at once never overlap.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::flock::Flock;

const LOCK_DIR: &str = "/run/rk-test-cidr";
/// Second octets of the /16s in 10.128.0.0/9.
const OCTETS: std::ops::RangeInclusive<u8> = 128..=255;

/// A /16 of 10.128.0.0/9 held by this process until dropped (or until the
/// process dies: the lock is an flock on an open file).
#[derive(Debug)]
pub struct CidrLease {
    octet: u8,
    _lock: Flock,
}

impl CidrLease {
    /// The leased block, e.g. `10.130.0.0/16`.
    pub fn cidr(&self) -> String {
        format!("10.{}.0.0/16", self.octet)
    }

    /// The `index`-th /24 of the block, e.g. `10.130.4.0/24`.
    pub fn subnet(&self, index: u8) -> String {
        format!("10.{}.{index}.0/24", self.octet)
    }

    /// The first address of [`subnet`](Self::subnet)`(index)`, for its gateway.
    pub fn gateway(&self, index: u8) -> String {
        format!("10.{}.{index}.1", self.octet)
    }
}

/// Leases a free /16 of 10.128.0.0/9 for this process. Blocks holding one of
/// the machine's name servers (`/etc/resolv.conf`) are never handed out: a
/// network there would cut the machine off its resolver. Nor are blocks the
/// machine already uses: see [`in_use_by_the_machine`].
///
/// Panics when every block is leased: tests cannot go on.
pub fn lease_cluster_cidr() -> CidrLease {
    std::fs::create_dir_all(LOCK_DIR).unwrap_or_else(|e| panic!("creating {LOCK_DIR}: {e}"));
    let (reserved, in_use) = (nameserver_octets(), in_use_by_the_machine());
    for octet in OCTETS.filter(|octet| !reserved.contains(octet)) {
        let path = Path::new(LOCK_DIR).join(format!("{octet}.lock"));
        match Flock::try_exclusive(&path) {
            Ok(Some(_)) if in_use.contains(&octet) => continue,
            Ok(Some(lock)) => return CidrLease { octet, _lock: lock },
            Ok(None) => continue,
            Err(e) => panic!("locking {}: {e}", path.display()),
        }
    }
    panic!("every /16 of 10.128.0.0/9 is leased by another test process (locks in {LOCK_DIR})")
}

/// Second octets of the /16s of 10.0.0.0/8 routed, addressed or named in a
/// firewall rule here. A bridge left by a Docker daemon that died (or by a crashed
/// test's network) would shadow the routes of a new network there; even when
/// it is down (so routes nothing), or gone, the dead daemon's masquerade rule
/// for its subnet may stay and rewrite a new network's packets that cross the
/// host's bridges.
fn in_use_by_the_machine() -> Vec<u8> {
    [routed_octets(), addressed_octets(), ruleset_octets()].concat()
}

/// Second octets of the 10.0.0.0/8 destinations in the kernel's routing table.
fn routed_octets() -> Vec<u8> {
    let table = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    table
        .lines()
        .skip(1)
        // Destination is hexadecimal in host (little-endian) byte order.
        .filter_map(|line| u32::from_str_radix(line.split_whitespace().nth(1)?, 16).ok())
        .map(|destination| destination.to_le_bytes())
        .filter(|octets| octets[0] == 10)
        .map(|octets| octets[1])
        .collect()
}

/// Second octets of the 10.0.0.0/8 addresses of the machine's interfaces, up or down.
fn addressed_octets() -> Vec<u8> {
    let mut octets = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, which is walked read-only and freed once.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return octets;
        }
        let mut entry = list;
        while let Some(interface) = entry.as_ref() {
            if let Some(address) = interface.ifa_addr.as_ref().filter(|a| i32::from(a.sa_family) == libc::AF_INET) {
                let address = &*(address as *const libc::sockaddr as *const libc::sockaddr_in);
                let bytes = u32::from_be(address.sin_addr.s_addr).to_be_bytes();
                if bytes[0] == 10 {
                    octets.push(bytes[1]);
                }
            }
            entry = interface.ifa_next;
        }
        libc::freeifaddrs(list);
    }
    octets
}

/// Second octets of the 10.0.0.0/8 addresses and prefixes in the machine's
/// nftables ruleset (which holds iptables-nft's rules too); none if nft is missing.
fn ruleset_octets() -> Vec<u8> {
    let ruleset = std::process::Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    ruleset
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter_map(|word| word.parse::<Ipv4Addr>().ok())
        .map(|address| address.octets())
        .filter(|octets| octets[0] == 10)
        .map(|octets| octets[1])
        .collect()
}

/// Second octets of the name servers in 10.0.0.0/8.
fn nameserver_octets() -> Vec<u8> {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("nameserver"))
        .filter_map(|address| address.trim().parse::<Ipv4Addr>().ok())
        .filter(|address| address.octets()[0] == 10)
        .map(|address| address.octets()[1])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_held_at_once_differ_and_a_dropped_one_is_free_again() {
        let first = lease_cluster_cidr();
        let second = lease_cluster_cidr();
        assert_ne!(first.cidr(), second.cidr());
        assert!(first.cidr().starts_with("10.") && first.cidr().ends_with(".0.0/16"), "{}", first.cidr());
        let octet = second.octet;
        drop(second);
        let path = Path::new(LOCK_DIR).join(format!("{octet}.lock"));
        assert!(Flock::try_exclusive(&path).unwrap().is_some(), "a dropped lease releases its lock");
    }

    /// Runs its closure when dropped: what a test made on the host goes even if the test
    /// panics (so the closure must not panic itself).
    struct OnDrop<F: FnMut()>(F);

    impl<F: FnMut()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            (self.0)()
        }
    }

    #[test]
    fn a_block_with_an_address_on_a_down_bridge_is_not_leased() {
        let taken = lease_cluster_cidr();
        let octet = taken.octet;
        let name = format!("rktest{}", std::process::id() % 100_000);
        let ip = |args: &[&str]| std::process::Command::new("ip").args(args).status().unwrap().success();
        assert!(ip(&["link", "add", &name, "type", "bridge"]));
        let _bridge = OnDrop(|| {
            ip(&["link", "del", &name]);
        });
        assert!(ip(&["addr", "add", &format!("10.{octet}.0.1/24"), "dev", &name]));
        assert!(addressed_octets().contains(&octet));
        drop(taken);
        let others: Vec<CidrLease> = (0..4).map(|_| lease_cluster_cidr()).collect();
        assert!(others.iter().all(|lease| lease.octet != octet), "the down interface's block was leased");
    }

    #[test]
    fn a_block_named_in_a_leftover_masquerade_rule_is_not_leased() {
        let taken = lease_cluster_cidr();
        let octet = taken.octet;
        let table = format!("rktest{}", std::process::id());
        let nft = |script: &str| {
            let mut child = std::process::Command::new("nft")
                .args(["-f", "-"])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
            assert!(child.wait().unwrap().success(), "nft -f: {script}");
        };
        nft(&format!(
            "table ip {table} {{ chain post {{ type nat hook postrouting priority srcnat; \
             ip saddr 10.{octet}.0.0/24 oifname != \"gone\" masquerade\n }}\n }}"
        ));
        let _table = OnDrop(|| {
            let _ = std::process::Command::new("nft").args(["delete", "table", "ip", &table]).status();
        });
        drop(taken);
        let others: Vec<CidrLease> = (0..4).map(|_| lease_cluster_cidr()).collect();
        assert!(others.iter().all(|lease| lease.octet != octet), "the masqueraded block was leased");
    }

    #[test]
    fn subnets_and_gateways_stay_inside_the_lease() {
        let lease = lease_cluster_cidr();
        let prefix = lease.cidr().trim_end_matches("0.0/16").to_string();
        assert_eq!(lease.subnet(4), format!("{prefix}4.0/24"));
        assert_eq!(lease.gateway(4), format!("{prefix}4.1"));
    }
}
