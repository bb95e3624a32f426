//! The etcd write ceiling in this run, with the concurrency the bench creates
//! pods with, to an etcd of its own: raw puts of pod-sized values, and
//! create-if-absent transactions (put only if the key was never written) of
//! the same values. Each scheduled pod costs at least three writes (its
//! create, its bind and its Scheduled event), each of them conditional, so
//! the transactions' rate ÷ 3 is the tighter ceiling.
//!
//! The writes go to a separate etcd because they would slow the cluster's etcd
//! down afterwards: 20,000 puts and their deletion left etcd spending about
//! nine times the CPU on each later apiserver write.

use etcd_client::{Compare, CompareOp, Txn, TxnOp};
use rk_testkit::TestEtcd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes per second etcd sustained alone on this machine.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    pub puts_per_second: f64,
    pub creates_if_absent_per_second: f64,
}

pub async fn measure(writes: usize, concurrency: usize, value: Vec<u8>) -> anyhow::Result<Ceiling> {
    let etcd = TestEtcd::start().await?;
    let mut clients = Vec::new();
    for _ in 0..concurrency.min(8) {
        clients.push(etcd_client::Client::connect([etcd.endpoint()], None).await?);
    }
    let (clients, value) = (Arc::new(clients), Arc::new(value));
    let rate = |conditional: bool| {
        let (clients, value) = (Arc::clone(&clients), Arc::clone(&value));
        async move {
            let started = Instant::now();
            crate::load::run(writes, concurrency, move |worker, i| {
                let mut kv = clients[worker % clients.len()].kv_client();
                let value = value.to_vec();
                async move {
                    if conditional {
                        let key = format!("/bench/ceiling/creates/{i}");
                        let txn = Txn::new()
                            .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
                            .and_then([TxnOp::put(key.as_str(), value, None)]);
                        anyhow::ensure!(kv.txn(txn).await?.succeeded(), "{key} existed already");
                    } else {
                        kv.put(format!("/bench/ceiling/puts/{i}"), value, None).await?;
                    }
                    Ok(())
                }
            })
            .await?;
            anyhow::Ok(per_second(writes, started.elapsed()))
        }
    };
    Ok(Ceiling { puts_per_second: rate(false).await?, creates_if_absent_per_second: rate(true).await? })
}

pub fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}
