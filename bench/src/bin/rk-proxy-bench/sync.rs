//! Sync time: N Services with 10 endpoints each, programmed by the real
//! proxier (rule build + iptables-restore or nft -f) in a throwaway namespace.

use crate::mode::Mode;
use crate::netns::Netns;
use rk_bench::sections::{Goal, Section};
use rk_bench::stats::{ms, Summary};
use rk_proxy::chains::ChainNames;
use rk_proxy::command::Runner;
use rk_proxy::host::Host;
use rk_proxy::model::{Endpoint, Protocol, ServicePortInfo};
use rk_proxy::proxier::Proxier;
use rk_proxy::rules::NodeConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ENDPOINTS: usize = 10;
const NODE_IP: &str = "10.250.0.1";

fn endpoint(k: usize) -> Endpoint {
    Endpoint { ip: format!("10.{}.{}.{}", 100 + k / 65536, k / 256 % 256, k % 256), port: 8080 }
}

/// `count` service ports on 10.96.0.0/16 with 10 ready endpoints each.
pub fn services(count: usize) -> Vec<ServicePortInfo> {
    (0..count)
        .map(|i| ServicePortInfo {
            key: format!("bench/svc-{i}:http/tcp"),
            protocol: Protocol::Tcp,
            cluster_ip: format!("10.96.{}.{}", i / 250, i % 250 + 1),
            port: 80,
            node_port: 0,
            external_ips: Vec::new(),
            affinity_seconds: None,
            endpoints: (0..ENDPOINTS).map(|j| endpoint(i * ENDPOINTS + j)).collect(),
        })
        .collect()
}

pub struct SyncResult {
    pub mode: Mode,
    pub services: usize,
    pub rules: usize,
    pub full: Summary,
    /// One endpoint changed (only at the largest size).
    pub change: Option<Summary>,
}

/// Full syncs (`runs`, the first creating every chain) and, when `changes` > 0, one-endpoint changes.
pub fn measure(mode: Mode, count: usize, runs: usize, changes: usize) -> anyhow::Result<SyncResult> {
    let netns = Netns::create(&format!("rk-proxy-bench-sync-{}", std::process::id()))?;
    netns.exec(&["ip", "addr", "add", &format!("{NODE_IP}/32"), "dev", "lo"])?;
    let runner = Runner::in_netns(&netns.name);
    let node = NodeConfig {
        names: ChainNames::new("RK")?,
        node_ips: vec![NODE_IP.into(), "127.0.0.1".into()],
        cluster_cidr: "10.100.0.0/14".into(),
    };
    let dataplane = mode.dataplane(&node, "10.96.0.0/16", runner.clone());
    let mut proxier = Proxier::new(node, "10.96.0.0/16", dataplane, Arc::new(Host { runner }));
    let mut ports = services(count);
    let mut full = Vec::new();
    let mut rules = 0;
    for _ in 0..runs {
        proxier.request_full_sync();
        let started = Instant::now();
        rules = proxier.sync(&ports)?;
        full.push(started.elapsed());
    }
    let mut change = Vec::new();
    for n in 0..changes {
        let i = (n * 7919) % count;
        ports[i].endpoints[n % ENDPOINTS] = endpoint(count * ENDPOINTS + n);
        let started = Instant::now();
        proxier.sync(&ports)?;
        change.push(started.elapsed());
    }
    Ok(SyncResult {
        mode,
        services: count,
        rules,
        full: Summary::of(full),
        change: (changes > 0).then(|| Summary::of(change)),
    })
}

pub fn section(results: &[SyncResult]) -> Section {
    let mut markdown = String::from(
        "### Sync time (rule build + `iptables-restore -w --noflush` or `nft -f -`, in a throwaway network namespace)\n\n\
         | mode | services × 10 endpoints | rules | full sync p50 ms | full sync p99 ms | one endpoint change p50 ms | one endpoint change p99 ms |\n|---|---|---|---|---|---|---|\n",
    );
    let mut goals = Vec::new();
    for result in results {
        let (change_p50, change_p99) = match &result.change {
            Some(change) => (ms(change.p50), ms(change.p99)),
            None => ("-".into(), "-".into()),
        };
        markdown.push_str(&format!(
            "| {} | {} | {} | {} | {} | {change_p50} | {change_p99} |\n",
            result.mode.name(),
            result.services,
            result.rules,
            ms(result.full.p50),
            ms(result.full.p99)
        ));
        goals.push(Goal {
            // A handful of goals per run: leaking their names is cheaper than owning them.
            name: Box::leak(
                format!("full sync, {} services, {}", result.services, result.mode.name()).into_boxed_str(),
            ),
            target: "≤ 2 s",
            actual: format!("{} ms p50", ms(result.full.p50)),
            met: result.full.p50 <= Duration::from_secs(2),
        });
        if let Some(change) = &result.change {
            goals.push(Goal {
                name: Box::leak(
                    format!("one endpoint change, {} services, {}", result.services, result.mode.name())
                        .into_boxed_str(),
                ),
                target: "≤ 100 ms",
                actual: format!("{} ms p50 (baseline: full rewrite {} ms)", ms(change.p50), ms(result.full.p50)),
                met: change.p50 <= Duration::from_millis(100),
            });
        }
    }
    markdown.push_str(
        "\nBaseline: the full sync is what a proxy rewriting every chain on each change would pay; a change \
         writes only the chains (and, with nftables, the map elements) that differ. Rules: iptables rules, or \
         nftables rules plus map elements.\n",
    );
    Section { markdown, goals }
}
