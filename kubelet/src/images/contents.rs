//! What goes into each of rk's images.

use std::path::{Path, PathBuf};

use super::elf::is_statically_linked;
use super::libraries::{programs_with_libraries, Program};
use super::{ImageBuildError, BUSYBOX_IMAGE, GUESTBOOK_IMAGE, HELLO_IMAGE, PAUSE_IMAGE, REDIS_IMAGE, VISITS_IMAGE};

/// rk's pause program, in the image directory.
pub const PAUSE_PROGRAM: &str = "rk-pause";
/// rk's hello web server, in the image directory.
pub const HELLO_PROGRAM: &str = "rk-hello";
/// rk's guestbook frontend, in the image directory.
pub const GUESTBOOK_PROGRAM: &str = "rk-guestbook";
/// rk's visit counter, in the image directory.
pub const VISITS_PROGRAM: &str = "rk-visits";
/// Debian's busybox-static.
pub const BUSYBOX_BINARY: &str = "/bin/busybox";
/// Debian's redis-server and the redis-cli it brings (redis-tools), both
/// dynamically linked: copied with their libraries.
pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
pub const REDIS_CLI: &str = "/usr/bin/redis-cli";

const BUILD_HINT: &str = "run scripts/build-images (it builds rk's static image programs)";
const BUSYBOX_HINT: &str = "install Debian's busybox-static (scripts/setup does)";
const REDIS_HINT: &str = "install Debian's redis-server (scripts/setup does)";

/// redis-server listens on every address without protected mode (a pod's
/// network is its own; a Service decides who reaches it); arguments add to
/// these, and the default ones keep an append-only file in /data, where a
/// volume can hold it.
const REDIS_INSTRUCTIONS: &str = "EXPOSE 6379\nWORKDIR /data\n\
    ENTRYPOINT [\"/usr/bin/redis-server\", \"--bind\", \"0.0.0.0\", \"--protected-mode\", \"no\"]\n\
    CMD [\"--dir\", \"/data\", \"--appendonly\", \"yes\"]\n";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";

/// One image: its root file system and the Dockerfile lines after `COPY`.
pub(super) struct ImageContents {
    pub name: &'static str,
    pub entries: Vec<Entry>,
    pub instructions: &'static str,
}

/// A path of the image's root file system (relative, without a leading `/`).
#[derive(Clone)]
pub(super) enum Entry {
    File { path: String, data: Vec<u8>, mode: u32 },
    Dir { path: String, mode: u32 },
    Symlink { path: String, target: String },
}

pub(super) async fn project_images(image_dir: &Path) -> Result<Vec<ImageContents>, ImageBuildError> {
    let pause = read_static(&image_dir.join(PAUSE_PROGRAM), BUILD_HINT)?;
    let hello = read_static(&image_dir.join(HELLO_PROGRAM), BUILD_HINT)?;
    let guestbook = read_static(&image_dir.join(GUESTBOOK_PROGRAM), BUILD_HINT)?;
    let visits = read_static(&image_dir.join(VISITS_PROGRAM), BUILD_HINT)?;
    let busybox = read_static(Path::new(BUSYBOX_BINARY), BUSYBOX_HINT)?;
    // The demo applications' images have a shell for `rkctl exec`, as distribution-based images do.
    let shell = busybox_root(busybox).await?;
    let with_shell = |entry: Entry| shell.iter().cloned().chain([entry]).collect::<Vec<_>>();
    Ok(vec![
        ImageContents {
            name: PAUSE_IMAGE,
            entries: vec![program("pause", pause)],
            instructions: "ENTRYPOINT [\"/pause\"]\n",
        },
        ImageContents {
            name: HELLO_IMAGE,
            entries: vec![program("hello", hello)],
            instructions: "EXPOSE 8080\nENTRYPOINT [\"/hello\"]\n",
        },
        ImageContents {
            name: GUESTBOOK_IMAGE,
            entries: with_shell(program("guestbook", guestbook)),
            instructions: "EXPOSE 8080\nENTRYPOINT [\"/guestbook\"]\n",
        },
        ImageContents {
            name: VISITS_IMAGE,
            entries: with_shell(program("visits", visits)),
            instructions: "EXPOSE 8080\nENTRYPOINT [\"/visits\"]\n",
        },
        ImageContents {
            name: REDIS_IMAGE,
            entries: redis_root(shell.clone()).await?,
            instructions: REDIS_INSTRUCTIONS,
        },
        ImageContents { name: BUSYBOX_IMAGE, entries: shell, instructions: "CMD [\"sh\"]\n" },
    ])
}

/// redis-server and redis-cli with their libraries, busybox's shell and
/// applets (for `exec`), and the data directory.
async fn redis_root(shell: Vec<Entry>) -> Result<Vec<Entry>, ImageBuildError> {
    let programs = [
        Program { host: Path::new(REDIS_SERVER), image: "usr/bin/redis-server" },
        Program { host: Path::new(REDIS_CLI), image: "usr/bin/redis-cli" },
    ];
    let mut entries = shell;
    entries.extend(programs_with_libraries(&programs, REDIS_HINT).await?);
    entries.push(Entry::Dir { path: "data".into(), mode: 0o755 });
    Ok(entries)
}

/// `/bin/busybox` with a link in /bin for each applet, the users and groups
/// programs expect, and a /tmp.
async fn busybox_root(busybox: Vec<u8>) -> Result<Vec<Entry>, ImageBuildError> {
    let mut entries = vec![
        Entry::Dir { path: "bin".into(), mode: 0o755 },
        Entry::File { path: "bin/busybox".into(), data: busybox, mode: 0o755 },
    ];
    for applet in busybox_applets().await?.into_iter().filter(|applet| applet != "busybox") {
        entries.push(Entry::Symlink { path: format!("bin/{applet}"), target: "busybox".into() });
    }
    entries.extend([
        Entry::Dir { path: "etc".into(), mode: 0o755 },
        Entry::File { path: "etc/passwd".into(), data: PASSWD.into(), mode: 0o644 },
        Entry::File { path: "etc/group".into(), data: GROUP.into(), mode: 0o644 },
        Entry::Dir { path: "root".into(), mode: 0o700 },
        Entry::Dir { path: "tmp".into(), mode: 0o1777 },
    ]);
    Ok(entries)
}

async fn busybox_applets() -> Result<Vec<String>, ImageBuildError> {
    let output = tokio::process::Command::new(BUSYBOX_BINARY)
        .arg("--list")
        .output()
        .await
        .map_err(|e| ImageBuildError::BusyboxApplets { message: e.to_string() })?;
    if !output.status.success() {
        let message = format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
        return Err(ImageBuildError::BusyboxApplets { message });
    }
    let applets: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .map(String::from)
        .collect();
    if !applets.iter().any(|applet| applet == "sh") {
        return Err(ImageBuildError::BusyboxApplets { message: "it lists no `sh`".to_string() });
    }
    Ok(applets)
}

fn program(name: &str, data: Vec<u8>) -> Entry {
    Entry::File { path: name.to_string(), data, mode: 0o755 }
}

/// The file's bytes, checked to be a statically linked program.
fn read_static(path: &Path, hint: &'static str) -> Result<Vec<u8>, ImageBuildError> {
    let data = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ImageBuildError::MissingFile { path: path.to_path_buf(), hint },
        _ => ImageBuildError::Read { path: path.to_path_buf(), source },
    })?;
    if !is_statically_linked(&data) {
        return Err(ImageBuildError::NotStatic { path: PathBuf::from(path), hint });
    }
    Ok(data)
}
