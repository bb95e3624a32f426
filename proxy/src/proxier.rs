//! One node's proxier: builds the rules for the current services, applies
//! only what changed since the last successful sync (everything after a
//! failure or when a full resync is due), and cleans up after itself.

use crate::applier::IptablesApplier;
use crate::host::HostNetwork;
use crate::metrics::Metrics;
use crate::model::{Protocol, ServicePortInfo};
use crate::payload::{self, Previous};
use crate::rules::{self, NodeConfig, Tables, TABLES};
use crate::ProxyError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

pub struct Proxier {
    node: NodeConfig,
    service_cidr: String,
    iptables: Arc<dyn IptablesApplier>,
    host: Arc<dyn HostNetwork>,
    /// What the last successful sync left in the kernel; None forces a full sync.
    applied: Option<Tables>,
    /// (service address, endpoint IP) of every UDP flow target last applied.
    udp_targets: BTreeSet<(String, String)>,
    pub metrics: Arc<Metrics>,
}

/// Built-in chains that jump into rk's: (table, from, to).
fn jumps(node: &NodeConfig) -> Vec<(&'static str, &'static str, String)> {
    let names = &node.names;
    vec![
        ("nat", "PREROUTING", names.services()),
        ("nat", "OUTPUT", names.services()),
        ("nat", "POSTROUTING", names.postrouting()),
        ("filter", "INPUT", names.services()),
        ("filter", "FORWARD", names.services()),
        ("filter", "OUTPUT", names.services()),
    ]
}

impl Proxier {
    pub fn new(
        node: NodeConfig,
        service_cidr: &str,
        iptables: Arc<dyn IptablesApplier>,
        host: Arc<dyn HostNetwork>,
    ) -> Proxier {
        Proxier {
            node,
            service_cidr: service_cidr.to_string(),
            iptables,
            host,
            applied: None,
            udp_targets: BTreeSet::new(),
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// The next sync rewrites every chain and re-checks jumps and the route.
    pub fn request_full_sync(&mut self) {
        self.applied = None;
    }

    /// Programs the node for `ports`; returns how many rules were written.
    pub fn sync(&mut self, ports: &[ServicePortInfo]) -> Result<usize, ProxyError> {
        let started = Instant::now();
        match self.try_sync(ports) {
            Ok(written) => {
                self.metrics.record_success(started.elapsed(), written);
                Ok(written)
            }
            Err(error) => {
                self.applied = None;
                self.metrics.record_failure();
                Err(error)
            }
        }
    }

    fn try_sync(&mut self, ports: &[ServicePortInfo]) -> Result<usize, ProxyError> {
        let previous = match self.applied.take() {
            Some(applied) => Previous::Applied(applied),
            None => {
                let src = self.node.node_ips.first().map(String::as_str).unwrap_or("127.0.0.1");
                self.host.route_service_cidr(&self.service_cidr, src)?;
                self.host.allow_localhost_dnat()?;
                Previous::Listed(self.own_chains()?)
            }
        };
        let tables = rules::build(ports, &self.node);
        let payload = payload::render(&tables, &previous);
        if !payload.text.is_empty() {
            self.iptables.restore(&payload.text)?;
        }
        if matches!(previous, Previous::Listed(_)) {
            // After the restore: the chains they jump to exist now.
            for (table, from, to) in jumps(&self.node) {
                self.iptables.ensure_jump(table, from, &to)?;
            }
        }
        self.applied = Some(tables);
        self.clear_gone_udp_flows(ports)?;
        Ok(payload.rules_written)
    }

    fn own_chains(&self) -> Result<BTreeMap<&'static str, BTreeSet<String>>, ProxyError> {
        TABLES
            .into_iter()
            .map(|table| {
                let chains = self.iptables.list_chains(table)?;
                Ok((table, chains.into_iter().filter(|c| self.node.names.owns(c)).collect()))
            })
            .collect()
    }

    /// Conntrack keeps sending a UDP flow to its first endpoint, even a gone one.
    fn clear_gone_udp_flows(&mut self, ports: &[ServicePortInfo]) -> Result<(), ProxyError> {
        let current: BTreeSet<(String, String)> = ports
            .iter()
            .filter(|port| port.protocol == Protocol::Udp)
            .flat_map(|port| {
                let addresses = std::iter::once(&port.cluster_ip).chain(&port.external_ips);
                addresses.flat_map(|ip| port.endpoints.iter().map(move |e| (ip.clone(), e.ip.clone())))
            })
            .collect();
        for (service_ip, endpoint_ip) in self.udp_targets.difference(&current) {
            self.host.clear_udp_flows(service_ip, endpoint_ip)?;
        }
        self.udp_targets = current;
        Ok(())
    }

    /// Removes every jump, chain and route this proxy installed.
    pub fn cleanup(&mut self) -> Result<(), ProxyError> {
        for (table, from, to) in jumps(&self.node) {
            self.iptables.delete_jump(table, from, &to)?;
        }
        let payload = payload::render(&Tables::new(), &Previous::Listed(self.own_chains()?));
        if !payload.text.is_empty() {
            self.iptables.restore(&payload.text)?;
        }
        self.applied = None;
        self.host.unroute_service_cidr(&self.service_cidr)
    }
}
