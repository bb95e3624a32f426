//! A real local cluster made by `rkctl cluster up` in a temporary state
//! directory on free ports, and a way to run rkctl against it.
// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

pub mod http;
pub mod nodes;
pub mod tables;

use rk_testkit::free_port;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Cluster {
    pub dir: tempfile::TempDir,
    /// The `cluster up` arguments, to start again what was killed.
    up_args: Vec<String>,
}

pub fn rkctl_binary() -> &'static str {
    env!("CARGO_BIN_EXE_rkctl")
}

impl Cluster {
    /// The control plane only (no node).
    pub fn up() -> Cluster {
        Self::up_with(&["--nodes=0"])
    }

    /// `cluster up` with extra flags, like `--pod-eviction-timeout=3`.
    pub fn up_with(extra: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = Cluster { dir, up_args: Vec::new() };
        let ports = [free_port(), free_port(), free_port(), free_port(), free_port(), free_port()];
        let mut args = vec![
            "cluster".to_string(),
            "up".to_string(),
            format!("--etcd-port={}", ports[0]),
            format!("--etcd-peer-port={}", ports[1]),
            format!("--apiserver-port={}", ports[2]),
            format!("--apiserver-health-port={}", ports[3]),
            format!("--scheduler-health-port={}", ports[4]),
            format!("--controller-manager-health-port={}", ports[5]),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        cluster.up_args = args;
        cluster.start_missing();
        cluster
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(rkctl_binary());
        command.arg("--state-dir").arg(self.dir.path()).env_remove("RK_SERVER").env_remove("RK_STATE_DIR");
        command
    }

    pub fn rkctl(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("rkctl runs")
    }

    pub fn rkctl_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs rkctl, asserts success and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.rkctl(args);
        assert!(out.status.success(), "rkctl {args:?} failed: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    /// Runs rkctl, asserts failure and returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.rkctl(args);
        assert!(!out.status.success(), "rkctl {args:?} should fail but printed {}", text(&out.stdout));
        text(&out.stderr)
    }

    pub fn write(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }
}

impl Cluster {
    /// The apiserver address `cluster up` wrote to the client config.
    pub fn server(&self) -> String {
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.dir.path().join("config.json")).unwrap()).unwrap();
        config["server"].as_str().unwrap().to_string()
    }

    /// Runs `cluster up` again: starts whatever is not running.
    pub fn start_missing(&self) {
        let out = self.rkctl(&self.up_args.iter().map(String::as_str).collect::<Vec<_>>());
        if !out.status.success() {
            let stderr = text(&out.stderr);
            // "... see <log>": the end of that log says why.
            let log = stderr.split("see ").nth(1).map(|path| std::fs::read_to_string(path.trim()).unwrap_or_default());
            let tail: Vec<&str> = log.as_deref().unwrap_or_default().lines().rev().take(20).collect();
            panic!("cluster up failed: {stderr}\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
    }

    /// SIGKILLs one of the cluster's processes, as a crash would.
    pub fn kill(&self, component: &str) {
        let pid = std::fs::read_to_string(self.dir.path().join(format!("{component}.pid"))).unwrap();
        let status = Command::new("kill").args(["-KILL", pid.trim()]).status().unwrap();
        assert!(status.success(), "kill {component}");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.rkctl(&["cluster", "down"]);
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A cluster with one node: rk-kubelet on the machine's shared test dockerd,
/// with a pod CIDR range of this test's own and short back-offs.
pub struct NodeCluster {
    pub cluster: Cluster,
    pub node: String,
    pub docker_host: String,
    /// The node's rk-proxy owns the host's rules named by `<chain_prefix>` (its nftables table, or iptables chains `<chain_prefix>-*`) ...
    pub chain_prefix: String,
    /// ... and routes this service CIDR: test clusters running at once never share either.
    pub service_cidr: String,
    _cidr: rk_testkit::CidrLease,
    _services: rk_testkit::CidrLease,
}

impl std::ops::Deref for NodeCluster {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

impl NodeCluster {
    pub fn up(extra: &[&str]) -> NodeCluster {
        let docker = rk_testkit::shared_dockerd();
        let cidr = rk_testkit::lease_cluster_cidr();
        let services = rk_testkit::lease_cluster_cidr();
        let chain_prefix = format!("RKT{}", services.cidr().split('.').nth(1).unwrap());
        let node = format!("node-{}", free_port());
        let mut args = vec![
            format!("--service-cluster-ip-range={}", services.cidr()),
            format!("--proxy-arg=--chain-prefix={chain_prefix}"),
            format!("--docker-host={}", docker.host()),
            format!("--cluster-cidr={}", cidr.cidr()),
            format!("--node-name={node}"),
            format!("--kubelet-port={}", free_port()),
            format!("--kubelet-health-port={}", free_port()),
            format!("--proxy-health-port={}", free_port()),
            "--kubelet-arg=--backoff-initial=1".to_string(),
            "--kubelet-arg=--backoff-max=4".to_string(),
            "--kubelet-arg=--node-status-update-frequency=1".to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let cluster = Cluster::up_with(&args.iter().map(String::as_str).collect::<Vec<_>>());
        NodeCluster {
            cluster,
            node,
            docker_host: docker.host().to_string(),
            chain_prefix,
            service_cidr: services.cidr(),
            _cidr: cidr,
            _services: services,
        }
    }

    /// The `docker` command against the node's daemon.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker").arg("-H").arg(&self.docker_host).args(args).output().expect("docker runs")
    }
}

/// Polls `rkctl` until `check` accepts its output (60 s: containers start here).
pub fn eventually(cluster: &Cluster, args: &[&str], what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = cluster.rkctl(args);
        let stdout = text(&out.stdout);
        if out.status.success() && check(&stdout) {
            return stdout;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; last output:\n{stdout}{}",
            text(&out.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// One HTTP request; the pod that answered it.
pub fn hello(address: SocketAddr) -> std::io::Result<String> {
    let (_, reply) = http::get(address, "/")?;
    let pod = reply.split("Hello from ").nth(1).and_then(|rest| rest.split('!').next());
    pod.map(str::to_string).ok_or_else(|| std::io::Error::other(format!("unexpected reply {reply:?}")))
}

/// Requests until `address` answers (the proxy syncs within a second), then `count` more; the pods that answered.
pub fn answers(address: SocketAddr, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(error) = hello(address) {
        assert!(Instant::now() < deadline, "{address} never answered: {error}");
        std::thread::sleep(Duration::from_millis(200));
    }
    (0..count).map(|i| hello(address).unwrap_or_else(|e| panic!("request {i} to {address}: {e}"))).collect()
}

pub fn address(ip: &str, port: &str) -> SocketAddr {
    format!("{ip}:{port}").parse().unwrap()
}
