//! Datasets: data that lives on one node at a time and moves with its pod
//! (issue 8). `transfer/` moves a dataset's directory from kubelet to kubelet.

pub mod transfer;
