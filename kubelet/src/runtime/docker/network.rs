//! The node's bridge network for its pod CIDR.

use std::collections::HashMap;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest, NetworkInspect};
use bollard::Docker;

use super::errors::{docker_error, is_not_found};
use crate::runtime::{RuntimeError, RuntimeResult};

/// With it on, pods reach beyond the node through the node's address; host-gw
/// routing turns it off (routes.rs masquerades only what leaves the cluster).
const MASQUERADE_OPTION: &str = "com.docker.network.bridge.enable_ip_masquerade";

/// Creates bridge network `name` for `subnet` unless it exists with it. One
/// with another subnet is recreated when no container uses it, else refused.
pub(super) async fn ensure_network(
    docker: &Docker,
    name: &str,
    subnet: &str,
    gateway: &str,
    masquerade: bool,
) -> RuntimeResult<()> {
    if let Some(existing) = inspect(docker, name).await? {
        let existing_subnet = subnet_of(&existing);
        if existing_subnet.as_deref() == Some(subnet) {
            return Ok(());
        }
        let existing_subnet = existing_subnet.unwrap_or_else(|| "no subnet".to_string());
        let attached: Vec<String> = existing
            .containers
            .unwrap_or_default()
            .into_iter()
            .map(|(id, endpoint)| endpoint.name.unwrap_or(id))
            .collect();
        if !attached.is_empty() {
            return Err(RuntimeError::Other(format!(
                "network {name} has subnet {existing_subnet}, not the wanted {subnet}, and cannot be recreated \
                 while containers use it: {}",
                attached.join(", ")
            )));
        }
        tracing::info!(network = name, old = %existing_subnet, new = subnet, "recreating network for a new subnet");
        match docker.remove_network(name).await {
            Err(e) if !is_not_found(&e) => return Err(docker_error(&format!("removing network {name}"), e)),
            _ => {}
        }
    }
    let request = NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".to_string()),
        ipam: Some(Ipam {
            config: Some(vec![IpamConfig {
                subnet: Some(subnet.to_string()),
                gateway: Some(gateway.to_string()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        options: Some(HashMap::from([(MASQUERADE_OPTION.to_string(), masquerade.to_string())])),
        ..Default::default()
    };
    if let Err(e) = docker.create_network(request).await {
        // Someone else (another kubelet on this dockerd) may just have made it.
        if let Some(made) = inspect(docker, name).await? {
            if subnet_of(&made).as_deref() == Some(subnet) {
                return Ok(());
            }
        }
        return Err(docker_error(&format!("creating network {name} with subnet {subnet} and gateway {gateway}"), e));
    }
    Ok(())
}

async fn inspect(docker: &Docker, name: &str) -> RuntimeResult<Option<NetworkInspect>> {
    match docker.inspect_network(name, None).await {
        Ok(network) => Ok(Some(network)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(docker_error(&format!("inspecting network {name}"), e)),
    }
}

fn subnet_of(network: &NetworkInspect) -> Option<String> {
    network.ipam.as_ref()?.config.as_ref()?.iter().find_map(|config| config.subnet.clone())
}

/// Removes the network; a missing one is already gone.
pub(super) async fn remove_network(docker: &Docker, name: &str) -> RuntimeResult<()> {
    match docker.remove_network(name).await {
        Err(e) if !is_not_found(&e) => Err(docker_error(&format!("removing network {name}"), e)),
        _ => Ok(()),
    }
}
