//! An IPv4 CIDR block: `10.244.1.0/24`.

use super::error::IpamError;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// A network address and prefix length, with no bits set after the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The block of `prefix` bits that starts at `network`; bits after the prefix are cleared.
    pub fn new(network: u32, prefix: u8) -> Self {
        Ipv4Cidr { network: network & netmask(prefix), prefix }
    }

    pub fn network(&self) -> u32 {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `other` lies entirely inside this block.
    pub fn contains(&self, other: &Ipv4Cidr) -> bool {
        other.prefix >= self.prefix && other.network & netmask(self.prefix) == self.network
    }
}

/// The mask of a prefix length: /24 → 255.255.255.0.
fn netmask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for Ipv4Cidr {
    type Err = IpamError;

    fn from_str(text: &str) -> Result<Self, IpamError> {
        let bad = || IpamError::NotACidr(text.to_string());
        let (address, bits) = text.split_once('/').ok_or_else(bad)?;
        let address: Ipv4Addr = address.parse().map_err(|_| bad())?;
        if !bits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = bits.parse().ok().filter(|p| *p <= 32).ok_or_else(bad)?;
        let cidr = Ipv4Cidr::new(address.into(), prefix);
        if cidr.network != u32::from(address) {
            return Err(IpamError::HostBitsSet { given: text.to_string(), network: cidr.to_string() });
        }
        Ok(cidr)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for text in ["10.244.0.0/16", "10.244.1.0/24", "0.0.0.0/0", "192.168.7.9/32"] {
            assert_eq!(text.parse::<Ipv4Cidr>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_what_is_not_a_cidr() {
        for text in ["10.244.0.0", "10.244.0/16", "10.244.0.0/33", "10.244.0.0/+8", "10.244.0.0/", "x/8"] {
            assert_eq!(text.parse::<Ipv4Cidr>(), Err(IpamError::NotACidr(text.into())), "{text}");
        }
    }

    #[test]
    fn rejects_host_bits_and_names_the_network() {
        let error = "10.244.1.0/16".parse::<Ipv4Cidr>().unwrap_err();
        assert_eq!(error, IpamError::HostBitsSet { given: "10.244.1.0/16".into(), network: "10.244.0.0/16".into() });
        assert!(error.to_string().contains("the network is 10.244.0.0/16"));
    }

    #[test]
    fn containment() {
        let cluster: Ipv4Cidr = "10.244.0.0/16".parse().unwrap();
        assert!(cluster.contains(&"10.244.255.0/24".parse().unwrap()));
        assert!(cluster.contains(&cluster));
        assert!(!cluster.contains(&"10.245.0.0/24".parse().unwrap()));
        assert!(!cluster.contains(&"10.0.0.0/8".parse().unwrap()));
    }
}
