//! Reading rkctl's output: table rows, `describe` lines and pods' facts.

use super::{eventually, Cluster};
use std::collections::BTreeMap;

/// The whitespace-separated fields of the table row whose first column is `name`.
pub fn fields(table: &str, name: &str) -> Vec<String> {
    let line = table.lines().find(|l| l.split_whitespace().next() == Some(name));
    line.unwrap_or_else(|| panic!("no row {name} in\n{table}")).split_whitespace().map(String::from).collect()
}

/// The columns of the table row whose first column is `name`, by header.
pub fn columns(table: &str, name: &str) -> BTreeMap<String, String> {
    let header = table.lines().next().unwrap();
    // Headers may hold one space ("NOMINATED NODE"): columns start where headers do.
    let starts: Vec<usize> = header
        .char_indices()
        .filter(|&(i, c)| c != ' ' && (i == 0 || header[..i].ends_with("  ")))
        .map(|(i, _)| i)
        .collect();
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name} in\n{table}"));
    starts
        .iter()
        .enumerate()
        .map(|(k, &start)| {
            let end = starts.get(k + 1).copied().unwrap_or(usize::MAX);
            let cell = |s: &str| s.get(start..end.min(s.len())).unwrap_or_default().trim().to_string();
            (cell(header), cell(line))
        })
        .collect()
}

/// The value after `key` (`Replicas:`) on its line of `describe` output.
pub fn value<'a>(describe: &'a str, key: &str) -> &'a str {
    let line = describe.lines().find(|l| l.trim_start().starts_with(key));
    line.unwrap_or_else(|| panic!("no {key} in\n{describe}")).trim_start()[key.len()..].trim()
}

/// A line of `describe` starting with `expected`, spaces aside.
pub fn has_line(describe: &str, expected: &str) -> bool {
    let expected = expected.split_whitespace().collect::<Vec<_>>().join(" ");
    describe.lines().any(|line| line.split_whitespace().collect::<Vec<_>>().join(" ").starts_with(&expected))
}

/// Waits until `get rc NAME` shows `replicas` desired, current and ready, under kubectl's headers.
pub fn rc_settles(cluster: &Cluster, name: &str, replicas: usize) {
    let want = [name.to_string(), replicas.to_string(), replicas.to_string(), replicas.to_string()];
    let rc = eventually(cluster, &["get", "rc", name], &format!("{name} {replicas}/{replicas}/{replicas}"), |t| {
        t.lines().nth(1).is_some_and(|l| l.split_whitespace().take(4).eq(want.iter().map(String::as_str)))
    });
    assert_eq!(
        rc.lines().next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    );
}

/// Asserts that `get pods -o wide` (`wide`) shows each pod of `pods` on its node, with its IP and restarts.
pub fn assert_wide_shows(wide: &str, pods: &BTreeMap<String, [String; 4]>) {
    for (name, [node, ip, _, restarts]) in pods {
        let row = columns(wide, name);
        assert_eq!((&row["NODE"], &row["IP"], &row["RESTARTS"]), (node, ip, restarts), "{name} in\n{wide}");
    }
}

/// Pods as name → (node, IP, phase, restarts of each container summed), from `-o json`.
pub fn pods(cluster: &Cluster) -> BTreeMap<String, [String; 4]> {
    let list: serde_json::Value = serde_json::from_str(&cluster.ok(&["get", "pods", "-o", "json"])).unwrap();
    let field = |pod: &serde_json::Value, pointer: &str| {
        pod.pointer(pointer).and_then(|v| v.as_str()).unwrap_or_default().to_string()
    };
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pod| {
            let statuses =
                pod.pointer("/status/containerStatuses").and_then(|s| s.as_array()).cloned().unwrap_or_default();
            let restarts: u64 = statuses.iter().filter_map(|s| s["restartCount"].as_u64()).sum();
            let fields = [field(pod, "/spec/nodeName"), field(pod, "/status/podIP"), field(pod, "/status/phase")];
            let [node, ip, phase] = fields;
            (field(pod, "/metadata/name"), [node, ip, phase, restarts.to_string()])
        })
        .collect()
}
