//! The generic registry: create, get, list, watch, update and delete for any
//! kind, with Kubernetes' metadata rules and optimistic concurrency.

use super::hooks::Hooks;
use super::strategy::Strategy;
use super::{codec, keys, list};
use crate::error::ApiError;
use crate::storage::{Storage, StorageError};
use crate::watch::{WatchCache, WatchFilter};
use futures::Stream;
use rk_proto::v1::{DeleteRequest, ListOptions, Namespace};
use rk_proto::{fields::FieldSelector, labels::LabelSelector, Resource};
use std::sync::Arc;
use tonic::Status;

/// The finalizer that makes the garbage collector orphan an object's dependents (`--cascade=orphan`).
pub const ORPHAN_FINALIZER: &str = "orphan";

/// Kubernetes' limit on a stored object.
pub const MAX_OBJECT_BYTES: usize = 3 * 512 * 1024;

/// generateName suffixes use Kubernetes' alphabet: no vowels, no look-alikes.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub struct Registry<R: Strategy> {
    pub(crate) storage: Arc<dyn Storage>,
    cache: Arc<WatchCache<R>>,
    hooks: Arc<dyn Hooks<R>>,
}

impl<R: Strategy> Registry<R> {
    /// Starts the kind's watch cache (keeping `watch_cache_size` events) and returns the registry.
    pub async fn start(
        storage: Arc<dyn Storage>,
        hooks: Arc<dyn Hooks<R>>,
        watch_cache_size: usize,
    ) -> Result<Self, StorageError> {
        let cache = WatchCache::start(Arc::clone(&storage), keys::list_prefix::<R>(""), watch_cache_size).await?;
        Ok(Registry { storage, cache, hooks })
    }

    pub async fn create(&self, mut object: R) -> Result<R, ApiError> {
        check_kind(&object)?;
        object.set_type_meta();
        let generated = object.metadata().name.is_empty() && !object.metadata().generate_name.is_empty();
        {
            let meta = object.metadata_mut();
            if generated {
                meta.name = generate_name(&meta.generate_name);
            }
            if !R::NAMESPACED {
                meta.namespace.clear();
            } else if meta.namespace.is_empty() {
                meta.namespace = "default".to_string();
            }
            meta.uid = uuid::Uuid::new_v4().to_string();
            meta.creation_timestamp = rk_proto::time::now();
            meta.resource_version.clear();
            meta.generation = 1;
            meta.deletion_timestamp.clear();
            meta.deletion_grace_period_seconds = None;
        }
        // Status belongs to the component that owns the object; only Nodes may
        // be registered with theirs, as in Kubernetes.
        if R::KIND != "Node" {
            object.keep_status(&R::default());
        }
        object.apply_defaults();
        self.check_valid(&object, object.validate())?;
        self.check_size(&object)?;
        self.hooks.before_create(&mut object).await?;
        let bytes = codec::encode(&object);
        let (namespace, name) = names(&object);
        let key = keys::object_key::<R>(&namespace, &name);
        let result = if R::NAMESPACED {
            self.storage.create_in(&keys::object_key::<Namespace>("", &namespace), &key, bytes).await
        } else {
            self.storage.create(&key, bytes).await
        };
        match result {
            Ok(revision) => {
                object.metadata_mut().resource_version = revision.to_string();
                Ok(object)
            }
            Err(error) => {
                self.hooks.create_failed(&object).await;
                Err(match error {
                    StorageError::NotFound { .. } => ApiError::NotFound { plural: "namespaces", name: namespace },
                    other => ApiError::from_storage(other, R::PLURAL, &name),
                })
            }
        }
    }

    pub async fn get(&self, namespace: &str, name: &str) -> Result<R, ApiError> {
        let kv = self
            .storage
            .get(&keys::object_key::<R>(&self.namespace_or_default(namespace), name))
            .await
            .map_err(|e| ApiError::from_storage(e, R::PLURAL, name))?;
        codec::decode(&kv.value, kv.mod_revision).map_err(|e| ApiError::Unavailable(format!("corrupt object: {e}")))
    }

    pub async fn list(&self, options: &ListOptions) -> Result<R::List, ApiError> {
        let filter = self.filter(options)?;
        list::list::<R>(&*self.storage, options, &filter).await
    }

    pub fn watch(
        &self,
        options: &ListOptions,
    ) -> Result<impl Stream<Item = Result<R::WatchEvent, Status>> + Send + 'static, ApiError> {
        let filter = self.filter(options)?;
        let from = match options.resource_version.as_str() {
            "" | "0" => None,
            rv => Some(parse_revision(rv)?),
        };
        Ok(self.cache.watch(from, filter))
    }

    /// Replaces the object (status kept). A resourceVersion makes it a
    /// compare-and-swap; without one the update is unconditional.
    pub async fn update(&self, object: R) -> Result<R, ApiError> {
        self.replace(object, false).await
    }

    /// Replaces the status only (spec and metadata kept).
    pub async fn update_status(&self, object: R) -> Result<R, ApiError> {
        self.replace(object, true).await
    }

    /// An update that pins no resourceVersion is unconditional: when another
    /// write lands between our read and our compare-and-swap, it is made
    /// again on the fresh object rather than reported as a Conflict.
    async fn replace(&self, object: R, status_only: bool) -> Result<R, ApiError> {
        const UNCONDITIONAL_ATTEMPTS: usize = 10;
        if !object.metadata().resource_version.is_empty() {
            return self.replace_once(object, status_only).await;
        }
        let mut attempt = 1;
        loop {
            match self.replace_once(object.clone(), status_only).await {
                Err(ApiError::Conflict { .. }) if attempt < UNCONDITIONAL_ATTEMPTS => attempt += 1,
                result => return result,
            }
        }
    }

    async fn replace_once(&self, mut object: R, status_only: bool) -> Result<R, ApiError> {
        check_kind(&object)?;
        object.set_type_meta();
        let (namespace, name) = names(&object);
        let namespace = self.namespace_or_default(&namespace);
        if name.is_empty() {
            return Err(ApiError::BadRequest(format!("{}: metadata.name is required", R::KIND)));
        }
        let expected = match object.metadata().resource_version.as_str() {
            "" => None,
            rv => Some(parse_revision(rv)?),
        };
        let key = keys::object_key::<R>(&namespace, &name);
        let old = self.get(&namespace, &name).await?;
        let old_revision = parse_revision(&old.metadata().resource_version)?;
        if expected.is_some_and(|rv| rv != old_revision) {
            return Err(ApiError::Conflict { plural: R::PLURAL, name });
        }
        if status_only {
            let status_source = object;
            object = old.clone();
            object.keep_status(&status_source);
        } else {
            object.keep_status(&old);
            let meta = object.metadata_mut();
            meta.namespace = namespace;
        }
        carry_system_metadata(&old, &mut object);
        object.apply_defaults();
        self.hooks.prepare_update(&old, &mut object);
        // Compared after defaulting, so leaving out a defaulted field is no change.
        if !status_only && object.spec_changed(&old) {
            object.metadata_mut().generation = old.metadata().generation + 1;
        }
        self.check_valid(&object, object.validate_update(&old))?;
        self.check_size(&object)?;
        self.hooks.before_update(&old, &mut object).await?;
        let bytes = codec::encode(&object);
        let result = self.storage.update(&key, bytes, old_revision).await;
        self.hooks.update_finished(&old, &object, result.is_ok()).await;
        let revision = result.map_err(|e| ApiError::from_storage(e, R::PLURAL, &name))?;
        object.metadata_mut().resource_version = revision.to_string();
        if finalized(&object) {
            // The last finalizer of an object marked for deletion is gone: delete it now.
            return match self.remove(&key, object, revision).await {
                Ok(deleted) => Ok(deleted),
                Err(error) => Err(ApiError::from_storage(error, R::PLURAL, &name)),
            };
        }
        Ok(object)
    }

    /// Deletes the object, or marks it for deletion (deletionTimestamp) when it
    /// must go gracefully (a running pod) or has finalizers, which their owners
    /// remove; the object goes once the last one is removed.
    pub async fn delete(&self, request: &DeleteRequest) -> Result<R, ApiError> {
        let namespace = self.namespace_or_default(&request.namespace);
        let key = keys::object_key::<R>(&namespace, &request.name);
        loop {
            let mut current = self.get(&namespace, &request.name).await?;
            check_preconditions(&current, request)?;
            let revision = parse_revision(&current.metadata().resource_version)?;
            let finalizers = &mut current.metadata_mut().finalizers;
            let add_orphan =
                request.propagation_policy == "Orphan" && !finalizers.iter().any(|f| f == ORPHAN_FINALIZER);
            if add_orphan {
                // The garbage collector releases the dependents, then removes this finalizer.
                finalizers.push(ORPHAN_FINALIZER.to_string());
            }
            let grace = if current.metadata().finalizers.is_empty() {
                self.hooks.grace_period(&current, request.grace_period_seconds)
            } else {
                Some(0)
            };
            let result = match grace {
                Some(seconds) if seconds > 0 || !current.metadata().finalizers.is_empty() => {
                    self.mark_deleted(&key, current, revision, seconds, add_orphan).await
                }
                _ => self.remove(&key, current, revision).await,
            };
            match result {
                // Someone changed it meanwhile: decide again on the new version.
                Err(StorageError::Conflict { .. }) => continue,
                Err(error) => return Err(ApiError::from_storage(error, R::PLURAL, &request.name)),
                Ok(object) => return Ok(object),
            }
        }
    }

    /// Removes the object from storage and releases what it held.
    async fn remove(&self, key: &str, mut object: R, revision: i64) -> Result<R, StorageError> {
        let deleted = self.storage.delete(key, Some(revision)).await?;
        object.metadata_mut().resource_version = deleted.mod_revision.to_string();
        self.hooks.after_delete(&object).await;
        Ok(object)
    }

    /// Sets deletionTimestamp `seconds` from now (an earlier, longer grace
    /// period is shortened); writes only if that or `changed` alters the object.
    async fn mark_deleted(
        &self,
        key: &str,
        mut object: R,
        revision: i64,
        seconds: i64,
        changed: bool,
    ) -> Result<R, StorageError> {
        let meta = object.metadata_mut();
        let shorten =
            meta.deletion_timestamp.is_empty() || meta.deletion_grace_period_seconds.is_none_or(|g| g > seconds);
        if !shorten && !changed {
            return Ok(object);
        }
        if shorten {
            meta.deletion_timestamp = rk_proto::time::format(chrono::Utc::now() + chrono::Duration::seconds(seconds));
            meta.deletion_grace_period_seconds = Some(seconds);
        }
        self.hooks.marked_for_deletion(&mut object);
        let new_revision = self.storage.update(key, codec::encode(&object), revision).await?;
        object.metadata_mut().resource_version = new_revision.to_string();
        Ok(object)
    }

    fn filter(&self, options: &ListOptions) -> Result<WatchFilter, ApiError> {
        Ok(WatchFilter {
            namespace: if R::NAMESPACED { options.namespace.clone() } else { String::new() },
            labels: LabelSelector::parse(&options.label_selector).map_err(|e| ApiError::BadRequest(e.to_string()))?,
            fields: FieldSelector::parse(&options.field_selector, R::SELECTABLE_FIELDS)
                .map_err(|e| ApiError::BadRequest(format!("{}: {e}", R::PLURAL)))?,
        })
    }

    fn namespace_or_default(&self, namespace: &str) -> String {
        match (R::NAMESPACED, namespace) {
            (false, _) => String::new(),
            (true, "") => "default".to_string(),
            (true, ns) => ns.to_string(),
        }
    }

    fn check_valid(&self, object: &R, errors: Vec<super::field_error::FieldError>) -> Result<(), ApiError> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(ApiError::Invalid { kind: R::KIND, name: object.metadata().name.clone(), errors })
    }

    fn check_size(&self, object: &R) -> Result<(), ApiError> {
        let size = object.encoded_len();
        if size > MAX_OBJECT_BYTES {
            return Err(ApiError::TooLarge {
                kind: R::KIND,
                name: object.metadata().name.clone(),
                size,
                limit: MAX_OBJECT_BYTES,
            });
        }
        Ok(())
    }
}

/// Marked for deletion with no grace period left and no finalizers: ready to go.
fn finalized<R: Resource>(object: &R) -> bool {
    let meta = object.metadata();
    !meta.deletion_timestamp.is_empty() && meta.deletion_grace_period_seconds == Some(0) && meta.finalizers.is_empty()
}

/// Fields only the server sets: a client's copy of them is ignored on update.
fn carry_system_metadata<R: Resource>(old: &R, new: &mut R) {
    let old = old.metadata();
    let meta = new.metadata_mut();
    meta.uid.clone_from(&old.uid);
    meta.creation_timestamp.clone_from(&old.creation_timestamp);
    meta.deletion_timestamp.clone_from(&old.deletion_timestamp);
    meta.deletion_grace_period_seconds = old.deletion_grace_period_seconds;
    meta.generation = old.generation;
    meta.generate_name.clone_from(&old.generate_name);
}

fn check_kind<R: Resource>(object: &R) -> Result<(), ApiError> {
    let (api_version, kind) = object.type_meta();
    if !kind.is_empty() && kind != R::KIND {
        return Err(ApiError::BadRequest(format!("a {kind} was sent to the {} service", R::PLURAL)));
    }
    if !api_version.is_empty() && api_version != rk_proto::API_VERSION {
        return Err(ApiError::BadRequest(format!(
            "apiVersion {api_version:?} is not served: rk serves apiVersion {}",
            rk_proto::API_VERSION
        )));
    }
    Ok(())
}

fn check_preconditions<R: Resource>(current: &R, request: &DeleteRequest) -> Result<(), ApiError> {
    let Some(pre) = &request.preconditions else { return Ok(()) };
    let meta = current.metadata();
    let stale = (!pre.uid.is_empty() && pre.uid != meta.uid)
        || (!pre.resource_version.is_empty() && pre.resource_version != meta.resource_version);
    if stale {
        return Err(ApiError::Conflict { plural: R::PLURAL, name: meta.name.clone() });
    }
    Ok(())
}

fn names<R: Resource>(object: &R) -> (String, String) {
    let meta = object.metadata();
    (meta.namespace.clone(), meta.name.clone())
}

pub(crate) fn parse_revision(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().ok().filter(|rv| *rv >= 0).ok_or_else(|| {
        ApiError::BadRequest(format!("resourceVersion {text:?} is not valid: expected a non-negative integer"))
    })
}

fn generate_name(prefix: &str) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let suffix: String = (0..5).map(|_| NAME_ALPHABET[rng.random_range(0..NAME_ALPHABET.len())] as char).collect();
    format!("{prefix}{suffix}")
}
