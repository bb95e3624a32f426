//! The seam between the proxier and the kernel's packet rewriting: a
//! dataplane turns service ports into rules, either rewriting everything
//! (the kernel's state unknown) or only what changed since its last
//! successful sync. [`IptablesDataplane`] writes iptables chains;
//! [`crate::nft::NftDataplane`] writes one nftables table.

use crate::applier::IptablesApplier;
use crate::model::ServicePortInfo;
use crate::payload::{self, Previous};
use crate::rules::{self, NodeConfig, Tables, TABLES};
use crate::ProxyError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub trait Dataplane: Send {
    /// Programs `ports`; returns how many rules (and map elements) were written.
    fn sync(&mut self, ports: &[ServicePortInfo]) -> Result<usize, ProxyError>;
    /// The next sync rewrites everything (after a failure, or when a full resync is due).
    fn forget(&mut self);
    /// Removes everything this dataplane installed.
    fn cleanup(&mut self) -> Result<(), ProxyError>;
}

/// iptables chains in the nat and filter tables, jumped to from the built-in chains.
pub struct IptablesDataplane {
    node: NodeConfig,
    iptables: Arc<dyn IptablesApplier>,
    /// What the last successful sync left in the kernel; None forces a full sync.
    applied: Option<Tables>,
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

impl IptablesDataplane {
    pub fn new(node: NodeConfig, iptables: Arc<dyn IptablesApplier>) -> IptablesDataplane {
        IptablesDataplane { node, iptables, applied: None }
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
}

impl Dataplane for IptablesDataplane {
    fn sync(&mut self, ports: &[ServicePortInfo]) -> Result<usize, ProxyError> {
        let previous = match self.applied.take() {
            Some(applied) => Previous::Applied(applied),
            None => Previous::Listed(self.own_chains()?),
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
        Ok(payload.rules_written)
    }

    fn forget(&mut self) {
        self.applied = None;
    }

    fn cleanup(&mut self) -> Result<(), ProxyError> {
        for (table, from, to) in jumps(&self.node) {
            self.iptables.delete_jump(table, from, &to)?;
        }
        let payload = payload::render(&Tables::new(), &Previous::Listed(self.own_chains()?));
        if !payload.text.is_empty() {
            self.iptables.restore(&payload.text)?;
        }
        self.applied = None;
        Ok(())
    }
}
