//! The nftables dataplane: keeps the table's [`State`], lists the table's
//! names when the kernel's state is unknown, and applies one `nft -f`
//! transaction per sync: the whole table then, only the change otherwise.

use super::applier::NftApplier;
use super::ruleset::Layout;
use super::script::{self, Listed};
use super::state::State;
use crate::chains::ChainNames;
use crate::dataplane::Dataplane;
use crate::model::ServicePortInfo;
use crate::ProxyError;
use std::sync::Arc;

pub struct NftDataplane {
    table: String,
    nft: Arc<dyn NftApplier>,
    state: State,
    /// Whether the kernel holds exactly `state` as of the last sync; false forces a full sync.
    synced: bool,
}

/// The table of the proxy whose chain prefix is `names`' (`RK` → `rk`).
pub fn table_name(names: &ChainNames) -> String {
    names.prefix().to_ascii_lowercase()
}

impl NftDataplane {
    pub fn new(layout: Layout, nft: Arc<dyn NftApplier>) -> NftDataplane {
        NftDataplane { table: table_name(&layout.node.names), nft, state: State::new(layout), synced: false }
    }
}

impl Dataplane for NftDataplane {
    fn sync(&mut self, ports: &[ServicePortInfo]) -> Result<usize, ProxyError> {
        let delta = self.state.update(ports);
        // Until this sync succeeds, the kernel may hold neither the old state nor the new.
        let script = match std::mem::replace(&mut self.synced, false) {
            true => script::changes(&self.table, &delta),
            false => {
                let listing = self.nft.list(&self.table)?.unwrap_or_default();
                script::full(&self.table, &self.state.ruleset(), &Listed::parse(&listing))
            }
        };
        if !script.text.is_empty() {
            self.nft.apply(&script.text)?;
        }
        self.synced = true;
        Ok(script.written)
    }

    fn forget(&mut self) {
        self.synced = false;
    }

    fn cleanup(&mut self) -> Result<(), ProxyError> {
        if self.nft.list(&self.table)?.is_some() {
            self.nft.apply(&format!("delete table ip {}\n", self.table))?;
        }
        self.state.clear();
        self.synced = false;
        Ok(())
    }
}
