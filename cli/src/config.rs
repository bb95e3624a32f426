//! Where rkctl finds the apiserver: `--server`, then `RK_SERVER`, then the
//! config file `rkctl cluster up` writes in the state directory.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const DEFAULT_SERVER: &str = "127.0.0.1:6443";

#[derive(Debug, Serialize, Deserialize, Default)]
pub struct ClientConfig {
    pub server: String,
}

/// `--state-dir`, `RK_STATE_DIR`, or `~/.rk`.
pub fn state_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("RK_STATE_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".rk")
}

pub fn config_path(state_dir: &Path) -> PathBuf {
    state_dir.join("config.json")
}

pub fn write_config(state_dir: &Path, config: &ClientConfig) -> anyhow::Result<()> {
    let path = config_path(state_dir);
    std::fs::write(&path, serde_json::to_vec_pretty(config)?).with_context(|| format!("writing {}", path.display()))
}

/// The server to talk to: the flag (which clap fills from RK_SERVER too), the config file, or the default.
pub fn resolve_server(flag: Option<&str>, state_dir: &Path) -> String {
    if let Some(server) = flag {
        return server.to_string();
    }
    std::fs::read(config_path(state_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<ClientConfig>(&bytes).ok())
        .map(|config| config.server)
        .filter(|server| !server.is_empty())
        .unwrap_or_else(|| DEFAULT_SERVER.to_string())
}
