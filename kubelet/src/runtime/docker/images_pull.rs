//! Whether an image is on the node, and pulling it from its registry.

use bollard::query_parameters::CreateImageOptionsBuilder;
use bollard::Docker;
use futures::TryStreamExt;

use super::errors::{docker_error, docker_message, is_not_found};
use crate::runtime::{RuntimeError, RuntimeResult};

pub(super) async fn image_present(docker: &Docker, image: &str) -> RuntimeResult<bool> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(docker_error(&format!("inspecting image {image}"), e)),
    }
}

/// Pulls `image` to completion; a failure carries Docker's own message.
pub(super) async fn pull_image(docker: &Docker, image: &str) -> RuntimeResult<()> {
    let mut options = CreateImageOptionsBuilder::new().from_image(image);
    // Without a tag Docker would pull every tag of the repository.
    if !has_tag_or_digest(image) {
        options = options.tag("latest");
    }
    docker
        .create_image(Some(options.build()), None, None)
        .try_for_each(|_progress| async { Ok(()) })
        .await
        .map_err(|e| RuntimeError::ImagePull(docker_message(&e)))
}

/// Whether the reference names a tag (`name:tag`) or a digest (`name@sha256:…`);
/// a colon before the last slash is a registry's port.
fn has_tag_or_digest(image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or(image);
    image.contains('@') || last.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_digests_and_registry_ports_are_told_apart() {
        assert!(has_tag_or_digest("busybox:1.35"));
        assert!(has_tag_or_digest("registry:5000/team/app:v1"));
        assert!(has_tag_or_digest("busybox@sha256:0123"));
        assert!(!has_tag_or_digest("busybox"));
        assert!(!has_tag_or_digest("registry:5000/team/app"));
    }
}
