//! A local cluster of two nodes, each a network namespace with its own
//! dockerd, kubelet and proxy (`rkctl cluster up --nodes 2`), labelled
//! disktype=spinning (node1) and disktype=ssd (node2), on address ranges
//! leased for this test alone.

use super::{eventually, text, Cluster};
use rk_testkit::{free_port, lease_cluster_cidr, CidrLease};
use std::process::{Command, Output};

const HELLO: &str = "rk/hello:1.0";

pub struct TwoNodes {
    pub cluster: Cluster,
    pub cidrs: [CidrLease; 2],
}

impl TwoNodes {
    pub fn up() -> TwoNodes {
        Self::up_with(&[])
    }

    pub fn up_with(extra: &[&str]) -> TwoNodes {
        let (pods, nodes) = (lease_cluster_cidr(), lease_cluster_cidr());
        let mut args = vec![
            "--nodes=2".to_string(),
            format!("--cluster-cidr={}", pods.cidr()),
            format!("--node-subnet={}", nodes.subnet(0)),
            "--node-labels=node1:disktype=spinning".to_string(),
            "--node-labels=node2:disktype=ssd".to_string(),
            "--node-labels=tier=test".to_string(),
            format!("--kubelet-port={}", free_port()),
            format!("--kubelet-health-port={}", free_port()),
            "--kubelet-arg=--node-status-update-frequency=1".to_string(),
            "--proxy-arg=--min-sync-period=0.2".to_string(),
        ];
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let cluster = Cluster::up_with(&args.iter().map(String::as_str).collect::<Vec<_>>());
        TwoNodes { cluster, cidrs: [pods, nodes] }
    }

    /// Waits until both nodes are Ready.
    pub fn wait_ready(&self) {
        eventually(&self.cluster, &["get", "nodes"], "both nodes Ready", |t| {
            t.lines().filter(|l| l.contains(" Ready ")).count() == 2
        });
    }

    /// Node `k`'s address on the bridge (the host has the first).
    pub fn node_address(&self, k: u8) -> String {
        let gateway = self.cidrs[1].gateway(0);
        let (network, host) = gateway.rsplit_once('.').unwrap();
        format!("{network}.{}", host.parse::<u8>().unwrap() + k)
    }

    /// The host's end of node `k`'s link: cutting it partitions the node.
    pub fn link(&self, k: u8) -> String {
        format!("{}n{k}", bridge_of(&self.cidrs[1].gateway(0)))
    }

    /// An RC `hello` of `replicas` rk/hello pods and a Service `hello` of `service_type` over them.
    pub fn hello_service(&self, replicas: usize, service_type: &str) {
        let rc = format!("apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: hello\nspec:\n  replicas: {replicas}\n  selector: {{app: hello}}\n  template:\n    metadata:\n      labels: {{app: hello}}\n    spec:\n      terminationGracePeriodSeconds: 1\n      containers:\n      - name: hello\n        image: {HELLO}\n        ports:\n        - {{name: web, containerPort: 8080}}\n");
        self.create("rc", &rc);
        let svc = format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: hello\nspec:\n  type: {service_type}\n  selector: {{app: hello}}\n  ports:\n  - {{name: http, port: 80, targetPort: web}}\n");
        self.create("svc", &svc);
    }

    /// Running hello pods as (name, node), once there are `count`.
    pub fn hello_pods(&self, count: usize) -> Vec<(String, String)> {
        let path = "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{\"\\n\"}{end}";
        let listing = eventually(&self.cluster, &["get", "pods", "-l", "app=hello", "-o", path], "hello pods", |t| {
            t.lines().filter(|l| l.ends_with(" Running")).count() == count
        });
        listing
            .lines()
            .filter(|l| l.ends_with(" Running"))
            .map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                (fields[0].to_string(), fields[1].to_string())
            })
            .collect()
    }

    pub fn create(&self, name: &str, yaml: &str) {
        let file = self.cluster.write(&format!("{name}.yaml"), yaml);
        self.cluster.ok(&["create", "-f", &file]);
    }

    /// The one pod whose name starts with `prefix` once it runs: (name, node, IP).
    pub fn running_pod(&self, prefix: &str) -> (String, String, String) {
        let path =
            "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.status.phase}{\"\\n\"}{end}";
        let listing = eventually(&self.cluster, &["get", "pods", "-o", path], &format!("{prefix} Running"), |t| {
            t.lines().any(|l| l.starts_with(prefix) && l.ends_with(" Running"))
        });
        let line = listing.lines().find(|l| l.starts_with(prefix)).unwrap();
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields[0].to_string(), fields[1].to_string(), fields[2].to_string())
    }
}

/// The bridge this cluster made: the host interface holding the node subnet's first address.
pub fn bridge_of(subnet_gateway: &str) -> String {
    let out = Command::new("ip").args(["-o", "-4", "addr", "show", "to", subnet_gateway]).output().unwrap();
    let listing = text(&out.stdout);
    let name = listing.split_whitespace().nth(1).unwrap_or_default().to_string();
    assert!(name.starts_with("rk"), "no rk bridge holds {subnet_gateway}: {listing:?}");
    name
}

impl TwoNodes {
    /// The `docker` command against node `k`'s own daemon.
    pub fn docker(&self, k: u8, args: &[&str]) -> Output {
        let socket = self.cluster.dir.path().join(format!("node{k}/docker.sock"));
        Command::new("docker").arg("-H").arg(format!("unix://{}", socket.display())).args(args).output().unwrap()
    }

    /// The id of the running container `name` of pod `pod` on node `k`.
    pub fn container(&self, k: u8, pod: &str, name: &str) -> String {
        let out = self.docker(
            k,
            &[
                "ps",
                "-q",
                "--filter",
                &format!("label=io.rk.pod.name={pod}"),
                "--filter",
                &format!("label=io.rk.container.name={name}"),
            ],
        );
        let (ids, errors) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(ids.lines().count(), 1, "one running {name} container of {pod} on node{k}: {ids}{errors}");
        ids.trim().to_string()
    }
}

/// A directory of the repository's examples/, for `rkctl create -f`.
pub fn example(dir: &str) -> String {
    format!("{}/../examples/{dir}", env!("CARGO_MANIFEST_DIR"))
}
