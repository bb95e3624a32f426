//! `describe namespace`.

use super::writer::Writer;
use super::{Describe, DescribeContext};
use rk_proto::v1::Namespace;
use rk_proto::Resource;

impl Describe for Namespace {
    fn describe(&self, _ctx: &DescribeContext<'_>) -> String {
        let mut w = Writer::for_object(self);
        w.labels_and_annotations(self.metadata());
        let phase = self.status.as_ref().map(|s| s.phase.as_str()).unwrap_or_default();
        w.line(0, format_args!("Status:\t{phase}"));
        // rk has neither quotas nor limit ranges; kubectl says so in these words.
        w.line(0, format_args!(""));
        w.line(0, format_args!("No resource quota."));
        w.line(0, format_args!(""));
        w.line(0, format_args!("No LimitRange resource."));
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{NamespaceStatus, ObjectMeta};

    #[test]
    fn namespace() {
        let ns = Namespace {
            metadata: Some(ObjectMeta { name: "dev".into(), ..Default::default() }),
            status: Some(NamespaceStatus { phase: "Active".into() }),
            ..Default::default()
        };
        assert_eq!(
            ns.describe(&crate::print::describe::bare_context(chrono::Utc::now())),
            "Name:         dev\nLabels:       <none>\nAnnotations:  <none>\nStatus:       Active\n\nNo resource quota.\n\nNo LimitRange resource.\n"
        );
    }
}
