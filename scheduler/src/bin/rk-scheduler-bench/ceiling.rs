//! The etcd write ceiling in this run: raw puts of pod-sized values, with the
//! concurrency the bench creates pods with, to an etcd of its own. Each
//! scheduled pod costs at least three writes (its create, its bind and its
//! Scheduled event).
//!
//! The puts go to a separate etcd because they would slow the cluster's etcd
//! down afterwards: 20,000 puts and their deletion left etcd spending about
//! nine times the CPU on each later apiserver write.

use rk_testkit::TestEtcd;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn etcd_puts_per_second(puts: usize, concurrency: usize, value: Vec<u8>) -> anyhow::Result<f64> {
    let etcd = TestEtcd::start().await?;
    let mut clients = Vec::new();
    for _ in 0..concurrency.min(8) {
        clients.push(etcd_client::Client::connect([etcd.endpoint()], None).await?);
    }
    let (clients, value) = (Arc::new(clients), Arc::new(value));
    let started = Instant::now();
    crate::load::run(puts, concurrency, move |worker, i| {
        let mut kv = clients[worker % clients.len()].kv_client();
        let value = value.to_vec();
        async move {
            kv.put(format!("/bench/ceiling/{i}"), value, None).await?;
            Ok(())
        }
    })
    .await?;
    Ok(per_second(puts, started.elapsed()))
}

pub fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}
