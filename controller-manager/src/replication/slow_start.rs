//! Creation in growing batches, as Kubernetes' slowStartBatch: 1, then 2, 4,
//! 8, ... calls at a time, stopping after the first batch with a failure. When
//! every call would fail (a quota, a template the apiserver rejects) only a
//! few are made instead of hundreds.

use std::future::Future;

/// Makes up to `count` calls of `call`; returns how many succeeded and the
/// first error, if a batch failed.
pub async fn slow_start_batch<F, Fut, T, E>(count: usize, mut call: F) -> (usize, Option<E>)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let (mut attempted, mut succeeded, mut batch) = (0, 0, 1);
    while attempted < count {
        let size = batch.min(count - attempted);
        attempted += size;
        let results = futures::future::join_all((0..size).map(|_| call())).await;
        let mut first_error = None;
        for result in results {
            match result {
                Ok(_) => succeeded += 1,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if first_error.is_some() {
            return (succeeded, first_error);
        }
        batch *= 2;
    }
    (succeeded, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test]
    async fn batches_double_until_everything_is_made() {
        let calls = Cell::new(0);
        let (succeeded, error) = slow_start_batch(10, || {
            calls.set(calls.get() + 1);
            async { Ok::<_, ()>(()) }
        })
        .await;
        assert_eq!((succeeded, error), (10, None));
        assert_eq!(calls.get(), 10);
    }

    #[tokio::test]
    async fn the_first_failing_batch_ends_the_run() {
        let calls = Cell::new(0);
        // Batches 1, 2, 4: the 5th call (in the third batch) fails, the rest of that batch still runs.
        let (succeeded, error) = slow_start_batch(100, || {
            calls.set(calls.get() + 1);
            let fails = calls.get() == 5;
            async move {
                if fails {
                    Err("quota exceeded")
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(calls.get(), 7);
        assert_eq!((succeeded, error), (6, Some("quota exceeded")));
    }
}
