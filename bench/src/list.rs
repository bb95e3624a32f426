//! Benchmark 3, LIST: a full LIST of many pods against an etcd range read of
//! the same keys. The apiserver's cost is decoding every stored pod,
//! filtering, and encoding the list again, on top of etcd's own read.

use crate::fixtures::{self, pod};
use crate::load;
use crate::report::Section;
use crate::stats::{ms, Summary};
use anyhow::{bail, Context};
use prost::Message;
use rk_proto::v1::{ListOptions, Pod};
use std::future::Future;
use std::time::{Duration, Instant};

/// The namespace holding the listed pods (the memory measurement reuses them).
pub const NAMESPACE: &str = "bench-list";
const CREATE_CONCURRENCY: usize = 64;
const CREATE_CONNECTIONS: usize = 8;
/// Timed LISTs per side, after one untimed warm-up.
const LISTS: usize = 20;
const LIST_TIMEOUT: Duration = Duration::from_secs(60);

/// Creates `count` pods in [`NAMESPACE`]: untimed setup for LIST and memory.
pub async fn populate(api: &str, count: usize) -> anyhow::Result<()> {
    let clients = fixtures::rk_clients(api, CREATE_CONNECTIONS).await?;
    fixtures::create_namespace(&clients[0], NAMESPACE).await?;
    let bar = load::bar(count, "list: create pods");
    load::run(count, CREATE_CONCURRENCY, &bar, move |worker, i| {
        let client = clients[worker % clients.len()].clone();
        let pod = pod(NAMESPACE, &format!("l{i}"));
        async move {
            client.create(pod).await?;
            Ok(())
        }
    })
    .await?;
    bar.finish_and_clear();
    Ok(())
}

/// A LIST of every pod in [`NAMESPACE`], checked to hold `count` pods.
pub async fn list_all(client: &rk_client::Client, count: usize) -> anyhow::Result<usize> {
    let options = ListOptions { namespace: NAMESPACE.into(), ..Default::default() };
    let list = client.list::<Pod>(options).await?;
    if list.items.len() != count {
        bail!("LIST returned {} pods, expected {count}", list.items.len());
    }
    Ok(list.encoded_len())
}

pub async fn run(api: &str, etcd: &str, count: usize) -> anyhow::Result<Section> {
    populate(api, count).await?;
    let client = rk_client::Client::connect(api).await?;
    let (rk, rk_bytes) = time_lists("rk LIST", || list_all(&client, count)).await?;
    let kv = fixtures::etcd_clients(etcd, 1).await?.remove(0).kv_client();
    let prefix = format!("/registry/pods/{NAMESPACE}/");
    let (etcd, etcd_bytes) = time_lists("etcd range", || {
        let (mut kv, prefix) = (kv.clone(), prefix.clone());
        async move {
            let response = kv.get(prefix, Some(etcd_client::GetOptions::new().with_prefix())).await?;
            if response.kvs().len() != count {
                bail!("etcd range returned {} keys, expected {count}", response.kvs().len());
            }
            Ok(response.kvs().iter().map(|kv| kv.key().len() + kv.value().len()).sum())
        }
    })
    .await?;
    let row = |name: &str, lat: &Summary, bytes: usize| {
        format!("| {name} | {count} | {} | {} | {:.1} |\n", ms(lat.p50), ms(lat.p99), bytes as f64 / 1e6)
    };
    let markdown = format!(
        "### LIST of {count} pods\n\n\
         {count} pods in one namespace (created 64-concurrent), then {LISTS} sequential full LISTs of it after one \
         untimed LIST. Baseline: as many etcd range reads of the namespace's prefix `{prefix}`.\n\n\
         | | pods | p50 ms | p99 ms | MB returned |\n|---|---:|---:|---:|---:|\n{}{}",
        row("rk LIST", &rk, rk_bytes),
        row("etcd range read (baseline)", &etcd, etcd_bytes)
    );
    Ok(Section { markdown, goals: Vec::new() })
}

/// One untimed call, then [`LISTS`] timed ones; returns their latencies and
/// the response size the first call reported.
async fn time_lists<F, Fut>(what: &str, list: F) -> anyhow::Result<(Summary, usize)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    let bounded = || async {
        tokio::time::timeout(LIST_TIMEOUT, list())
            .await
            .with_context(|| format!("{what}: no answer within {LIST_TIMEOUT:?}"))?
    };
    let bytes = bounded().await?;
    let bar = load::bar(LISTS, what);
    let mut latencies = Vec::with_capacity(LISTS);
    for _ in 0..LISTS {
        let start = Instant::now();
        bounded().await?;
        latencies.push(start.elapsed());
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((Summary::of(latencies), bytes))
}
