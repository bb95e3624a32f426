//! The reconciler: a LoadBalancer Service gets one address of the range in
//! status.loadBalancer.ingress; any other Service gets its ingress cleared.

use super::choice::choose;
use super::ingress::{is_load_balancer, requested, with_ingress};
use super::owners::{Holder, Owners};
use super::recent::RecentWrites;
use async_trait::async_trait;
use rk_client::events::EventType;
use rk_client::{object_key, Action, Client, EventRecorder, Reconciler, Store};
use rk_proto::ip_range::IpRange;
use rk_proto::v1::Service;
use rk_proto::Resource;
use std::net::Ipv4Addr;
use std::sync::Arc;
use tonic::Code;

pub struct LoadBalancerController {
    client: Client,
    recorder: EventRecorder,
    services: Arc<Store<Service>>,
    range: IpRange,
    recent: RecentWrites,
}

impl LoadBalancerController {
    pub fn new(client: Client, recorder: EventRecorder, services: Arc<Store<Service>>, range: IpRange) -> Self {
        LoadBalancerController { client, recorder, services, range, recent: RecentWrites::default() }
    }

    /// Who holds what, counting this controller's writes the informer has not shown yet.
    fn owners(&self) -> Owners {
        let services = self.services.list();
        let holders = services.iter().filter(|service| is_load_balancer(service)).map(|service| Holder {
            key: object_key(service.metadata()),
            created: service.metadata().creation_timestamp.clone(),
            ips: self.recent.ingress_of(service),
        });
        Owners::new(holders.collect())
    }

    /// The ingress the Service should have: one address, or none.
    fn desired(&self, key: &str, service: &Service, current: &[Ipv4Addr]) -> Vec<Ipv4Addr> {
        if !is_load_balancer(service) {
            return Vec::new();
        }
        match choose(key, requested(service), current, &self.range, &self.owners()) {
            Ok(ip) => vec![ip],
            Err(refusal) => {
                // The informer's resync brings the Service back, and a freed
                // address queues it at once (see handlers).
                self.recorder.record(service, EventType::Warning, "AllocationFailed", refusal.to_string());
                Vec::new()
            }
        }
    }
}

#[async_trait]
impl Reconciler for LoadBalancerController {
    fn name(&self) -> &'static str {
        "load-balancer"
    }

    async fn reconcile(&self, key: &str) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
        let Some(service) = self.services.get(key) else {
            self.recent.forget(key);
            return Ok(Action::Done);
        };
        let current = self.recent.ingress_of(&service);
        let desired = self.desired(key, &service, &current);
        if desired == current {
            return Ok(Action::Done);
        }
        match self.client.update_status(with_ingress(&service, &desired)).await {
            Ok(written) => {
                self.recent.record(&written);
                match desired.first() {
                    Some(ip) => {
                        tracing::info!(service = key, %ip, "assigned load-balancer IP");
                        self.recorder.record(&written, EventType::Normal, "IPAllocated", format!("Assigned IP {ip}"));
                    }
                    None => tracing::info!(service = key, released = ?current, "cleared load-balancer ingress"),
                }
                Ok(Action::Done)
            }
            // The store's copy is stale or the Service is being deleted: the
            // watch brings the newer state, which queues the Service again.
            Err(status) if matches!(status.code(), Code::Aborted | Code::NotFound) => Ok(Action::Done),
            Err(status) => Err(status.into()),
        }
    }
}
