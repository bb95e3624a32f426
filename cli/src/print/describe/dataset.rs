//! `describe dataset`: where the data should be (spec) beside where it is
//! (status), the pods that use it, its last move, and its events.

use super::events::write_events;
use super::writer::{timestamp, Writer};
use super::{Describe, DescribeContext};
use crate::print::format::{human_bytes, millis, or_none};
use rk_proto::v1::{Dataset, DatasetMove, Pod};
use rk_proto::Resource;

impl Describe for Dataset {
    fn describe(&self, ctx: &DescribeContext<'_>) -> String {
        let meta = self.metadata();
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().unwrap_or_default();
        let mut w = Writer::for_object(self);
        w.labels_and_annotations(meta);
        w.line(0, format_args!("CreationTimestamp:\t{}", timestamp(&meta.creation_timestamp)));
        w.line(
            0,
            format_args!(
                "Primary:\t{}",
                if spec.primary.is_empty() { "<none> (follows its pod)" } else { &spec.primary }
            ),
        );
        w.line(0, format_args!("Size Limit:\t{}", or_none(&spec.size_limit)));
        w.line(0, format_args!("Node:\t{}", or_none(&status.node)));
        w.line(0, format_args!("Phase:\t{}", or_none(&status.phase)));
        w.line_if_set(0, "Target Node", &status.target_node);
        w.line_if_set(0, "Reason", &status.reason);
        w.line_if_set(0, "Message", &status.message);
        w.line(0, format_args!("Used:\t{} ({} bytes)", human_bytes(status.bytes_used), status.bytes_used));
        write_users(&mut w, ctx.pods);
        match &status.last_move {
            None => w.line(0, format_args!("Last Move:\t<none>")),
            Some(last_move) => write_move(&mut w, last_move),
        }
        write_events(&mut w, ctx.events, ctx.now);
        w.finish()
    }
}

/// `Used By:  redis-0 (node1, Running)`, one pod a line.
fn write_users(w: &mut Writer, pods: &[Pod]) {
    if pods.is_empty() {
        return w.line(0, format_args!("Used By:\t<none>"));
    }
    for (i, pod) in pods.iter().enumerate() {
        let lead = if i == 0 { "Used By:" } else { "" };
        let node = pod.spec.as_ref().map_or("", |s| s.node_name.as_str());
        let phase = pod.status.as_ref().map_or("", |s| s.phase.as_str());
        let node = if node.is_empty() { "not scheduled" } else { node };
        w.line(0, format_args!("{lead}\t{} ({node}, {})", pod.metadata().name, or_none(phase)));
    }
}

fn write_move(w: &mut Writer, last_move: &DatasetMove) {
    w.line(0, format_args!("Last Move:"));
    w.line(1, format_args!("From:\t{}", or_none(&last_move.from)));
    w.line(1, format_args!("To:\t{}", or_none(&last_move.to)));
    w.line(1, format_args!("Started:\t{}", timestamp(&last_move.started)));
    if last_move.finished.is_empty() {
        return w.line(1, format_args!("Finished:\t<in progress>"));
    }
    w.line(1, format_args!("Finished:\t{}", timestamp(&last_move.finished)));
    w.line(1, format_args!("Duration:\t{}", millis(last_move.duration_ms)));
    w.line(1, format_args!("Downtime:\t{}", millis(last_move.downtime_ms)));
    w.line(1, format_args!("Bytes Sent:\t{} ({} bytes)", human_bytes(last_move.bytes_sent), last_move.bytes_sent));
}

/// Whether `pod` has a volume backed by the dataset `name` (of the pod's namespace).
pub(crate) fn uses_dataset(pod: &Pod, name: &str) -> bool {
    let volumes = pod.spec.as_ref().map(|s| s.volumes.as_slice()).unwrap_or_default();
    volumes.iter().any(|v| v.dataset.as_ref().is_some_and(|d| d.name == name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::describe::bare_context;
    use rk_proto::v1::{DatasetSpec, DatasetStatus, DatasetVolumeSource, ObjectMeta, PodSpec, PodStatus, Volume};

    fn dataset(status: Option<DatasetStatus>) -> Dataset {
        Dataset {
            metadata: Some(ObjectMeta {
                name: "redis-data".into(),
                namespace: "default".into(),
                creation_timestamp: "2024-05-01T11:00:00Z".into(),
                ..Default::default()
            }),
            spec: Some(DatasetSpec { primary: "node2".into(), size_limit: "10Gi".into() }),
            status,
            ..Default::default()
        }
    }

    #[test]
    fn a_new_dataset() {
        let text = dataset(None).describe(&bare_context(chrono::Utc::now()));
        assert_eq!(
            text,
            "Name:               redis-data\n\
             Namespace:          default\n\
             Labels:             <none>\n\
             Annotations:        <none>\n\
             CreationTimestamp:  Wed, 01 May 2024 11:00:00 +0000\n\
             Primary:            node2\n\
             Size Limit:         10Gi\n\
             Node:               <none>\n\
             Phase:              <none>\n\
             Used:               0B (0 bytes)\n\
             Used By:            <none>\n\
             Last Move:          <none>\n"
        );
    }

    #[test]
    fn a_moved_dataset_with_its_pod() {
        let status = DatasetStatus {
            node: "node2".into(),
            phase: "Ready".into(),
            bytes_used: 1 << 30,
            last_move: Some(DatasetMove {
                from: "node1".into(),
                to: "node2".into(),
                started: "2024-05-01T12:00:00Z".into(),
                finished: "2024-05-01T12:00:09Z".into(),
                duration_ms: 9000,
                downtime_ms: 1200,
                bytes_sent: 1 << 30,
            }),
            ..Default::default()
        };
        let pod = Pod {
            metadata: Some(ObjectMeta { name: "redis-0".into(), ..Default::default() }),
            spec: Some(PodSpec {
                node_name: "node2".into(),
                volumes: vec![Volume {
                    name: "data".into(),
                    dataset: Some(DatasetVolumeSource { name: "redis-data".into() }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus { phase: "Running".into(), ..Default::default() }),
            ..Default::default()
        };
        assert!(uses_dataset(&pod, "redis-data") && !uses_dataset(&pod, "other"));
        let pods = [pod];
        let ctx = DescribeContext { pods: &pods, events: Some(&[]), ..bare_context(chrono::Utc::now()) };
        let text = dataset(Some(status)).describe(&ctx);
        let tail = text.split_once("Phase:").unwrap().1;
        assert_eq!(
            tail,
            "              Ready\n\
             Used:               1Gi (1073741824 bytes)\n\
             Used By:            redis-0 (node2, Running)\n\
             Last Move:\n  \
               From:        node1\n  \
               To:          node2\n  \
               Started:     Wed, 01 May 2024 12:00:00 +0000\n  \
               Finished:    Wed, 01 May 2024 12:00:09 +0000\n  \
               Duration:    9.0s\n  \
               Downtime:    1.2s\n  \
               Bytes Sent:  1Gi (1073741824 bytes)\n\
             Events:        <none>\n"
        );
    }
}
