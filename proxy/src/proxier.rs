//! One node's proxier: programs the dataplane for the current services
//! (only what changed since the last successful sync; everything after a
//! failure or when a full resync is due), keeps the service CIDR routed
//! locally, clears gone UDP flows, and cleans up after itself.

use crate::dataplane::Dataplane;
use crate::host::HostNetwork;
use crate::metrics::Metrics;
use crate::model::{Protocol, ServicePortInfo};
use crate::rules::NodeConfig;
use crate::ProxyError;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

pub struct Proxier {
    node: NodeConfig,
    service_cidr: String,
    dataplane: Box<dyn Dataplane>,
    host: Arc<dyn HostNetwork>,
    /// Whether the next sync is a full one (route and localhost DNAT re-checked too).
    full: bool,
    /// (service address, endpoint IP) of every UDP flow target last applied.
    udp_targets: BTreeSet<(String, String)>,
    pub metrics: Arc<Metrics>,
}

impl Proxier {
    pub fn new(
        node: NodeConfig,
        service_cidr: &str,
        dataplane: Box<dyn Dataplane>,
        host: Arc<dyn HostNetwork>,
    ) -> Proxier {
        Proxier {
            node,
            service_cidr: service_cidr.to_string(),
            dataplane,
            host,
            full: true,
            udp_targets: BTreeSet::new(),
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// The next sync rewrites every rule and re-checks the route.
    pub fn request_full_sync(&mut self) {
        self.full = true;
        self.dataplane.forget();
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
                self.request_full_sync();
                self.metrics.record_failure();
                Err(error)
            }
        }
    }

    fn try_sync(&mut self, ports: &[ServicePortInfo]) -> Result<usize, ProxyError> {
        if self.full {
            let src = self.node.node_ips.first().map(String::as_str).unwrap_or("127.0.0.1");
            self.host.route_service_cidr(&self.service_cidr, src)?;
            self.host.allow_localhost_dnat()?;
        }
        let written = self.dataplane.sync(ports)?;
        self.full = false;
        self.clear_gone_udp_flows(ports)?;
        Ok(written)
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

    /// Removes every rule and the route this proxy installed.
    pub fn cleanup(&mut self) -> Result<(), ProxyError> {
        self.dataplane.cleanup()?;
        self.full = true;
        self.host.unroute_service_cidr(&self.service_cidr)
    }
}
