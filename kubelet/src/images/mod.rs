//! rk's own images, built on the node when missing (no registry is needed):
//! the pause image, test and demo images, each `FROM scratch` with statically
//! linked programs (rk's own from `scripts/build-images`, Debian's busybox)
//! or Debian's programs with their shared libraries (redis-server).

mod contents;
mod context;
mod elf;
mod libraries;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bollard::query_parameters::{BuildImageOptionsBuilder, RemoveImageOptions};
use bollard::Docker;
use futures::TryStreamExt;

pub use contents::{
    BUSYBOX_BINARY, GUESTBOOK_PROGRAM, HELLO_PROGRAM, PAUSE_PROGRAM, REDIS_CLI, REDIS_SERVER, VISITS_PROGRAM,
};

/// The pod sandbox image: `rk-pause`.
pub const PAUSE_IMAGE: &str = "rk/pause:3.9";
/// A web server answering `Hello from <hostname>! Visit number <n>.` on port 8080: `rk-hello`.
pub const HELLO_IMAGE: &str = "rk/hello:1.0";
/// Debian's static busybox with its applets in /bin; runs `sh` by default.
pub const BUSYBOX_IMAGE: &str = "rk/busybox:1.35";
/// The guestbook frontend on port 8080, its entries in Redis: `rk-guestbook`.
pub const GUESTBOOK_IMAGE: &str = "rk/guestbook:1.0";
/// A web server on port 8080 counting each pod's visits in Redis: `rk-visits`.
pub const VISITS_IMAGE: &str = "rk/visits:1.0";
/// Debian's redis-server (and redis-cli, busybox's shell) on port 6379,
/// keeping an append-only file in /data.
pub const REDIS_IMAGE: &str = "rk/redis:7";
/// Every image [`ensure_project_images`] builds.
pub const PROJECT_IMAGES: [&str; 6] =
    [PAUSE_IMAGE, HELLO_IMAGE, BUSYBOX_IMAGE, GUESTBOOK_IMAGE, VISITS_IMAGE, REDIS_IMAGE];

/// Image label holding a digest of the build context: an image whose label
/// differs (its program was rebuilt) is built again.
const CONTENT_LABEL: &str = "io.rk.image.content";

#[derive(Debug, thiserror::Error)]
pub enum ImageBuildError {
    #[error("{} is missing: {hint}", path.display())]
    MissingFile { path: PathBuf, hint: &'static str },
    #[error("{} is not a statically linked program (images are FROM scratch, without libraries): {hint}", path.display())]
    NotStatic { path: PathBuf, hint: &'static str },
    #[error("reading {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("listing busybox's applets with `{} --list`: {message}", BUSYBOX_BINARY)]
    BusyboxApplets { message: String },
    #[error("finding the shared libraries of {} with ldd: {message}", path.display())]
    Libraries { path: PathBuf, message: String },
    #[error("checking image {image}: {message}")]
    Inspect { image: String, message: String },
    #[error("building image {image}: {message}")]
    Build { image: String, message: String },
}

/// Builds each of rk's images that is missing or older than its programs,
/// from the static programs in `image_dir` (`scripts/build-images` prints it),
/// `/bin/busybox` and `/usr/bin/redis-server`. Safe to run again (an image built from the same
/// contents is kept) and from several kubelets at once: each build tags a
/// complete image of the same contents, the last tag wins, and an earlier
/// finisher's copy may stay behind untagged.
pub async fn ensure_project_images(docker: &Docker, image_dir: &Path) -> Result<(), ImageBuildError> {
    for image in contents::project_images(image_dir).await? {
        let context = context::BuildContext::pack(&image)?;
        let existing = inspect(docker, image.name).await?;
        if existing.as_ref().is_some_and(|built| built.digest == context.digest) {
            continue;
        }
        tracing::info!(image = image.name, "building image");
        let new_id = build(docker, image.name, context).await?;
        remove_untagged(docker, image.name, [existing.map(|built| built.id), new_id]).await;
    }
    Ok(())
}

/// An image as built: its id and the content digest it was built from.
struct Built {
    id: String,
    digest: String,
}

/// `None` when the image is missing.
async fn inspect(docker: &Docker, image: &str) -> Result<Option<Built>, ImageBuildError> {
    match docker.inspect_image(image).await {
        Ok(inspect) => Ok(Some(Built {
            id: inspect.id.unwrap_or_default(),
            digest: inspect.config.and_then(|config| config.labels?.remove(CONTENT_LABEL)).unwrap_or_default(),
        })),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
        Err(e) => Err(ImageBuildError::Inspect { image: image.to_string(), message: e.to_string() }),
    }
}

/// Builds and tags the image; returns the built image's id when Docker tells it.
async fn build(
    docker: &Docker,
    image: &str,
    context: context::BuildContext,
) -> Result<Option<String>, ImageBuildError> {
    let labels = HashMap::from([(CONTENT_LABEL, context.digest.as_str())]);
    let options = BuildImageOptionsBuilder::new()
        .dockerfile(context::DOCKERFILE)
        .t(image)
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        .build();
    let body = bollard::body_full(context.tar.into());
    let progress: Vec<_> = docker
        .build_image(options, None, Some(body))
        .try_collect()
        .await
        .map_err(|e| ImageBuildError::Build { image: image.to_string(), message: e.to_string() })?;
    Ok(progress.into_iter().rev().find_map(|info| info.aux?.id))
}

/// Removes the replaced version and, when another kubelet's build of the same
/// image was tagged last, this one's: both are left untagged. An image a
/// container still uses stays (Docker refuses), as does any other failure.
async fn remove_untagged(docker: &Docker, image: &str, candidates: [Option<String>; 2]) {
    let Ok(Some(current)) = inspect(docker, image).await else { return };
    for id in candidates.into_iter().flatten().filter(|id| *id != current.id) {
        if let Err(e) = docker.remove_image(&id, None::<RemoveImageOptions>, None).await {
            tracing::debug!(image, id, error = %e, "an untagged build of the image stays");
        }
    }
}
