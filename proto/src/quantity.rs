//! Kubernetes resource quantities: `500m`, `0.5`, `2`, `128Mi`, `1G`, `1e3`.
//!
//! The apiserver stores decimal quantities in [`canonical`] form, as
//! Kubernetes does; this module parses them for comparison and arithmetic, in
//! thousandths of a unit (millicores for cpu).

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A parsed quantity, in thousandths of the base unit, rounded up like Kubernetes' MilliValue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Quantity {
    pub milli: i128,
}

impl Quantity {
    /// The value in whole units, rounded up (bytes for memory, cores for cpu).
    pub fn value(&self) -> i128 {
        self.milli.div_euclid(1000) + i128::from(self.milli.rem_euclid(1000) != 0)
    }
}

const BINARY_SUFFIXES: &[(&str, u32)] = &[("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];
const DECIMAL_SUFFIXES: &[(&str, i32)] =
    &[("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];

pub const QUANTITY_HELP: &str = "a quantity such as 500m, 0.5, 2, 128Mi or 1G";

/// Parses a quantity; the error says what was wrong.
pub fn parse(text: &str) -> Result<Quantity, String> {
    let bad = || format!("{text:?} is not {QUANTITY_HELP}");
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.contains('.') || number.len() > 30 {
        return Err(bad());
    }
    let mantissa: i128 = format!("{whole}{frac}").parse().map_err(|_| bad())?;
    let (binary_power, decimal_exp) = suffix_scale(suffix).ok_or_else(bad)?;
    // value = mantissa * 1024^binary_power * 10^decimal_exp / 10^frac.len(), in thousandths.
    let exp = decimal_exp + 3 - frac.len() as i32;
    let mut numerator = mantissa.checked_mul(1024i128.checked_pow(binary_power).ok_or_else(bad)?).ok_or_else(bad)?;
    let mut denominator: i128 = 1;
    if exp >= 0 {
        numerator = numerator.checked_mul(10i128.checked_pow(exp as u32).ok_or_else(bad)?).ok_or_else(bad)?;
    } else {
        denominator = 10i128.checked_pow(exp.unsigned_abs()).ok_or_else(bad)?;
    }
    let milli = numerator / denominator + i128::from(numerator % denominator != 0);
    Ok(Quantity { milli: if negative { -milli } else { milli } })
}

/// The canonical form Kubernetes stores a decimal quantity in, which is what
/// clients read back: `0.5` → `500m`, `1.5` → `1500m`, `1000m` → `1`,
/// `2000` → `2k`. Binary quantities (`64Mi`), exponents, amounts finer than a
/// thousandth and text that does not parse are returned as written.
pub fn canonical(text: &str) -> String {
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
    let Ok(parsed) = parse(text) else { return text.to_string() };
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

/// Every value of a resource list in [`canonical`] form.
pub fn canonicalize_all(list: &mut BTreeMap<String, String>) {
    for value in list.values_mut() {
        *value = canonical(value);
    }
}

fn suffix_scale(suffix: &str) -> Option<(u32, i32)> {
    if suffix.is_empty() {
        return Some((0, 0));
    }
    if let Some(&(_, p)) = BINARY_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((p, 0));
    }
    if let Some(&(_, e)) = DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((0, e));
    }
    let exponent = suffix.strip_prefix('e').or_else(|| suffix.strip_prefix('E'))?;
    exponent.parse::<i32>().ok().filter(|e| e.abs() <= 30).map(|e| (0, e))
}

/// Accepts `{cpu: 0.5, memory: "128Mi"}`: numbers become their decimal text.
pub(crate) fn deserialize_quantity_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(serde_json::Number),
        String(String),
    }
    let raw = BTreeMap::<String, NumberOrString>::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                NumberOrString::Number(n) => n.to_string(),
                NumberOrString::String(s) => s,
            };
            (k, text)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_quantities_take_the_canonical_form_kubectl_shows() {
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
            assert_eq!(canonical(written), printed, "{written}");
        }
    }

    fn milli(s: &str) -> i128 {
        parse(s).unwrap().milli
    }

    #[test]
    fn parses_the_forms_people_write() {
        assert_eq!(milli("500m"), 500);
        assert_eq!(milli("0.5"), 500);
        assert_eq!(milli("2"), 2000);
        assert_eq!(milli("128Mi"), 128 * 1024 * 1024 * 1000);
        assert_eq!(milli("1G"), 1_000_000_000_000);
        assert_eq!(milli("1e3"), 1_000_000);
        assert_eq!(milli("1k"), 1_000_000);
        assert_eq!(milli("100n"), 1, "fractions of a milli round up");
        assert_eq!(milli(".5"), 500);
        assert_eq!(parse("1Mi").unwrap().value(), 1 << 20);
    }

    #[test]
    fn rejects_garbage_with_a_helpful_message() {
        for bad in ["", "abc", "1.2.3", "12XB", "m", "1e99", "99999999999999999999999999999999Ei"] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("is not a quantity"), "{bad}: {err}");
        }
    }
}
