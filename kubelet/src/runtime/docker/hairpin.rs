//! Hairpin mode on the ports of the node's pod bridge, so a pod reaches
//! itself through a Service: its packet goes out its veth to the node, is
//! DNATed back to its own address and must leave the bridge by the port it
//! came in on, which a bridge refuses unless that port has hairpin on.
//! Docker turns it on only with `--userland-proxy=false`; Kubernetes' kubelet
//! does the same as here (its `hairpin-veth` mode).

use bollard::Docker;

use super::errors::docker_error;
use crate::runtime::RuntimeResult;

/// Docker names a bridge network's Linux bridge `br-<first 12 digits of its id>` unless told otherwise.
const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";

/// Turns hairpin on for every port of `network`'s bridge that has it off
/// (new pods' veths). Uses `ip`, in the kubelet's network namespace, which
/// is the Docker daemon's.
pub(super) async fn enable_on_ports(docker: &Docker, network: &str) -> RuntimeResult<()> {
    let inspect = docker
        .inspect_network(network, None)
        .await
        .map_err(|e| docker_error(&format!("inspecting network {network}"), e))?;
    let bridge = match inspect.options.as_ref().and_then(|options| options.get(BRIDGE_NAME_OPTION)) {
        Some(name) => name.clone(),
        None => format!("br-{}", inspect.id.unwrap_or_default().chars().take(12).collect::<String>()),
    };
    let ports = ip(&["-d", "-o", "link", "show", "master", &bridge]).await?;
    for port in ports_without_hairpin(&ports) {
        ip(&["link", "set", "dev", port, "type", "bridge_slave", "hairpin", "on"]).await?;
    }
    Ok(())
}

/// Port names from `ip -d -o link show master BRIDGE` whose hairpin is off.
fn ports_without_hairpin(listing: &str) -> Vec<&str> {
    listing
        .lines()
        .filter(|line| line.contains(" hairpin off "))
        .filter_map(|line| line.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name))
        .collect()
}

async fn ip(args: &[&str]) -> RuntimeResult<String> {
    let failed = |message: String| crate::runtime::RuntimeError::Other(format!("ip {}: {message}", args.join(" ")));
    let output = tokio::process::Command::new("ip").args(args).output().await.map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        return Err(failed(String::from_utf8_lossy(&output.stderr).trim().to_string()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ports_with_hairpin_off_are_named() {
        let listing = "\
12: veth1a2b3c4@if11: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br-0123456789ab state UP mode DEFAULT group default \\    link/ether 3a:01:02:03:04:05 brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 1 \\    veth \\    bridge_slave state forwarding priority 32 cost 2 hairpin off guard off root_block off
14: vethd4e5f6a@if13: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br-0123456789ab state UP mode DEFAULT group default \\    link/ether 3a:01:02:03:04:06 brd ff:ff:ff:ff:ff:ff link-netnsid 1 promiscuity 1 \\    veth \\    bridge_slave state forwarding priority 32 cost 2 hairpin on guard off root_block off
";
        assert_eq!(ports_without_hairpin(listing), ["veth1a2b3c4"]);
        assert!(ports_without_hairpin("").is_empty());
    }
}
