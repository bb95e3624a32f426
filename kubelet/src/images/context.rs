//! The build context sent to Docker: an in-memory tar of a Dockerfile and the
//! image's root file system, identical bytes for identical contents.

use super::contents::{Entry, ImageContents};
use super::ImageBuildError;

pub(super) const DOCKERFILE: &str = "Dockerfile";
/// Where the root file system sits in the context.
const ROOT: &str = "rootfs";

pub(super) struct BuildContext {
    pub tar: Vec<u8>,
    /// Stands for the context's contents (FNV-1a of the tar).
    pub digest: String,
}

impl BuildContext {
    pub(super) fn pack(image: &ImageContents) -> Result<BuildContext, ImageBuildError> {
        let dockerfile = format!("FROM scratch\nCOPY {ROOT}/ /\n{}", image.instructions);
        let mut tar = tar::Builder::new(Vec::new());
        let write_error = |e: std::io::Error| ImageBuildError::Build {
            image: image.name.to_string(),
            message: format!("packing the build context: {e}"),
        };
        append_file(&mut tar, DOCKERFILE, dockerfile.as_bytes(), 0o644).map_err(write_error)?;
        append_dir(&mut tar, ROOT, 0o755).map_err(write_error)?;
        for entry in &image.entries {
            match entry {
                Entry::File { path, data, mode } => append_file(&mut tar, &format!("{ROOT}/{path}"), data, *mode),
                Entry::Dir { path, mode } => append_dir(&mut tar, &format!("{ROOT}/{path}"), *mode),
                Entry::Symlink { path, target } => append_symlink(&mut tar, &format!("{ROOT}/{path}"), target),
            }
            .map_err(write_error)?;
        }
        let tar = tar.into_inner().map_err(write_error)?;
        let digest = format!("{:016x}", fnv1a(&tar));
        Ok(BuildContext { tar, digest })
    }
}

/// A header with fixed owner and time, so the same contents give the same bytes.
fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

fn append_file(tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32) -> std::io::Result<()> {
    tar.append_data(&mut header(tar::EntryType::Regular, mode, data.len() as u64), path, data)
}

fn append_dir(tar: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32) -> std::io::Result<()> {
    tar.append_data(&mut header(tar::EntryType::Directory, mode, 0), path, std::io::empty())
}

fn append_symlink(tar: &mut tar::Builder<Vec<u8>>, path: &str, target: &str) -> std::io::Result<()> {
    tar.append_link(&mut header(tar::EntryType::Symlink, 0o777, 0), path, target)
}

/// 64-bit FNV-1a: a stable fingerprint (no security needed).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(data: &[u8]) -> ImageContents {
        ImageContents {
            name: "rk/test:1",
            entries: vec![
                Entry::Dir { path: "bin".into(), mode: 0o755 },
                Entry::File { path: "bin/tool".into(), data: data.to_vec(), mode: 0o755 },
                Entry::Symlink { path: "bin/alias".into(), target: "tool".into() },
            ],
            instructions: "CMD [\"/bin/tool\"]\n",
        }
    }

    #[test]
    fn same_contents_same_digest_and_a_change_shows() {
        let first = BuildContext::pack(&image(b"one")).unwrap();
        assert_eq!(first.digest, BuildContext::pack(&image(b"one")).unwrap().digest);
        assert_ne!(first.digest, BuildContext::pack(&image(b"two")).unwrap().digest);
    }

    #[test]
    fn the_context_holds_the_dockerfile_and_the_root_file_system() {
        let context = BuildContext::pack(&image(b"one")).unwrap();
        let mut archive = tar::Archive::new(context.tar.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            if path == DOCKERFILE {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
                assert_eq!(text, "FROM scratch\nCOPY rootfs/ /\nCMD [\"/bin/tool\"]\n");
            }
            if path == "rootfs/bin/alias" {
                assert_eq!(entry.link_name().unwrap().unwrap().display().to_string(), "tool");
            }
            seen.push(path);
        }
        assert_eq!(seen, ["Dockerfile", "rootfs", "rootfs/bin", "rootfs/bin/tool", "rootfs/bin/alias"]);
    }
}
