//! Authentication errors and their one mapping to gRPC status codes.

/// Why a call was refused, or why auth could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credential, or one that does not prove who the caller is (unknown, revoked,
    /// expired, badly signed, for another audience): UNAUTHENTICATED.
    #[error("{0}")]
    Unauthenticated(String),
    /// A known caller without the scope or tenant the call needs: PERMISSION_DENIED.
    #[error("{0}")]
    PermissionDenied(String),
    /// Where keys are stored did not answer: UNAVAILABLE (the call may be retried).
    #[error("{0}")]
    Unavailable(String),
    /// Invalid auth options or files (at start: the service exits 64).
    #[error("{0}")]
    Config(String),
}

impl From<AuthError> for tonic::Status {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(m) => tonic::Status::unauthenticated(m),
            AuthError::PermissionDenied(m) => tonic::Status::permission_denied(m),
            AuthError::Unavailable(m) => tonic::Status::unavailable(m),
            AuthError::Config(m) => tonic::Status::internal(format!("auth configuration: {m}")),
        }
    }
}
