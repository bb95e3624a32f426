//! Runs `count` operations with `concurrency` workers, each taking the next
//! index when its previous call returns.

use futures::future::try_join_all;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// Calls `operation(worker, index)` for every index below `count`; returns
/// when each call was started, by index.
pub async fn run<F, Fut>(count: usize, concurrency: usize, operation: F) -> anyhow::Result<Vec<Instant>>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let operation = Arc::new(operation);
    let workers = (0..concurrency.max(1)).map(|worker| {
        let (next, operation) = (Arc::clone(&next), Arc::clone(&operation));
        tokio::spawn(async move {
            let mut started = Vec::new();
            loop {
                let index = next.fetch_add(1, Relaxed);
                if index >= count {
                    return anyhow::Ok(started);
                }
                started.push((index, Instant::now()));
                operation(worker, index).await?;
            }
        })
    });
    let mut starts = vec![None; count];
    for worker in try_join_all(workers).await? {
        for (index, at) in worker? {
            starts[index] = Some(at);
        }
    }
    Ok(starts.into_iter().map(|at| at.expect("every index was taken")).collect())
}
