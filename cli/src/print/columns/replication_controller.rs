//! ReplicationController columns: NAME DESIRED CURRENT READY AGE, wide adds CONTAINERS IMAGES SELECTOR.

use super::{with_wide, Columns};
use crate::print::age::age;
use crate::print::format::format_labels;
use chrono::{DateTime, Utc};
use rk_proto::v1::ReplicationController;
use rk_proto::Resource;

impl Columns for ReplicationController {
    fn headers(wide: bool) -> Vec<&'static str> {
        with_wide(vec!["NAME", "DESIRED", "CURRENT", "READY", "AGE"], wide, || vec!["CONTAINERS", "IMAGES", "SELECTOR"])
    }

    fn row(&self, wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let meta = self.metadata();
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.unwrap_or_default();
        let normal = vec![
            meta.name.clone(),
            // spec.replicas defaults to 1 when omitted.
            spec.replicas.unwrap_or(1).to_string(),
            status.replicas.to_string(),
            status.ready_replicas.to_string(),
            age(&meta.creation_timestamp, now),
        ];
        with_wide(normal, wide, || {
            let containers = spec.template.and_then(|t| t.spec).map(|s| s.containers).unwrap_or_default();
            let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
            let images: Vec<&str> = containers.iter().map(|c| c.image.as_str()).collect();
            vec![names.join(","), images.join(","), format_labels(&spec.selector)]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{
        Container, ObjectMeta, PodSpec, PodTemplateSpec, ReplicationControllerSpec, ReplicationControllerStatus,
    };

    #[test]
    fn normal_and_wide() {
        let container =
            |name: &str, image: &str| Container { name: name.into(), image: image.into(), ..Default::default() };
        let rc = ReplicationController {
            metadata: Some(ObjectMeta { name: "web".into(), ..Default::default() }),
            spec: Some(ReplicationControllerSpec {
                replicas: Some(3),
                selector: [("app".to_string(), "web".to_string())].into(),
                template: Some(PodTemplateSpec {
                    spec: Some(PodSpec {
                        containers: vec![container("nginx", "nginx:1.19"), container("log", "busybox")],
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: Some(ReplicationControllerStatus { replicas: 2, ready_replicas: 1, ..Default::default() }),
            ..Default::default()
        };
        let now = Utc::now();
        assert_eq!(rc.row(false, now), ["web", "3", "2", "1", "<unknown>"]);
        assert_eq!(rc.row(true, now)[5..], ["nginx,log", "nginx:1.19,busybox", "app=web"]);
        assert_eq!(ReplicationController::default().row(false, now)[1..4], ["1", "0", "0"]);
    }
}
