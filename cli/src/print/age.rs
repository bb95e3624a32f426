//! AGE columns: kubectl's `duration.HumanDuration` (k8s.io/apimachinery/pkg/util/duration),
//! which keeps two or three significant figures so a glance tells "just now" from "weeks ago".

use chrono::{DateTime, TimeDelta, Utc};

/// What kubectl shows for a timestamp that is missing (Go's zero time) or unreadable.
pub const UNKNOWN: &str = "<unknown>";

/// The AGE of an object created at `timestamp` (RFC 3339), as of `now`.
pub fn age(timestamp: &str, now: DateTime<Utc>) -> String {
    match rk_proto::time::parse(timestamp) {
        Some(t) => human_duration(now - t),
        None => UNKNOWN.to_string(),
    }
}

/// How long until `timestamp`, e.g. the grace period left on a terminating pod.
pub fn until(timestamp: &str, now: DateTime<Utc>) -> String {
    match rk_proto::time::parse(timestamp) {
        Some(t) => human_duration(t - now),
        None => UNKNOWN.to_string(),
    }
}

/// kubectl's `HumanDuration`, rule for rule. Durations up to a second in the future count as
/// "0s" to forgive clock skew between machines; further in the future is `<invalid>`.
pub fn human_duration(d: TimeDelta) -> String {
    // Go's int(d.Seconds()) truncates toward zero, as num_seconds does.
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return with_remainder(hours / 24, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return with_remainder(hours / 24 / 365, "y", (hours / 24) % 365, "d");
    }
    format!("{}y", hours / 24 / 365)
}

/// `5m3s`, or just `5m` when the smaller unit is zero.
fn with_remainder(major: i64, major_unit: &str, minor: i64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> String {
        human_duration(TimeDelta::seconds(s))
    }

    #[test]
    fn seconds_up_to_two_minutes() {
        assert_eq!(secs(0), "0s");
        assert_eq!(secs(59), "59s");
        assert_eq!(secs(119), "119s");
    }

    #[test]
    fn clock_skew_and_future() {
        assert_eq!(human_duration(TimeDelta::milliseconds(-1999)), "0s");
        assert_eq!(secs(-1), "0s");
        assert_eq!(secs(-2), "<invalid>");
    }

    #[test]
    fn minutes() {
        assert_eq!(secs(120), "2m");
        assert_eq!(secs(121), "2m1s");
        assert_eq!(secs(9 * 60 + 59), "9m59s");
        assert_eq!(secs(10 * 60 + 30), "10m");
        assert_eq!(secs(3 * 3600 - 1), "179m");
    }

    #[test]
    fn hours() {
        assert_eq!(secs(3 * 3600), "3h");
        assert_eq!(secs(3 * 3600 + 60), "3h1m");
        assert_eq!(secs(8 * 3600 - 1), "7h59m");
        assert_eq!(secs(8 * 3600), "8h");
        assert_eq!(secs(48 * 3600 - 1), "47h");
    }

    #[test]
    fn days_and_years() {
        const DAY: i64 = 24 * 3600;
        assert_eq!(secs(2 * DAY), "2d");
        assert_eq!(secs(2 * DAY + 3600), "2d1h");
        assert_eq!(secs(8 * DAY - 1), "7d23h");
        assert_eq!(secs(8 * DAY), "8d");
        assert_eq!(secs(2 * 365 * DAY - 1), "729d");
        assert_eq!(secs(2 * 365 * DAY), "2y");
        assert_eq!(secs(2 * 365 * DAY + DAY), "2y1d");
        assert_eq!(secs(8 * 365 * DAY - 1), "7y364d");
        assert_eq!(secs(8 * 365 * DAY), "8y");
        assert_eq!(secs(100 * 365 * DAY), "100y");
    }

    #[test]
    fn from_timestamps() {
        let now = rk_proto::time::parse("2024-01-01T01:00:00Z").unwrap();
        assert_eq!(age("2024-01-01T00:59:30Z", now), "30s");
        assert_eq!(age("2024-01-01T00:00:00Z", now), "60m");
        assert_eq!(age("", now), "<unknown>");
        assert_eq!(age("yesterday", now), "<unknown>");
        assert_eq!(until("2024-01-01T01:00:30Z", now), "30s");
    }
}
