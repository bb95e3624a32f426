//! The proxier in nftables mode against the recording fakes: a sync after a
//! successful one writes only changes; after a failure, everything.

mod support;

use rk_proto::IntOrString;
use rk_proxy::host::RecordingHost;
use rk_proxy::model::{service_ports, ServicePortInfo};
use rk_proxy::nft::applier::RecordingNft;
use rk_proxy::nft::ruleset::Layout;
use rk_proxy::nft::NftDataplane;
use rk_proxy::proxier::Proxier;
use std::sync::Arc;
use support::*;

fn ports(ready: &[&str]) -> Vec<ServicePortInfo> {
    let web = service("web", "10.96.0.10", "http", 80, IntOrString::int(8080));
    service_ports(&arcs(vec![web]), &arcs(vec![endpoints("web", "http", 8080, ready, &[])]))
}

#[test]
fn only_changes_are_written_until_a_failure_makes_the_next_sync_full() {
    let (nft, host) = (Arc::new(RecordingNft::default()), Arc::new(RecordingHost::default()));
    let layout = Layout { node: node(), service_cidr: "10.96.0.0/16".into() };
    let mut proxier =
        Proxier::new(node(), "10.96.0.0/16", Box::new(NftDataplane::new(layout, nft.clone())), host.clone());
    proxier.sync(&ports(&["10.244.0.5"])).unwrap();
    assert_eq!(*host.calls.lock().unwrap(), ["route 10.96.0.0/16 src 10.9.0.2", "route_localnet"]);
    assert_eq!(proxier.sync(&ports(&["10.244.0.5"])).unwrap(), 0, "no change, no script");
    assert_eq!(nft.scripts.lock().unwrap().len(), 1);
    assert_eq!(proxier.sync(&ports(&["10.244.0.6"])).unwrap(), 2, "the endpoint's slot and hairpin pair");

    *nft.failures.lock().unwrap() = 1;
    assert!(proxier.sync(&ports(&["10.244.0.7"])).is_err());
    proxier.sync(&ports(&["10.244.0.7"])).unwrap();
    let last = nft.scripts.lock().unwrap().last().unwrap().clone();
    assert!(last.starts_with("add table ip rk\n") && last.contains("add map ip rk service-ips"), "{last}");
    assert_eq!(host.calls.lock().unwrap().len(), 4, "the route is checked again after the failure");
    assert!(proxier.metrics.render().contains("rk_proxy_sync_failures_total 1\n"));
}
