//! The four walkthroughs of `examples/`: their manifests, the pods they
//! make, and how the bench asks whether their Services answer.

use crate::cluster::Cluster;
use crate::probe;
use anyhow::Context;
use rk_proto::manifest::{decode_manifests, DecodeOptions, Object};
use rk_proto::v1::{Container, Service};
use std::path::PathBuf;

/// Where a walkthrough's Service answers.
pub enum Answer {
    /// `GET path` answers 200 on node1's address at this NodePort.
    NodePort { port: u16, path: &'static str },
    /// `GET /` on the Service's cluster IP answers from inside node1's network namespace.
    ClusterIp { service: &'static str },
    /// `GET path` answers 200 on the Service's LoadBalancer ingress IP, port 80.
    LoadBalancer { service: &'static str, path: &'static str },
}

pub struct Walkthrough {
    pub name: &'static str,
    /// Under `examples/`.
    pub dir: &'static str,
    pub namespace: &'static str,
    pub answer: Answer,
}

pub const GUESTBOOK: Walkthrough = Walkthrough {
    name: "guestbook",
    dir: "guestbook",
    namespace: "default",
    // /entries reads Redis: the frontend answers 200 only with Redis working.
    answer: Answer::NodePort { port: 30080, path: "/entries" },
};

pub static ALL: [Walkthrough; 4] = [
    GUESTBOOK,
    Walkthrough { name: "hello", dir: "hello", namespace: "hello", answer: Answer::ClusterIp { service: "hello" } },
    // GET / counts the visit in the database.
    Walkthrough {
        name: "visits",
        dir: "visits",
        namespace: "default",
        answer: Answer::NodePort { port: 30001, path: "/" },
    },
    Walkthrough {
        name: "multi-container",
        dir: "multi-container",
        namespace: "default",
        answer: Answer::LoadBalancer { service: "cached-guestbook", path: "/entries" },
    },
];

/// Requests that must all succeed for a Service to count as answering: with
/// three pods behind it, one is missed by all 20 about once in 1,000 times.
const IN_A_ROW: usize = 20;

/// The Docker host path the visits database keeps its data in, moved under
/// the bench's state directory so it never shares data with anything else.
const EXAMPLES_HOST_PATH: &str = "/var/lib/rk-examples/";

impl Walkthrough {
    /// The walkthrough's manifest files in creation order as one multi-document YAML.
    pub fn manifests(&self, cluster: &Cluster) -> anyhow::Result<String> {
        let dir = examples().join(self.dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.retain(|path| path.extension().is_some_and(|ext| ext == "yaml"));
        files.sort();
        let mut documents = Vec::new();
        for file in files {
            documents.push(std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?);
        }
        let host_path = format!("{}/examples/", cluster.state_dir().display());
        Ok(documents.join("\n---\n").replace(EXAMPLES_HOST_PATH, &host_path))
    }

    /// The containers of every pod the manifests make (replicas counted), and the number of pods.
    pub fn containers(manifests: &str) -> anyhow::Result<(Vec<Container>, usize)> {
        let decoded = decode_manifests(manifests, DecodeOptions::default())?;
        let (mut containers, mut pods) = (Vec::new(), 0);
        for object in decoded.objects {
            let (spec, replicas) = match object {
                Object::Pod(pod) => (pod.spec, 1),
                Object::ReplicationController(rc) => {
                    let spec = rc.spec.unwrap_or_default();
                    (spec.template.and_then(|t| t.spec), spec.replicas.unwrap_or(1).max(0) as usize)
                }
                _ => continue,
            };
            let spec = spec.unwrap_or_default();
            pods += replicas;
            for _ in 0..replicas {
                containers.extend(spec.containers.iter().cloned());
            }
        }
        Ok((containers, pods))
    }

    /// Whether the walkthrough's Service answers [`IN_A_ROW`] requests in a
    /// row: one answer may come from a pod whose node's proxy has synced
    /// while another's has not (a frontend not reaching Redis yet).
    pub async fn answers(&self, cluster: &Cluster, client: &rk_client::Client) -> bool {
        for _ in 0..IN_A_ROW {
            if !self.answers_once(cluster, client).await {
                return false;
            }
        }
        true
    }

    async fn answers_once(&self, cluster: &Cluster, client: &rk_client::Client) -> bool {
        match self.answer {
            Answer::NodePort { port, path } => {
                probe::get_ok(&format!("{}:{port}", cluster.node_address(1)), path).await
            }
            Answer::ClusterIp { service } => match client.get::<Service>(self.namespace, service).await {
                Ok(svc) => {
                    let ip = svc.spec.map(|s| s.cluster_ip).unwrap_or_default();
                    !ip.is_empty() && probe::get_ok_in(&cluster.netns(1), &format!("{ip}:80"), "/").await
                }
                Err(_) => false,
            },
            Answer::LoadBalancer { service, path } => match client.get::<Service>(self.namespace, service).await {
                Ok(svc) => {
                    let ingress = svc.status.and_then(|s| s.load_balancer).and_then(|lb| lb.ingress.into_iter().next());
                    match ingress {
                        Some(ingress) if !ingress.ip.is_empty() => {
                            probe::get_ok(&format!("{}:80", ingress.ip), path).await
                        }
                        _ => false,
                    }
                }
                Err(_) => false,
            },
        }
    }
}

/// The repository's `examples/`.
fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}
