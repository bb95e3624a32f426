//! Dynamically linked programs in a `FROM scratch` image: each program with
//! the shared libraries `ldd` names and the dynamic loader, copied to the
//! same paths as on the host (where the loader looks for them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::contents::Entry;
use super::ImageBuildError;

/// A program to copy: where it is on the host (a symlink is followed) and
/// its path in the image (relative, without a leading `/`).
pub(super) struct Program<'a> {
    pub host: &'a Path,
    pub image: &'a str,
}

/// The entries of `programs` with their libraries and loader, each file once,
/// sorted by path after the directories holding them.
pub(super) async fn programs_with_libraries(
    programs: &[Program<'_>],
    hint: &'static str,
) -> Result<Vec<Entry>, ImageBuildError> {
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for program in programs {
        if !program.host.exists() {
            return Err(ImageBuildError::MissingFile { path: program.host.to_path_buf(), hint });
        }
        files.insert(program.image.to_string(), program.host.to_path_buf());
        for library in shared_libraries(program.host).await? {
            let image_path = library.strip_prefix("/").unwrap_or(&library).display().to_string();
            files.entry(image_path).or_insert(library);
        }
    }
    let mut entries = BTreeMap::new();
    for (image_path, host_path) in files {
        for dir in Path::new(&image_path).ancestors().skip(1).filter(|dir| !dir.as_os_str().is_empty()) {
            let path = dir.display().to_string();
            entries.entry(path.clone()).or_insert(Entry::Dir { path, mode: 0o755 });
        }
        let data = std::fs::read(&host_path).map_err(|source| ImageBuildError::Read { path: host_path, source })?;
        entries.insert(image_path.clone(), Entry::File { path: image_path, data, mode: 0o755 });
    }
    Ok(entries.into_values().collect())
}

/// The absolute paths of the libraries and the loader `program` needs, from `ldd`.
async fn shared_libraries(program: &Path) -> Result<Vec<PathBuf>, ImageBuildError> {
    let error = |message: String| ImageBuildError::Libraries { path: program.to_path_buf(), message };
    let output = tokio::process::Command::new("ldd")
        .arg(program)
        .output()
        .await
        .map_err(|e| error(format!("running ldd: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(error(format!("ldd {}: {} {}", output.status, stdout.trim(), stderr.trim())));
    }
    parse_ldd(&stdout).map_err(error)
}

/// The library and loader paths in `ldd`'s output: `name => /path (0x...)`
/// and `/loader (0x...)`; the kernel's vDSO, which has no file, is skipped.
fn parse_ldd(output: &str) -> Result<Vec<PathBuf>, String> {
    let mut paths = Vec::new();
    for line in output.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if line.contains("statically linked") || line.contains("not a dynamic executable") {
            return Err(format!("it is not dynamically linked ({line:?})"));
        }
        let (name, target) = match line.split_once("=>") {
            Some((name, target)) => (name.trim(), target.trim()),
            None => (line, line),
        };
        if target == "not found" {
            return Err(format!("its library {name} is not found"));
        }
        // Drop the load address: `/path (0x00007f...)`.
        let path = target.rsplit_once(" (").map_or(target, |(path, _)| path).trim();
        if path.starts_with('/') {
            paths.push(PathBuf::from(path));
        }
    }
    if paths.is_empty() {
        return Err(format!("ldd named no libraries: {output:?}"));
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIS_LDD: &str = "\tlinux-vdso.so.1 (0x00007ffd5a1f2000)
\tlibatomic.so.1 => /lib/x86_64-linux-gnu/libatomic.so.1 (0x00007fead8c76000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fead82a5000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007fead8c93000)
";

    #[test]
    fn libraries_and_the_loader_are_found_and_the_vdso_skipped() {
        assert_eq!(
            parse_ldd(REDIS_LDD).unwrap(),
            ["/lib/x86_64-linux-gnu/libatomic.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]
                .map(PathBuf::from)
        );
    }

    #[test]
    fn a_missing_library_or_a_static_program_is_an_error() {
        let missing = "\tlibfoo.so.1 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n";
        assert_eq!(parse_ldd(missing).unwrap_err(), "its library libfoo.so.1 is not found");
        assert!(parse_ldd("\tstatically linked\n").unwrap_err().contains("not dynamically linked"));
        assert!(parse_ldd("").unwrap_err().contains("no libraries"));
    }

    #[tokio::test]
    async fn a_host_program_comes_with_its_libraries_under_their_directories() {
        let sh = Program { host: Path::new("/bin/sh"), image: "bin/sh" };
        let entries = programs_with_libraries(&[sh], "install a shell").await.unwrap();
        let paths: Vec<&str> = entries
            .iter()
            .map(|entry| match entry {
                Entry::Dir { path, .. } | Entry::File { path, .. } | Entry::Symlink { path, .. } => path.as_str(),
            })
            .collect();
        for expected in ["bin", "bin/sh", "lib64", "lib64/ld-linux-x86-64.so.2"] {
            assert!(paths.contains(&expected), "{expected} is missing from {paths:?}");
        }
        assert!(paths.iter().any(|path| path.ends_with("/libc.so.6")), "{paths:?}");
        let mut sorted = paths.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(paths, sorted, "sorted, each once, so a directory comes before what it holds");
    }

    #[tokio::test]
    async fn a_missing_program_names_the_hint() {
        let missing = Program { host: Path::new("/nonexistent/redis-server"), image: "usr/bin/redis-server" };
        let error = programs_with_libraries(&[missing], "install it").await.err().expect("an error");
        assert!(matches!(error, ImageBuildError::MissingFile { hint: "install it", .. }), "{error:?}");
    }
}
