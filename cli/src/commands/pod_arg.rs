//! The POD argument of `logs` and `exec`: `NAME`, or `pod/NAME` as kubectl accepts it.

use crate::kinds;
use rk_proto::v1::Pod;
use rk_proto::Resource;

pub fn pod_name(arg: &str) -> anyhow::Result<String> {
    let name = match kinds::split_kind_name(arg) {
        None => arg.to_string(),
        Some(Ok((kind, name))) if kind == Pod::KIND => name,
        Some(Ok((kind, _))) => anyhow::bail!("{arg:?} is a {kind}: logs and exec take a pod (NAME or pod/NAME)"),
        Some(Err(error)) => return Err(error),
    };
    if name.is_empty() {
        anyhow::bail!("{arg:?} names no pod: expected NAME or pod/NAME");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_pod_slash_names_are_accepted() {
        assert_eq!(pod_name("web").unwrap(), "web");
        assert_eq!(pod_name("pod/web").unwrap(), "web");
        assert_eq!(pod_name("po/web").unwrap(), "web");
        assert!(pod_name("rc/web").unwrap_err().to_string().contains("is a ReplicationController"));
        assert!(pod_name("pod/").is_err());
        assert!(pod_name("widgets/web").is_err());
    }
}
