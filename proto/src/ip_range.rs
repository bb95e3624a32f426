//! `--load-balancer-ip-range`, the addresses LoadBalancer Services are
//! given: a CIDR (`198.18.255.0/24`) or an inclusive range
//! (`198.18.255.10-198.18.255.20`). The controller manager hands them out;
//! `rkctl cluster up` routes them.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// A bad `--load-balancer-ip-range`; the message names the flag and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpRangeError {
    #[error(
        "--load-balancer-ip-range {0:?} is neither an IPv4 CIDR like 198.18.255.0/24 \
         nor a range of IPv4 addresses like 198.18.255.10-198.18.255.20"
    )]
    NotARange(String),
    #[error("--load-balancer-ip-range {given} has bits set after its prefix; the network is {network}")]
    HostBitsSet { given: String, network: String },
    #[error("--load-balancer-ip-range {given}: the first address must not come after the last")]
    Reversed { given: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRange {
    /// As given on the command line, for messages.
    text: String,
    /// The addresses given out.
    first: u32,
    last: u32,
    /// The addresses the text names: a CIDR's network and broadcast addresses too.
    span: (u32, u32),
}

impl IpRange {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (self.first..=self.last).contains(&u32::from(ip))
    }

    /// How many addresses there are.
    pub fn size(&self) -> u64 {
        u64::from(self.last - self.first) + 1
    }

    /// Every address, lowest first.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> {
        (self.first..=self.last).map(Ipv4Addr::from)
    }

    /// The fewest CIDR blocks that together hold exactly the addresses the
    /// range names (the one block of a CIDR), for routes.
    pub fn cidrs(&self) -> Vec<String> {
        let (mut start, end) = (u64::from(self.span.0), u64::from(self.span.1));
        let mut blocks = Vec::new();
        while start <= end {
            // The largest block aligned at `start` that does not pass `end`.
            let mut size = 1u64 << start.trailing_zeros().min(32);
            while start + size - 1 > end {
                size /= 2;
            }
            blocks.push(format!("{}/{}", Ipv4Addr::from(start as u32), 32 - size.trailing_zeros()));
            start += size;
        }
        blocks
    }
}

impl FromStr for IpRange {
    type Err = IpRangeError;

    fn from_str(text: &str) -> Result<Self, IpRangeError> {
        let bad = || IpRangeError::NotARange(text.to_string());
        let address = |part: &str| part.trim().parse::<Ipv4Addr>().map(u32::from).map_err(|_| bad());
        let (first, last, span) = if let Some((network, bits)) = text.split_once('/') {
            let network = address(network)?;
            if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let prefix: u32 = bits.parse().ok().filter(|p| *p <= 32).ok_or_else(bad)?;
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            if network & !mask != 0 {
                let network = format!("{}/{prefix}", Ipv4Addr::from(network & mask));
                return Err(IpRangeError::HostBitsSet { given: text.to_string(), network });
            }
            let broadcast = network | !mask;
            // The network and broadcast addresses are left out of blocks that
            // have them (/30 and larger): some clients refuse to use them.
            if prefix <= 30 {
                (network + 1, broadcast - 1, (network, broadcast))
            } else {
                (network, broadcast, (network, broadcast))
            }
        } else {
            let (first, last) = text.split_once('-').ok_or_else(bad)?;
            let (first, last) = (address(first)?, address(last)?);
            (first, last, (first, last))
        };
        if first > last {
            return Err(IpRangeError::Reversed { given: text.to_string() });
        }
        Ok(IpRange { text: text.to_string(), first, last, span })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> IpRange {
        text.parse().unwrap()
    }

    fn ends(range: &IpRange) -> (Ipv4Addr, Ipv4Addr) {
        (range.addresses().next().unwrap(), range.addresses().last().unwrap())
    }

    #[test]
    fn a_cidr_leaves_out_its_network_and_broadcast_addresses() {
        let block = range("198.18.255.0/24");
        assert_eq!(block.size(), 254);
        assert_eq!(ends(&block), ("198.18.255.1".parse().unwrap(), "198.18.255.254".parse().unwrap()));
        assert!(!block.contains("198.18.255.0".parse().unwrap()));
        assert!(!block.contains("198.18.255.255".parse().unwrap()));
        assert_eq!(range("10.0.0.4/31").size(), 2);
        assert_eq!(ends(&range("10.0.0.7/32")), ("10.0.0.7".parse().unwrap(), "10.0.0.7".parse().unwrap()));
    }

    #[test]
    fn a_first_last_range_includes_both_ends() {
        let span = range("10.0.0.250-10.0.1.2");
        assert_eq!(span.size(), 9);
        assert!(span.contains("10.0.0.250".parse().unwrap()) && span.contains("10.0.1.2".parse().unwrap()));
        assert!(!span.contains("10.0.1.3".parse().unwrap()));
        assert_eq!(range("10.0.0.9-10.0.0.9").size(), 1);
        assert_eq!(span.to_string(), "10.0.0.250-10.0.1.2");
    }

    #[test]
    fn cidrs_cover_exactly_the_named_addresses() {
        assert_eq!(range("198.18.255.0/24").cidrs(), ["198.18.255.0/24"]);
        assert_eq!(range("10.0.0.7/32").cidrs(), ["10.0.0.7/32"]);
        assert_eq!(range("10.0.0.9-10.0.0.9").cidrs(), ["10.0.0.9/32"]);
        assert_eq!(
            range("10.0.0.250-10.0.1.2").cidrs(),
            ["10.0.0.250/31", "10.0.0.252/30", "10.0.1.0/31", "10.0.1.2/32"]
        );
        assert_eq!(range("0.0.0.0/0").cidrs(), ["0.0.0.0/0"]);
    }

    #[test]
    fn bad_ranges_are_refused_with_a_clear_message() {
        for text in
            ["", "198.18.255.0", "198.18.255.0/33", "198.18.255.0/", "198.18.255.0/+8", "x-10.0.0.1", "10.0.0.1-"]
        {
            let error = text.parse::<IpRange>().unwrap_err();
            assert_eq!(error, IpRangeError::NotARange(text.into()), "{text}");
            assert!(error.to_string().contains("neither an IPv4 CIDR like 198.18.255.0/24 nor a range"));
        }
        assert_eq!(
            "198.18.255.7/24".parse::<IpRange>().unwrap_err().to_string(),
            "--load-balancer-ip-range 198.18.255.7/24 has bits set after its prefix; the network is 198.18.255.0/24"
        );
        assert_eq!(
            "10.0.0.9-10.0.0.1".parse::<IpRange>().unwrap_err(),
            IpRangeError::Reversed { given: "10.0.0.9-10.0.0.1".into() }
        );
    }
}
