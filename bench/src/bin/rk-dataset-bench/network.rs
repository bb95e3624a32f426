//! Two throwaway network namespaces, "node A" and "node B", joined by a veth
//! pair on a leased test CIDR (no default route: traffic stays between them).

use crate::netns::{self, Netns};

pub struct Pair {
    pub a: Netns,
    pub b: Netns,
    pub a_ip: String,
    pub b_ip: String,
    _lease: rk_testkit::CidrLease,
}

impl Pair {
    pub fn create() -> anyhow::Result<Pair> {
        let lease = rk_testkit::lease_cluster_cidr();
        let prefix = lease.cidr().trim_end_matches("0.0/16").to_string();
        let (a_ip, b_ip) = (format!("{prefix}0.1"), format!("{prefix}0.2"));
        let pid = std::process::id();
        let a = Netns::create(&format!("rk-dataset-bench-a-{pid}"))?;
        let b = Netns::create(&format!("rk-dataset-bench-b-{pid}"))?;
        let (a_end, b_end) = (format!("rkdba{pid}"), format!("rkdbb{pid}"));
        netns::ip(&[
            "link", "add", &a_end, "netns", &a.name, "type", "veth", "peer", "name", &b_end, "netns", &b.name,
        ])?;
        for (ns, end, ip) in [(&a, &a_end, &a_ip), (&b, &b_end, &b_ip)] {
            ns.exec(&["ip", "addr", "add", &format!("{ip}/24"), "dev", end])?;
            ns.exec(&["ip", "link", "set", end, "up"])?;
        }
        Ok(Pair { a, b, a_ip, b_ip, _lease: lease })
    }
}

/// A tokio runtime whose threads all live in the calling thread's namespace.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}
