//! Test harness for rk's integration tests.
