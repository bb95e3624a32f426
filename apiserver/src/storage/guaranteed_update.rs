//! The read-modify-write loop registries build updates on.

use std::time::Duration;

use super::{KeyValue, Storage, StorageError};

/// How long [`guaranteed_update`] goes on re-reading and retrying after
/// losing races. Bounded by time, not attempts: under heavy contention on a
/// busy machine a writer may lose many rounds in a row and still win soon.
const RETRY_FOR: Duration = Duration::from_secs(10);

/// The longest random pause before a retry; see [`backoff`].
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// Reads `key`, computes its new value with `update` and writes it with a
/// compare-and-swap on the revision that was read; when another writer got in
/// between, it waits a short random time, reads again and retries (for up to
/// 10 s, then the last Conflict is returned).
///
/// `update` may run several times, each time on the latest stored value, so it
/// must not have side effects beyond computing the new value. Its error aborts
/// the loop and is returned as is; storage errors reach the caller through
/// `E: From<StorageError>`, so a registry passes its own error type (or
/// [`StorageError`] itself when the closure cannot fail).
///
/// Returns the stored key-value. When `update` returns the current value
/// unchanged, nothing is written and the current key-value is returned, so
/// no-op updates do not bump the revision or wake watchers.
pub async fn guaranteed_update<F, E>(storage: &dyn Storage, key: &str, mut update: F) -> Result<KeyValue, E>
where
    F: FnMut(KeyValue) -> Result<Vec<u8>, E>,
    E: From<StorageError>,
{
    let give_up_at = tokio::time::Instant::now() + RETRY_FOR;
    let mut attempt = 1;
    loop {
        let current = storage.get(key).await?;
        let expected = current.mod_revision;
        let value = update(current.clone())?;
        if value == current.value {
            return Ok(current);
        }
        match storage.update(key, value.clone(), expected).await {
            Ok(mod_revision) => return Ok(KeyValue { key: key.to_owned(), value, mod_revision }),
            Err(StorageError::Conflict { .. }) if tokio::time::Instant::now() < give_up_at => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A random pause in [0, min(2^attempt ms, 50 ms)). Writers that conflicted
/// together would otherwise retry in lockstep, and with n of them only one
/// wins per round, so the last one would need n attempts.
fn backoff(attempt: u32) -> Duration {
    let ceiling = Duration::from_millis(1 << attempt.min(16)).min(MAX_BACKOFF);
    ceiling.mul_f64(rand::random::<f64>())
}
