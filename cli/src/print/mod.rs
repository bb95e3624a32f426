//! How rkctl shows objects: kubectl-style tables, describe, jsonpath. Everything here is a
//! pure function of the objects (and a `now` for ages), so it is tested without a cluster.
//!
//! - `get`: [`TablePrinter`] over any kind implementing [`Columns`]; [`no_resources_message`]
//!   for an empty list.
//! - `-o jsonpath=...`: [`jsonpath::render`], or [`jsonpath::JsonPath`] to parse once.
//! - `describe`: [`describe::Describe`] with a [`describe::DescribeContext`] holding the
//!   object's events and, per kind, its pods or endpoints.
//! - [`TabWriter`]: Go's tabwriter, for any other aligned output.

pub mod age;
pub mod columns;
pub mod describe;
pub mod format;
pub mod jsonpath;
pub mod table;
pub mod tabwriter;

pub use columns::Columns;
pub use table::{no_resources_message, TableOptions, TablePrinter};
pub use tabwriter::TabWriter;
