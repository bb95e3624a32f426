//! The seam to nftables: the real applier runs `nft -f -`; [`RecordingNft`]
//! keeps scripts for unit tests.

use crate::command::Runner;
use crate::ProxyError;
use std::sync::Mutex;

pub trait NftApplier: Send + Sync {
    /// Applies one script as one atomic transaction.
    fn apply(&self, script: &str) -> Result<(), ProxyError>;
    /// `nft -t list table ip <table>` (no set elements), or None when there is no such table.
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

    fn list(&self, table: &str) -> Result<Option<String>, ProxyError> {
        match self.runner.run("nft", &["-t", "list", "table", "ip", table], None) {
            Err(ProxyError::Command { stderr, .. }) if stderr.contains("No such file or directory") => Ok(None),
            other => other.map(Some),
        }
    }
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
