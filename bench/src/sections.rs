//! The report: each measurement is a [`Section`] with its table and goals;
//! a benchmark's part of BENCHMARKS.md sits between its own markers, so
//! rewriting it leaves the other benchmarks' parts as they were.

use std::path::{Path, PathBuf};

/// One measurement's table and the goals it checks.
pub struct Section {
    pub markdown: String,
    pub goals: Vec<Goal>,
}

/// A target from the issue and what this run achieved.
pub struct Goal {
    pub name: &'static str,
    pub target: &'static str,
    pub actual: String,
    pub met: bool,
}

/// Where the run happened and how it was started.
pub struct RunInfo {
    pub date: String,
    pub command: String,
    pub machine: String,
    /// The commit checked out and when the measured binary was built: the
    /// tree may hold uncommitted changes, so the build time says which.
    pub build: String,
}

impl RunInfo {
    /// This run, measuring the program at `binary`.
    pub fn collect(binary: &Path) -> RunInfo {
        RunInfo {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            machine: rk_testkit::machine_description(),
            build: build(binary),
        }
    }

    /// What a benchmark prints first: `program` and the date, the machine, the build and the command.
    pub fn banner(&self, program: &str) -> String {
        format!("{program} on {}\n{}\n{}\n$ {}\n", self.date, self.machine, self.build, self.command)
    }

    /// The date, machine, build and command as a markdown list.
    pub fn markdown(&self) -> String {
        format!(
            "- Date: {}\n- Machine: {}\n- Build: {}\n- Command: `{}`\n",
            self.date, self.machine, self.build, self.command
        )
    }
}

fn build(binary: &Path) -> String {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map_or_else(|| "unknown".into(), |output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let built = binary.metadata().and_then(|meta| meta.modified()).map_or_else(
        |_| "unknown".into(),
        |time| chrono::DateTime::<chrono::Utc>::from(time).format("%Y-%m-%d %H:%M UTC").to_string(),
    );
    let name = binary.file_name().map_or_else(|| binary.display().to_string(), |n| n.to_string_lossy().into_owned());
    format!("commit {commit}, {name} built {built}")
}

pub fn goals_table(sections: &[Section]) -> String {
    let mut out = String::from("### Goals\n\n| goal | target | this run | met |\n|---|---|---|---|\n");
    for goal in sections.iter().flat_map(|s| &s.goals) {
        let met = if goal.met { "yes" } else { "**no**" };
        out.push_str(&format!("| {} | {} | {} | {met} |\n", goal.name, goal.target, goal.actual));
    }
    out
}

/// The goals table of `sections`, then each section after a blank line.
pub fn goals_and_sections(sections: &[Section]) -> String {
    let mut out = goals_table(sections);
    for section in sections {
        out.push('\n');
        out.push_str(&section.markdown);
    }
    out
}

/// `text` made fit for a table cell: one line, no pipes, at most 160
/// characters. Errors nest their cause last, so the end is what is kept.
pub fn cell(text: &str) -> String {
    let flat = text.replace(['\n', '|'], " ");
    let chars = flat.chars().count();
    if chars <= 160 {
        return flat;
    }
    format!("…{}", flat.chars().skip(chars - 160).collect::<String>())
}

/// BENCHMARKS.md at the workspace root.
fn benchmarks_md() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("bench/ is inside the workspace").join("BENCHMARKS.md")
}

/// Markers around one benchmark's part of BENCHMARKS.md.
pub struct Markers {
    pub start: &'static str,
    pub end: &'static str,
}

impl Markers {
    /// A benchmark's part of BENCHMARKS.md: the heading `title`, then `body`, between the markers.
    pub fn around(&self, title: &str, body: &str) -> String {
        format!("{}\n## {title}\n\n{body}{}\n", self.start, self.end)
    }
}

/// The flag every benchmark has (`#[command(flatten)]`).
#[derive(clap::Args, Debug)]
pub struct WriteFlag {
    /// Print the results without writing BENCHMARKS.md.
    #[arg(long)]
    pub no_write: bool,
}

impl WriteFlag {
    /// Why the run leaves BENCHMARKS.md alone, if it does: `--no-write`, or
    /// `--only` (the file's tables come from one full run).
    pub fn skip_reason(&self, only: bool) -> Option<&'static str> {
        if self.no_write {
            Some("--no-write")
        } else if only {
            Some("partial run: --only")
        } else {
            None
        }
    }
}

/// A run's sections so far, each printed when it is added so that a long
/// run shows its tables as it goes.
#[derive(Default)]
pub struct PrintedSections(Vec<Section>);

impl PrintedSections {
    pub fn push(&mut self, section: Section) {
        println!("{}", section.markdown);
        self.0.push(section);
    }

    pub fn into_vec(self) -> Vec<Section> {
        self.0
    }
}

/// Writes `section` (made by [`Markers::around`]) into BENCHMARKS.md, or
/// says why not when there is a `skip` reason.
pub fn record(markers: &Markers, section: &str, skip: Option<&str>) -> std::io::Result<()> {
    if let Some(reason) = skip {
        println!("BENCHMARKS.md not updated ({reason}).");
        return Ok(());
    }
    let path = benchmarks_md();
    write(&path, markers, section)?;
    println!("Wrote {}", path.display());
    Ok(())
}

/// Replaces the part of `path` between `markers` with `section` (which
/// holds the markers; appended when the file has none, the file created
/// when missing), leaving everything else as it was.
fn write(path: &Path, markers: &Markers, section: &str) -> std::io::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            "# Benchmarks\n\nMeasured numbers for rk; each section says how to reproduce it.\n".to_string()
        }
        Err(error) => return Err(with_path(error, "reading", path)),
    };
    std::fs::write(path, replace(&existing, markers, section)).map_err(|error| with_path(error, "writing", path))
}

fn replace(existing: &str, markers: &Markers, section: &str) -> String {
    match (existing.find(markers.start), existing.find(markers.end)) {
        (Some(start), Some(end)) if start < end => {
            let after = existing[end + markers.end.len()..].trim_start_matches('\n');
            let gap = if after.is_empty() { "" } else { "\n" };
            format!("{}{section}{gap}{after}", &existing[..start])
        }
        _ => format!("{}\n\n{section}", existing.trim_end_matches('\n')),
    }
}

fn with_path(error: std::io::Error, doing: &str, path: &Path) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{doing} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKERS: Markers = Markers { start: "<!-- x:start -->", end: "<!-- x:end -->" };

    #[test]
    fn a_section_between_markers_is_replaced_and_the_rest_kept() {
        let existing = "# B\n\n<!-- o:start -->\nother\n<!-- o:end -->\n\n<!-- x:start -->\nold\n<!-- x:end -->\n\n<!-- p:start -->\np\n<!-- p:end -->\n";
        let updated = replace(existing, &MARKERS, "<!-- x:start -->\nnew\n<!-- x:end -->\n");
        assert_eq!(
            updated,
            "# B\n\n<!-- o:start -->\nother\n<!-- o:end -->\n\n<!-- x:start -->\nnew\n<!-- x:end -->\n\n<!-- p:start -->\np\n<!-- p:end -->\n"
        );
    }

    #[test]
    fn a_missing_section_is_appended() {
        let updated = replace("# B\n\ntext\n", &MARKERS, "<!-- x:start -->\nnew\n<!-- x:end -->\n");
        assert_eq!(updated, "# B\n\ntext\n\n<!-- x:start -->\nnew\n<!-- x:end -->\n");
    }

    #[test]
    fn long_cells_keep_their_end_on_one_line() {
        assert_eq!(cell("a|b\nc"), "a b c");
        let long = format!("{}END", "x".repeat(300));
        let short = cell(&long);
        assert!(short.starts_with('…') && short.ends_with("END") && short.chars().count() == 161);
    }
}
