//! Latency summaries. Percentiles use the nearest-rank method on the sorted
//! samples, so p99 of 2,000 calls is the 1,980th fastest: a real observed
//! latency, never an interpolation.

use std::time::Duration;

/// p50, p99 and max of a set of latencies.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    pub fn of(mut samples: Vec<Duration>) -> Summary {
        samples.sort_unstable();
        Summary {
            p50: nearest_rank(&samples, 50),
            p99: nearest_rank(&samples, 99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

fn nearest_rank(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Milliseconds with two decimals, as the tables show them.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// Operations per second over a wall-clock duration.
pub fn per_second(count: usize, wall: Duration) -> f64 {
    count as f64 / wall.as_secs_f64().max(f64::EPSILON)
}
