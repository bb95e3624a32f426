//! `describe pod`.

use super::containers::{write_containers, write_volumes, Indent};
use super::events::write_events;
use super::writer::{timestamp, Writer};
use super::{Describe, DescribeContext};
use crate::print::age::until;
use rk_proto::quantity;
use rk_proto::v1::{ObjectMeta, Pod, PodSpec, PodStatus};
use rk_proto::Resource;
use std::collections::BTreeMap;

impl Describe for Pod {
    fn describe(&self, ctx: &DescribeContext<'_>) -> String {
        let meta = self.metadata();
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().unwrap_or_default();
        let mut w = Writer::for_object(self);
        match spec.node_name.as_str() {
            "" => w.line(0, format_args!("Node:\t<none>")),
            node => w.line(0, format_args!("Node:\t{node}/{}", status.host_ip)),
        }
        if !status.start_time.is_empty() {
            w.line(0, format_args!("Start Time:\t{}", timestamp(&status.start_time)));
        }
        w.labels_and_annotations(meta);
        write_status(&mut w, meta, &status, ctx);
        if let Some(owner) = controlled_by(meta) {
            w.line(0, format_args!("Controlled By:\t{owner}"));
        }
        write_containers(&mut w, Indent::Pod, &spec.containers, Some(self));
        if !status.conditions.is_empty() {
            w.line(0, format_args!("Conditions:"));
            w.line(1, format_args!("Type\tStatus"));
            for condition in &status.conditions {
                w.line(1, format_args!("{} \t{}", condition.r#type, condition.status));
            }
        }
        write_volumes(&mut w, Indent::Pod, &spec.volumes);
        w.line(0, format_args!("QoS Class:\t{}", qos_class(&spec)));
        w.labels("Node-Selectors", &spec.node_selector);
        write_events(&mut w, ctx.events, ctx.now);
        w.finish()
    }
}

fn write_status(w: &mut Writer, meta: &ObjectMeta, status: &PodStatus, ctx: &DescribeContext<'_>) {
    if meta.deletion_timestamp.is_empty() {
        w.line(0, format_args!("Status:\t{}", status.phase));
    } else {
        w.line(0, format_args!("Status:\tTerminating (lasts {})", until(&meta.deletion_timestamp, ctx.now)));
        if let Some(grace) = meta.deletion_grace_period_seconds {
            w.line(0, format_args!("Termination Grace Period:\t{grace}s"));
        }
    }
    w.line_if_set(0, "Reason", &status.reason);
    w.line_if_set(0, "Message", &status.message);
    w.line(0, format_args!("IP:\t{}", status.pod_ip));
    // rk pods have one IP; kubectl lists status.podIPs.
    if status.pod_ip.is_empty() {
        w.line(0, format_args!("IPs:\t<none>"));
    } else {
        w.line(0, format_args!("IPs:"));
        w.line(1, format_args!("IP:\t{}", status.pod_ip));
    }
}

/// `ReplicationController/web`: the owner that is the object's controller.
pub(super) fn controlled_by(meta: &ObjectMeta) -> Option<String> {
    let owner = meta.owner_references.iter().find(|o| o.controller == Some(true))?;
    Some(format!("{}/{}", owner.kind, owner.name))
}

/// Kubernetes' QoS class: BestEffort without any cpu/memory requests or limits; Guaranteed
/// when every container limits both and the summed requests equal the summed limits.
fn qos_class(spec: &PodSpec) -> &'static str {
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    for container in &spec.containers {
        let resources = container.resources.clone().unwrap_or_default();
        add_positive(&mut requests, &resources.requests);
        let limited = add_positive(&mut limits, &resources.limits);
        guaranteed &= limited.contains(&"cpu") && limited.contains(&"memory");
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed && requests.len() == limits.len() && requests.iter().all(|(name, q)| limits.get(name) == Some(q)) {
        return "Guaranteed";
    }
    "Burstable"
}

/// Adds the positive cpu and memory quantities of `list` into `sums`; returns their names.
fn add_positive(sums: &mut BTreeMap<&'static str, i128>, list: &BTreeMap<String, String>) -> Vec<&'static str> {
    let mut found = Vec::new();
    for name in ["cpu", "memory"] {
        let milli = list.get(name).and_then(|q| quantity::parse(q).ok()).map_or(0, |q| q.milli);
        if milli > 0 {
            *sums.entry(name).or_default() += milli;
            found.push(name);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{
        Container, ContainerPort, ContainerState, ContainerStateWaiting, ContainerStatus, EnvVar, EnvVarSource, Event,
        ObjectFieldSelector, OwnerReference, PodCondition, ResourceRequirements, VolumeMount,
    };

    fn resources(requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Option<ResourceRequirements> {
        let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Some(ResourceRequirements { requests: map(requests), limits: map(limits) })
    }

    fn spec_with(resources: Vec<Option<ResourceRequirements>>) -> PodSpec {
        let containers = resources.into_iter().map(|resources| Container { resources, ..Default::default() }).collect();
        PodSpec { containers, ..Default::default() }
    }

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&spec_with(vec![None])), "BestEffort");
        let both = resources(&[("cpu", "500m"), ("memory", "128Mi")], &[("cpu", "0.5"), ("memory", "128Mi")]);
        assert_eq!(qos_class(&spec_with(vec![both.clone(), both.clone()])), "Guaranteed");
        assert_eq!(qos_class(&spec_with(vec![both, None])), "Burstable");
        assert_eq!(qos_class(&spec_with(vec![resources(&[("cpu", "100m")], &[])])), "Burstable");
    }

    #[test]
    fn full_pod() {
        let container = Container {
            name: "nginx".into(),
            image: "nginx:1.19".into(),
            ports: vec![ContainerPort { container_port: 80, protocol: "TCP".into(), ..Default::default() }],
            env: vec![
                EnvVar { name: "MODE".into(), value: "prod".into(), ..Default::default() },
                EnvVar {
                    name: "POD_NAME".into(),
                    value_from: Some(EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            api_version: "v1".into(),
                            field_path: "metadata.name".into(),
                        }),
                    }),
                    ..Default::default()
                },
            ],
            volume_mounts: vec![VolumeMount {
                name: "data".into(),
                mount_path: "/data".into(),
                read_only: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        let waiting = ContainerState {
            waiting: Some(ContainerStateWaiting { reason: "ContainerCreating".into(), ..Default::default() }),
            ..Default::default()
        };
        let pod = Pod {
            metadata: Some(ObjectMeta {
                name: "web-1".into(),
                namespace: "default".into(),
                labels: [("app".to_string(), "web".to_string())].into(),
                owner_references: vec![OwnerReference {
                    kind: "ReplicationController".into(),
                    name: "web".into(),
                    controller: Some(true),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            spec: Some(PodSpec { containers: vec![container], node_name: "node-1".into(), ..Default::default() }),
            status: Some(PodStatus {
                phase: "Pending".into(),
                host_ip: "10.0.0.1".into(),
                start_time: "2024-01-01T00:00:00Z".into(),
                conditions: vec![PodCondition {
                    r#type: "PodScheduled".into(),
                    status: "True".into(),
                    ..Default::default()
                }],
                container_statuses: vec![ContainerStatus {
                    name: "nginx".into(),
                    state: Some(waiting),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let now = rk_proto::time::parse("2024-01-01T00:01:00Z").unwrap();
        let events: [Event; 0] = [];
        let out = pod.describe(&DescribeContext { events: Some(&events), ..crate::print::describe::bare_context(now) });
        let expected = "\
Name:           web-1
Namespace:      default
Node:           node-1/10.0.0.1
Start Time:     Mon, 01 Jan 2024 00:00:00 +0000
Labels:         app=web
Annotations:    <none>
Status:         Pending
IP:
IPs:            <none>
Controlled By:  ReplicationController/web
Containers:
  nginx:
    Container ID:
    Image:          nginx:1.19
    Image ID:
    Port:           80/TCP
    Host Port:      0/TCP
    State:          Waiting
      Reason:       ContainerCreating
    Ready:          False
    Restart Count:  0
    Environment:
      MODE:      prod
      POD_NAME:  web-1 (v1:metadata.name)
    Mounts:
      /data from data (ro)
Conditions:
  Type           Status
  PodScheduled   True
Volumes:         <none>
QoS Class:       BestEffort
Node-Selectors:  <none>
Events:          <none>
";
        assert_eq!(out, expected);
    }
}
