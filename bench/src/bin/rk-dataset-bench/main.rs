//! rk-dataset-bench: moves a 1 GiB dataset (random data) between two kubelet
//! dataset transfer servers in two throwaway network namespaces joined by a
//! veth pair, with 1% of its chunks rewritten during the first phase, and
//! copies the same data between the same namespaces over a plain TCP stream
//! as the baseline; records the table in BENCHMARKS.md.

#[path = "../rk-proxy-bench/netns.rs"]
mod netns;

mod data;
mod moving;
mod network;
mod plain_copy;

use anyhow::bail;
use clap::Parser;
use rk_bench::procfs::load_average;
use rk_bench::sections::{self, Goal, Markers, RunInfo, Section, WriteFlag};
use std::time::Duration;

const MARKERS: Markers = Markers { start: "<!-- rk-dataset-bench:start -->", end: "<!-- rk-dataset-bench:end -->" };

#[derive(Parser, Debug)]
#[command(
    name = "rk-dataset-bench",
    about = "Benchmarks a dataset move between two kubelets' transfer servers in throwaway network namespaces against a plain TCP copy; records BENCHMARKS.md"
)]
struct Args {
    /// Dataset size in MiB (random data).
    #[arg(long, default_value_t = 1024)]
    size_mib: u64,
    /// Files the dataset is split into.
    #[arg(long, default_value_t = 16)]
    files: u64,
    /// Percent of the chunks rewritten while the first phase runs.
    #[arg(long, default_value_t = 1.0)]
    rewrite_percent: f64,
    /// Moves and plain copies, alternating; the tables show the median.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Where the two nodes' data goes (a directory on the disk to measure).
    #[arg(long, default_value = "/var/tmp")]
    work_dir: std::path::PathBuf,
    #[command(flatten)]
    write: WriteFlag,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.size_mib == 0 || args.files == 0 || args.runs == 0 || args.size_mib % args.files != 0 {
        bail!("--size-mib, --files and --runs must be at least 1, and --size-mib a multiple of --files");
    }
    let run = RunInfo::collect(&std::env::current_exe()?);
    println!("{}", run.banner("rk-dataset-bench"));
    let pair = network::Pair::create()?;
    let work = tempfile::Builder::new().prefix("rk-dataset-bench-").tempdir_in(&args.work_dir)?;
    let source = work.path().join("node-a");
    let dataset = data::Dataset::generate(&source, args.files, args.size_mib / args.files)?;
    let rewrites = ((dataset.chunks() as f64) * args.rewrite_percent / 100.0).round() as u64;

    let load_before = load_average();
    let mut moves = Vec::new();
    let mut copies = Vec::new();
    for run in 0..args.runs {
        eprintln!("run {}/{}: plain copy...", run + 1, args.runs);
        copies.push(plain_copy::measure(&pair, &dataset, &work.path().join(format!("copy-{run}")))?);
        eprintln!(
            "run {}/{}: dataset move ({rewrites} chunks rewritten during the first phase)...",
            run + 1,
            args.runs
        );
        moves.push(moving::measure(&pair, &dataset, &work.path().join(format!("node-b-{run}")), rewrites, run)?);
    }
    let load = [load_before, load_average()];
    let parts = vec![section(&args, &dataset, rewrites, &moves, &copies, load)];
    let body = format!("{}\n{}\n", run.markdown(), sections::goals_and_sections(&parts));
    let section = MARKERS.around("rk-dataset-bench", &body);
    println!("{section}");
    sections::record(&MARKERS, &section, args.write.skip_reason(false))?;
    Ok(())
}

fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
    values.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values[values.len() / 2]
}

fn secs(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

fn mib_per_s(bytes: u64, duration: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / duration.as_secs_f64().max(f64::EPSILON)
}

fn section(
    args: &Args,
    dataset: &data::Dataset,
    rewrites: u64,
    moves: &[moving::MoveResult],
    copies: &[Duration],
    load: [f64; 2],
) -> Section {
    let bytes = dataset.bytes();
    let copy = median(copies.to_vec());
    let first = median(moves.iter().map(|m| m.first_pass).collect());
    let downtime = median(moves.iter().map(|m| m.downtime).collect());
    let total = median(moves.iter().map(|m| m.total).collect());
    let (copy_rate, move_rate) = (mib_per_s(bytes, copy), mib_per_s(bytes, first));
    // Each move is compared with the plain copy just before it (the load on
    // the shared CPUs changes between runs more than within one).
    let ratios: Vec<f64> =
        moves.iter().zip(copies).map(|(m, c)| c.as_secs_f64() / m.first_pass.as_secs_f64().max(f64::EPSILON)).collect();
    let ratio = median(ratios.clone());
    let mut markdown = format!(
        "`rk-dataset-bench` makes two throwaway network namespaces joined by a veth pair (addresses from a \
         leased test CIDR, no default route), writes a {} MiB dataset of random data in {} files under node A's \
         `datasets/bench/data`, and in each of {} runs (alternating, medians shown) copies it to node B with a \
         plain TCP stream (a Rust sender and receiver, `std::io::copy` file to socket to file: the baseline), then \
         moves it with the kubelet's transfer service in A (same server as `rk-kubelet`'s streaming endpoint, \
         bearer token, fresh hash cache) and `pull` run in B: the first pass while a writer rewrites {rewrites} \
         random 1 MiB chunks ({}%) in A; then the \"old pod\" stops (the in-use predicate turns false) and the \
         final pass runs. Downtime is old pod stopped → final pass done (data verified in B's staging directory); \
         the transfer rate is the dataset's size over the first pass (manifest hashing included). \
         The data stays in the page cache; both sides share the machine's CPUs, and so does other work: the \
         1-minute load average was {:.1} before the runs and {:.1} after. The rate ratio of a run is its plain \
         copy's time over its first pass's (same data, same namespaces, back to back); the goal uses the median \
         of the runs' ratios.\n\n\
         Reproduce: `cargo build --release -p rk-bench --bin rk-dataset-bench && sudo target/release/rk-dataset-bench` \
         (flags: `--size-mib N`, `--files N`, `--rewrite-percent P`, `--runs N`, `--work-dir DIR`, `--no-write`).\n\n\
         | run | plain copy s | move: first pass s | rate ratio | final pass (downtime) s | total s | bytes sent first / final | chunks re-sent |\n\
         |---|---|---|---|---|---|---|---|\n",
        bytes >> 20,
        args.files,
        args.runs,
        args.rewrite_percent,
        load[0],
        load[1]
    );
    for (i, ((m, c), r)) in moves.iter().zip(copies).zip(&ratios).enumerate() {
        markdown.push_str(&format!(
            "| {} | {} | {} | {r:.2} | {} | {} | {} MiB / {:.1} MiB | {} |\n",
            i + 1,
            secs(*c),
            secs(m.first_pass),
            secs(m.downtime),
            secs(m.total),
            m.first_bytes >> 20,
            m.final_bytes as f64 / (1 << 20) as f64,
            m.retried
        ));
    }
    markdown.push_str(&format!(
        "\nMedians: plain copy {} s ({copy_rate:.0} MiB/s); move first pass {} s ({move_rate:.0} MiB/s, {:.2} × \
         the median plain copy); median of the runs' rate ratios {ratio:.2}; final pass {} s; total {} s.\n",
        secs(copy),
        secs(first),
        move_rate / copy_rate.max(f64::EPSILON),
        secs(downtime),
        secs(total)
    ));
    let goals = vec![
        Goal {
            name: "downtime (old pod stopped → data ready), 1 GiB, 1% rewritten",
            target: "≤ 2 s",
            actual: format!("{} s", secs(downtime)),
            met: downtime <= Duration::from_secs(2),
        },
        Goal {
            name: "transfer rate / plain copy rate",
            target: "≥ 0.8",
            actual: format!("{ratio:.2}"),
            met: ratio >= 0.8,
        },
    ];
    Section { markdown, goals }
}
