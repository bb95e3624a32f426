//! Strategy implementations, one file per kind, plus shared metadata checks.
