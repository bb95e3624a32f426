//! Checks on single values that several kinds share: DNS names, port numbers and
//! names, protocols, IPv4 addresses, quantities and closed sets of values.
//! Each pushes what it finds onto `errs`, so a caller collects every problem in
//! one pass instead of stopping at the first.

use crate::registry::field_error::FieldError;
use rk_proto::quantity::{self, Quantity, QUANTITY_HELP};
use rk_proto::IntOrString;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

pub(crate) type Errors = Vec<FieldError>;

pub(crate) const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];

/// The formats Kubernetes requires of object and field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameFormat {
    /// `my-name`, `123-abc`: at most 63 characters, no dots.
    Dns1123Label,
    /// A DNS-1123 label that starts with a letter. Kubernetes requires it of
    /// Service names, which also become environment variable names
    /// (`MY_SVC_SERVICE_HOST`) that may not start with a digit.
    Dns1035Label,
    /// `example.com`: dot-separated labels, at most 253 characters.
    Dns1123Subdomain,
}

impl NameFormat {
    /// Why `name` does not have this format, or None when it does.
    pub(crate) fn problem(self, name: &str) -> Option<String> {
        let (max, help) = match self {
            NameFormat::Dns1123Label => (
                63,
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', \
                 and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc')",
            ),
            NameFormat::Dns1035Label => (
                63,
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
                 start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name' or 'abc-123')",
            ),
            NameFormat::Dns1123Subdomain => (
                253,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', \
                 and must start and end with an alphanumeric character (e.g. 'example.com')",
            ),
        };
        if name.len() > max {
            return Some(format!("must be no more than {max} characters"));
        }
        let ok = match self {
            NameFormat::Dns1123Label => is_label(name),
            NameFormat::Dns1035Label => is_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase()),
            NameFormat::Dns1123Subdomain => name.split('.').all(is_label),
        };
        (!ok).then(|| help.to_string())
    }
}

/// Lowercase alphanumerics and '-', alphanumeric at both ends (length is checked by the caller).
fn is_label(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    s.starts_with(alnum) && s.ends_with(alnum) && s.chars().all(|c| alnum(c) || c == '-')
}

/// A name that must be present and have `format`.
pub(crate) fn check_name(errs: &mut Errors, field: &str, name: &str, format: NameFormat) {
    if name.is_empty() {
        errs.push(FieldError::required(field));
    } else if let Some(why) = format.problem(name) {
        errs.push(FieldError::invalid(field, name, why));
    }
}

/// A port name (IANA_SVC_NAME) such as `http` or `metrics-1`.
pub(crate) fn check_port_name(errs: &mut Errors, field: &str, name: &str) {
    let why = if name.len() > 15 {
        "must be no more than 15 characters"
    } else if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
    } else if name.contains("--") {
        "must not contain consecutive hyphens"
    } else if !name.chars().any(|c| c.is_ascii_lowercase()) {
        "must contain at least one letter (a-z)"
    } else if name.starts_with('-') || name.ends_with('-') {
        "must not begin or end with a hyphen"
    } else {
        return;
    };
    errs.push(FieldError::invalid(field, name, why));
}

pub(crate) fn check_range(errs: &mut Errors, field: &str, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        errs.push(FieldError::invalid(field, value, format!("must be between {min} and {max}, inclusive")));
    }
}

pub(crate) fn check_port(errs: &mut Errors, field: &str, port: i32) {
    check_range(errs, field, port.into(), 1, 65535);
}

/// A port given as a number (1-65535) or as the name of a container port.
pub(crate) fn check_port_or_name(errs: &mut Errors, field: &str, port: Option<&IntOrString>) {
    match port {
        None => errs.push(FieldError::required(field)),
        Some(port) => match port.as_name() {
            Some(name) => check_port_name(errs, field, name),
            None => check_port(errs, field, port.int_val),
        },
    }
}

pub(crate) fn check_non_negative(errs: &mut Errors, field: &str, value: i64) {
    if value < 0 {
        errs.push(FieldError::invalid(field, value, "must be greater than or equal to 0"));
    }
}

/// A required value from a closed set (policies, protocols, types).
pub(crate) fn check_enum(errs: &mut Errors, field: &str, value: &str, allowed: &[&str]) {
    if value.is_empty() {
        errs.push(FieldError::required(field));
    } else if !allowed.contains(&value) {
        errs.push(FieldError::not_supported(field, value, allowed));
    }
}

/// A dotted-quad IPv4 address; returns it when valid so callers can check its range.
pub(crate) fn check_ipv4(errs: &mut Errors, field: &str, value: &str) -> Option<Ipv4Addr> {
    let ip = value.parse().ok();
    if ip.is_none() {
        errs.push(FieldError::invalid(field, value, "must be a valid IPv4 address (e.g. 10.9.8.7)"));
    }
    ip
}

pub(crate) fn check_absolute_path(errs: &mut Errors, field: &str, path: &str) {
    if path.is_empty() {
        errs.push(FieldError::required(field));
    } else if !path.starts_with('/') {
        errs.push(FieldError::invalid(field, path, "must be an absolute path"));
    }
}

/// A non-negative quantity such as `500m` or `128Mi`.
pub(crate) fn check_quantity(errs: &mut Errors, field: &str, value: &str) -> Option<Quantity> {
    match quantity::parse(value) {
        Err(_) => errs.push(FieldError::invalid(field, value, format!("must be {QUANTITY_HELP}"))),
        Ok(q) if q.milli < 0 => errs.push(FieldError::invalid(field, value, "must be greater than or equal to 0")),
        Ok(q) => return Some(q),
    }
    None
}

/// A resource list (`limits`, `capacity`): each value at `field[name]` must be a
/// quantity. Returns the ones that parse, by resource name.
pub(crate) fn check_quantities<'a>(
    errs: &mut Errors,
    field: &str,
    list: &'a BTreeMap<String, String>,
) -> BTreeMap<&'a str, Quantity> {
    list.iter()
        .filter_map(|(name, value)| Some((name.as_str(), check_quantity(errs, &format!("{field}[{name}]"), value)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(check: impl Fn(&mut Errors)) -> Vec<String> {
        let mut errs = Errors::new();
        check(&mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn name_formats() {
        use NameFormat::*;
        for ok in ["web", "web-1", "1abc", "a"] {
            assert_eq!(Dns1123Label.problem(ok), None, "{ok}");
        }
        for bad in ["Web", "web_1", "-web", "web-", "a.b", ""] {
            assert!(Dns1123Label.problem(bad).is_some(), "{bad}");
        }
        assert!(Dns1123Label.problem(&"a".repeat(64)).unwrap().contains("no more than 63"));
        assert!(Dns1035Label.problem("1abc").unwrap().contains("start with an alphabetic character"));
        assert_eq!(Dns1035Label.problem("abc-1"), None);
        assert_eq!(Dns1123Subdomain.problem("kube-dns.example.com"), None);
        for bad in ["a..b", ".a", "a.", "A.b"] {
            assert!(Dns1123Subdomain.problem(bad).is_some(), "{bad}");
        }
        assert!(Dns1123Subdomain.problem(&"a".repeat(254)).unwrap().contains("no more than 253"));
    }

    #[test]
    fn port_names() {
        for ok in ["http", "metrics-1", "a1"] {
            assert!(problems(|e| check_port_name(e, "p", ok)).is_empty(), "{ok}");
        }
        let cases = [
            ("http-metrics-port", "no more than 15"),
            ("HTTP", "only alpha-numeric"),
            ("a--b", "consecutive hyphens"),
            ("8080", "at least one letter"),
            ("-http", "begin or end with a hyphen"),
        ];
        for (bad, why) in cases {
            let errs = problems(|e| check_port_name(e, "p", bad));
            assert!(errs.len() == 1 && errs[0].contains(why), "{bad}: {errs:?}");
        }
    }

    #[test]
    fn ports_ranges_and_enums() {
        assert_eq!(
            problems(|e| check_port(e, "port", 0)),
            ["port: Invalid value: \"0\": must be between 1 and 65535, inclusive"]
        );
        assert!(problems(|e| check_port(e, "port", 65535)).is_empty());
        assert!(problems(|e| check_port_or_name(e, "p", Some(&IntOrString::string("http")))).is_empty());
        assert_eq!(problems(|e| check_port_or_name(e, "p", None)), ["p: Required value"]);
        assert_eq!(problems(|e| check_port_or_name(e, "p", Some(&IntOrString::int(70000)))).len(), 1);
        assert_eq!(
            problems(|e| check_enum(e, "protocol", "HTTP", PROTOCOLS)),
            ["protocol: Unsupported value: \"HTTP\": supported values: \"TCP\", \"UDP\", \"SCTP\""]
        );
        assert_eq!(problems(|e| check_enum(e, "protocol", "", PROTOCOLS)), ["protocol: Required value"]);
    }

    #[test]
    fn addresses_paths_and_quantities() {
        assert_eq!(check_ipv4(&mut Errors::new(), "ip", "10.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        for bad in ["10.0.0", "10.0.0.256", "::1", "host"] {
            assert_eq!(
                problems(|e| {
                    check_ipv4(e, "ip", bad);
                })
                .len(),
                1,
                "{bad}"
            );
        }
        assert_eq!(
            problems(|e| check_absolute_path(e, "path", "data")),
            ["path: Invalid value: \"data\": must be an absolute path"]
        );
        let list = BTreeMap::from([
            ("cpu".to_string(), "500m".to_string()),
            ("memory".to_string(), "lots".to_string()),
            ("pods".to_string(), "-1".to_string()),
        ]);
        let mut errs = Errors::new();
        let parsed = check_quantities(&mut errs, "status.capacity", &list);
        assert_eq!(parsed, BTreeMap::from([("cpu", Quantity { milli: 500 })]));
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status.capacity[memory]", "status.capacity[pods]"]);
        assert!(errs[0].message.contains("a quantity such as"));
    }
}
