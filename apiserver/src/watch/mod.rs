//! The watch cache: one storage watch per resource kind, fanned out to every
//! client watch with server-side filtering.

mod cache;
mod filter;
mod watcher;

pub use cache::WatchCache;
pub use filter::WatchFilter;
