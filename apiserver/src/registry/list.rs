//! Consistent, paginated, filtered lists straight from storage.
//!
//! Every page of one list is read at the same revision; the continue token
//! carries that revision and the next key. Filtering happens before the limit,
//! so a page holds up to `limit` matching objects.

use super::{codec, generic::parse_revision, keys};
use crate::error::ApiError;
use crate::storage::{Revision, Storage, StorageError};
use crate::watch::WatchFilter;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rk_proto::v1::{ListMeta, ListOptions};
use rk_proto::{Resource, ResourceList};
use serde::{Deserialize, Serialize};

/// Keys read from storage per request: big lists are read in pages (at one
/// revision), so no single storage response grows with the list.
const STORAGE_PAGE: i64 = 1000;

#[derive(Serialize, Deserialize)]
struct ContinueToken {
    rv: Revision,
    start: String,
}

pub async fn list<R: Resource>(
    storage: &dyn Storage,
    options: &ListOptions,
    filter: &WatchFilter,
) -> Result<R::List, ApiError> {
    let prefix = keys::list_prefix::<R>(&filter.namespace);
    let (mut revision, mut start) = match options.r#continue.as_str() {
        "" => (requested_revision(&options.resource_version)?, None),
        token => {
            let token = decode_token(token)?;
            if !token.start.starts_with(&prefix) {
                return Err(ApiError::BadRequest("the continue token belongs to a different list".into()));
            }
            (token.rv, Some(token.start))
        }
    };
    if options.limit < 0 {
        return Err(ApiError::BadRequest(format!(
            "limit {} is not valid: expected 0 (no limit) or more",
            options.limit
        )));
    }
    let limit = options.limit as usize;
    let mut items = Vec::new();
    let fetch = if limit == 0 { STORAGE_PAGE } else { options.limit.min(STORAGE_PAGE) };
    let next_start = loop {
        let page = storage
            .list(&prefix, start.as_deref(), fetch, revision)
            .await
            .map_err(|e| list_error(e, !options.r#continue.is_empty()))?;
        revision = page.revision;
        let fetched = page.items.len();
        let (mut consumed, mut last_key) = (0, None);
        for kv in page.items {
            consumed += 1;
            let object: R = codec::decode(&kv.value, kv.mod_revision)
                .map_err(|e| ApiError::Unavailable(format!("corrupt object at {}: {e}", kv.key)))?;
            if filter.matches(&object) {
                items.push(object);
            }
            last_key = Some(kv.key);
            if limit > 0 && items.len() == limit {
                break;
            }
        }
        let Some(last_key) = last_key.filter(|_| consumed < fetched || page.more) else { break None };
        // "\0" sorts right after the key: the next page starts past it.
        let resume = format!("{last_key}\0");
        if limit > 0 && items.len() == limit {
            break Some(resume);
        }
        start = Some(resume);
    };
    let meta = ListMeta {
        resource_version: revision.to_string(),
        r#continue: next_start.map(|start| encode_token(&ContinueToken { rv: revision, start })).unwrap_or_default(),
        remaining_item_count: None,
    };
    Ok(R::List::new(items, meta))
}

fn requested_revision(text: &str) -> Result<Revision, ApiError> {
    match text {
        "" | "0" => Ok(0),
        rv => parse_revision(rv),
    }
}

fn list_error(error: StorageError, paging: bool) -> ApiError {
    match error {
        StorageError::Compacted { .. } if paging => ApiError::Expired(
            "the continue token is too old: its revision was compacted; list again from the start".into(),
        ),
        other => ApiError::from_storage(other, "list", ""),
    }
}

fn encode_token(token: &ContinueToken) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(token).expect("token serializes"))
}

fn decode_token(text: &str) -> Result<ContinueToken, ApiError> {
    URL_SAFE_NO_PAD.decode(text).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or_else(|| {
        ApiError::BadRequest("the continue token is not valid: pass the token from the previous list".into())
    })
}
