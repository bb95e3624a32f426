//! Reads `-f` arguments: files, directories (their .yaml, .yml and .json
//! files, sorted) and `-` for standard input. Everything is decoded before
//! anything is sent, so an invalid manifest changes nothing.

use anyhow::Context;
use rk_proto::manifest::{decode_manifests, DecodeOptions, Object};
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn read_objects(sources: &[String], validate: bool) -> anyhow::Result<Vec<Object>> {
    let mut objects = Vec::new();
    for source in sources {
        for (label, text) in read_source(source)? {
            let decoded = decode_manifests(&text, DecodeOptions { validate })
                .with_context(|| format!("error validating {label:?}"))?;
            for warning in decoded.warnings {
                eprintln!("warning: {label}: {warning}");
            }
            objects.extend(decoded.objects);
        }
    }
    Ok(objects)
}

fn read_source(source: &str) -> anyhow::Result<Vec<(String, String)>> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading standard input")?;
        return Ok(vec![("STDIN".into(), text)]);
    }
    let path = Path::new(source);
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading directory {source}"))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")))
            .collect();
        files.sort();
        if files.is_empty() {
            anyhow::bail!("directory {source} holds no .yaml, .yml or .json files");
        }
        return files.iter().map(|f| read_file(f)).collect();
    }
    Ok(vec![read_file(path)?])
}

fn read_file(path: &Path) -> anyhow::Result<(String, String)> {
    let meta = std::fs::metadata(path).with_context(|| format!("the path {:?} does not exist", path.display()))?;
    if meta.len() as usize > rk_proto::manifest::MAX_MANIFEST_BYTES {
        anyhow::bail!(
            "{} is {} bytes; manifests of at most {} bytes are accepted",
            path.display(),
            meta.len(),
            rk_proto::manifest::MAX_MANIFEST_BYTES
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path.display().to_string(), text))
}
