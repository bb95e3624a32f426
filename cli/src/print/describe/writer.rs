//! The text builder behind `describe`: kubectl's PrefixWriter (two spaces per level) feeding a
//! tabwriter with padding 2, plus the Labels/Annotations blocks every kind prints.

use crate::print::age::UNKNOWN;
use crate::print::format::NONE;
use crate::print::tabwriter::TabWriter;
use rk_proto::v1::ObjectMeta;
use rk_proto::Resource;
use std::collections::BTreeMap;
use std::fmt::{Arguments, Write};

/// Annotations longer than this print on their own lines, cut to this width.
const MAX_ANNOTATION_LEN: usize = 140;
/// Written by `kubectl apply`; noise in describe output.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[derive(Default)]
pub(super) struct Writer {
    text: String,
}

impl Writer {
    /// A writer started with the lines every describe starts with: `Name:`, and
    /// `Namespace:` for a namespaced kind.
    pub fn for_object<R: Resource>(object: &R) -> Self {
        let meta = object.metadata();
        let mut w = Writer::default();
        w.line(0, format_args!("Name:\t{}", meta.name));
        if R::NAMESPACED {
            w.line(0, format_args!("Namespace:\t{}", meta.namespace));
        }
        w
    }

    /// A line indented by `level` (two spaces each); tabs separate cells to align.
    pub fn line(&mut self, level: usize, args: Arguments<'_>) {
        self.text.extend(std::iter::repeat_n("  ", level));
        self.text.write_fmt(args).expect("writing to a String");
        self.text.push('\n');
    }

    /// `title:\tvalue` at `level`, or nothing when `value` is empty (kubectl leaves such fields out).
    pub fn line_if_set(&mut self, level: usize, title: &str, value: &str) {
        if !value.is_empty() {
            self.line(level, format_args!("{title}:\t{value}"));
        }
    }

    /// The object's own labels and annotations, as every kind shows them.
    pub fn labels_and_annotations(&mut self, meta: &ObjectMeta) {
        self.labels("Labels", &meta.labels);
        self.annotations("Annotations", &meta.annotations);
    }

    /// kubectl's `printLabelsMultiline`: `Title:  k=v` then one `k=v` per line, sorted.
    pub fn labels(&mut self, title: &str, labels: &BTreeMap<String, String>) {
        if labels.is_empty() {
            return self.line(0, format_args!("{title}:\t{NONE}"));
        }
        for (i, (key, value)) in labels.iter().enumerate() {
            let lead = if i == 0 { format!("{title}:") } else { String::new() };
            self.line(0, format_args!("{lead}\t{key}={value}"));
        }
    }

    /// kubectl's `printAnnotationsMultiline`: `key: value`, with long or multi-line values
    /// below their key, each line cut to 138 characters.
    pub fn annotations(&mut self, title: &str, annotations: &BTreeMap<String, String>) {
        let shown: Vec<_> = annotations.iter().filter(|(k, _)| k.as_str() != LAST_APPLIED).collect();
        if shown.is_empty() {
            return self.line(0, format_args!("{title}:\t{NONE}"));
        }
        for (i, (key, value)) in shown.into_iter().enumerate() {
            let lead = if i == 0 { format!("{title}:") } else { String::new() };
            let value = value.strip_suffix('\n').unwrap_or(value);
            if value.chars().count() + key.chars().count() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
                self.line(0, format_args!("{lead}\t{key}:"));
                for part in value.split('\n') {
                    self.line(0, format_args!("\t  {}", shorten(part, MAX_ANNOTATION_LEN - 2)));
                }
            } else {
                self.line(0, format_args!("{lead}\t{key}: {value}"));
            }
        }
    }

    /// The aligned text.
    pub fn finish(self) -> String {
        TabWriter::new(0, 2).format(&self.text)
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(max).collect::<String>() + "..."
    } else {
        s.to_string()
    }
}

/// A timestamp as describe shows it: Go's RFC1123Z, in UTC (`Mon, 02 Jan 2006 15:04:05 +0000`).
pub(super) fn timestamp(ts: &str) -> String {
    match rk_proto::time::parse(ts) {
        Some(t) => t.format("%a, %d %b %Y %H:%M:%S %z").to_string(),
        None => UNKNOWN.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn labels_and_annotations_align() {
        let mut w = Writer::default();
        w.line(0, format_args!("Name:\tweb"));
        w.labels("Labels", &map(&[("tier", "front"), ("app", "web")]));
        w.annotations("Annotations", &map(&[(LAST_APPLIED, "{}")]));
        assert_eq!(
            w.finish(),
            "Name:         web\nLabels:       app=web\n              tier=front\nAnnotations:  <none>\n"
        );
    }

    #[test]
    fn long_annotations_go_below_their_key() {
        let mut w = Writer::default();
        let long = "x".repeat(150);
        w.annotations("Annotations", &map(&[("a", "1"), ("b", &long), ("c", "l1\nl2\n")]));
        let expected = format!(
            "Annotations:  a: 1\n              b:\n                {}...\n              c:\n                l1\n                l2\n",
            "x".repeat(138)
        );
        assert_eq!(w.finish(), expected);
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp("2024-03-05T07:08:09Z"), "Tue, 05 Mar 2024 07:08:09 +0000");
        assert_eq!(timestamp(""), "<unknown>");
    }
}
