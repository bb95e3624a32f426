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

/// Which iptables programs: the system's (`iptables`, the one Docker uses;
/// nf_tables on Debian 12) or the legacy x_tables ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Backend {
    #[default]
    System,
    Legacy,
}

impl Backend {
    pub fn parse(text: &str) -> Result<Backend, ProxyError> {
        match text {
            "system" => Ok(Backend::System),
            "legacy" => Ok(Backend::Legacy),
            _ => Err(ProxyError::BadFlag {
                flag: "--iptables-backend",
                value: text.to_string(),
                reason: "use system or legacy".into(),
            }),
        }
    }

    /// `iptables-restore` → `iptables-legacy-restore` for the legacy backend.
    fn program(self, tool: &str) -> String {
        match self {
            Backend::System => tool.to_string(),
            Backend::Legacy => tool.replacen("iptables", "iptables-legacy", 1),
        }
    }
}

/// The real iptables, here or in a named network namespace.
#[derive(Debug, Clone, Default)]
pub struct Iptables {
    pub runner: Runner,
    pub backend: Backend,
}

impl Iptables {
    fn run(&self, tool: &str, args: &[&str], stdin: Option<&str>) -> Result<String, ProxyError> {
        self.runner.run(&self.backend.program(tool), args, stdin)
    }
}

impl IptablesApplier for Iptables {
    fn restore(&self, payload: &str) -> Result<(), ProxyError> {
        // -w: wait for the xtables lock (Docker and other proxies write too) instead of failing.
        self.run("iptables-restore", &["-w", "5", "--noflush"], Some(payload)).map(drop)
    }

    fn list_chains(&self, table: &str) -> Result<BTreeSet<String>, ProxyError> {
        let saved = self.run("iptables-save", &["-t", table], None)?;
        Ok(saved
            .lines()
            .filter_map(|line| line.strip_prefix(':'))
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_string)
            .collect())
    }

    fn ensure_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError> {
        if self.run("iptables", &["-w", "5", "-t", table, "-C", from, "-j", to], None).is_ok() {
            return Ok(());
        }
        self.run("iptables", &["-w", "5", "-t", table, "-I", from, "-j", to], None).map(drop)
    }

    fn delete_jump(&self, table: &str, from: &str, to: &str) -> Result<(), ProxyError> {
        // Bounded: a jump is inserted once per proxy, a few copies at most.
        for _ in 0..16 {
            if self.run("iptables", &["-w", "5", "-t", table, "-D", from, "-j", to], None).is_err() {
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
