//! Small cell formatters shared by `get` tables and `describe`.

use std::collections::BTreeMap;

/// What kubectl prints for an empty value.
pub const NONE: &str = "<none>";

/// `s`, or `<none>` when it is empty.
pub fn or_none(s: &str) -> String {
    if s.is_empty() {
        NONE.to_string()
    } else {
        s.to_string()
    }
}

/// A port's protocol, defaulted to TCP as the API server does.
pub fn protocol(protocol: &str) -> &str {
    if protocol.is_empty() {
        "TCP"
    } else {
        protocol
    }
}

/// kubectl's `labels.FormatLabels`: `k=v,k2=v2` sorted by key, `<none>` when empty.
/// Used for LABELS, SELECTOR and describe's `Selector:`.
pub fn format_labels(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return NONE.to_string();
    }
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// A byte count in binary units, three significant figures at most: `512B`, `4Ki`, `1.5Gi`, `120Mi`.
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64;
    let mut unit = "";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    let text = if value < 10.0 { format!("{value:.1}") } else { format!("{value:.0}") };
    format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
}

/// A duration given in milliseconds, as precise as it is short: `850ms`, `1.2s`, `45s`, `3m7s`.
pub fn millis(ms: i64) -> String {
    match ms {
        ..1000 => format!("{ms}ms"),
        1000..10_000 => format!("{:.1}s", ms as f64 / 1000.0),
        10_000..120_000 => format!("{}s", ms / 1000),
        _ => format!("{}m{}s", ms / 60_000, ms / 1000 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_milliseconds_read_at_a_glance() {
        let bytes =
            [(0, "0B"), (1023, "1023B"), (4096, "4Ki"), (1536 << 20, "1.5Gi"), (120 << 20, "120Mi"), (1 << 40, "1Ti")];
        for (n, shown) in bytes {
            assert_eq!(human_bytes(n), shown, "{n}");
        }
        for (ms, shown) in [(850, "850ms"), (1234, "1.2s"), (45_000, "45s"), (187_000, "3m7s")] {
            assert_eq!(millis(ms), shown, "{ms}");
        }
    }

    #[test]
    fn labels_sorted_or_none() {
        let labels = BTreeMap::from([("tier".to_string(), "web".to_string()), ("app".to_string(), "x".to_string())]);
        assert_eq!(format_labels(&labels), "app=x,tier=web");
        assert_eq!(format_labels(&BTreeMap::new()), "<none>");
        assert_eq!(or_none(""), "<none>");
        assert_eq!(or_none("a"), "a");
    }
}
