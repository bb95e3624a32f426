//! etcd implementation of [`super::Storage`].
