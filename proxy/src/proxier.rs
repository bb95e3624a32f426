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
    /// UDP service addresses that had endpoints at the last sync.
    udp_served: BTreeSet<String>,
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
            udp_served: BTreeSet::new(),
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

    /// Conntrack keeps sending a UDP flow where its first packet went: to an
    /// endpoint that may be gone, or, for a flow that began while the Service
    /// had no endpoint, nowhere (no DNAT). Both kinds are forgotten, so the
    /// flow's next datagram is NATed afresh to a live endpoint.
    fn clear_gone_udp_flows(&mut self, ports: &[ServicePortInfo]) -> Result<(), ProxyError> {
        let targets: BTreeSet<(String, String)> = ports
            .iter()
            .filter(|port| port.protocol == Protocol::Udp)
            .flat_map(|port| {
                let addresses = std::iter::once(&port.cluster_ip).chain(&port.external_ips);
                addresses.flat_map(|ip| port.endpoints.iter().map(move |e| (ip.clone(), e.ip.clone())))
            })
            .collect();
        let served: BTreeSet<String> = targets.iter().map(|(service_ip, _)| service_ip.clone()).collect();
        for (service_ip, endpoint_ip) in self.udp_targets.difference(&targets) {
            self.host.clear_udp_flows(service_ip, Some(endpoint_ip))?;
        }
        for service_ip in served.difference(&self.udp_served) {
            self.host.clear_udp_flows(service_ip, None)?;
        }
        (self.udp_targets, self.udp_served) = (targets, served);
        Ok(())
    }

    /// Removes every rule and the route this proxy installed.
    pub fn cleanup(&mut self) -> Result<(), ProxyError> {
        self.dataplane.cleanup()?;
        self.full = true;
        self.host.unroute_service_cidr(&self.service_cidr)
    }
}
