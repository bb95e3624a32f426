//! A closed-loop load driver: a fixed number of workers, each issuing its
//! next call as soon as the previous one returns, until a fixed number of
//! calls is done. Concurrency is therefore exactly the worker count, and
//! throughput is calls over wall-clock time.

use anyhow::{bail, Context};
use indicatif::ProgressBar;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// No single call may take longer; a stuck server fails the bench instead of hanging it.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The outcome of one load run.
pub struct Timings {
    /// One latency per call, in no particular order.
    pub latencies: Vec<Duration>,
    /// From the first call's start to the last call's end.
    pub wall: Duration,
}

/// Runs `call(worker, i)` for every `i` in `0..count` on `concurrency`
/// workers. The first failed call stops every worker and is returned.
pub async fn run<F, Fut>(count: usize, concurrency: usize, bar: &ProgressBar, call: F) -> anyhow::Result<Timings>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (call, next, failed, bar) = (Arc::clone(&call), Arc::clone(&next), Arc::clone(&failed), bar.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count / concurrency + 1);
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let start = Instant::now();
                    let result = match tokio::time::timeout(CALL_TIMEOUT, call(worker, i)).await {
                        Ok(result) => result,
                        Err(_) => Err(anyhow::anyhow!("no answer within {CALL_TIMEOUT:?}")),
                    };
                    if let Err(error) = result {
                        failed.store(true, Ordering::Relaxed);
                        return Err(error.context(format!("call {i}")));
                    }
                    latencies.push(start.elapsed());
                    bar.inc(1);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(count);
    for worker in workers {
        latencies.extend(worker.await.context("a load worker panicked")??);
    }
    let wall = started.elapsed();
    if latencies.len() != count {
        bail!("only {} of {count} calls ran", latencies.len());
    }
    Ok(Timings { latencies, wall })
}

pub use rk_bench::progress::bar;
