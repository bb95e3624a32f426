//! `rkctl get` tables, laid out like kubectl's: uppercase headers, left-aligned columns padded
//! by 3 spaces (kubectl's tabwriter: min width 6, padding 3), no trailing spaces.

use super::columns::Columns;
use super::format::format_labels;
use super::tabwriter::TabWriter;
use chrono::{DateTime, Utc};
use std::marker::PhantomData;

/// The `get` flags that change a table's shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// `-o wide`: the extra columns of each kind.
    pub wide: bool,
    /// `-A`: a NAMESPACE column first, for namespaced kinds only (kubectl omits it for nodes).
    pub all_namespaces: bool,
    /// `--show-labels`: a LABELS column last.
    pub show_labels: bool,
    /// `--no-headers`.
    pub no_headers: bool,
    /// Several kinds in one `get` (`pods,svc`): NAME shows `kind/name`, as kubectl does.
    pub kind_prefix: bool,
}

/// Prints tables of one kind. Column widths are remembered between calls, as kubectl does for
/// `get --watch`, so rows printed later stay aligned with the first ones; the header is
/// printed only by the first call.
pub struct TablePrinter<T> {
    options: TableOptions,
    writer: TabWriter,
    header_printed: bool,
    kind: PhantomData<fn(&T)>,
}

impl<T: Columns> TablePrinter<T> {
    pub fn new(options: TableOptions) -> Self {
        TablePrinter {
            options,
            writer: TabWriter::new(6, 3).remembering_widths(),
            header_printed: options.no_headers,
            kind: PhantomData,
        }
    }

    /// The lines for `items`, each ending in a newline; preceded by the header on the first call.
    pub fn print(&mut self, items: &[T], now: DateTime<Utc>) -> String {
        let mut rows = Vec::with_capacity(items.len() + 1);
        if !self.header_printed {
            self.header_printed = true;
            rows.push(self.headers());
        }
        rows.extend(items.iter().map(|item| self.row(item, now)));
        let text: String = rows.iter().map(|cells| cells.join("\t") + "\n").collect();
        self.writer.format(&text)
    }

    fn with_namespace(&self) -> bool {
        self.options.all_namespaces && T::NAMESPACED
    }

    fn headers(&self) -> Vec<String> {
        let mut headers = Vec::new();
        if self.with_namespace() {
            headers.push("NAMESPACE".to_string());
        }
        headers.extend(T::headers(self.options.wide).into_iter().map(String::from));
        if self.options.show_labels {
            headers.push("LABELS".to_string());
        }
        headers
    }

    fn row(&self, item: &T, now: DateTime<Utc>) -> Vec<String> {
        let meta = item.metadata();
        let mut cells = Vec::new();
        if self.with_namespace() {
            cells.push(meta.namespace.clone());
        }
        let name_column = cells.len();
        cells.extend(item.row(self.options.wide, now));
        if self.options.kind_prefix && T::headers(self.options.wide).first() == Some(&"NAME") {
            cells[name_column] = format!("{}/{}", T::SINGULAR, cells[name_column]);
        }
        if self.options.show_labels {
            cells.push(format_labels(&meta.labels));
        }
        cells
    }
}

/// kubectl's message (on stderr) for an empty `get`: pass the namespace that was listed, or
/// `None` for `-A` and cluster-scoped kinds.
pub fn no_resources_message(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("No resources found in {ns} namespace."),
        None => "No resources found".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rk_proto::v1::{Namespace, NamespaceStatus, Node, ObjectMeta, Pod, PodSpec};
    use std::collections::BTreeMap;

    fn render_table<T: Columns>(items: &[T], options: TableOptions, now: DateTime<Utc>) -> String {
        TablePrinter::new(options).print(items, now)
    }

    fn now() -> DateTime<Utc> {
        rk_proto::time::parse("2024-01-01T00:10:00Z").unwrap()
    }

    fn meta(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Option<ObjectMeta> {
        Some(ObjectMeta {
            name: name.into(),
            namespace: namespace.into(),
            creation_timestamp: "2024-01-01T00:00:00Z".into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            ..Default::default()
        })
    }

    fn pod(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Pod {
        Pod {
            metadata: meta(namespace, name, labels),
            spec: Some(PodSpec { containers: vec![Default::default()], ..Default::default() }),
            status: Some(rk_proto::v1::PodStatus { phase: "Pending".into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn aligned_columns_without_trailing_spaces() {
        let pods = [pod("default", "web-1", &[]), pod("default", "a-much-longer-name", &[])];
        let out = render_table(&pods, TableOptions::default(), now());
        assert_eq!(
            out,
            "NAME                 READY   STATUS    RESTARTS   AGE\n\
             web-1                0/1     Pending   0          10m\n\
             a-much-longer-name   0/1     Pending   0          10m\n"
        );
    }

    #[test]
    fn namespace_first_and_labels_last() {
        let pods = [pod("kube-system", "dns", &[("k", "v"), ("app", "dns")]), pod("default", "web", &[])];
        let options = TableOptions { all_namespaces: true, show_labels: true, ..Default::default() };
        assert_eq!(
            render_table(&pods, options, now()),
            "NAMESPACE     NAME   READY   STATUS    RESTARTS   AGE   LABELS\n\
             kube-system   dns    0/1     Pending   0          10m   app=dns,k=v\n\
             default       web    0/1     Pending   0          10m   <none>\n"
        );
    }

    #[test]
    fn cluster_scoped_kinds_get_no_namespace_column() {
        let ns = Namespace {
            metadata: meta("", "default", &[]),
            status: Some(NamespaceStatus { phase: "Active".into() }),
            ..Default::default()
        };
        let options = TableOptions { all_namespaces: true, no_headers: true, ..Default::default() };
        assert_eq!(render_table(&[ns], options, now()), "default   Active   10m\n");
        // NAME is padded to kubectl's minimum column width of 6.
        let node = Node { metadata: meta("", "n1", &[]), ..Default::default() };
        assert!(render_table(&[node], options, now()).starts_with("n1    Unknown"));
    }

    #[test]
    fn watch_rows_keep_the_first_widths() {
        let mut printer = TablePrinter::<Pod>::new(TableOptions::default());
        let first = printer.print(&[pod("default", "web-1", &[])], now());
        assert_eq!(first, "NAME    READY   STATUS    RESTARTS   AGE\nweb-1   0/1     Pending   0          10m\n");
        assert_eq!(printer.print(&[pod("default", "w", &[])], now()), "w       0/1     Pending   0          10m\n");
    }

    #[test]
    fn empty_messages() {
        assert_eq!(no_resources_message(Some("default")), "No resources found in default namespace.");
        assert_eq!(no_resources_message(None), "No resources found");
    }
}
