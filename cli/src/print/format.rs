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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sorted_or_none() {
        let labels = BTreeMap::from([("tier".to_string(), "web".to_string()), ("app".to_string(), "x".to_string())]);
        assert_eq!(format_labels(&labels), "app=x,tier=web");
        assert_eq!(format_labels(&BTreeMap::new()), "<none>");
        assert_eq!(or_none(""), "<none>");
        assert_eq!(or_none("a"), "a");
    }
}
