//! In-memory implementation of [`super::Storage`] for fast unit tests.
