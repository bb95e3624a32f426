//! The seam to the rest of the node's network: the local route of the
//! service CIDR, localhost DNAT, and UDP conntrack entries.

use crate::command::Runner;
use crate::ProxyError;
use std::sync::Mutex;

pub trait HostNetwork: Send + Sync {
    /// Routes the whole service CIDR to this machine, so a service IP never
    /// leaves it even without a rule. `src` makes the node's own connections
    /// use a real address; with the service IP as source, replies never return.
    fn route_service_cidr(&self, cidr: &str, src: &str) -> Result<(), ProxyError>;
    fn unroute_service_cidr(&self, cidr: &str) -> Result<(), ProxyError>;
    /// Lets connections from 127.0.0.1 be DNATed to pods (node ports on localhost).
    fn allow_localhost_dnat(&self) -> Result<(), ProxyError>;
    /// Forgets UDP flows to `service_ip` that went to `endpoint_ip` (every
    /// flow to it when `None`), so they pick a live endpoint.
    fn clear_udp_flows(&self, service_ip: &str, endpoint_ip: Option<&str>) -> Result<(), ProxyError>;
}

#[derive(Debug, Clone, Default)]
pub struct Host {
    pub runner: Runner,
}

impl HostNetwork for Host {
    fn route_service_cidr(&self, cidr: &str, src: &str) -> Result<(), ProxyError> {
        self.runner.run("ip", &["route", "replace", "local", cidr, "dev", "lo", "src", src], None).map(drop)
    }

    fn unroute_service_cidr(&self, cidr: &str) -> Result<(), ProxyError> {
        match self.runner.run("ip", &["route", "del", "local", cidr, "dev", "lo"], None) {
            Err(ProxyError::Command { stderr, .. }) if stderr.contains("No such process") => Ok(()),
            other => other.map(drop),
        }
    }

    fn allow_localhost_dnat(&self) -> Result<(), ProxyError> {
        self.runner.run("sysctl", &["-q", "-w", "net.ipv4.conf.all.route_localnet=1"], None).map(drop)
    }

    fn clear_udp_flows(&self, service_ip: &str, endpoint_ip: Option<&str>) -> Result<(), ProxyError> {
        let mut args = vec!["-D", "-p", "udp", "--orig-dst", service_ip];
        args.extend(endpoint_ip.map(|ip| ["--dst-nat", ip]).into_iter().flatten());
        match self.runner.run("conntrack", &args, None) {
            // conntrack exits 1 when no entry matched: nothing to clear.
            Err(ProxyError::Command { stderr, .. }) if stderr.contains("0 flow entries") => Ok(()),
            other => other.map(drop),
        }
    }
}

/// Records calls, for unit tests.
#[derive(Debug, Default)]
pub struct RecordingHost {
    pub calls: Mutex<Vec<String>>,
}

impl HostNetwork for RecordingHost {
    fn route_service_cidr(&self, cidr: &str, src: &str) -> Result<(), ProxyError> {
        self.calls.lock().unwrap().push(format!("route {cidr} src {src}"));
        Ok(())
    }

    fn unroute_service_cidr(&self, cidr: &str) -> Result<(), ProxyError> {
        self.calls.lock().unwrap().push(format!("unroute {cidr}"));
        Ok(())
    }

    fn allow_localhost_dnat(&self) -> Result<(), ProxyError> {
        self.calls.lock().unwrap().push("route_localnet".into());
        Ok(())
    }

    fn clear_udp_flows(&self, service_ip: &str, endpoint_ip: Option<&str>) -> Result<(), ProxyError> {
        self.calls.lock().unwrap().push(format!("conntrack {service_ip} {}", endpoint_ip.unwrap_or("*")));
        Ok(())
    }
}
