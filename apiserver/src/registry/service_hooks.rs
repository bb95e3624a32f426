//! A Service's cluster IP and node ports: allocated on create, kept across
//! updates, released when no longer used or when the Service is deleted.

use super::allocator::Allocator;
use super::hooks::Hooks;
use crate::error::ApiError;
use async_trait::async_trait;
use rk_proto::v1::{Service, ServiceSpec};
use rk_proto::Resource;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

pub struct ServiceHooks {
    pub cluster_ips: Allocator,
    pub node_ports: Allocator,
}

fn spec(service: &Service) -> ServiceSpec {
    service.spec.clone().unwrap_or_default()
}

fn owner(service: &Service) -> String {
    let meta = service.metadata();
    format!("{}/{}", meta.namespace, meta.name)
}

fn wants_node_ports(spec: &ServiceSpec) -> bool {
    matches!(spec.r#type.as_str(), "NodePort" | "LoadBalancer")
}

fn node_ports(service: &Service) -> BTreeSet<u32> {
    spec(service).ports.iter().filter(|p| p.node_port > 0).map(|p| p.node_port as u32).collect()
}

fn cluster_ip(service: &Service) -> Option<u32> {
    spec(service).cluster_ip.parse::<Ipv4Addr>().ok().map(u32::from)
}

impl ServiceHooks {
    /// Gives every port of a NodePort/LoadBalancer Service a node port; a
    /// requested one must be free unless `already_held` by this Service.
    async fn allocate_node_ports(&self, service: &mut Service, already_held: &BTreeSet<u32>) -> Result<(), ApiError> {
        let name = service.metadata().name.clone();
        let who = owner(service);
        let Some(spec) = service.spec.as_mut() else { return Ok(()) };
        if !wants_node_ports(spec) {
            return Ok(());
        }
        let mut taken = Vec::new();
        for (i, port) in spec.ports.iter_mut().enumerate() {
            let result = if port.node_port == 0 {
                self.node_ports.allocate_any(&who).await.map(|p| port.node_port = p as i32)
            } else if already_held.contains(&(port.node_port as u32)) {
                continue;
            } else {
                self.node_ports.allocate(port.node_port as u32, &who).await
            };
            match result {
                Ok(()) => taken.push(port.node_port as u32),
                Err(error) => {
                    for p in taken {
                        self.node_ports.release(p).await;
                    }
                    let field = format!("spec.ports[{i}].nodePort");
                    return Err(error.into_api_error(&name, field, &port.node_port.to_string()));
                }
            }
        }
        Ok(())
    }

    async fn release_node_ports(&self, ports: impl IntoIterator<Item = u32>) {
        for port in ports {
            self.node_ports.release(port).await;
        }
    }
}

#[async_trait]
impl Hooks<Service> for ServiceHooks {
    async fn before_create(&self, service: &mut Service) -> Result<(), ApiError> {
        let name = service.metadata().name.clone();
        let who = owner(service);
        let spec = service.spec.get_or_insert_with(Default::default);
        let allocated_ip = match spec.cluster_ip.as_str() {
            "None" => None,
            "" => {
                let ip = self
                    .cluster_ips
                    .allocate_any(&who)
                    .await
                    .map_err(|e| e.into_api_error(&name, "spec.clusterIP".into(), ""))?;
                spec.cluster_ip = Ipv4Addr::from(ip).to_string();
                Some(ip)
            }
            requested => {
                let ip = requested.parse::<Ipv4Addr>().map(u32::from).map_err(|_| {
                    ApiError::BadRequest(format!("spec.clusterIP {requested:?} is not an IPv4 address"))
                })?;
                self.cluster_ips
                    .allocate(ip, &who)
                    .await
                    .map_err(|e| e.into_api_error(&name, "spec.clusterIP".into(), requested))?;
                Some(ip)
            }
        };
        if let Err(error) = self.allocate_node_ports(service, &BTreeSet::new()).await {
            if let Some(ip) = allocated_ip {
                self.cluster_ips.release(ip).await;
            }
            return Err(error);
        }
        Ok(())
    }

    async fn create_failed(&self, service: &Service) {
        self.after_delete(service).await;
    }

    fn prepare_update(&self, old: &Service, new: &mut Service) {
        carry_allocations(old, new);
    }

    async fn before_update(&self, old: &Service, new: &mut Service) -> Result<(), ApiError> {
        self.allocate_node_ports(new, &node_ports(old)).await
    }

    async fn update_finished(&self, old: &Service, new: &Service, stored: bool) {
        let (old_ports, new_ports) = (node_ports(old), node_ports(new));
        if stored {
            self.release_node_ports(old_ports.difference(&new_ports).copied()).await;
        } else {
            self.release_node_ports(new_ports.difference(&old_ports).copied()).await;
        }
    }

    async fn after_delete(&self, service: &Service) {
        if let Some(ip) = cluster_ip(service) {
            self.cluster_ips.release(ip).await;
        }
        self.release_node_ports(node_ports(service)).await;
    }
}

/// An update that leaves out the cluster IP or a node port keeps the current one, as in Kubernetes.
fn carry_allocations(old: &Service, new: &mut Service) {
    let old_spec = spec(old);
    let Some(new_spec) = new.spec.as_mut() else { return };
    if new_spec.cluster_ip.is_empty() {
        new_spec.cluster_ip = old_spec.cluster_ip.clone();
    }
    if wants_node_ports(new_spec) {
        for port in new_spec.ports.iter_mut().filter(|p| p.node_port == 0) {
            if let Some(old_port) = old_spec.ports.iter().find(|o| o.port == port.port && o.protocol == port.protocol) {
                port.node_port = old_port.node_port;
            }
        }
    }
}
