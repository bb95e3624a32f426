//! Dataset columns: NAME PRIMARY NODE PHASE USED AGE, wide adds TARGET and LAST MOVE.

use super::{with_wide, Columns};
use crate::print::age::age;
use crate::print::format::{human_bytes, millis, or_none};
use chrono::{DateTime, Utc};
use rk_proto::v1::{Dataset, DatasetMove};
use rk_proto::Resource;

impl Columns for Dataset {
    fn headers(wide: bool) -> Vec<&'static str> {
        with_wide(vec!["NAME", "PRIMARY", "NODE", "PHASE", "USED", "AGE"], wide, || vec!["TARGET", "LAST MOVE"])
    }

    fn row(&self, wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let meta = self.metadata();
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().unwrap_or_default();
        let normal = vec![
            meta.name.clone(),
            or_none(&spec.primary),
            or_none(&status.node),
            or_none(&status.phase),
            human_bytes(status.bytes_used),
            age(&meta.creation_timestamp, now),
        ];
        with_wide(normal, wide, || {
            vec![or_none(&status.target_node), status.last_move.as_ref().map_or_else(|| or_none(""), last_move)]
        })
    }
}

/// `node1->node2 9.0s (down 1.2s)`: where the last move went, how long it took and the pod was down.
pub(crate) fn last_move(m: &DatasetMove) -> String {
    if m.finished.is_empty() {
        return format!("{}->{} (in progress)", m.from, m.to);
    }
    format!("{}->{} {} (down {})", m.from, m.to, millis(m.duration_ms), millis(m.downtime_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{DatasetSpec, DatasetStatus, ObjectMeta};

    #[test]
    fn rows_show_where_the_data_should_be_and_is() {
        let now = Utc::now();
        let mut dataset = Dataset {
            metadata: Some(ObjectMeta {
                name: "redis-data".into(),
                creation_timestamp: rk_proto::time::format(now - chrono::Duration::minutes(5)),
                ..Default::default()
            }),
            spec: Some(DatasetSpec { primary: "node2".into(), size_limit: String::new() }),
            ..Default::default()
        };
        assert_eq!(dataset.row(true, now), ["redis-data", "node2", "<none>", "<none>", "0B", "5m", "<none>", "<none>"]);
        dataset.status = Some(DatasetStatus {
            node: "node2".into(),
            phase: "Ready".into(),
            bytes_used: 3 << 29,
            last_move: Some(DatasetMove {
                from: "node1".into(),
                to: "node2".into(),
                finished: "2024-05-01T12:00:09Z".into(),
                duration_ms: 9000,
                downtime_ms: 1200,
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(dataset.row(false, now), ["redis-data", "node2", "node2", "Ready", "1.5Gi", "5m"]);
        assert_eq!(dataset.row(true, now)[6..], ["<none>", "node1->node2 9.0s (down 1.2s)"]);
    }
}
