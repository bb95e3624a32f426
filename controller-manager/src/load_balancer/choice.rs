//! Which address a LoadBalancer Service should have, or why it gets none.

use super::owners::Owners;
use rk_proto::ip_range::IpRange;
use std::net::Ipv4Addr;

/// Why a Service gets no address; the message of its AllocationFailed event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("spec.loadBalancerIP {0:?} is not an IPv4 address")]
    NotAnAddress(String),
    #[error("spec.loadBalancerIP {requested} is outside --load-balancer-ip-range {range}")]
    OutsideRange { requested: Ipv4Addr, range: String },
    #[error("spec.loadBalancerIP {requested} is already the ingress IP of Service {holder}")]
    Taken { requested: Ipv4Addr, holder: String },
    #[error("--load-balancer-ip-range {range} is full: all {size} addresses are in use")]
    Exhausted { range: String, size: u64 },
}

/// The address for Service `key`: the one it requests, else one of its
/// `current` ones that is still its own, else the lowest free one.
pub fn choose(
    key: &str,
    requested: &str,
    current: &[Ipv4Addr],
    range: &IpRange,
    owners: &Owners,
) -> Result<Ipv4Addr, Refusal> {
    if !requested.is_empty() {
        let ip: Ipv4Addr = requested.parse().map_err(|_| Refusal::NotAnAddress(requested.to_string()))?;
        if !range.contains(ip) {
            return Err(Refusal::OutsideRange { requested: ip, range: range.to_string() });
        }
        return match owners.owner(ip) {
            Some(holder) if holder != key => Err(Refusal::Taken { requested: ip, holder: holder.to_string() }),
            _ => Ok(ip),
        };
    }
    let kept = current.iter().copied().find(|ip| range.contains(*ip) && owners.free_for(*ip, key));
    kept.or_else(|| range.addresses().find(|ip| owners.owner(*ip).is_none()))
        .ok_or_else(|| Refusal::Exhausted { range: range.to_string(), size: range.size() })
}

#[cfg(test)]
mod tests {
    use super::super::owners::Holder;
    use super::*;

    const RANGE: &str = "10.0.0.1-10.0.0.3";

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    /// Owners where Service `key` holds `ip`, for each pair, all created at once.
    fn owners(held: &[(&str, &str)]) -> Owners {
        let holders = held.iter().map(|(key, ip_text)| Holder {
            key: key.to_string(),
            created: "2026-01-01T00:00:00Z".into(),
            ips: vec![ip(ip_text)],
        });
        Owners::new(holders.collect())
    }

    fn choose_in(key: &str, requested: &str, current: &[&str], held: &[(&str, &str)]) -> Result<Ipv4Addr, Refusal> {
        let current: Vec<Ipv4Addr> = current.iter().map(|text| ip(text)).collect();
        choose(key, requested, &current, &RANGE.parse().unwrap(), &owners(held))
    }

    #[test]
    fn a_new_service_gets_the_lowest_free_address() {
        assert_eq!(choose_in("a", "", &[], &[]), Ok(ip("10.0.0.1")));
        assert_eq!(choose_in("c", "", &[], &[("a", "10.0.0.1"), ("b", "10.0.0.3")]), Ok(ip("10.0.0.2")));
    }

    #[test]
    fn a_service_keeps_the_address_it_holds() {
        assert_eq!(choose_in("a", "", &["10.0.0.3"], &[("a", "10.0.0.3")]), Ok(ip("10.0.0.3")));
    }

    #[test]
    fn an_address_that_is_not_its_own_or_not_in_range_is_replaced() {
        let held = [("b", "10.0.0.3"), ("c", "10.0.0.3")];
        assert_eq!(choose_in("c", "", &["10.0.0.3"], &held), Ok(ip("10.0.0.1")), "b keeps the shared address");
        assert_eq!(choose_in("a", "", &["10.9.9.9"], &[("a", "10.9.9.9")]), Ok(ip("10.0.0.1")));
    }

    #[test]
    fn a_requested_address_is_given_when_free_in_range_even_if_another_is_held() {
        assert_eq!(choose_in("a", "10.0.0.2", &[], &[]), Ok(ip("10.0.0.2")));
        assert_eq!(choose_in("a", "10.0.0.2", &["10.0.0.1"], &[("a", "10.0.0.1")]), Ok(ip("10.0.0.2")));
        assert_eq!(choose_in("a", "10.0.0.2", &["10.0.0.2"], &[("a", "10.0.0.2")]), Ok(ip("10.0.0.2")));
    }

    #[test]
    fn a_requested_address_outside_the_range_or_held_by_another_is_refused() {
        let outside = choose_in("a", "10.0.0.4", &[], &[]).unwrap_err();
        assert_eq!(
            outside.to_string(),
            "spec.loadBalancerIP 10.0.0.4 is outside --load-balancer-ip-range 10.0.0.1-10.0.0.3"
        );
        let taken = choose_in("a", "10.0.0.2", &[], &[("default/b", "10.0.0.2")]).unwrap_err();
        assert_eq!(taken.to_string(), "spec.loadBalancerIP 10.0.0.2 is already the ingress IP of Service default/b");
        assert_eq!(choose_in("a", "ten", &[], &[]), Err(Refusal::NotAnAddress("ten".into())));
    }

    #[test]
    fn a_full_range_is_refused() {
        let held = [("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "10.0.0.3")];
        let full = choose_in("d", "", &[], &held).unwrap_err();
        assert_eq!(full.to_string(), "--load-balancer-ip-range 10.0.0.1-10.0.0.3 is full: all 3 addresses are in use");
    }
}
