//! Throwaway network namespaces, so the bench never touches the machine's
//! own tables or routes, and a way to run a thread inside one.

use anyhow::{bail, Context};
use std::os::fd::AsRawFd;
use std::process::Command;

pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn create(name: &str) -> anyhow::Result<Netns> {
        let _ = Command::new("ip").args(["netns", "del", name]).output();
        ip(&["netns", "add", name])?;
        let netns = Netns { name: name.to_string() };
        netns.exec(&["ip", "link", "set", "lo", "up"])?;
        Ok(netns)
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, command: &[&str]) -> anyhow::Result<()> {
        ip(&[&["netns", "exec", &self.name], command].concat())
    }

    /// Moves the calling thread into the namespace (other threads stay where they are).
    pub fn enter(&self) -> anyhow::Result<()> {
        enter(&self.name)
    }
}

/// Moves the calling thread into the namespace `name`; for threads that outlive the [`Netns`].
pub fn enter(name: &str) -> anyhow::Result<()> {
    let path = format!("/var/run/netns/{name}");
    let file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
    // SAFETY: setns only changes this thread's network namespace to the one the open fd names.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        bail!("entering {name}: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

pub fn ip(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("ip").args(args).output().context("running ip")?;
    if !output.status.success() {
        bail!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}
