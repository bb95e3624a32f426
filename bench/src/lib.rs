//! What rk's benchmark binaries share: latency summaries, readings of a
//! process's memory and CPU from /proc, progress bars, the release programs
//! and `rkctl cluster up`, and the report: goal tables, the run's
//! description, and sections of BENCHMARKS.md kept between markers so each
//! benchmark rewrites only its own.

pub mod procfs;
pub mod progress;
pub mod release;
pub mod sections;
pub mod stats;
