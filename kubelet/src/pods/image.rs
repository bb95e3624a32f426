//! Getting a container's image onto the node, by its pull policy, with
//! back-off between failed pulls (ErrImagePull, then ImagePullBackOff).

use super::status::Waiting;
use super::sync::PodSyncer;
use crate::runtime::RuntimeError;
use rk_client::events::EventType;
use rk_proto::v1::{Container, Pod};

/// Kubernetes' default: Always for `:latest` or untagged images, else IfNotPresent.
pub fn pull_policy(container: &Container) -> &str {
    if !container.image_pull_policy.is_empty() {
        return &container.image_pull_policy;
    }
    let image = &container.image;
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ if image.contains('@') => "IfNotPresent",
        _ => "Always",
    }
}

impl PodSyncer {
    /// Makes sure the image is present; the error is the container's waiting state.
    pub(super) async fn ensure_image(&self, pod: &Pod, container: &Container) -> Result<(), Waiting> {
        let image = container.image.as_str();
        let present = self.runtime.image_present(image).await.map_err(|e| waiting("ErrImagePull", e.to_string()))?;
        let policy = pull_policy(container);
        if present && policy != "Always" {
            return Ok(());
        }
        if policy == "Never" {
            let message = format!("Container image \"{image}\" is not present with pull policy of Never");
            self.events.record(pod, EventType::Warning, "ErrImageNeverPull", message.clone());
            return Err(waiting("ErrImageNeverPull", message));
        }
        let key = format!("{}/{}/{image}", uid(pod), container.name);
        if let Some(remaining) = self.pull_backoff.remaining(&key) {
            let message = format!("Back-off pulling image \"{image}\"");
            self.events.record(pod, EventType::Normal, "BackOff", message.clone());
            self.requeue_within(pod, remaining);
            return Err(waiting("ImagePullBackOff", message));
        }
        self.events.record(pod, EventType::Normal, "Pulling", format!("Pulling image \"{image}\""));
        match self.runtime.pull_image(image).await {
            Ok(()) => {
                self.pull_backoff.forget(&key);
                self.events.record(pod, EventType::Normal, "Pulled", format!("Successfully pulled image \"{image}\""));
                Ok(())
            }
            Err(error) => {
                let message = match error {
                    RuntimeError::ImagePull(m) | RuntimeError::ImageNeverPull(m) | RuntimeError::Other(m) => m,
                    other => other.to_string(),
                };
                let message = format!("Failed to pull image \"{image}\": {message}");
                self.events.record(pod, EventType::Warning, "Failed", message.clone());
                self.pull_backoff.next(&key);
                self.requeue_within(pod, self.pull_backoff.delay(&key).unwrap_or_default());
                Err(waiting("ErrImagePull", message))
            }
        }
    }
}

fn waiting(reason: &str, message: String) -> Waiting {
    Waiting { reason: reason.to_string(), message }
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.as_ref().map(|m| m.uid.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(image: &str, set: &str) -> String {
        pull_policy(&Container { image: image.into(), image_pull_policy: set.into(), ..Default::default() }).to_string()
    }

    #[test]
    fn latest_and_untagged_images_are_always_pulled() {
        assert_eq!(policy("busybox", ""), "Always");
        assert_eq!(policy("rk/busybox:latest", ""), "Always");
        assert_eq!(policy("localhost:5000/app", ""), "Always", "a registry port is not a tag");
        assert_eq!(policy("rk/busybox:1.35", ""), "IfNotPresent");
        assert_eq!(policy("rk/busybox:1.35", "Never"), "Never");
    }
}
