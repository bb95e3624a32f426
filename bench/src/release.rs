//! rk's release programs next to the bench binary in `target/release`: a
//! bench must measure that build and no other. `rkctl cluster up` runs
//! them in a state directory of the bench's own.

use anyhow::{bail, Context};
use rk_testkit::free_port;
use std::path::{Path, PathBuf};

/// The release program `name`, next to this bench's executable.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating this bench's executable")?;
    let path = exe.with_file_name(name);
    if !path.is_file() {
        bail!("{} not found: build the release binaries first: cargo build --release --bins", path.display());
    }
    Ok(path)
}

/// `rkctl --state-dir STATE_DIR`, blind to the caller's RK_SERVER and RK_STATE_DIR.
pub fn rkctl(state_dir: &Path) -> anyhow::Result<tokio::process::Command> {
    let mut command = tokio::process::Command::new(binary("rkctl")?);
    command.arg("--state-dir").arg(state_dir).env_remove("RK_SERVER").env_remove("RK_STATE_DIR");
    Ok(command)
}

/// `rkctl cluster up` flags putting the control plane on free ports, the apiserver on `api_port`.
pub fn control_plane_ports(api_port: u16) -> Vec<String> {
    vec![
        format!("--etcd-port={}", free_port()),
        format!("--etcd-peer-port={}", free_port()),
        format!("--apiserver-port={api_port}"),
        format!("--apiserver-health-port={}", free_port()),
        format!("--scheduler-health-port={}", free_port()),
        format!("--controller-manager-health-port={}", free_port()),
    ]
}

/// `rkctl cluster down` on `state_dir`, waited for; for a `Drop`, so failures are ignored.
pub fn cluster_down(state_dir: &Path) {
    if let Ok(rkctl) = binary("rkctl") {
        let _ = std::process::Command::new(rkctl).arg("--state-dir").arg(state_dir).args(["cluster", "down"]).output();
    }
}
