//! Helpers for the checks of `deploy/` (tests/): running the provisioning
//! scripts into scratch roots, reading what they wrote, and the flags and
//! variables the systemd units use.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `deploy/` of this checkout.
pub fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository root.
pub fn repo_dir() -> PathBuf {
    deploy_dir().parent().expect("deploy/ has a parent").to_path_buf()
}

/// The units in deploy/systemd, by file name.
pub fn units() -> BTreeMap<String, String> {
    let dir = deploy_dir().join("systemd");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "service"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// Runs `deploy/provision/<script>` with `args` and no RK_* settings from the
/// environment except those in `env`.
pub fn run_script(script: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(deploy_dir().join("provision").join(script));
    command.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("RK_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.output().unwrap_or_else(|e| panic!("running {script}: {e}"))
}

/// Like [`run_script`], but the script must succeed; returns its output.
pub fn provision(script: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = run_script(script, args, env);
    let text = describe(&output);
    assert!(output.status.success(), "{script} {args:?} failed:\n{text}");
    text
}

/// stdout and stderr of a finished command, for messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One entry of a directory tree, as a provisioning run leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { mode: u32 },
    File { mode: u32, contents: Vec<u8> },
    Link { target: PathBuf },
}

/// Everything under `root`, by path relative to it ("etc/rk/kubelet.env").
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut entries = BTreeMap::new();
    walk(root, root, &mut entries);
    entries
}

fn walk(root: &Path, dir: &Path, entries: &mut BTreeMap<PathBuf, Entry>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let relative = path.strip_prefix(root).unwrap().to_path_buf();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            entries.insert(relative, Entry::Link { target: std::fs::read_link(&path).unwrap() });
        } else if meta.is_dir() {
            entries.insert(relative, Entry::Dir { mode });
            walk(root, &path, entries);
        } else {
            entries.insert(relative, Entry::File { mode, contents: std::fs::read(&path).unwrap() });
        }
    }
}

/// The regular files of a snapshot.
pub fn files(snapshot: &BTreeMap<PathBuf, Entry>) -> BTreeSet<String> {
    snapshot
        .iter()
        .filter(|(_, entry)| matches!(entry, Entry::File { .. }))
        .map(|(path, _)| path.display().to_string())
        .collect()
}

/// The variables of a systemd environment file (`KEY=value` lines, `#` comments).
pub fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("{line:?} is not KEY=value"));
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// Reads the environment file at `path` under `root`.
pub fn env_file(root: &Path, path: &str) -> BTreeMap<String, String> {
    let file = root.join(path.trim_start_matches('/'));
    parse_env(&std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display())))
}

/// The values of `key` in a unit, continuation lines joined.
pub fn directive(unit: &str, key: &str) -> Vec<String> {
    let joined = unit.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|line| line.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
        .map(|value| value.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The variables `$VAR` and `${VAR}` a command line refers to.
pub fn variables(command: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = command;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let braced = rest.starts_with('{');
        let name: String =
            rest.trim_start_matches('{').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        assert!(!name.is_empty() || !braced, "an empty ${{}} in {command:?}");
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

/// The long options (`--name`) a command line passes.
pub fn flags(command: &str) -> BTreeSet<String> {
    command
        .split_whitespace()
        .filter(|word| word.starts_with("--"))
        .map(|word| word.split('=').next().unwrap().to_string())
        .collect()
}

/// The long flags a binary declares with clap's derive in `<crate>/src/main.rs`
/// (`#[arg(long ...)]` above a field `node_labels: ...` is `--node-labels`).
pub fn declared_flags(crate_dir: &str) -> BTreeSet<String> {
    let main = repo_dir().join(crate_dir).join("src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap_or_else(|e| panic!("reading {}: {e}", main.display()));
    let mut flags = BTreeSet::new();
    let mut pending: Option<Option<String>> = None;
    for line in source.lines().map(str::trim) {
        if let Some(attribute) = line.strip_prefix("#[arg(") {
            if attribute.starts_with("long") {
                let explicit = attribute
                    .strip_prefix("long = \"")
                    .and_then(|rest| rest.split('"').next())
                    .map(|name| format!("--{name}"));
                pending = Some(explicit);
            }
            continue;
        }
        if line.starts_with("///") || line.starts_with("#[") {
            continue;
        }
        if let Some(explicit) = pending.take() {
            let field = line.split(':').next().unwrap().trim().trim_start_matches("pub ").trim();
            flags.insert(explicit.unwrap_or_else(|| format!("--{}", field.replace('_', "-"))));
        }
    }
    flags
}

/// Writes an executable file.
pub fn write_program(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_joins_continuation_lines_and_variables_are_found() {
        let unit = "[Service]\nExecStart=/bin/x \\\n    --a=${A} \\\n    $B_ARGS\nRestart=on-failure\n";
        let exec = directive(unit, "ExecStart");
        assert_eq!(exec, ["/bin/x --a=${A} $B_ARGS"]);
        assert_eq!(variables(&exec[0]), BTreeSet::from(["A".to_string(), "B_ARGS".to_string()]));
        assert_eq!(flags(&exec[0]), BTreeSet::from(["--a".to_string()]));
    }

    #[test]
    fn env_files_parse_with_comments_and_empty_values() {
        let env = parse_env("# a comment\nA=1\n\nB=\nC=x=y\n");
        assert_eq!(env.get("A").map(String::as_str), Some("1"));
        assert_eq!(env.get("B").map(String::as_str), Some(""));
        assert_eq!(env.get("C").map(String::as_str), Some("x=y"));
    }

    #[test]
    fn the_kubelet_declares_its_flags() {
        let flags = declared_flags("kubelet");
        for flag in ["--server", "--node-labels", "--streaming-token-file", "--pod-routes"] {
            assert!(flags.contains(flag), "{flag} not in {flags:?}");
        }
    }
}
