//! Benchmark 3, LIST: a full LIST of many pods against an etcd range read of
//! the same keys. The apiserver's cost is decoding every stored pod,
//! filtering, and encoding the list again, on top of etcd's own read.

use crate::fixtures::{self, pod};
use crate::load;
use crate::report::{self, Goal, Section};
use crate::stats::{ms, Summary};
use anyhow::{bail, Context};
use prost::Message;
use rk_proto::v1::{ListOptions, Pod, PodList};
use std::future::Future;
use std::time::{Duration, Instant};

/// The namespace holding the listed pods (the memory measurement reuses them).
pub const NAMESPACE: &str = "bench-list";
const CREATE_CONCURRENCY: usize = 64;
const CREATE_CONNECTIONS: usize = 8;
/// Timed LISTs per side, after one untimed warm-up.
const LISTS: usize = 20;
const LIST_TIMEOUT: Duration = Duration::from_secs(60);
/// etcd-client refuses responses over 4 MiB by default; 10,000 pods are more.
const MAX_RESPONSE_BYTES: usize = 512 << 20;

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
    // A failed rk LIST is a result to record, not a reason to stop the run.
    let rk = time_lists("rk LIST", || list_all(&client, count)).await;
    let kv = fixtures::etcd_clients(etcd, 1).await?.remove(0).kv_client().max_decoding_message_size(MAX_RESPONSE_BYTES);
    let prefix = format!("/registry/pods/{NAMESPACE}/");
    let etcd = time_lists("etcd range", || {
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
    let decode = match &rk {
        Ok(_) => decode_cost(&client).await.map(|summary| (summary, 0)),
        Err(_) => Err(anyhow::anyhow!("no list to decode")),
    };
    let row = |name: &str, result: &anyhow::Result<(Summary, usize)>| match result {
        Ok((lat, bytes)) => {
            let mb = if *bytes > 0 { format!("{:.1}", *bytes as f64 / 1e6) } else { String::new() };
            format!("| {name} | {count} | {} | {} | {mb} |\n", ms(lat.p50), ms(lat.p99))
        }
        Err(error) => format!("| {name} | {count} | failed: {} | | |\n", report::cell(&format!("{error:#}"))),
    };
    let markdown = format!(
        "### LIST of {count} pods\n\n\
         {count} pods in one namespace (created 64-concurrent), then {LISTS} sequential full LISTs of it after one \
         untimed LIST. Baseline: as many etcd range reads of the namespace's prefix `{prefix}`.\n\n\
         | | pods | p50 ms | p99 ms | MB returned |\n|---|---:|---:|---:|---:|\n{}{}{}",
        row("rk LIST", &rk),
        row("of which: decoding the PodList in the bench", &decode),
        row("etcd range read (baseline)", &Ok(etcd))
    );
    let goal = Goal {
        name: "full LIST of the LIST pods",
        target: "succeeds",
        actual: rk.as_ref().map_or_else(|e| format!("failed: {}", report::cell(&format!("{e:#}"))), |_| "ok".into()),
        met: rk.is_ok(),
    };
    Ok(Section { markdown, goals: vec![goal] })
}

/// How long this process takes to decode the PodList alone: part of every rk
/// LIST above, and CPU the server does not get on a shared machine.
async fn decode_cost(client: &rk_client::Client) -> anyhow::Result<Summary> {
    let options = ListOptions { namespace: NAMESPACE.into(), ..Default::default() };
    let bytes = client.list::<Pod>(options).await?.encode_to_vec();
    let mut latencies = Vec::with_capacity(LISTS);
    for _ in 0..LISTS {
        let start = Instant::now();
        PodList::decode(bytes.as_slice())?;
        latencies.push(start.elapsed());
    }
    Ok(Summary::of(latencies))
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
