//! This controller's own status writes that the informer has not shown yet.
//! Without them, a Service reconciled just after another would not see the
//! address that one was given a moment ago, and could get the same one.

use super::ingress::ingress_ips;
use rk_client::object_key;
use rk_proto::v1::Service;
use rk_proto::Resource;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;

#[derive(Default)]
pub struct RecentWrites(Mutex<HashMap<String, Written>>);

struct Written {
    resource_version: u64,
    ips: Vec<Ipv4Addr>,
}

fn revision(service: &Service) -> Option<u64> {
    service.metadata().resource_version.parse().ok()
}

impl RecentWrites {
    /// Remembers the Service as the apiserver returned it from a write.
    pub fn record(&self, written: &Service) {
        if let Some(resource_version) = revision(written) {
            let entry = Written { resource_version, ips: ingress_ips(written) };
            self.0.lock().unwrap().insert(object_key(written.metadata()), entry);
        }
    }

    /// The ingress addresses of the Service: as written here if the
    /// informer's copy is older, else as the copy says (and the write is
    /// forgotten: the informer has caught up).
    pub fn ingress_of(&self, service: &Service) -> Vec<Ipv4Addr> {
        let key = object_key(service.metadata());
        let seen = revision(service).unwrap_or(0);
        let mut writes = self.0.lock().unwrap();
        match writes.get(&key) {
            Some(written) if written.resource_version > seen => return written.ips.clone(),
            Some(_) => {
                writes.remove(&key);
            }
            None => {}
        }
        ingress_ips(service)
    }

    /// The Service is gone.
    pub fn forget(&self, key: &str) {
        self.0.lock().unwrap().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::super::ingress::with_ingress;
    use super::*;
    use rk_proto::v1::ObjectMeta;

    fn service(resource_version: &str, ips: &[&str]) -> Service {
        let meta = ObjectMeta {
            namespace: "default".into(),
            name: "web".into(),
            resource_version: resource_version.into(),
            ..Default::default()
        };
        let ips: Vec<Ipv4Addr> = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        with_ingress(&Service { metadata: Some(meta), ..Default::default() }, &ips)
    }

    #[test]
    fn a_write_shows_until_the_informer_has_caught_up() {
        let recent = RecentWrites::default();
        recent.record(&service("7", &["10.0.0.1"]));
        let ip: Ipv4Addr = "10.0.0.1".parse().unwrap();
        assert_eq!(recent.ingress_of(&service("6", &[])), vec![ip], "the informer's copy is older");
        assert_eq!(recent.ingress_of(&service("8", &["10.0.0.2"])).len(), 1);
        assert_eq!(recent.ingress_of(&service("6", &[])), Vec::<Ipv4Addr>::new(), "the write was forgotten");
    }

    #[test]
    fn a_deleted_service_is_forgotten() {
        let recent = RecentWrites::default();
        recent.record(&service("7", &["10.0.0.1"]));
        recent.forget("default/web");
        assert!(recent.ingress_of(&service("6", &[])).is_empty());
    }
}
