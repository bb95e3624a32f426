//! Race-free allocation of cluster IPs and node ports, stored in etcd.
//!
//! Each allocated value is a key of its own (`/registry/allocations/<what>/<value>`)
//! created with a create-if-absent transaction, so concurrent creates, even on
//! several apiservers, can never hand out one value twice.

use crate::error::ApiError;
use crate::storage::{Storage, StorageError};
use rand::Rng;
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// A contiguous range of values, shown as IPs or as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Host addresses of an IPv4 CIDR (network and broadcast addresses excluded).
    Ipv4 {
        first: u32,
        last: u32,
    },
    Ports {
        first: u32,
        last: u32,
    },
}

impl Range {
    /// Parses `10.96.0.0/16`.
    pub fn ipv4_cidr(cidr: &str) -> Result<Range, String> {
        let bad = || format!("{cidr:?} is not an IPv4 CIDR like 10.96.0.0/16 (prefix length 8 to 30)");
        let (ip, bits) = cidr.split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let bits: u32 = bits.parse().ok().filter(|b| (8..=30).contains(b)).ok_or_else(bad)?;
        let mask = u32::MAX << (32 - bits);
        let network = u32::from(ip) & mask;
        Ok(Range::Ipv4 { first: network + 1, last: (network | !mask) - 1 })
    }

    fn bounds(&self) -> (u32, u32) {
        match *self {
            Range::Ipv4 { first, last } | Range::Ports { first, last } => (first, last),
        }
    }

    pub fn contains(&self, value: u32) -> bool {
        let (first, last) = self.bounds();
        (first..=last).contains(&value)
    }

    pub fn show(&self, value: u32) -> String {
        match self {
            Range::Ipv4 { .. } => Ipv4Addr::from(value).to_string(),
            Range::Ports { .. } => value.to_string(),
        }
    }

    fn describe(&self) -> String {
        let (first, last) = self.bounds();
        format!("{}-{}", self.show(first), self.show(last))
    }
}

pub struct Allocator {
    storage: Arc<dyn Storage>,
    prefix: String,
    range: Range,
}

/// Why a requested value cannot be had; the caller names the field.
#[derive(Debug, thiserror::Error)]
pub enum AllocationError {
    #[error("provided {0} is already allocated")]
    Taken(String),
    #[error("provided {0} is not in the valid range {1}")]
    OutOfRange(String, String),
    #[error("no free values left in range {0}")]
    Full(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Allocator {
    /// `what` names the key folder: `serviceips`, `nodeports`.
    pub fn new(storage: Arc<dyn Storage>, what: &str, range: Range) -> Self {
        Allocator { storage, prefix: format!("/registry/allocations/{what}/"), range }
    }

    pub fn range(&self) -> Range {
        self.range
    }

    /// Takes `value` for `owner` (`namespace/name`).
    pub async fn allocate(&self, value: u32, owner: &str) -> Result<(), AllocationError> {
        if !self.range.contains(value) {
            return Err(AllocationError::OutOfRange(self.range.show(value), self.range.describe()));
        }
        match self.storage.create(&self.key(value), owner.as_bytes().to_vec()).await {
            Ok(_) => Ok(()),
            Err(StorageError::AlreadyExists { .. }) => Err(AllocationError::Taken(self.range.show(value))),
            Err(error) => Err(error.into()),
        }
    }

    /// Takes any free value, starting the search at a random point.
    pub async fn allocate_any(&self, owner: &str) -> Result<u32, AllocationError> {
        let (first, last) = self.range.bounds();
        for _ in 0..8 {
            let used: HashSet<u32> = self
                .storage
                .list(&self.prefix, None, 0, 0)
                .await?
                .items
                .iter()
                .filter_map(|kv| kv.key.strip_prefix(&self.prefix).and_then(|v| self.parse(v)))
                .collect();
            let size = last - first + 1;
            let offset = rand::rng().random_range(0..size);
            let Some(value) = (0..size).map(|i| first + (offset + i) % size).find(|v| !used.contains(v)) else {
                return Err(AllocationError::Full(self.range.describe()));
            };
            match self.allocate(value, owner).await {
                Err(AllocationError::Taken(_)) => continue, // lost a race: look again
                other => return other.map(|()| value),
            }
        }
        Err(AllocationError::Full(self.range.describe()))
    }

    /// Gives `value` back; releasing a free value is harmless.
    pub async fn release(&self, value: u32) {
        match self.storage.delete(&self.key(value), None).await {
            Ok(_) | Err(StorageError::NotFound { .. }) => {}
            Err(error) => tracing::error!(value = %self.range.show(value), %error, "could not release allocation"),
        }
    }

    fn key(&self, value: u32) -> String {
        format!("{}{}", self.prefix, self.range.show(value))
    }

    fn parse(&self, text: &str) -> Option<u32> {
        match self.range {
            Range::Ipv4 { .. } => text.parse::<Ipv4Addr>().ok().map(u32::from),
            Range::Ports { .. } => text.parse().ok(),
        }
    }
}

impl AllocationError {
    /// As a validation error on `field` of the Service `name`.
    pub fn into_api_error(self, name: &str, field: String, value: &str) -> ApiError {
        use super::field_error::FieldError;
        match self {
            AllocationError::Storage(error) => ApiError::from_storage(error, "services", name),
            other => ApiError::Invalid {
                kind: "Service",
                name: name.to_string(),
                errors: vec![FieldError::invalid(field, value, other)],
            },
        }
    }
}
