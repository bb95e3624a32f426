//! Only the apiserver may use the streaming endpoint: it proves itself with a
//! bearer token. Anonymous exec on a kubelet is a classic way into a cluster.

use std::sync::Arc;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Checks `authorization: Bearer <token>` on every call.
#[derive(Clone)]
pub struct Authenticator {
    token: Arc<str>,
}

impl Authenticator {
    pub fn new(token: String) -> Authenticator {
        Authenticator { token: token.into() }
    }

    fn check(&self, header: Option<&str>) -> Result<(), Status> {
        if self.token.is_empty() {
            return Err(Status::unauthenticated(
                "this kubelet has no streaming credential configured, so it refuses every logs and exec call",
            ));
        }
        let presented = header.and_then(|value| value.strip_prefix("Bearer ")).ok_or_else(|| {
            Status::unauthenticated("the kubelet's streaming endpoint requires `authorization: Bearer <token>`")
        })?;
        if constant_time_eq(presented.as_bytes(), self.token.as_bytes()) {
            Ok(())
        } else {
            Err(Status::unauthenticated("the bearer token is not the one this kubelet accepts"))
        }
    }
}

impl Interceptor for Authenticator {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let header = request.metadata().get("authorization").and_then(|value| value.to_str().ok());
        self.check(header)?;
        Ok(request)
    }
}

/// Equality whose time depends only on the lengths, so a caller cannot find
/// the token byte by byte from response times.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn only_the_configured_token_passes() {
        let auth = Authenticator::new("s3cret".into());
        assert!(auth.check(Some("Bearer s3cret")).is_ok());
        for header in [None, Some("s3cret"), Some("Bearer s3cre"), Some("Bearer s3cret2"), Some("Basic s3cret")] {
            let error = auth.check(header).unwrap_err();
            assert_eq!(error.code(), Code::Unauthenticated, "{header:?}");
        }
    }

    #[test]
    fn an_empty_token_refuses_everything() {
        let auth = Authenticator::new(String::new());
        for header in [None, Some("Bearer "), Some("Bearer x")] {
            let error = auth.check(header).unwrap_err();
            assert!(error.message().contains("no streaming credential"), "{}", error.message());
        }
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
