//! Which dataset: its namespace and name, checked before they become a path.

use std::fmt;
use tonic::Status;

/// A dataset's (namespace, name).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DatasetKey {
    pub namespace: String,
    pub name: String,
}

impl DatasetKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> DatasetKey {
        DatasetKey { namespace: namespace.into(), name: name.into() }
    }

    /// Both parts are DNS-1123 labels/subdomains (lowercase alphanumerics,
    /// `-` and `.`), so neither can climb out of the datasets directory.
    pub fn validate(&self) -> Result<(), Status> {
        for (what, value) in [("namespace", &self.namespace), ("name", &self.name)] {
            let valid = !value.is_empty()
                && value.len() <= 253
                && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && value.starts_with(|c: char| c.is_ascii_alphanumeric())
                && value.ends_with(|c: char| c.is_ascii_alphanumeric());
            if !valid {
                return Err(Status::invalid_argument(format!("invalid dataset {what} {value:?}")));
            }
        }
        Ok(())
    }
}

impl fmt::Display for DatasetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dns_names_pass() {
        assert!(DatasetKey::new("default", "redis-data").validate().is_ok());
        assert!(DatasetKey::new("a.b", "x1").validate().is_ok());
        for (namespace, name) in [("", "x"), ("default", ".."), ("default", "a/b"), ("..", "x"), ("default", "A")] {
            assert!(DatasetKey::new(namespace, name).validate().is_err(), "{namespace}/{name}");
        }
    }
}
