//! Datasets: data on one node at a time. The spec says where it should be
//! (`primary`, optional) and how large it may grow; the status, written by
//! the dataset controller and the kubelets through UpdateStatus, says where
//! it is and how its last move went.

use super::common::{check_name, check_non_negative, check_quantity, Errors, NameFormat};
use super::meta::validate_meta;
use crate::registry::field_error::FieldError;
use crate::registry::strategy::Strategy;
use rk_proto::v1::{Dataset, DatasetMove, DatasetSpec, DatasetStatus};

/// The phases a dataset's status may have; empty until the controller places it.
pub(crate) const DATASET_PHASES: &[&str] = &["Pending", "Ready", "Moving", "Unavailable"];

impl Strategy for Dataset {
    fn apply_defaults(&mut self) {
        self.spec.get_or_insert_with(Default::default);
    }

    fn validate(&self) -> Vec<FieldError> {
        let mut errs = validate_meta(self, NameFormat::Dns1123Subdomain);
        validate_spec(&mut errs, self.spec.as_ref().unwrap_or(&DatasetSpec::default()));
        if let Some(status) = &self.status {
            validate_status(&mut errs, status);
        }
        errs
    }

    spec_and_status!();
}

fn validate_spec(errs: &mut Errors, spec: &DatasetSpec) {
    check_node_name(errs, "spec.primary", &spec.primary);
    if !spec.size_limit.is_empty() {
        check_quantity(errs, "spec.sizeLimit", &spec.size_limit);
    }
}

fn validate_status(errs: &mut Errors, status: &DatasetStatus) {
    check_node_name(errs, "status.node", &status.node);
    check_node_name(errs, "status.targetNode", &status.target_node);
    if !status.phase.is_empty() && !DATASET_PHASES.contains(&status.phase.as_str()) {
        let allowed: Vec<&str> = std::iter::once("").chain(DATASET_PHASES.iter().copied()).collect();
        errs.push(FieldError::not_supported("status.phase", &status.phase, &allowed));
    }
    if status.phase == "Moving" && status.target_node.is_empty() {
        errs.push(FieldError::new("status.targetNode", "Required value: a Moving dataset names the node it moves to"));
    }
    if !status.phase.is_empty() && status.node.is_empty() {
        errs.push(FieldError::new(
            "status.node",
            format!("Required value: a {} dataset names the node that holds it", status.phase),
        ));
    }
    check_non_negative(errs, "status.bytesUsed", status.bytes_used);
    if let Some(last_move) = &status.last_move {
        validate_move(errs, "status.lastMove", last_move);
    }
}

fn validate_move(errs: &mut Errors, path: &str, last_move: &DatasetMove) {
    check_node_name(errs, &format!("{path}.from"), &last_move.from);
    check_node_name(errs, &format!("{path}.to"), &last_move.to);
    for (field, time) in [("started", &last_move.started), ("finished", &last_move.finished)] {
        if !time.is_empty() && rk_proto::time::parse(time).is_none() {
            errs.push(FieldError::invalid(
                format!("{path}.{field}"),
                time,
                "must be an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)",
            ));
        }
    }
    check_non_negative(errs, &format!("{path}.durationMs"), last_move.duration_ms);
    check_non_negative(errs, &format!("{path}.downtimeMs"), last_move.downtime_ms);
    check_non_negative(errs, &format!("{path}.bytesSent"), last_move.bytes_sent);
}

/// An optional node name: empty, or a DNS-1123 subdomain as node names are.
fn check_node_name(errs: &mut Errors, field: &str, name: &str) {
    if !name.is_empty() {
        check_name(errs, field, name, NameFormat::Dns1123Subdomain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::validation::testing::{error_at, fields, web};
    use serde_json::json;

    fn dataset(spec: serde_json::Value) -> Dataset {
        web("Dataset", "spec", spec)
    }

    #[test]
    fn a_dataset_needs_nothing_but_a_name() {
        assert_eq!(dataset(json!({})).validate(), []);
        assert_eq!(dataset(json!({"primary": "node1", "sizeLimit": "10Gi"})).validate(), []);
    }

    #[test]
    fn every_spec_problem_is_named() {
        let mut ds = dataset(json!({"primary": "Node_1", "sizeLimit": "ten gigs"}));
        ds.metadata.as_mut().unwrap().name = "Bad!".into();
        let errs = ds.validate();
        assert_eq!(fields(&errs), ["metadata.name", "spec.primary", "spec.sizeLimit"]);
        assert!(error_at(&errs, "spec.primary").message.contains("RFC 1123 subdomain"));
        assert!(error_at(&errs, "spec.sizeLimit").message.starts_with("Invalid value: \"ten gigs\": must be"));
        let errs = dataset(json!({"sizeLimit": "-1Gi"})).validate();
        assert!(error_at(&errs, "spec.sizeLimit").message.contains("greater than or equal to 0"));
    }

    #[test]
    fn status_phases_and_nodes() {
        let mut ds = dataset(json!({}));
        for phase in ["", "Pending", "Ready", "Unavailable"] {
            ds.status = Some(DatasetStatus { node: "node1".into(), phase: phase.into(), ..Default::default() });
            assert_eq!(ds.validate(), [], "{phase}");
        }
        ds.status = Some(DatasetStatus { node: "node1".into(), phase: "Lost".into(), ..Default::default() });
        assert_eq!(
            error_at(&ds.validate(), "status.phase").message,
            "Unsupported value: \"Lost\": supported values: \"\", \"Pending\", \"Ready\", \"Moving\", \"Unavailable\""
        );
        ds.status = Some(DatasetStatus { phase: "Moving".into(), bytes_used: -1, ..Default::default() });
        assert_eq!(fields(&ds.validate()), ["status.targetNode", "status.node", "status.bytesUsed"]);
    }

    #[test]
    fn last_move_is_checked() {
        let mut ds = dataset(json!({}));
        let mut status: DatasetStatus = serde_json::from_value(json!({
            "node": "node2", "phase": "Ready",
            "lastMove": {"from": "node1", "to": "node2", "started": "2024-05-01T12:00:00Z",
                         "finished": "2024-05-01T12:00:03Z", "durationMs": 3000, "downtimeMs": 800, "bytesSent": 1024}
        }))
        .unwrap();
        ds.status = Some(status.clone());
        assert_eq!(ds.validate(), []);
        let last_move = status.last_move.as_mut().unwrap();
        last_move.to = "Node 2".into();
        last_move.finished = "yesterday".into();
        last_move.downtime_ms = -5;
        ds.status = Some(status);
        assert_eq!(
            fields(&ds.validate()),
            ["status.lastMove.to", "status.lastMove.finished", "status.lastMove.downtimeMs"]
        );
    }

    #[test]
    fn updates_keep_status_and_status_updates_keep_spec() {
        let mut old = dataset(json!({"primary": "node1"}));
        old.status = Some(DatasetStatus { node: "node1".into(), phase: "Ready".into(), ..Default::default() });
        let mut new = old.clone();
        new.spec.as_mut().unwrap().primary = "node2".into();
        new.status = None;
        assert!(new.spec_changed(&old));
        new.keep_status(&old);
        assert_eq!(new.status, old.status);
        new.keep_spec(&old);
        assert!(!new.spec_changed(&old));
    }
}
