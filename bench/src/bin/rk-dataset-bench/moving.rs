//! A dataset move: the kubelet's streaming server (with the DatasetTransfer
//! service) in node A, `pull` in node B, first pass while a writer rewrites
//! chunks in A, then the final pass once the "old pod" has stopped.

use crate::data::Dataset;
use crate::network::{runtime, Pair};
use anyhow::Context;
use rk_kubelet::datasets::transfer::{connect, pull, target_cache, DatasetKey, RootDirSource};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "rk-dataset-bench";

pub struct MoveResult {
    pub first_pass: Duration,
    pub downtime: Duration,
    pub total: Duration,
    pub first_bytes: u64,
    pub final_bytes: u64,
    pub retried: u64,
}

/// Node A's kubelet streaming server on a free port, for the rest of the
/// process; `in_use` is its "is a running container using the dataset" answer.
fn start_source(pair: &Pair, datasets_root: &Path, in_use: Arc<AtomicBool>) -> anyhow::Result<SocketAddr> {
    let (netns, ip, root) = (pair.a.name.clone(), pair.a_ip.clone(), datasets_root.to_path_buf());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = (|| {
            crate::netns::enter(&netns)?;
            let runtime = runtime()?;
            let listener = runtime.block_on(tokio::net::TcpListener::bind((ip.as_str(), 0)))?;
            Ok::<_, anyhow::Error>((runtime, listener))
        })();
        let (runtime, listener) = match started {
            Ok(started) => started,
            Err(error) => return ready_tx.send(Err(error)).unwrap_or(()),
        };
        let _ = ready_tx.send(listener.local_addr().map_err(Into::into));
        let source = RootDirSource::new(root).with_in_use(move |_| in_use.load(Ordering::SeqCst));
        let _ = runtime.block_on(rk_kubelet::streaming::serve_with_datasets(
            listener,
            Arc::new(rk_kubelet::runtime::fake::FakeRuntime::new()),
            TOKEN.into(),
            Some(Arc::new(source)),
            std::future::pending(),
        ));
    });
    ready_rx.recv()?
}

/// Bytes allocated under the staging directory (its files are flat).
fn received(staging: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(staging) else { return 0 };
    entries.flatten().filter_map(|entry| entry.metadata().ok()).map(|metadata| metadata.blocks() * 512).sum()
}

/// One move of `dataset` into `target` (node B's root), `rewrites` chunks
/// rewritten while the first pass runs.
pub fn measure(pair: &Pair, dataset: &Dataset, target: &Path, rewrites: u64, run: usize) -> anyhow::Result<MoveResult> {
    let in_use = Arc::new(AtomicBool::new(true));
    let source = start_source(pair, &dataset.datasets_root, Arc::clone(&in_use))?;
    let staging = target.join("datasets/.incoming/bench/data");
    let first_done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        // The old pod keeps writing while the first pass runs: once a quarter
        // of the data has arrived in B (after the manifest), it rewrites chunks.
        let writer = scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(300);
            while received(&staging) < dataset.bytes() / 4 && !first_done.load(Ordering::SeqCst) {
                anyhow::ensure!(Instant::now() < deadline, "the first pass never got a quarter of the data across");
                std::thread::sleep(Duration::from_millis(5));
            }
            let mut seed = 0xfeed + run as u64;
            for k in 0..rewrites {
                let chunk = (k * 7919 + run as u64 * 131 + 17) % dataset.chunks();
                dataset.rewrite(chunk, &mut seed)?;
            }
            Ok(())
        });
        let mover = scope.spawn(|| {
            pair.b.enter()?;
            let runtime = runtime()?;
            runtime
                .block_on(async {
                    let client = connect(&format!("http://{source}"), TOKEN).await?;
                    let key = DatasetKey::new("bench", "data");
                    let started = Instant::now();
                    let first = pull(&client, &key, &staging, false).await.context("first pass")?;
                    let first_pass = started.elapsed();
                    first_done.store(true, Ordering::SeqCst);
                    Ok::<_, anyhow::Error>((client, key, started, first, first_pass))
                })
                .map(|state| (runtime, state))
        });
        let (runtime, (client, key, started, first, first_pass)) =
            mover.join().map_err(|_| anyhow::anyhow!("the mover panicked"))??;
        writer.join().map_err(|_| anyhow::anyhow!("the writer panicked"))?.context("rewriting chunks")?;
        // The old pod stops: from here until the data is ready is downtime.
        in_use.store(false, Ordering::SeqCst);
        let stopped = Instant::now();
        let last = runtime.block_on(pull(&client, &key, &staging, true)).context("final pass")?;
        let downtime = stopped.elapsed();
        anyhow::ensure!(last.complete, "the final pass left the staging directory incomplete");
        Ok(MoveResult {
            first_pass,
            downtime,
            total: started.elapsed(),
            first_bytes: first.bytes_sent,
            final_bytes: last.bytes_sent,
            retried: first.retried_chunks + last.retried_chunks,
        })
    });
    target_cache().forget_under(target);
    let _ = std::fs::remove_dir_all(target);
    result
}
