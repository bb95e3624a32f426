//! rk-proxy-bench: measures rk-proxy's sync time for 1,000 and 10,000
//! Services (and one endpoint change at the largest size) and the data path
//! through a cluster IP against the pod IP, all in throwaway network
//! namespaces; records the tables in BENCHMARKS.md.

mod datapath;
mod mode;
mod netns;
mod sync;

use anyhow::bail;
use clap::Parser;
use mode::Mode;
use rk_bench::procfs::load_averages;
use rk_bench::sections::{self, Markers, RunInfo, Section, WriteFlag};
use rk_proxy::applier::Backend;
use std::time::Duration;

const MARKERS: Markers = Markers { start: "<!-- rk-proxy-bench:start -->", end: "<!-- rk-proxy-bench:end -->" };

#[derive(Parser, Debug)]
#[command(
    name = "rk-proxy-bench",
    about = "Benchmarks rk-proxy's iptables and nftables sync and data path in throwaway network namespaces; records BENCHMARKS.md"
)]
struct Args {
    /// Service counts to sync (10 endpoints each); one-endpoint changes are timed at the largest.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    services: Vec<usize>,
    /// Largest service count measured with the system iptables (iptables-nft takes minutes per
    /// restore at 10,000 services); iptables-legacy is measured at every size.
    #[arg(long, default_value_t = 1000)]
    system_max_services: usize,
    /// Full syncs per size (the first creates every chain).
    #[arg(long, default_value_t = 5)]
    full_syncs: usize,
    /// One-endpoint changes at the largest size.
    #[arg(long, default_value_t = 20)]
    changes: usize,
    /// Requests per path in the latency part.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Client threads in the throughput part.
    #[arg(long, default_value_t = 4)]
    threads: usize,
    /// Seconds of each throughput window (6 per path).
    #[arg(long, default_value_t = 1)]
    window: u64,
    /// Modes to measure: nftables, iptables (the system's iptables-nft), iptables-legacy.
    #[arg(long, value_delimiter = ',', value_parser = Mode::parse, default_value = "nftables,iptables,iptables-legacy")]
    modes: Vec<Mode>,
    #[command(flatten)]
    write: WriteFlag,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.services.contains(&0) || args.full_syncs == 0 || args.requests == 0 || args.threads == 0 || args.window == 0
    {
        bail!("--services, --full-syncs, --requests, --threads and --window must be at least 1");
    }
    let run = RunInfo::collect(&std::env::current_exe()?);
    let load_at_start = load_averages();
    println!("{}", run.banner("rk-proxy-bench"));
    let largest = args.services.iter().copied().max().unwrap_or_default();
    let mut results = Vec::new();
    for mode in Mode::ALL.into_iter().filter(|m| args.modes.contains(m)) {
        for &count in &args.services {
            if mode == Mode::Iptables(Backend::System) && count > args.system_max_services {
                continue;
            }
            let changes = if count == largest || count == args.system_max_services { args.changes } else { 0 };
            eprintln!("syncing {count} services with {}...", mode.name());
            results.push(sync::measure(mode, count, args.full_syncs, changes)?);
        }
    }
    let mut data = Vec::new();
    for mode in [Mode::Nftables, Mode::Iptables(Backend::System)].into_iter().filter(|m| args.modes.contains(m)) {
        eprintln!("data path with {}...", mode.name());
        data.push(datapath::measure(mode, args.requests, args.threads, Duration::from_secs(args.window))?);
    }
    let parts: Vec<Section> = vec![sync::section(&results), datapath::section(&data, args.threads)];
    let load = format!(
        "- Load average (1, 5, 15 min) at start: {load_at_start}; at the end: {} (the bench alone keeps \
         about one CPU busy; more is other work on the machine)\n",
        load_averages()
    );
    let body = format!("{}{load}\n{}\n", run.markdown(), sections::goals_and_sections(&parts));
    let section = MARKERS.around("rk-proxy-bench", &body);
    println!("{section}");
    sections::record(&MARKERS, &section, args.write.skip_reason(false))?;
    Ok(())
}
