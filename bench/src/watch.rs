//! Benchmark 2, watch fan-out: how long after a create is acknowledged does
//! every watcher hold the new pod?
//!
//! The watchers are opened first and proven live with a warm-up pod (the
//! apiserver sends nothing on a new watch until an event, so an open call
//! alone does not show the watch is registered). Then the pods are created
//! and, per watcher and pod, latency = received - acknowledged, clamped at
//! zero because a delivery may beat the create's own response. The same run
//! against etcd's own watch, with puts of a stored pod's size, is the baseline.

use crate::cpu::{CpuTimes, Processes};
use crate::fixtures::{self, pod};
use crate::load;
use crate::report::{Goal, Section};
use crate::stats::{ms, Summary};
use crate::watch_names::watch_pod_names;
use anyhow::{bail, Context};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use rk_client::Client;
use rk_proto::v1::ListOptions;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Watches share this many HTTP/2 connections (50 streams each by default).
const WATCH_CONNECTIONS: usize = 20;
const CREATE_CONCURRENCY: usize = 16;
const CREATE_CONNECTIONS: usize = 4;
const NAMESPACE: &str = "bench-watch";
const ETCD_PREFIX: &str = "/bench/watch/";
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(60);
/// After the last create, how long the watchers get to receive everything.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);
const GOAL_P99: Duration = Duration::from_millis(100);

/// The bench pods a watch stream announces, as indices (pod `p<i>`); one
/// batch per message. Index 0 is the warm-up pod, 1..=pods the measured ones.
type Deliveries = BoxStream<'static, anyhow::Result<Vec<usize>>>;

/// Where the watches and the creates go.
enum Backend {
    Rk { watch: Vec<Client>, create: Vec<Client> },
    Etcd { watch: Vec<etcd_client::Client>, create: Vec<etcd_client::Client>, value: Vec<u8> },
}

/// Counters the watchers bump, read by the waits and progress bars.
#[derive(Default)]
struct Progress {
    warmed: AtomicUsize,
    delivered: AtomicUsize,
    ended: AtomicUsize,
}

/// What one watcher saw: when it received each pod, and why it stopped early.
struct Watched {
    received: Vec<Option<Instant>>,
    error: Option<String>,
}

/// The outcome of one fan-out run.
struct FanOut {
    latency: Summary,
    received: usize,
    expected: usize,
    before_ack: usize,
}

pub async fn run(
    api: &str,
    etcd: &str,
    watchers: usize,
    pods: usize,
    processes: &Processes,
) -> anyhow::Result<Section> {
    let setup = Client::connect(api).await?;
    fixtures::create_namespace(&setup, NAMESPACE).await?;
    let value = fixtures::stored_pod_bytes(&setup, NAMESPACE, "size-probe").await?;
    let rk = Backend::Rk {
        watch: fixtures::rk_clients(api, WATCH_CONNECTIONS).await?,
        create: fixtures::rk_clients(api, CREATE_CONNECTIONS).await?,
    };
    let before = processes.sample()?;
    let rk = fan_out(Arc::new(rk), watchers, pods, "rk").await?;
    let rk_cpu = processes.sample()? - before;
    let baseline = Backend::Etcd {
        watch: fixtures::etcd_clients(etcd, WATCH_CONNECTIONS).await?,
        create: fixtures::etcd_clients(etcd, CREATE_CONNECTIONS).await?,
        value,
    };
    let before = processes.sample()?;
    let baseline = fan_out(Arc::new(baseline), watchers, pods, "etcd").await?;
    let baseline_cpu = processes.sample()? - before;
    let row = |name: &str, run: &FanOut, cpu: CpuTimes| {
        format!(
            "| {name} | {} / {} | {} | {} | {} | {} | {:.1} / {:.1} / {:.1} |\n",
            run.received,
            run.expected,
            ms(run.latency.p50),
            ms(run.latency.p99),
            ms(run.latency.max),
            run.before_ack,
            cpu.apiserver.as_secs_f64(),
            cpu.etcd.as_secs_f64(),
            cpu.bench.as_secs_f64()
        )
    };
    let markdown = format!(
        "### Watch fan-out\n\n\
         {watchers} pod watches on one namespace over {WATCH_CONNECTIONS} connections; then {pods} pod creates \
         ({CREATE_CONCURRENCY} concurrent, {CREATE_CONNECTIONS} connections). Latency per delivery = received by \
         the watcher - create acknowledged to its caller (clamped at 0). Watchers decode only the pod's name from \
         each event (the baseline reads only keys), so the bench's decoding takes little of the CPUs the servers \
         share with it. Baseline: the same with etcd watches on a prefix and puts of a stored pod's bytes. CPU: \
         what each process spent from opening the watches to the last delivery.\n\n\
         | | deliveries received / expected | p50 ms | p99 ms | max ms | delivered before the ack | \
         CPU s: apiserver / etcd / bench |\n\
         |---|---:|---:|---:|---:|---:|---:|\n{}{}",
        row("rk watch", &rk, rk_cpu),
        row("etcd watch (baseline)", &baseline, baseline_cpu)
    );
    let goals = vec![
        Goal {
            name: "watch delivery p99",
            target: "≤ 100 ms",
            actual: format!("{} ms", ms(rk.latency.p99)),
            met: rk.latency.p99 <= GOAL_P99,
        },
        Goal {
            name: "watch deliveries complete",
            target: "all",
            actual: format!("{} / {}", rk.received, rk.expected),
            met: rk.received == rk.expected,
        },
    ];
    Ok(Section { markdown, goals })
}

impl Backend {
    async fn open(&self, watcher: usize) -> anyhow::Result<Deliveries> {
        match self {
            Backend::Rk { watch, .. } => {
                let options = ListOptions { namespace: NAMESPACE.into(), ..Default::default() };
                let stream = watch_pod_names(watch[watcher % watch.len()].channel(), options).await?;
                Ok(stream
                    .map(|event| -> anyhow::Result<Vec<usize>> { Ok(index(event?.name()).into_iter().collect()) })
                    .boxed())
            }
            Backend::Etcd { watch, .. } => {
                let mut client = watch[watcher % watch.len()].clone();
                let options = etcd_client::WatchOptions::new().with_prefix();
                let stream = client.watch(ETCD_PREFIX, Some(options)).await?;
                Ok(stream
                    .map(|response| -> anyhow::Result<Vec<usize>> {
                        let response = response?;
                        let keys = response.events().iter().filter_map(|e| e.kv()).filter_map(|kv| kv.key_str().ok());
                        Ok(keys.filter_map(|key| index(key.strip_prefix(ETCD_PREFIX)?)).collect())
                    })
                    .boxed())
            }
        }
    }

    async fn create(&self, worker: usize, index: usize) -> anyhow::Result<()> {
        let name = format!("p{index}");
        match self {
            Backend::Rk { create, .. } => {
                create[worker % create.len()].create(pod(NAMESPACE, &name)).await?;
            }
            Backend::Etcd { create, value, .. } => {
                let mut kv = create[worker % create.len()].kv_client();
                kv.put(format!("{ETCD_PREFIX}{name}"), value.clone(), None).await?;
            }
        }
        Ok(())
    }
}

fn index(name: &str) -> Option<usize> {
    name.strip_prefix('p')?.parse().ok()
}

async fn fan_out(backend: Arc<Backend>, watchers: usize, pods: usize, label: &str) -> anyhow::Result<FanOut> {
    let bar = load::bar(watchers, &format!("{label}: open watches"));
    let streams: Vec<Deliveries> = stream::iter(0..watchers)
        .map(|watcher| {
            let backend = Arc::clone(&backend);
            async move {
                tokio::time::timeout(OPEN_TIMEOUT, backend.open(watcher))
                    .await
                    .with_context(|| format!("opening watch {watcher}: no answer within {OPEN_TIMEOUT:?}"))?
            }
        })
        .buffered(64)
        .inspect(|_| bar.inc(1))
        .try_collect()
        .await?;
    bar.finish_and_clear();

    let progress = Arc::new(Progress::default());
    let (stop, stopped) = watch::channel(false);
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(watch_pods(stream, pods, Arc::clone(&progress), stopped.clone())))
        .collect();
    let collect = |stop: watch::Sender<bool>| async move {
        stop.send_replace(true);
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            results.push(task.await.context("a watcher panicked")?);
        }
        anyhow::Ok(results)
    };

    let bar = load::bar(watchers, &format!("{label}: warm-up seen"));
    backend.create(0, 0).await.context("creating the warm-up pod")?;
    let warmed = wait(&bar, WARM_UP_TIMEOUT, || {
        let seen = progress.warmed.load(Ordering::Relaxed);
        (seen, seen + progress.ended.load(Ordering::Relaxed) >= watchers)
    })
    .await;
    bar.finish_and_clear();
    if warmed < watchers {
        let results = collect(stop).await?;
        let error = results.into_iter().find_map(|w| w.error).unwrap_or_else(|| format!("{WARM_UP_TIMEOUT:?} passed"));
        bail!("{label}: only {warmed} of {watchers} watchers saw the warm-up pod: {error}");
    }

    let acks: Arc<Vec<OnceLock<Instant>>> = Arc::new((0..=pods).map(|_| OnceLock::new()).collect());
    let bar = load::bar(pods, &format!("{label}: creates"));
    let (creator, ack) = (Arc::clone(&backend), Arc::clone(&acks));
    load::run(pods, CREATE_CONCURRENCY, &bar, move |worker, i| {
        let (backend, acks) = (Arc::clone(&creator), Arc::clone(&ack));
        async move {
            backend.create(worker, i + 1).await?;
            let _ = acks[i + 1].set(Instant::now());
            Ok(())
        }
    })
    .await?;
    bar.finish_and_clear();

    let expected = watchers * pods;
    let bar = load::bar(expected, &format!("{label}: deliveries"));
    wait(&bar, DRAIN_TIMEOUT, || {
        (progress.delivered.load(Ordering::Relaxed), progress.ended.load(Ordering::Relaxed) >= watchers)
    })
    .await;
    bar.finish_and_clear();
    let results = collect(stop).await?;
    if let Some(error) = results.iter().find_map(|w| w.error.as_ref()) {
        eprintln!("{label}: a watch ended early: {error}");
    }
    Ok(summarize(&results, &acks, expected))
}

/// Reads one watch until it has seen every pod or is told to stop.
async fn watch_pods(
    mut stream: Deliveries,
    pods: usize,
    progress: Arc<Progress>,
    mut stop: watch::Receiver<bool>,
) -> Watched {
    let mut received = vec![None; pods + 1];
    let mut missing = pods + 1;
    let mut error = None;
    while missing > 0 {
        let batch = tokio::select! {
            item = stream.next() => item,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let now = Instant::now();
        match batch {
            Some(Ok(indices)) => {
                for i in indices.into_iter().filter(|&i| i <= pods) {
                    if received[i].is_none() {
                        received[i] = Some(now);
                        missing -= 1;
                        let counter = if i == 0 { &progress.warmed } else { &progress.delivered };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Some(Err(e)) => {
                error = Some(format!("{e:#}"));
                break;
            }
            None => {
                error = Some("the server closed the watch".into());
                break;
            }
        }
    }
    progress.ended.fetch_add(1, Ordering::Relaxed);
    Watched { received, error }
}

/// Polls `state` (count, done) onto `bar` until done or `timeout`; returns the last count.
async fn wait(bar: &ProgressBar, timeout: Duration, state: impl Fn() -> (usize, bool)) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let (count, done) = state();
        bar.set_position(count as u64);
        if done || Instant::now() >= deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn summarize(results: &[Watched], acks: &[OnceLock<Instant>], expected: usize) -> FanOut {
    let mut latencies = Vec::with_capacity(expected);
    let mut before_ack = 0;
    for watched in results {
        for (received, ack) in watched.received.iter().zip(acks).skip(1) {
            if let (Some(received), Some(ack)) = (received, ack.get()) {
                before_ack += usize::from(received < ack);
                latencies.push(received.saturating_duration_since(*ack));
            }
        }
    }
    FanOut { received: latencies.len(), latency: Summary::of(latencies), expected, before_ack }
}
