//! Benchmark 1, creates: throughput and latency against raw etcd puts.
//!
//! Each level runs `creates` pod creates with that many concurrent workers,
//! then as many etcd puts of a value the size of a stored pod, with the same
//! workers over the same number of connections. An rk create costs etcd more
//! than one put (a transaction that puts only if the name is free and the
//! namespace exists), so a second baseline is etcd's own create-if-absent
//! transaction: the least etcd work a create that refuses an existing name
//! can cost, which bounds any apiserver's create rate on this etcd.

use crate::cpu::{micros_per, Processes};
use crate::fixtures::{self, pod};
use crate::load::{self, Timings};
use crate::report::{Goal, Section};
use crate::stats::{ms, per_second, Summary};
use etcd_client::{Compare, CompareOp, Txn, TxnOp};
use prost::Message;
use std::sync::Arc;

const LEVELS: [usize; 3] = [1, 16, 64];
/// Workers share at most this many HTTP/2 connections (round-robin), on both
/// sides. Eight streams per connection at 64 workers is how a real client
/// pool behaves; 64 connections would measure connection handling instead.
const MAX_CONNECTIONS: usize = 8;
const NAMESPACE: &str = "bench-create";
/// Untimed creates first, so connections, caches and etcd are warm.
const WARM_UP: usize = 100;
const GOAL_RATIO: f64 = 0.6;

pub async fn run(api: &str, etcd: &str, creates: usize, processes: &Processes) -> anyhow::Result<Section> {
    let setup = fixtures::rk_clients(api, 1).await?.remove(0);
    fixtures::create_namespace(&setup, NAMESPACE).await?;
    let stored = warm_up(api, etcd).await?;
    let sent_size = pod(NAMESPACE, "c64-0").encoded_len();
    let mut table = String::from(
        "| concurrency | rk creates/s | rk p50 ms | rk p99 ms | etcd puts/s | etcd p50 ms | etcd p99 ms | \
         etcd creates-if-absent/s | rk/etcd throughput | rk/etcd creates-if-absent |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut cpu_table = String::from(
        "| concurrency | apiserver µs/create | etcd µs/create | bench µs/create | etcd µs/put | bench µs/put | \
         etcd µs/create-if-absent |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut ratio_at_top = 0.0;
    for level in LEVELS {
        let prefix = format!("c{level}");
        let before = processes.sample()?;
        let rk = rk_creates(api, level, creates, &prefix).await?;
        let between = processes.sample()?;
        let puts = etcd_writes(etcd, level, creates, &prefix, &stored, Write::Put).await?;
        let after_puts = processes.sample()?;
        let if_absent = etcd_writes(etcd, level, creates, &prefix, &stored, Write::CreateIfAbsent).await?;
        let (rk_cpu, etcd_cpu) = (between - before, after_puts - between);
        let if_absent_cpu = processes.sample()? - after_puts;
        let per = |cpu| micros_per(cpu, creates);
        cpu_table.push_str(&format!(
            "| {level} | {} | {} | {} | {} | {} | {} |\n",
            per(rk_cpu.apiserver),
            per(rk_cpu.etcd),
            per(rk_cpu.bench),
            per(etcd_cpu.etcd),
            per(etcd_cpu.bench),
            per(if_absent_cpu.etcd)
        ));
        let (rk_rate, etcd_rate) = (per_second(creates, rk.wall), per_second(creates, puts.wall));
        let if_absent_rate = per_second(creates, if_absent.wall);
        let (rk_lat, etcd_lat) = (Summary::of(rk.latencies), Summary::of(puts.latencies));
        ratio_at_top = rk_rate / etcd_rate;
        table.push_str(&format!(
            "| {level} | {rk_rate:.0} | {} | {} | {etcd_rate:.0} | {} | {} | {if_absent_rate:.0} | {ratio_at_top:.2} | {:.2} |\n",
            ms(rk_lat.p50),
            ms(rk_lat.p99),
            ms(etcd_lat.p50),
            ms(etcd_lat.p99),
            rk_rate / if_absent_rate
        ));
    }
    let markdown = format!(
        "### Create throughput and latency\n\n\
         {creates} pod creates per level, each worker issuing its next call when the previous returns, over \
         min(concurrency, {MAX_CONNECTIONS}) HTTP/2 connections. Pod: four labels, one container with image, args, \
         two ports, env and resources: {sent_size} bytes as sent, {} bytes as stored. Baseline: etcd puts of a \
         stored pod's bytes to distinct keys, same workers and connections; and etcd creates-if-absent: \
         transactions that put the same bytes only if the key has never been written (one compare), the least \
         etcd work a create that refuses an existing name can cost.\n\n{table}\n\
         CPU time (user + system) per operation of each process, from /proc: all three share the machine's \
         CPUs, so a create's total is what bounds rk's throughput here.\n\n{cpu_table}",
        stored.len()
    );
    let goal = Goal {
        name: "create throughput vs etcd at concurrency 64",
        target: "rk/etcd ≥ 0.6",
        actual: format!("{ratio_at_top:.2}"),
        met: ratio_at_top >= GOAL_RATIO,
    };
    Ok(Section { markdown, goals: vec![goal] })
}

/// Warms both paths and returns a pod's bytes as rk stores them (the
/// baseline's value): the created object without its resourceVersion.
async fn warm_up(api: &str, etcd: &str) -> anyhow::Result<Arc<Vec<u8>>> {
    let client = fixtures::rk_clients(api, 1).await?.remove(0);
    let stored = Arc::new(fixtures::stored_pod_bytes(&client, NAMESPACE, "warm-up").await?);
    rk_creates(api, MAX_CONNECTIONS, WARM_UP, "warm").await?;
    etcd_writes(etcd, MAX_CONNECTIONS, WARM_UP, "warm", &stored, Write::Put).await?;
    Ok(stored)
}

/// `count` creates of pods named `<prefix>-<i>` by `level` workers.
async fn rk_creates(api: &str, level: usize, count: usize, prefix: &str) -> anyhow::Result<Timings> {
    let clients = fixtures::rk_clients(api, level.min(MAX_CONNECTIONS)).await?;
    let bar = load::bar(count, &format!("rk creates {prefix} x{level}"));
    let prefix = prefix.to_string();
    let timings = load::run(count, level, &bar, move |worker, i| {
        let client = clients[worker % clients.len()].clone();
        let pod = pod(NAMESPACE, &format!("{prefix}-{i}"));
        async move {
            client.create(pod).await?;
            Ok(())
        }
    })
    .await;
    bar.finish_and_clear();
    timings
}

/// What each baseline write is.
#[derive(Clone, Copy)]
enum Write {
    Put,
    /// A transaction: put only if the key was never written.
    CreateIfAbsent,
}

/// `count` writes of `value` to keys `/bench/<puts|creates>/<prefix>-<i>` by `level` workers.
async fn etcd_writes(
    etcd: &str,
    level: usize,
    count: usize,
    prefix: &str,
    value: &Arc<Vec<u8>>,
    write: Write,
) -> anyhow::Result<Timings> {
    let clients = fixtures::etcd_clients(etcd, level.min(MAX_CONNECTIONS)).await?;
    let what = match write {
        Write::Put => "puts",
        Write::CreateIfAbsent => "creates",
    };
    let bar = load::bar(count, &format!("etcd {what} {prefix} x{level}"));
    let (prefix, value) = (prefix.to_string(), Arc::clone(value));
    let timings = load::run(count, level, &bar, move |worker, i| {
        let mut kv = clients[worker % clients.len()].kv_client();
        let (key, value) = (format!("/bench/{what}/{prefix}-{i}"), value.to_vec());
        async move {
            match write {
                Write::Put => drop(kv.put(key, value, None).await?),
                Write::CreateIfAbsent => {
                    let txn = Txn::new()
                        .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
                        .and_then([TxnOp::put(key.as_str(), value, None)]);
                    anyhow::ensure!(kv.txn(txn).await?.succeeded(), "{key} existed already");
                }
            }
            Ok(())
        }
    })
    .await;
    bar.finish_and_clear();
    timings
}
