//! A container runtime without containers, for unit tests of the pod logic
//! and for hollow nodes. Containers are entries in a map that go Created →
//! Running → Exited when told to; nothing runs and nothing waits, so a
//! hollow-node process can hold thousands of pods. Tests steer it: images
//! that fail to pull, containers that ignore SIGTERM or die, scripted exec
//! results and logs, a runtime that is down.

use super::*;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// Sandboxes on a network the fake was never told about get addresses from here.
const FALLBACK_BASE: u32 = u32::from_be_bytes([10, 1, 0, 0]);

/// Exit code of a container killed by SIGKILL (128 + 9), as Docker reports it.
const SIGKILL_EXIT: i64 = 137;

/// A spec container of a pod, by names (any namespace): how tests point at a
/// container whose id changes with every restart.
type Named = (String, String);

pub struct FakeRuntime {
    /// Part of every id, so ids differ between the runtimes of one process.
    tag: u32,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    containers: HashMap<String, ContainerInfo>,
    networks: HashMap<String, Pool>,
    next_fallback_ip: u32,
    /// Image → the message its pulls fail with.
    missing_images: HashMap<String, String>,
    ignores_sigterm: HashSet<Named>,
    exec_scripts: HashMap<Named, VecDeque<ExecOutput>>,
    logs: HashMap<Named, Bytes>,
    /// Set while the runtime is "down": every call fails with this message.
    down: Option<String>,
}

/// The addresses of a bridge network's subnet.
struct Pool {
    network: u32,
    size: u32,
    gateway: u32,
    /// Where the search for a free address starts, so a freed address is not
    /// handed out again at once.
    next: u32,
}

impl Default for FakeRuntime {
    fn default() -> Self {
        FakeRuntime::new()
    }
}

impl FakeRuntime {
    pub fn new() -> FakeRuntime {
        FakeRuntime { tag: rand::random(), state: Mutex::new(State::default()) }
    }

    /// Pulls of `image` fail with `message`, and it is not present.
    pub fn fail_pulls_of(&self, image: &str, message: &str) {
        self.state().missing_images.insert(image.to_string(), message.to_string());
    }

    /// The container `container` of pods named `pod` ignores SIGTERM: stopping
    /// it takes the whole grace period and it exits with 137.
    pub fn ignore_sigterm(&self, pod: &str, container: &str) {
        self.state().ignores_sigterm.insert(named(pod, container));
    }

    /// The next exec_sync / exec calls in that container return these, in
    /// order; the last one repeats. Without a script a command succeeds silently.
    pub fn exec_results(&self, pod: &str, container: &str, results: impl IntoIterator<Item = ExecOutput>) {
        self.state().exec_scripts.insert(named(pod, container), results.into_iter().collect());
    }

    /// What `logs` returns for that container.
    pub fn set_logs(&self, pod: &str, container: &str, logs: impl Into<Bytes>) {
        self.state().logs.insert(named(pod, container), logs.into());
    }

    /// With `Some(message)` every call fails with it (a dockerd that is
    /// down) until `set_down(None)`.
    pub fn set_down(&self, message: Option<&str>) {
        self.state().down = message.map(str::to_string);
    }

    /// The container exits now with `exit_code`, as if its process died.
    pub fn kill(&self, id: &str, exit_code: i64) -> RuntimeResult<()> {
        let mut state = self.state();
        let container = state.containers.get_mut(id).ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
        if container.state == ContainerState::Running {
            exit(container, exit_code);
        }
        Ok(())
    }

    /// The newest (highest attempt) sandbox (`container` None) or app
    /// container of pods named `pod`.
    pub fn newest(&self, pod: &str, container: Option<&str>) -> Option<ContainerInfo> {
        let state = self.state();
        let matching =
            state.containers.values().filter(|c| c.pod_name == pod && c.container_name.as_deref() == container);
        // Ids count up, so among equal attempts the latest made wins.
        matching.max_by(|a, b| (a.attempt, &a.id).cmp(&(b.attempt, &b.id))).cloned()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state, unless the runtime is down.
    fn up(&self) -> RuntimeResult<std::sync::MutexGuard<'_, State>> {
        let state = self.state();
        match &state.down {
            Some(message) => Err(RuntimeError::Other(message.clone())),
            None => Ok(state),
        }
    }
}

fn named(pod: &str, container: &str) -> Named {
    (pod.to_string(), container.to_string())
}

fn exit(container: &mut ContainerInfo, exit_code: i64) {
    container.state = ContainerState::Exited;
    container.exit_code = exit_code;
    container.finished_at = rk_proto::time::now();
    container.reason = if exit_code == 0 { "Completed" } else { "Error" }.to_string();
}

impl State {
    fn new_id(&mut self, tag: u32) -> String {
        self.next_id += 1;
        format!("{tag:08x}{:056x}", self.next_id)
    }

    /// Docker refuses to create a container from an image it does not have.
    fn check_image(&self, image: &str) -> RuntimeResult<()> {
        match self.missing_images.contains_key(image) {
            true => Err(RuntimeError::Other(format!("No such image: {image}"))),
            false => Ok(()),
        }
    }

    fn running(&self, id: &str) -> RuntimeResult<&ContainerInfo> {
        let container = self.containers.get(id).ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
        match container.state {
            ContainerState::Running => Ok(container),
            _ => Err(RuntimeError::Other(format!("container {id} is not running"))),
        }
    }

    /// A free address of the network's subnet, or the next fallback address.
    fn allocate_ip(&mut self, network: &str) -> RuntimeResult<Ipv4Addr> {
        let Some(&Pool { network: base, size, gateway, next }) = self.networks.get(network) else {
            self.next_fallback_ip += 1;
            return Ok(Ipv4Addr::from(FALLBACK_BASE + self.next_fallback_ip));
        };
        let in_use: HashSet<Ipv4Addr> =
            self.containers.values().filter_map(|c| c.ip.as_deref()?.parse().ok()).collect();
        // Offsets 1 ..= size - 2: not the network address, not the broadcast address.
        let hosts = size - 2;
        let free = (0..hosts)
            .map(|step| 1 + (next - 1 + step) % hosts)
            .find(|&offset| base + offset != gateway && !in_use.contains(&Ipv4Addr::from(base + offset)));
        if let Some(offset) = free {
            self.networks.get_mut(network).unwrap().next = offset % hosts + 1;
            return Ok(Ipv4Addr::from(base + offset));
        }
        Err(RuntimeError::Other(format!("no free IP address left in network {network}")))
    }
}

/// `10.244.1.0/24` → (network address, number of addresses).
fn parse_subnet(subnet: &str) -> Option<(u32, u32)> {
    let (address, bits) = subnet.split_once('/')?;
    let bits: u32 = bits.parse().ok().filter(|b| (1..=30).contains(b))?;
    let mask = u32::MAX << (32 - bits);
    Some((u32::from(address.parse::<Ipv4Addr>().ok()?) & mask, 1 << (32 - bits)))
}

fn image_id(image: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    image.hash(&mut hasher);
    format!("sha256:{:064x}", hasher.finish())
}

fn new_container(id: String, image: &str, labels: BTreeMap<String, String>) -> ContainerInfo {
    ContainerInfo {
        id,
        pod_uid: String::new(),
        namespace: String::new(),
        pod_name: String::new(),
        container_name: None,
        attempt: 0,
        state: ContainerState::Created,
        exit_code: 0,
        started_at: String::new(),
        finished_at: String::new(),
        reason: String::new(),
        message: String::new(),
        image: image.to_string(),
        image_id: image_id(image),
        ip: None,
        labels,
    }
}

/// The last `lines` lines of `logs`.
fn tail(logs: &Bytes, lines: u64) -> Bytes {
    if lines == 0 {
        return Bytes::new();
    }
    let body = &logs[..logs.len() - usize::from(logs.ends_with(b"\n"))];
    match body.iter().enumerate().rev().filter(|(_, b)| **b == b'\n').nth(lines as usize - 1) {
        Some((at, _)) => logs.slice(at + 1..),
        None => logs.clone(),
    }
}

#[async_trait]
impl ContainerRuntime for FakeRuntime {
    async fn version(&self) -> RuntimeResult<RuntimeVersion> {
        drop(self.up()?);
        Ok(RuntimeVersion { version: "fake://1.0.0".to_string() })
    }

    async fn ensure_network(&self, name: &str, subnet: &str, gateway: &str) -> RuntimeResult<()> {
        let mut state = self.up()?;
        let bad = || {
            RuntimeError::Other(format!("network {name}: {subnet:?} with gateway {gateway:?} is not an IPv4 subnet (a.b.c.d/n, n from 1 to 30) containing its gateway"))
        };
        let (network, size) = parse_subnet(subnet).ok_or_else(bad)?;
        let gateway = u32::from(gateway.parse::<Ipv4Addr>().map_err(|_| bad())?);
        if !(network..network + size).contains(&gateway) {
            return Err(bad());
        }
        state.networks.insert(name.to_string(), Pool { network, size, gateway, next: 1 });
        Ok(())
    }

    async fn image_present(&self, image: &str) -> RuntimeResult<bool> {
        Ok(!self.up()?.missing_images.contains_key(image))
    }

    async fn pull_image(&self, image: &str) -> RuntimeResult<()> {
        match self.up()?.missing_images.get(image) {
            Some(message) => Err(RuntimeError::ImagePull(message.clone())),
            None => Ok(()),
        }
    }

    async fn run_sandbox(&self, config: &SandboxConfig) -> RuntimeResult<String> {
        let mut state = self.up()?;
        state.check_image(&config.image)?;
        let ip = match &config.network {
            PodNetwork::Host => None,
            PodNetwork::Bridge(network) => Some(state.allocate_ip(network)?.to_string()),
        };
        let id = state.new_id(self.tag);
        let mut sandbox = new_container(id.clone(), &config.image, BTreeMap::new());
        sandbox.pod_uid.clone_from(&config.pod_uid);
        sandbox.namespace.clone_from(&config.namespace);
        sandbox.pod_name.clone_from(&config.pod_name);
        sandbox.attempt = config.attempt;
        sandbox.state = ContainerState::Running;
        sandbox.started_at = rk_proto::time::now();
        sandbox.ip = ip;
        state.containers.insert(id.clone(), sandbox);
        Ok(id)
    }

    async fn create_container(&self, config: &ContainerConfig) -> RuntimeResult<String> {
        let mut state = self.up()?;
        state.check_image(&config.image)?;
        let sandbox = state
            .containers
            .get(&config.sandbox_id)
            .ok_or_else(|| RuntimeError::NotFound(config.sandbox_id.clone()))?;
        if sandbox.state != ContainerState::Running {
            let message = format!("cannot join the namespaces of sandbox {}: it is not running", config.sandbox_id);
            return Err(RuntimeError::Other(message));
        }
        let id = state.new_id(self.tag);
        let mut extra = config.labels.clone();
        extra.insert(labels::TERMINATION_GRACE.to_string(), config.termination_grace_seconds.to_string());
        let mut container = new_container(id.clone(), &config.image, extra);
        container.pod_uid.clone_from(&config.pod_uid);
        container.namespace.clone_from(&config.namespace);
        container.pod_name.clone_from(&config.pod_name);
        container.container_name = Some(config.name.clone());
        container.attempt = config.attempt;
        state.containers.insert(id.clone(), container);
        Ok(id)
    }

    async fn start_container(&self, id: &str) -> RuntimeResult<()> {
        let mut state = self.up()?;
        let container = state.containers.get_mut(id).ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
        if container.state != ContainerState::Running {
            container.state = ContainerState::Running;
            container.started_at = rk_proto::time::now();
            container.finished_at.clear();
            container.reason.clear();
            container.exit_code = 0;
        }
        Ok(())
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> RuntimeResult<()> {
        let ignores_sigterm = {
            let state = self.up()?;
            let container = state.containers.get(id).ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
            if container.state != ContainerState::Running {
                return Ok(());
            }
            let name = named(&container.pod_name, container.container_name.as_deref().unwrap_or_default());
            state.ignores_sigterm.contains(&name)
        };
        if ignores_sigterm {
            // As Docker does: wait out the grace period, then SIGKILL.
            tokio::time::sleep(grace).await;
        }
        let mut state = self.state();
        if let Some(container) = state.containers.get_mut(id).filter(|c| c.state == ContainerState::Running) {
            exit(container, if ignores_sigterm { SIGKILL_EXIT } else { 0 });
        }
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> RuntimeResult<()> {
        let mut state = self.up()?;
        state.containers.remove(id).map(drop).ok_or_else(|| RuntimeError::NotFound(id.to_string()))
    }

    async fn list_containers(&self) -> RuntimeResult<Vec<ContainerInfo>> {
        Ok(self.up()?.containers.values().cloned().collect())
    }

    async fn exec_sync(&self, id: &str, _command: &[String], _timeout: Duration) -> RuntimeResult<ExecOutput> {
        let mut state = self.up()?;
        let container = state.running(id)?;
        let name = named(&container.pod_name, container.container_name.as_deref().unwrap_or_default());
        let Some(script) = state.exec_scripts.get_mut(&name) else {
            return Ok(ExecOutput { exit_code: 0, output: Vec::new() });
        };
        let result = if script.len() > 1 { script.pop_front() } else { script.front().cloned() };
        Ok(result.unwrap_or(ExecOutput { exit_code: 0, output: Vec::new() }))
    }

    /// The scripted output, then (with stdin) whatever is written to stdin
    /// echoed back until it is closed, as `cat` would.
    async fn exec(&self, id: &str, options: ExecOptions) -> RuntimeResult<ExecSession> {
        let result = self.exec_sync(id, &options.command, Duration::ZERO).await?;
        let (stdin_tx, stdin_rx) = mpsc::channel::<Bytes>(16);
        let (resize_tx, resize_rx) = mpsc::channel(4);
        let stdin_rx = options.stdin.then_some(stdin_rx);
        let scripted = (!result.output.is_empty()).then(|| Ok(ExecChunk::Stdout(Bytes::from(result.output))));
        // The receivers live as long as the output, so writes and resizes succeed until it ends.
        let echoed = futures::stream::unfold((stdin_rx, resize_rx), |(mut stdin, resize)| async move {
            let bytes = stdin.as_mut()?.recv().await?;
            Some((Ok(ExecChunk::Stdout(bytes)), (stdin, resize)))
        });
        Ok(ExecSession {
            output: futures::stream::iter(scripted).chain(echoed).boxed(),
            stdin: options.stdin.then_some(stdin_tx),
            resize: resize_tx,
            exit_code: futures::future::ready(Ok(result.exit_code)).boxed(),
        })
    }

    /// The configured logs (whole, even with `follow`; no timestamps).
    async fn logs(&self, id: &str, options: LogOptions) -> RuntimeResult<BoxStream<'static, RuntimeResult<Bytes>>> {
        let state = self.up()?;
        let container = state.containers.get(id).ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
        let name = named(&container.pod_name, container.container_name.as_deref().unwrap_or_default());
        let logs = state.logs.get(&name).cloned().unwrap_or_default();
        let logs = options.tail_lines.map_or(logs.clone(), |lines| tail(&logs, lines));
        Ok(futures::stream::iter((!logs.is_empty()).then_some(Ok(logs))).boxed())
    }
}

#[cfg(test)]
mod tests;
