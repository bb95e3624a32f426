//! Namespace columns: NAME STATUS AGE.

use super::Columns;
use crate::print::age::age;
use chrono::{DateTime, Utc};
use rk_proto::v1::Namespace;
use rk_proto::Resource;

impl Columns for Namespace {
    fn headers(_wide: bool) -> Vec<&'static str> {
        vec!["NAME", "STATUS", "AGE"]
    }

    fn row(&self, _wide: bool, now: DateTime<Utc>) -> Vec<String> {
        let meta = self.metadata();
        let phase = self.status.as_ref().map(|s| s.phase.clone()).unwrap_or_default();
        vec![meta.name.clone(), phase, age(&meta.creation_timestamp, now)]
    }
}
