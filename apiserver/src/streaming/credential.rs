//! The bearer token the apiserver presents to kubelets. Kubelets serve exec
//! only to its holder, so it never appears in logs or Debug output.

use tonic::metadata::{Ascii, MetadataValue};
use tonic::Request;

#[derive(Clone)]
pub struct KubeletCredential {
    header: MetadataValue<Ascii>,
}

impl KubeletCredential {
    /// A credential from the token (surrounding whitespace, like a file's final newline, is ignored).
    pub fn new(token: &str) -> Result<KubeletCredential, String> {
        let token = token.trim();
        if token.is_empty() {
            return Err("the kubelet token is empty".into());
        }
        let unprintable = || "the kubelet token must be printable ASCII without spaces".to_string();
        if !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err(unprintable());
        }
        let mut header: MetadataValue<Ascii> = format!("Bearer {token}").parse().map_err(|_| unprintable())?;
        header.set_sensitive(true);
        Ok(KubeletCredential { header })
    }

    /// Adds `authorization: Bearer <token>` to a call to a kubelet.
    pub fn authorize<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", self.header.clone());
        request
    }
}

impl std::fmt::Debug for KubeletCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KubeletCredential(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_become_bearer_headers_and_stay_out_of_debug_output() {
        let credential = KubeletCredential::new("s3cret\n").unwrap();
        let request = credential.authorize(());
        assert_eq!(request.metadata().get("authorization").unwrap(), "Bearer s3cret");
        assert!(!format!("{credential:?}").contains("s3cret"));
        for bad in ["", "  \n", "two words", "caf\u{e9}"] {
            assert!(KubeletCredential::new(bad).is_err(), "{bad:?}");
        }
    }
}
