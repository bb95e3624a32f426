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

/// A quantity the way the API server hands it back: Kubernetes stores a
/// decimal quantity in canonical form (`0.5` → `500m`, `1.5` → `1500m`,
/// `1000m` → `1`, `2000` → `2k`), which kubectl prints; rk stores quantities as
/// written, so printing canonicalizes them. Binary ones (`64Mi`), exponents
/// and amounts finer than a thousandth are printed as written.
pub fn quantity(text: &str) -> String {
    let (number, thousandths) = match text.strip_suffix('m') {
        Some(number) => (number, true),
        None => (text, false),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let exact = fraction.trim_end_matches('0').len() <= if thousandths { 0 } else { 3 };
    if number.is_empty() || !digits(whole) || !digits(fraction) || !exact {
        return text.to_string();
    }
    let Ok(parsed) = rk_proto::quantity::parse(text) else { return text.to_string() };
    if parsed.milli % 1000 != 0 {
        return format!("{}m", parsed.milli);
    }
    let mut value = parsed.milli / 1000;
    let mut suffixes = ["", "k", "M", "G", "T", "P", "E"].iter().peekable();
    let mut suffix = suffixes.next().unwrap();
    while value != 0 && value % 1000 == 0 && suffixes.peek().is_some() {
        value /= 1000;
        suffix = suffixes.next().unwrap();
    }
    format!("{value}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_quantities_print_in_canonical_form_like_kubectl() {
        for (written, printed) in [
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("0.100", "100m"),
            ("100m", "100m"),
            ("1000m", "1"),
            ("2", "2"),
            ("1.0", "1"),
            ("2000", "2k"),
            ("1000000", "1M"),
            ("0", "0"),
            ("128974848", "128974848"),
            ("64Mi", "64Mi"),
            ("1G", "1G"),
            ("1e3", "1e3"),
            ("0.0005", "0.0005"),
            ("1.5m", "1.5m"),
            ("-1", "-1"),
            ("", ""),
            (".", "."),
        ] {
            assert_eq!(quantity(written), printed, "{written}");
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
