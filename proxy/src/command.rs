//! Runs the kernel tools rk-proxy drives (iptables, ip, conntrack),
//! optionally inside a network namespace (`ip netns exec`).

use crate::ProxyError;
use std::io::Write;
use std::process::{Command, Stdio};

/// Where commands run: this network namespace, or a named one.
#[derive(Debug, Clone, Default)]
pub struct Runner {
    netns: Option<String>,
}

impl Runner {
    pub fn in_netns(name: &str) -> Runner {
        Runner { netns: Some(name.to_string()) }
    }

    /// Runs `program args`, feeding `stdin`, and returns stdout; a failure carries stderr.
    pub fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, ProxyError> {
        let mut command = match &self.netns {
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns, program]);
                command
            }
            None => Command::new(program),
        };
        command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let shown = format!("{program} {}", args.join(" "));
        let spawn_error = |source| ProxyError::Spawn { command: shown.clone(), source };
        let mut child = command.spawn().map_err(spawn_error)?;
        if let Some(input) = stdin {
            child.stdin.take().expect("piped stdin").write_all(input.as_bytes()).map_err(spawn_error)?;
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        if !output.status.success() {
            return Err(ProxyError::Command {
                command: shown,
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}
