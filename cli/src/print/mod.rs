//! How rkctl shows objects: kubectl-style tables, describe, jsonpath.
