//! The seam to nftables: the real applier runs `nft -f -`; [`RecordingNft`]
//! keeps scripts for unit tests.

use crate::command::Runner;
use crate::ProxyError;
use std::sync::Mutex;

pub trait NftApplier: Send + Sync {
    /// Applies one script as one atomic transaction.
    fn apply(&self, script: &str) -> Result<(), ProxyError>;
    /// The names of the table's chains, sets and maps (`chain <name> {` lines and the like,
    /// without rules or elements), or None when there is no such table.
    fn list(&self, table: &str) -> Result<Option<String>, ProxyError>;
}

/// The real nft, here or in a named network namespace.
#[derive(Debug, Clone, Default)]
pub struct Nft {
    pub runner: Runner,
}

impl NftApplier for Nft {
    fn apply(&self, script: &str) -> Result<(), ProxyError> {
        self.runner.run("nft", &["-f", "-"], Some(script)).map(drop)
    }

    /// Lists chains, sets and maps of every `ip` table: with 10,000 services that takes a tenth of
    /// `nft -t list table`'s time, which renders every rule.
    fn list(&self, table: &str) -> Result<Option<String>, ProxyError> {
        let listing =
            self.runner.run("nft", &["-t", "-f", "-"], Some("list chains ip\nlist sets ip\nlist maps ip\n"))?;
        Ok(table_blocks(&listing, table))
    }
}

/// The lines of every `table ip <table> { ... }` block in `listing`, or None when there is none.
fn table_blocks(listing: &str, table: &str) -> Option<String> {
    let header = format!("table ip {table} {{");
    let mut inside = false;
    let mut lines = Vec::new();
    for line in listing.lines() {
        if line.starts_with("table ") {
            inside = line == header;
        }
        if inside {
            lines.push(line);
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A fake nft for unit tests: records scripts; lists what `listing` holds.
#[derive(Debug, Default)]
pub struct RecordingNft {
    pub scripts: Mutex<Vec<String>>,
    pub listing: Mutex<Option<String>>,
    /// The next scripts fail while this is above zero.
    pub failures: Mutex<usize>,
}

impl NftApplier for RecordingNft {
    fn apply(&self, script: &str) -> Result<(), ProxyError> {
        let mut failures = self.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(ProxyError::Command {
                command: "nft -f -".into(),
                status: "exit status: 1".into(),
                stderr: "injected failure".into(),
            });
        }
        self.scripts.lock().unwrap().push(script.to_string());
        Ok(())
    }

    fn list(&self, _table: &str) -> Result<Option<String>, ProxyError> {
        Ok(self.listing.lock().unwrap().clone())
    }
}
