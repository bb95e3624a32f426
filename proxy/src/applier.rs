//! The seam to iptables: the real applier runs `iptables-restore -w
//! --noflush`; [`RecordingApplier`] keeps payloads for unit tests.

use crate::command::Runner;
use crate::ProxyError;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

pub trait IptablesApplier: Send + Sync {
    /// Applies one restore payload atomically, leaving chains it does not name alone.
    fn restore(&self, payload: &str) -> Result<(), ProxyError>;
    /// Every chain of `table` (built-in ones included).
    fn list_chains(&self, table: &str) -> Result<BTreeSet<String>, ProxyError>;
    /// Makes the built-in chain `from` jump to `to` first, unless it already does.
    fn ensure_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError>;
    /// Removes every jump from `from` to `to`.
    fn delete_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError>;
}

/// The real iptables, here or in a named network namespace.
#[derive(Debug, Clone, Default)]
pub struct Iptables {
    pub runner: Runner,
}

impl IptablesApplier for Iptables {
    fn restore(&self, payload: &str) -> Result<(), ProxyError> {
        // -w: wait for the xtables lock (Docker and other proxies write too) instead of failing.
        self.runner.run("iptables-restore", &["-w", "5", "--noflush"], Some(payload)).map(drop)
    }

    fn list_chains(&self, table: &str) -> Result<BTreeSet<String>, ProxyError> {
        let saved = self.runner.run("iptables-save", &["-t", table], None)?;
        Ok(saved
            .lines()
            .filter_map(|line| line.strip_prefix(':'))
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_string)
            .collect())
    }

    fn ensure_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError> {
        if self.runner.run("iptables", &["-w", "5", "-t", table, "-C", from, "-j", to], None).is_ok() {
            return Ok(());
        }
        self.runner.run("iptables", &["-w", "5", "-t", table, "-I", from, "-j", to], None).map(drop)
    }

    fn delete_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError> {
        // Bounded: a jump is inserted once per proxy, a few copies at most.
        for _ in 0..16 {
            if self.runner.run("iptables", &["-w", "5", "-t", table, "-D", from, "-j", to], None).is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// A fake kernel for unit tests: records payloads and jumps and tracks the
/// chains the payloads create and delete.
#[derive(Debug, Default)]
pub struct RecordingApplier {
    pub payloads: Mutex<Vec<String>>,
    pub jumps: Mutex<BTreeSet<(String, String, String)>>,
    pub chains: Mutex<BTreeMap<String, BTreeSet<String>>>,
    /// The next restores fail while this is above zero.
    pub failures: Mutex<usize>,
}

impl IptablesApplier for RecordingApplier {
    fn restore(&self, payload: &str) -> Result<(), ProxyError> {
        let mut failures = self.failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(ProxyError::Command {
                command: "iptables-restore".into(),
                status: "exit status: 1".into(),
                stderr: "injected failure".into(),
            });
        }
        self.payloads.lock().unwrap().push(payload.to_string());
        let mut chains = self.chains.lock().unwrap();
        let mut table = String::new();
        for line in payload.lines() {
            if let Some(name) = line.strip_prefix('*') {
                table = name.to_string();
            } else if let Some(declared) = line.strip_prefix(':') {
                let name = declared.split_whitespace().next().unwrap_or_default();
                chains.entry(table.clone()).or_default().insert(name.to_string());
            } else if let Some(deleted) = line.strip_prefix("-X ") {
                chains.entry(table.clone()).or_default().remove(deleted);
            }
        }
        Ok(())
    }

    fn list_chains(&self, table: &str) -> Result<BTreeSet<String>, ProxyError> {
        Ok(self.chains.lock().unwrap().get(table).cloned().unwrap_or_default())
    }

    fn ensure_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError> {
        self.jumps.lock().unwrap().insert((table.into(), from.into(), to.into()));
        Ok(())
    }

    fn delete_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError> {
        self.jumps.lock().unwrap().remove(&(table.into(), from.into(), to.into()));
        Ok(())
    }
}
