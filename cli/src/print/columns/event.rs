//! Event columns, as `kubectl get events` 1.20 prints them: LAST SEEN TYPE REASON OBJECT MESSAGE;
//! wide: LAST SEEN TYPE REASON OBJECT SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME.

use super::Columns;
use crate::print::age::age;
use chrono::{DateTime, Utc};
use rk_proto::v1::{Event, EventSource};
use rk_proto::Resource;

/// OBJECT: `pod/web-1`, with the kind lowercased; just the kind when there is no name.
pub(crate) fn involved_object(event: &Event) -> String {
    let object = event.involved_object.clone().unwrap_or_default();
    let kind = object.kind.to_lowercase();
    if object.name.is_empty() {
        kind
    } else {
        format!("{kind}/{}", object.name)
    }
}

/// SOURCE: `component, host`.
fn event_source(source: Option<&EventSource>) -> String {
    let source = source.cloned().unwrap_or_default();
    if source.host.is_empty() {
        source.component
    } else {
        format!("{}, {}", source.component, source.host)
    }
}

impl Columns for Event {
    fn headers(wide: bool) -> Vec<&'static str> {
        if wide {
            vec![
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "SUBOBJECT",
                "SOURCE",
                "MESSAGE",
                "FIRST SEEN",
                "COUNT",
                "NAME",
            ]
        } else {
            vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        }
    }

    fn row(&self, wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let first_seen = age(&self.first_timestamp, now);
        // An event that happened once may carry only its first timestamp.
        let last_seen =
            if self.last_timestamp.is_empty() { first_seen.clone() } else { age(&self.last_timestamp, now) };
        let message = self.message.trim().to_string();
        if !wide {
            return vec![last_seen, self.r#type.clone(), self.reason.clone(), involved_object(self), message];
        }
        let field_path = self.involved_object.as_ref().map(|o| o.field_path.clone()).unwrap_or_default();
        vec![
            last_seen,
            self.r#type.clone(),
            self.reason.clone(),
            involved_object(self),
            field_path,
            event_source(self.source.as_ref()),
            message,
            first_seen,
            // Singleton events from newer clients leave count unset.
            self.count.max(1).to_string(),
            self.metadata().name.clone(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{ObjectMeta, ObjectReference};

    fn event() -> Event {
        Event {
            metadata: Some(ObjectMeta { name: "web-1.17a".into(), ..Default::default() }),
            involved_object: Some(ObjectReference {
                kind: "Pod".into(),
                name: "web-1".into(),
                field_path: "spec.containers{nginx}".into(),
                ..Default::default()
            }),
            reason: "Pulled".into(),
            message: "Successfully pulled image\n".into(),
            source: Some(EventSource { component: "rklet".into(), host: "node-1".into() }),
            first_timestamp: "2024-01-01T00:00:00Z".into(),
            last_timestamp: "2024-01-01T00:01:00Z".into(),
            r#type: "Normal".into(),
            ..Default::default()
        }
    }

    #[test]
    fn normal_and_wide() {
        let now = rk_proto::time::parse("2024-01-01T00:02:00Z").unwrap();
        let e = event();
        assert_eq!(e.row(false, now), ["60s", "Normal", "Pulled", "pod/web-1", "Successfully pulled image"]);
        assert_eq!(
            e.row(true, now),
            [
                "60s",
                "Normal",
                "Pulled",
                "pod/web-1",
                "spec.containers{nginx}",
                "rklet, node-1",
                "Successfully pulled image",
                "2m",
                "1",
                "web-1.17a"
            ]
        );
        assert_eq!(Event::headers(true).len(), 10);
    }

    #[test]
    fn last_seen_falls_back_to_first_seen() {
        let now = rk_proto::time::parse("2024-01-01T00:02:00Z").unwrap();
        let mut e = event();
        e.last_timestamp.clear();
        e.involved_object.as_mut().unwrap().name.clear();
        assert_eq!(e.row(false, now)[..4], ["2m", "Normal", "Pulled", "pod"]);
    }
}
