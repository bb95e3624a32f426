//! The result table: each measurement's runs as median and p99 beside the
//! baseline measured in the same run.

use rk_bench::sections::Section;
use rk_bench::stats::Summary;
use std::time::Duration;

/// One measurement and its baseline.
pub struct Row {
    pub what: String,
    pub samples: Vec<Duration>,
    pub baseline_what: String,
    pub baseline: Vec<Duration>,
}

impl Row {
    pub fn new(what: impl Into<String>, baseline_what: impl Into<String>) -> Row {
        Row { what: what.into(), samples: Vec::new(), baseline_what: baseline_what.into(), baseline: Vec::new() }
    }
}

/// Seconds with two decimals.
fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

pub fn section(rows: &[Row], notes: &str) -> Section {
    let mut markdown = String::from(
        "### Walkthroughs and node failure\n\n\
         | measurement | runs | median | p99 | baseline | baseline median | baseline p99 | median − baseline median |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let rk = Summary::of(row.samples.clone());
        let base = Summary::of(row.baseline.clone());
        let overhead = rk.p50.as_secs_f64() - base.p50.as_secs_f64();
        markdown.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} s |\n",
            row.what,
            row.samples.len(),
            secs(rk.p50),
            secs(rk.p99),
            row.baseline_what,
            secs(base.p50),
            secs(base.p99),
            overhead
        ));
    }
    markdown.push('\n');
    markdown.push_str(notes);
    Section { markdown, goals: Vec::new() }
}
