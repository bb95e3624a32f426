//! What the main of every rk daemon does the same way.

use std::time::Duration;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutting down");
}

/// A seconds flag given a negative, infinite or NaN value.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("--{flag} must be a non-negative number of seconds")]
pub struct BadSeconds {
    flag: String,
}

/// A flag given in (fractional) seconds, with an error naming the flag.
pub fn seconds_flag(value: f64, flag: &str) -> Result<Duration, BadSeconds> {
    Duration::try_from_secs_f64(value).map_err(|_| BadSeconds { flag: flag.to_string() })
}

#[cfg(test)]
mod tests {
    use super::seconds_flag;
    use std::time::Duration;

    #[test]
    fn seconds_accept_fractions_and_refuse_negative_values_by_flag_name() {
        assert_eq!(seconds_flag(0.5, "relist-period"), Ok(Duration::from_millis(500)));
        assert_eq!(
            seconds_flag(-1.0, "relist-period").unwrap_err().to_string(),
            "--relist-period must be a non-negative number of seconds"
        );
    }
}
