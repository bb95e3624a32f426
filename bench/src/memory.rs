//! Benchmark 4, memory: the apiserver's resident memory idle after start,
//! then with the LIST benchmark's pods stored and watches open, then after a
//! full LIST (which materialises every pod at once, its worst single request).

use crate::apiserver_process::{ApiServer, Memory};
use crate::list;
use crate::report::{Goal, Section};
use anyhow::Context;
use rk_client::Client;
use rk_proto::v1::{ListOptions, Pod};
use std::time::Duration;

const WATCHES: usize = 100;
const GOAL_MIB: f64 = 150.0;
/// Lets the server finish its work (and the allocator return memory) before a reading.
const SETTLE: Duration = Duration::from_secs(1);
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Measures with [`list::NAMESPACE`] holding `pods` pods; `idle` was read right after start.
pub async fn run(api: &ApiServer, idle: Memory, pods: usize) -> anyhow::Result<Section> {
    let client = Client::connect(&api.address).await?;
    let mut watches = Vec::with_capacity(WATCHES);
    for _ in 0..WATCHES {
        let options = ListOptions { namespace: list::NAMESPACE.into(), ..Default::default() };
        let watch =
            tokio::time::timeout(OPEN_TIMEOUT, client.watch::<Pod>(options)).await.context("opening a watch")??;
        watches.push(watch);
    }
    tokio::time::sleep(SETTLE).await;
    let watching = api.memory()?;
    let after_list = match list::list_all(&client, pods).await {
        Ok(_) => "same, after a full LIST".to_string(),
        Err(_) => "same, after a full LIST (which failed)".to_string(),
    };
    tokio::time::sleep(SETTLE).await;
    let listed = api.memory()?;
    drop(watches);

    let mib = |kib: u64| kib as f64 / 1024.0;
    let row = |state: &str, m: Memory| format!("| {state} | {:.1} | {:.1} |\n", mib(m.rss_kib), mib(m.peak_kib));
    let markdown = format!(
        "### apiserver memory\n\n\
         Resident memory of the rk-apiserver process from /proc (VmRSS; VmHWM is the peak since start, so it \
         includes the earlier benchmarks of this run).\n\n\
         | state | RSS MiB | peak RSS MiB |\n|---|---:|---:|\n{}{}{}",
        row("idle after start", idle),
        row(&format!("{pods} pods stored, {WATCHES} watches open"), watching),
        row(&after_list, listed)
    );
    let worst = mib(watching.rss_kib.max(listed.rss_kib));
    let goal = Goal {
        name: "apiserver RSS, LIST pods stored + 100 watches",
        target: "≤ 150 MiB",
        actual: format!("{worst:.1} MiB"),
        met: worst <= GOAL_MIB,
    };
    Ok(Section { markdown, goals: vec![goal] })
}
