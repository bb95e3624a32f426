//! The proxy modes the bench compares: iptables through either program set,
//! and nftables.

use rk_proxy::applier::{Backend, Iptables};
use rk_proxy::command::Runner;
use rk_proxy::dataplane::{Dataplane, IptablesDataplane};
use rk_proxy::nft::applier::Nft;
use rk_proxy::nft::ruleset::Layout;
use rk_proxy::nft::NftDataplane;
use rk_proxy::rules::NodeConfig;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Iptables(Backend),
    Nftables,
}

impl Mode {
    /// Every mode, in the order the bench runs them.
    pub const ALL: [Mode; 3] = [Mode::Nftables, Mode::Iptables(Backend::System), Mode::Iptables(Backend::Legacy)];

    /// `nftables`, `iptables` (the system's iptables-nft) or `iptables-legacy`.
    pub fn parse(text: &str) -> Result<Mode, String> {
        match text {
            "nftables" => Ok(Mode::Nftables),
            "iptables" => Ok(Mode::Iptables(Backend::System)),
            "iptables-legacy" => Ok(Mode::Iptables(Backend::Legacy)),
            other => Err(format!("unknown mode {other:?}: use nftables, iptables or iptables-legacy")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Iptables(Backend::System) => "iptables-nft (system)",
            Mode::Iptables(Backend::Legacy) => "iptables-legacy",
            Mode::Nftables => "nftables",
        }
    }

    /// The dataplane of this mode, running its programs through `runner`.
    pub fn dataplane(self, node: &NodeConfig, service_cidr: &str, runner: Runner) -> Box<dyn Dataplane> {
        match self {
            Mode::Iptables(backend) => {
                Box::new(IptablesDataplane::new(node.clone(), Arc::new(Iptables { runner, backend })))
            }
            Mode::Nftables => {
                let layout = Layout { node: node.clone(), service_cidr: service_cidr.to_string() };
                Box::new(NftDataplane::new(layout, Arc::new(Nft { runner })))
            }
        }
    }
}
