//! Renders the change from what the kernel has to what the rules should be
//! as one `iptables-restore --noflush` text: only rk's chains are declared
//! (which flushes them), written and, when stale, deleted.

use crate::rules::{Tables, TABLES};
use std::collections::{BTreeMap, BTreeSet};

/// What rk-proxy knows about its chains in the kernel.
#[derive(Debug, Clone)]
pub enum Previous {
    /// Chain names listed from the kernel, contents unknown: everything is rewritten.
    Listed(BTreeMap<&'static str, BTreeSet<String>>),
    /// Exactly what the last successful sync applied: only changed chains are rewritten.
    Applied(Tables),
}

/// The restore text (empty when nothing changed) and how many rules it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub text: String,
    pub rules_written: usize,
}

pub fn render(new: &Tables, previous: &Previous) -> Payload {
    let mut text = String::new();
    let mut rules_written = 0;
    let empty = BTreeMap::new();
    for table in TABLES {
        let chains = new.get(table).unwrap_or(&empty);
        let (changed, stale): (Vec<&String>, Vec<String>) = match previous {
            Previous::Listed(listed) => {
                let old = listed.get(table).cloned().unwrap_or_default();
                (chains.keys().collect(), old.into_iter().filter(|c| !chains.contains_key(c)).collect())
            }
            Previous::Applied(applied) => {
                let old = applied.get(table).unwrap_or(&empty);
                (
                    chains.iter().filter(|(name, rules)| old.get(*name) != Some(rules)).map(|(name, _)| name).collect(),
                    old.keys().filter(|c| !chains.contains_key(*c)).cloned().collect(),
                )
            }
        };
        if changed.is_empty() && stale.is_empty() {
            continue;
        }
        text.push_str(&format!("*{table}\n"));
        for chain in changed.iter().copied().chain(&stale) {
            text.push_str(&format!(":{chain} - [0:0]\n"));
        }
        for chain in &changed {
            for rule in &chains[*chain] {
                text.push_str(rule);
                text.push('\n');
                rules_written += 1;
            }
        }
        // Deleted after every chain that jumped to them was rewritten above.
        for chain in &stale {
            text.push_str(&format!("-X {chain}\n"));
        }
        text.push_str("COMMIT\n");
    }
    Payload { text, rules_written }
}
