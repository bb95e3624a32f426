//! The nftables dataplane: builds the ruleset, lists the table when the
//! kernel's state is unknown, and applies one `nft -f` transaction per sync.

use super::applier::NftApplier;
use super::ruleset::{self, Layout, Ruleset};
use super::script::{self, Listed, Previous};
use crate::chains::ChainNames;
use crate::dataplane::Dataplane;
use crate::model::ServicePortInfo;
use crate::ProxyError;
use std::sync::Arc;

pub struct NftDataplane {
    table: String,
    layout: Layout,
    nft: Arc<dyn NftApplier>,
    /// What the last successful sync left in the kernel; None forces a full sync.
    applied: Option<Ruleset>,
}

/// The table of the proxy whose chain prefix is `names`' (`RK` → `rk`).
pub fn table_name(names: &ChainNames) -> String {
    names.prefix().to_ascii_lowercase()
}

impl NftDataplane {
    pub fn new(layout: Layout, nft: Arc<dyn NftApplier>) -> NftDataplane {
        NftDataplane { table: table_name(&layout.node.names), layout, nft, applied: None }
    }
}

impl Dataplane for NftDataplane {
    fn sync(&mut self, ports: &[ServicePortInfo]) -> Result<usize, ProxyError> {
        let (previous, blocks) = match self.applied.take() {
            Some(applied) => {
                let blocks = applied.blocks.clone();
                (Previous::Applied(applied), blocks)
            }
            None => {
                let listing = self.nft.list(&self.table)?.unwrap_or_default();
                (Previous::Listed(Listed::parse(&listing)), Default::default())
            }
        };
        let ruleset = ruleset::build(ports, &self.layout, &blocks);
        let script = script::render(&self.table, &ruleset, &previous);
        if !script.text.is_empty() {
            self.nft.apply(&script.text)?;
        }
        self.applied = Some(ruleset);
        Ok(script.written)
    }

    fn forget(&mut self) {
        self.applied = None;
    }

    fn cleanup(&mut self) -> Result<(), ProxyError> {
        if self.nft.list(&self.table)?.is_some() {
            self.nft.apply(&format!("delete table ip {}\n", self.table))?;
        }
        self.applied = None;
        Ok(())
    }
}
