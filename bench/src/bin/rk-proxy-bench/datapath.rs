//! Data path: one client (a node's network namespace, rk-proxy's rules in
//! it) and one pod (a namespace behind a veth); requests to the pod IP and
//! to the cluster IP alternate in the same run. Each request is a new TCP
//! connection: connection set-up is where DNAT and conntrack cost.
//!
//! The two paths leave the node from two addresses of its own. From one,
//! a cluster IP connection, once DNATed, could take the very tuple (client
//! address and port to the pod's port) of a direct one that conntrack and
//! the pod still hold in TIME_WAIT: its SYN is dropped as a clash and
//! retried a second later, which measured the clash, not the proxy.

use crate::mode::Mode;
use crate::netns::Netns;
use rk_bench::sections::{Goal, Section};
use rk_bench::stats::{ms, per_second, Summary};
use rk_proxy::chains::ChainNames;
use rk_proxy::command::Runner;
use rk_proxy::host::Host;
use rk_proxy::model::{Endpoint, Protocol, ServicePortInfo};
use rk_proxy::proxier::Proxier;
use rk_proxy::rules::NodeConfig;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Throughput windows per path.
const ROUNDS: usize = 6;

const REPLY: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n";

pub struct DataPathResult {
    pub mode: Mode,
    pub pod: Summary,
    pub service: Summary,
    pub pod_rps: f64,
    pub service_rps: f64,
    pub requests: usize,
    /// Requests of the throughput part that failed (2 s timeouts), both paths.
    pub failures: usize,
}

struct Setup {
    node: Arc<Netns>,
    pod_ip: String,
    cluster_ip: String,
    _pod: Netns,
    _lease: rk_testkit::CidrLease,
}

fn set_up(mode: Mode) -> anyhow::Result<Setup> {
    let lease = rk_testkit::lease_cluster_cidr();
    let prefix = lease.cidr().trim_end_matches("0.0/16").to_string();
    let (node_ip, pod_ip, cluster_ip) = (format!("{prefix}0.1"), format!("{prefix}0.2"), format!("{prefix}128.10"));
    // The direct path's source address; the cluster IP path keeps `node_ip`, the source of the service CIDR's route.
    let direct_ip = format!("{prefix}0.3");
    let pid = std::process::id();
    let node = Arc::new(Netns::create(&format!("rk-proxy-bench-node-{pid}"))?);
    let pod = Netns::create(&format!("rk-proxy-bench-pod-{pid}"))?;
    let (node_end, pod_end) = (format!("rkpbn{pid}"), format!("rkpbp{pid}"));
    crate::netns::ip(&[
        "link", "add", &node_end, "netns", &node.name, "type", "veth", "peer", "name", &pod_end, "netns", &pod.name,
    ])?;
    node.exec(&["ip", "addr", "add", &format!("{node_ip}/24"), "dev", &node_end])?;
    node.exec(&["ip", "addr", "add", &format!("{direct_ip}/24"), "dev", &node_end])?;
    node.exec(&["ip", "link", "set", &node_end, "up"])?;
    node.exec(&["ip", "route", "replace", &format!("{pod_ip}/32"), "dev", &node_end, "src", &direct_ip])?;
    pod.exec(&["ip", "addr", "add", &format!("{pod_ip}/24"), "dev", &pod_end])?;
    pod.exec(&["ip", "link", "set", &pod_end, "up"])?;
    let runner = Runner::in_netns(&node.name);
    let config = NodeConfig {
        names: ChainNames::new("RK")?,
        node_ips: vec![node_ip.clone(), "127.0.0.1".into()],
        cluster_cidr: format!("{prefix}0.0/24"),
    };
    let service_cidr = format!("{prefix}128.0/24");
    let dataplane = mode.dataplane(&config, &service_cidr, runner.clone());
    let mut proxier = Proxier::new(config, &service_cidr, dataplane, Arc::new(Host { runner }));
    proxier.sync(&[ServicePortInfo {
        key: "bench/hello:http/tcp".into(),
        protocol: Protocol::Tcp,
        cluster_ip: cluster_ip.clone(),
        port: 80,
        node_port: 0,
        external_ips: Vec::new(),
        affinity_seconds: None,
        endpoints: vec![Endpoint { ip: pod_ip.clone(), port: 8080 }],
    }])?;
    serve(pod.name.clone(), format!("{pod_ip}:8080").parse()?)?;
    Ok(Setup { node, pod_ip, cluster_ip, _pod: pod, _lease: lease })
}

/// The "pod": answers every connection with a fixed HTTP reply, then closes.
/// The thread runs for the rest of the process, so it holds the namespace's name only.
fn serve(pod: String, address: SocketAddr) -> anyhow::Result<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let listener = crate::netns::enter(&pod).and_then(|()| Ok(TcpListener::bind(address)?));
        let listener = match listener {
            Ok(listener) => {
                let _ = ready_tx.send(Ok(()));
                listener
            }
            Err(error) => return ready_tx.send(Err(error)).unwrap_or(()),
        };
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    ready_rx.recv()?
}

fn answer(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 512];
    while !request.ends_with(b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let _ = stream.write_all(REPLY);
}

fn request(address: SocketAddr) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    anyhow::ensure!(reply == REPLY, "unexpected reply {:?}", String::from_utf8_lossy(&reply));
    Ok(started.elapsed())
}

/// Requests per second from `threads` clients in the node namespace for `window`, and failed requests.
fn throughput(
    node: &Arc<Netns>,
    address: SocketAddr,
    threads: usize,
    window: Duration,
) -> anyhow::Result<(f64, usize)> {
    let (done, failed, stop) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (node, done, failed, stop) =
                (Arc::clone(node), Arc::clone(&done), Arc::clone(&failed), Arc::clone(&stop));
            std::thread::spawn(move || -> anyhow::Result<()> {
                node.enter()?;
                while !stop.load(Ordering::Relaxed) {
                    match request(address) {
                        Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(window);
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("client thread")?;
    }
    Ok((per_second(done.load(Ordering::Relaxed), started.elapsed()), failed.load(Ordering::Relaxed)))
}

pub fn measure(mode: Mode, requests: usize, threads: usize, window: Duration) -> anyhow::Result<DataPathResult> {
    let setup = set_up(mode)?;
    let pod: SocketAddr = format!("{}:8080", setup.pod_ip).parse()?;
    let service: SocketAddr = format!("{}:80", setup.cluster_ip).parse()?;
    let node = Arc::clone(&setup.node);
    let latencies = std::thread::spawn(move || -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
        node.enter()?;
        let (mut direct, mut proxied) = (Vec::new(), Vec::new());
        for _ in 0..requests {
            direct.push(request(pod)?);
            proxied.push(request(service)?);
        }
        Ok((direct, proxied))
    })
    .join()
    .expect("latency thread")?;
    // Short windows, alternated and each round in the other order, so drift over the run and
    // other work on the machine hit both paths alike.
    let (mut pod_rps, mut service_rps, mut failures) = (0.0, 0.0, 0);
    for round in 0..ROUNDS {
        for direct in [round % 2 == 0, round % 2 == 1] {
            let address = if direct { pod } else { service };
            let (rps, failed) = throughput(&setup.node, address, threads, window)?;
            let total = if direct { &mut pod_rps } else { &mut service_rps };
            *total += rps / ROUNDS as f64;
            failures += failed;
        }
    }
    Ok(DataPathResult {
        mode,
        pod: Summary::of(latencies.0),
        service: Summary::of(latencies.1),
        pod_rps,
        service_rps,
        requests,
        failures,
    })
}

pub fn section(results: &[DataPathResult], threads: usize) -> Section {
    let requests = results.first().map(|r| r.requests).unwrap_or_default();
    let mut markdown = format!(
        "### Data path (new connection per request; {requests} requests each, alternating; throughput: {threads} clients, {ROUNDS} alternating windows per path)\n\n\
         | mode | path | p50 ms | p99 ms | requests/s |\n|---|---|---|---|---|\n"
    );
    let mut notes = String::new();
    let mut goals = Vec::new();
    for result in results {
        let name = result.mode.name();
        let ratio = result.service.p50.as_secs_f64() / result.pod.p50.as_secs_f64().max(f64::EPSILON);
        let throughput_ratio = result.pod_rps / result.service_rps.max(f64::EPSILON);
        markdown.push_str(&format!(
            "| {name} | pod IP directly (baseline) | {} | {} | {:.0} |\n\
             | {name} | cluster IP (rk-proxy DNAT) | {} | {} | {:.0} |\n",
            ms(result.pod.p50),
            ms(result.pod.p99),
            result.pod_rps,
            ms(result.service.p50),
            ms(result.service.p99),
            result.service_rps,
        ));
        notes.push_str(&format!(
            "{name}: latency ratio (cluster IP / pod IP, p50) {ratio:.3}; throughput ratio (pod IP / cluster IP) \
             {throughput_ratio:.3}; failed requests in the throughput part: {}.\n",
            result.failures
        ));
        // A handful of goals per run: leaking their names is cheaper than owning them.
        let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
        goals.push(Goal {
            name: leak(format!("cluster IP latency / pod IP latency (p50), {name}")),
            target: "≤ 1.05",
            actual: format!("{ratio:.3}"),
            met: ratio <= 1.05,
        });
        goals.push(Goal {
            name: leak(format!("pod IP throughput / cluster IP throughput, {name}")),
            target: "≤ 1.05",
            actual: format!("{throughput_ratio:.3}"),
            met: throughput_ratio <= 1.05,
        });
    }
    markdown.push('\n');
    markdown.push_str(&notes);
    Section { markdown, goals }
}
