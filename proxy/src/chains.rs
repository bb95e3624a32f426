//! Names of rk's chains. Every name starts with the proxy's prefix (`RK` by
//! default), so rk-proxy only ever lists, writes and deletes its own chains.

use crate::ProxyError;

/// Chain names are at most 28 characters; the longest fixed suffix is `-POSTROUTING`.
const MAX_PREFIX: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainNames {
    prefix: String,
}

impl ChainNames {
    pub fn new(prefix: &str) -> Result<ChainNames, ProxyError> {
        let valid = !prefix.is_empty()
            && prefix.len() <= MAX_PREFIX
            && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !valid {
            return Err(ProxyError::BadFlag {
                flag: "--chain-prefix",
                value: prefix.to_string(),
                reason: format!("use 1 to {MAX_PREFIX} upper-case letters or digits, like RK"),
            });
        }
        Ok(ChainNames { prefix: prefix.to_string() })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// nat: jumped to from PREROUTING and OUTPUT; filter: from INPUT, FORWARD and OUTPUT.
    pub fn services(&self) -> String {
        format!("{}-SERVICES", self.prefix)
    }

    pub fn node_ports(&self) -> String {
        format!("{}-NODEPORTS", self.prefix)
    }

    pub fn mark_masq(&self) -> String {
        format!("{}-MARK-MASQ", self.prefix)
    }

    pub fn postrouting(&self) -> String {
        format!("{}-POSTROUTING", self.prefix)
    }

    /// The chain of one service port, from its key (`namespace/name:port/protocol`).
    pub fn service(&self, key: &str) -> String {
        format!("{}-SVC-{}", self.prefix, hash(key))
    }

    /// The chain of one endpoint of a service port.
    pub fn endpoint(&self, key: &str, address: &str) -> String {
        format!("{}-SEP-{}", self.prefix, hash(&format!("{key}>{address}")))
    }

    /// Whether `chain` is one of this proxy's.
    pub fn owns(&self, chain: &str) -> bool {
        chain.strip_prefix(&self.prefix).is_some_and(|rest| rest.starts_with('-'))
    }
}

/// FNV-1a, 48 bits as 12 hex digits: stable across builds, so a restarted
/// proxy recognises the chains it wrote before.
pub(crate) fn hash(text: &str) -> String {
    let mut value: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        value = (value ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012X}", value & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_iptables_and_are_stable() {
        let names = ChainNames::new("RKABCDEFGH").unwrap();
        let chain = names.endpoint("default/web:http/TCP", "10.0.0.1:80");
        assert!(chain.len() <= 28, "{chain}");
        assert_eq!(chain, names.endpoint("default/web:http/TCP", "10.0.0.1:80"));
        assert_ne!(names.service("a/b:x/TCP"), names.service("a/b:y/TCP"));
        assert!(names.owns(&names.postrouting()) && !names.owns("RKABCDEFGHX-SERVICES") && !names.owns("DOCKER"));
    }

    #[test]
    fn a_bad_prefix_says_what_is_allowed() {
        let error = ChainNames::new("rk-x").unwrap_err().to_string();
        assert!(error.contains("--chain-prefix") && error.contains("upper-case"), "{error}");
        assert!(ChainNames::new("ABCDEFGHIJK").is_err());
    }
}
