//! Which Service holds each address, derived afresh from the Services on
//! every reconcile: their statuses are the record, so a restarted controller
//! knows exactly what the last one gave out.

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// One LoadBalancer Service's claim on addresses.
#[derive(Debug, Clone)]
pub struct Holder {
    /// `namespace/name`.
    pub key: String,
    /// metadata.creationTimestamp (RFC 3339, so it sorts as text).
    pub created: String,
    pub ips: Vec<Ipv4Addr>,
}

#[derive(Debug, Default)]
pub struct Owners(HashMap<Ipv4Addr, String>);

impl Owners {
    /// When two statuses name the same address (written by hand, or by a
    /// controller that raced another), the older Service keeps it, then the
    /// lower key: every reconcile and every restart decides alike.
    pub fn new(mut holders: Vec<Holder>) -> Self {
        holders.sort_by(|a, b| (&a.created, &a.key).cmp(&(&b.created, &b.key)));
        let mut owners = HashMap::new();
        for holder in holders {
            for ip in holder.ips {
                owners.entry(ip).or_insert_with(|| holder.key.clone());
            }
        }
        Owners(owners)
    }

    /// The key of the Service holding `ip`.
    pub fn owner(&self, ip: Ipv4Addr) -> Option<&str> {
        self.0.get(&ip).map(String::as_str)
    }

    /// Whether `key` may have `ip`: nobody else holds it.
    pub fn free_for(&self, ip: Ipv4Addr, key: &str) -> bool {
        self.owner(ip).is_none_or(|owner| owner == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(key: &str, created: &str, ips: &[&str]) -> Holder {
        Holder { key: key.into(), created: created.into(), ips: ips.iter().map(|ip| ip.parse().unwrap()).collect() }
    }

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    #[test]
    fn each_address_has_the_service_whose_status_names_it() {
        let owners = Owners::new(vec![
            holder("default/a", "2026-01-01T00:00:00Z", &["10.0.0.1"]),
            holder("default/b", "2026-01-01T00:00:00Z", &["10.0.0.2", "10.0.0.3"]),
        ]);
        assert_eq!(owners.owner(ip("10.0.0.1")), Some("default/a"));
        assert_eq!(owners.owner(ip("10.0.0.3")), Some("default/b"));
        assert_eq!(owners.owner(ip("10.0.0.4")), None);
        assert!(owners.free_for(ip("10.0.0.2"), "default/b") && !owners.free_for(ip("10.0.0.2"), "default/a"));
        assert!(owners.free_for(ip("10.0.0.4"), "default/a"));
    }

    #[test]
    fn a_shared_address_goes_to_the_older_service_then_the_lower_key_in_any_order() {
        let older = holder("default/z", "2026-01-01T00:00:00Z", &["10.0.0.1"]);
        let newer = holder("default/a", "2026-01-02T00:00:00Z", &["10.0.0.1"]);
        let twin = holder("default/y", "2026-01-01T00:00:00Z", &["10.0.0.1"]);
        for holders in [vec![older.clone(), newer.clone()], vec![newer.clone(), older.clone()]] {
            assert_eq!(Owners::new(holders).owner(ip("10.0.0.1")), Some("default/z"));
        }
        for holders in [vec![older.clone(), twin.clone()], vec![twin, older]] {
            assert_eq!(Owners::new(holders).owner(ip("10.0.0.1")), Some("default/y"));
        }
    }
}
