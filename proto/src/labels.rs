//! Kubernetes label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, set) => labels.get(k).is_some_and(|v| set.contains(v)),
            Requirement::NotIn(k, set) => labels.get(k).is_none_or(|v| !set.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

/// A conjunction of requirements; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector {selector:?}: {reason} (allowed: key=value, key==value, key!=value, key in (a,b), key notin (a,b), key, !key; comma-separated)")]
pub struct SelectorError {
    pub selector: String,
    pub reason: String,
}

impl LabelSelector {
    /// The equality selector of a ReplicationController or Service (`spec.selector`).
    pub fn from_map(map: &BTreeMap<String, String>) -> Self {
        LabelSelector { requirements: map.iter().map(|(k, v)| Requirement::Equals(k.clone(), v.clone())).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let error = |reason: String| SelectorError { selector: selector.to_string(), reason };
        let mut requirements = Vec::new();
        for term in split_terms(selector) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            requirements.push(parse_term(term).map_err(error)?);
        }
        Ok(LabelSelector { requirements })
    }
}

/// Splits on commas that are not inside a `( ... )` value set.
fn split_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
}

fn parse_term(term: &str) -> Result<Requirement, String> {
    if let Some(key) = term.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(checked_key(key.trim())?));
    }
    for (op, build) in [
        ("!=", Requirement::NotEquals as fn(String, String) -> Requirement),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = term.split_once(op) {
            return Ok(build(checked_key(key.trim())?, checked_value(value.trim())?));
        }
    }
    let words: Vec<&str> = term.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words[..] {
        let rest = rest.trim_start();
        for (op, build) in
            [("notin", Requirement::NotIn as fn(String, BTreeSet<String>) -> Requirement), ("in", Requirement::In)]
        {
            if let Some(set) = rest.strip_prefix(op) {
                return Ok(build(checked_key(key)?, parse_set(set.trim())?));
            }
        }
        return Err(format!("unexpected {rest:?} after key {key:?}"));
    }
    Ok(Requirement::Exists(checked_key(term)?))
}

fn parse_set(text: &str) -> Result<BTreeSet<String>, String> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("expected a value set like (a,b), found {text:?}"))?;
    let set = inner.split(',').map(|v| checked_value(v.trim())).collect::<Result<BTreeSet<_>, _>>()?;
    Ok(set)
}

fn checked_key(key: &str) -> Result<String, String> {
    validate_label_key(key).map(|()| key.to_string())
}

fn checked_value(value: &str) -> Result<String, String> {
    validate_label_value(value).map(|()| value.to_string())
}

fn is_name_part(s: &str, max: usize) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.len() <= max
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A label key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters.
pub fn validate_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| is_name_part(part, 63) && !part.contains('_'));
        if !ok {
            return Err(format!(
                "label key prefix {prefix:?} must be a DNS subdomain (lowercase letters, digits, '-' and '.')"
            ));
        }
    }
    if !is_name_part(name, 63) {
        return Err(format!(
            "label key {key:?} must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// A label value: empty, or at most 63 characters of letters, digits, `-`, `_`, `.`, alphanumeric at both ends.
pub fn validate_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_name_part(value, 63) {
        Ok(())
    } else {
        Err(format!(
            "label value {value:?} must be empty or at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
        let terms: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, s) => format!("{k} in ({})", join(s)),
                Requirement::NotIn(k, s) => format!("{k} notin ({})", join(s)),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&terms.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_operator_matches_like_kubernetes() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web, db)", true),
            ("app notin (web)", false),
            ("missing notin (web)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier in (front,back)", true),
            ("app=web,tier=back", false),
            ("", true),
        ];
        for (selector, want) in cases {
            let parsed = LabelSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&l), want, "{selector}");
            let reparsed = LabelSelector::parse(&parsed.to_string()).unwrap();
            assert_eq!(reparsed, parsed, "display of {selector} parses back");
        }
    }

    #[test]
    fn bad_selectors_say_what_is_allowed() {
        for bad in ["app in web", "=x", "a b c", "app=b@d", "app in (x"] {
            let err = LabelSelector::parse(bad).unwrap_err().to_string();
            assert!(err.contains("allowed: key=value"), "{bad}: {err}");
        }
    }
}
