//! rk-bench: measures rk-apiserver against raw etcd on this machine and
//! records the tables in BENCHMARKS.md.
//!
//! It starts its own etcd and the release `rk-apiserver` binary (built next
//! to this one) on loopback ports, so a run needs nothing else and leaves
//! nothing behind. Every baseline is measured in the same run, against the
//! same etcd, so the ratios hold even where absolute numbers vary by machine.

mod apiserver_process;
mod cpu;
mod create;
mod fixtures;
mod list;
mod load;
mod memory;
mod report;
mod watch;
mod watch_names;

use anyhow::{bail, Context};
use apiserver_process::{ApiServer, Memory};
use clap::{Parser, ValueEnum};
use report::{RunInfo, Section};
use rk_bench::sections::{self, PrintedSections, WriteFlag};
// The modules reach the shared latency summaries as `crate::stats`.
use rk_bench::stats;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "rk-bench",
    about = "Benchmarks rk-apiserver against raw etcd and records the results in BENCHMARKS.md"
)]
struct Args {
    /// Creates per concurrency level (1, 16 and 64 workers).
    #[arg(long, default_value_t = 2000)]
    creates: usize,
    /// Concurrent pod watches in the fan-out benchmark.
    #[arg(long, default_value_t = 1000)]
    watchers: usize,
    /// Pods created while the watchers watch.
    #[arg(long, default_value_t = 1000)]
    watch_pods: usize,
    /// Pods stored for the LIST and memory benchmarks.
    #[arg(long, default_value_t = 10_000)]
    list_pods: usize,
    /// Run one benchmark only (BENCHMARKS.md is then left alone: its tables come from one full run).
    #[arg(long, value_enum)]
    only: Option<Part>,
    #[command(flatten)]
    write: WriteFlag,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Part {
    Create,
    Watch,
    List,
    Memory,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if [args.creates, args.watchers, args.watch_pods, args.list_pods].contains(&0) {
        bail!("--creates, --watchers, --watch-pods and --list-pods must be at least 1");
    }
    let run = RunInfo::collect(&apiserver_process::binary_path()?);
    println!("{}", run.banner("rk-bench"));

    let etcd = rk_testkit::TestEtcd::start().await.context("starting etcd")?;
    let api = ApiServer::start(&etcd.endpoint()).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = api.memory()?;
    let processes = cpu::Processes::find(api.pid())?;
    let result = measure(&args, &api, &etcd.endpoint(), idle, &processes).await;
    api.stop().await?;
    let sections = result?;

    println!("{}", report::goals_table(&sections));
    let skip = args.write.skip_reason(args.only.is_some());
    sections::record(&report::MARKERS, &report::render(&run, &sections), skip)?;
    Ok(())
}

/// Runs the selected benchmarks in order, printing each table as it is done.
async fn measure(
    args: &Args,
    api: &ApiServer,
    etcd: &str,
    idle: Memory,
    processes: &cpu::Processes,
) -> anyhow::Result<Vec<Section>> {
    let wanted = |part: Part| args.only.is_none_or(|only| only == part);
    let mut sections = PrintedSections::default();
    if wanted(Part::Create) {
        sections.push(create::run(&api.address, etcd, args.creates, processes).await?);
    }
    if wanted(Part::Watch) {
        sections.push(watch::run(&api.address, etcd, args.watchers, args.watch_pods, processes).await?);
    }
    if wanted(Part::List) {
        sections.push(list::run(&api.address, etcd, args.list_pods).await?);
    } else if wanted(Part::Memory) {
        list::populate(&api.address, args.list_pods).await?;
    }
    if wanted(Part::Memory) {
        sections.push(memory::run(api, idle, args.list_pods).await?);
    }
    Ok(sections.into_vec())
}
