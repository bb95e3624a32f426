//! The `Events:` section at the end of describe output.

use super::writer::Writer;
use crate::print::age::age;
use chrono::{DateTime, Utc};
use rk_proto::v1::Event;

/// `Events:  <none>`, or a Type/Reason/Age/From/Message table ordered by last occurrence.
/// Nothing at all for `None` (kubectl's `--show-events=false`).
pub(super) fn write_events(w: &mut Writer, events: Option<&[Event]>, now: DateTime<Utc>) {
    let Some(events) = events else { return };
    if events.is_empty() {
        return w.line(0, format_args!("Events:\t<none>"));
    }
    let mut sorted: Vec<&Event> = events.iter().collect();
    // Missing timestamps sort first, as Go's zero time does.
    sorted.sort_by_key(|e| rk_proto::time::parse(&e.last_timestamp));
    w.line(0, format_args!("Events:"));
    w.line(1, format_args!("Type\tReason\tAge\tFrom\tMessage"));
    w.line(1, format_args!("----\t------\t----\t----\t-------"));
    for event in sorted {
        let first = age(&event.first_timestamp, now);
        let interval = if event.count > 1 {
            format!("{} (x{} over {first})", age(&event.last_timestamp, now), event.count)
        } else {
            first
        };
        let from = event.source.as_ref().map(|s| s.component.as_str()).unwrap_or_default();
        let message = event.message.trim();
        w.line(1, format_args!("{}\t{}\t{interval}\t{from}\t{message}", event.r#type, event.reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::EventSource;

    fn event(r#type: &str, reason: &str, first: &str, last: &str, count: i32, message: &str) -> Event {
        Event {
            r#type: r#type.into(),
            reason: reason.into(),
            first_timestamp: first.into(),
            last_timestamp: last.into(),
            count,
            message: message.into(),
            source: Some(EventSource { component: "default-scheduler".into(), ..Default::default() }),
            ..Default::default()
        }
    }

    fn render(events: Option<&[Event]>) -> String {
        let mut w = Writer::default();
        write_events(&mut w, events, rk_proto::time::parse("2024-01-01T00:10:00Z").unwrap());
        w.finish()
    }

    #[test]
    fn none_empty_and_table() {
        assert_eq!(render(None), "");
        assert_eq!(render(Some(&[])), "Events:  <none>\n");
        let events = [
            event("Warning", "BackOff", "2024-01-01T00:00:00Z", "2024-01-01T00:09:00Z", 5, "Back-off restarting\n"),
            event("Normal", "Scheduled", "2024-01-01T00:08:00Z", "2024-01-01T00:08:00Z", 1, "Assigned default/web-1"),
        ];
        assert_eq!(
            render(Some(&events)),
            "Events:\n\
             \x20 Type     Reason     Age                From               Message\n\
             \x20 ----     ------     ----               ----               -------\n\
             \x20 Normal   Scheduled  2m                 default-scheduler  Assigned default/web-1\n\
             \x20 Warning  BackOff    60s (x5 over 10m)  default-scheduler  Back-off restarting\n"
        );
    }
}
