//! The gateway's errors and their one mapping to gRPC status codes.

/// What can go wrong in the gateway itself (peers' statuses are passed through, see
/// [`from_peer`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is invalid: one violation per bad field.
    #[error("invalid request")]
    Invalid(Vec<tanksim_proto::convert::FieldViolation>),
    /// A peer answered with an error status: returned to the caller as [`from_peer`] says.
    #[error("{0}")]
    Peer(tonic::Status),
    #[error("simulation task failed: {0}")]
    Simulation(String),
    #[error("serving: {0}")]
    Serve(#[source] tonic::transport::Error),
}

impl From<tonic::Status> for Error {
    fn from(s: tonic::Status) -> Self {
        Error::Peer(from_peer(s))
    }
}

/// A peer's status as the caller gets it. The dispatcher and the results service answer the
/// gateway UNIMPLEMENTED, UNAUTHENTICATED or PERMISSION_DENIED only when something is wrong
/// between them (a peer of another version, a mesh certificate it refuses): passed through,
/// the caller would take it for its own fault (a method that does not exist, its credentials).
/// It gets INTERNAL, and the log says what the peer answered. Every other code is the peer's
/// answer to the caller's request and passes through unchanged.
pub fn from_peer(status: tonic::Status) -> tonic::Status {
    use tonic::Code;
    match status.code() {
        Code::Unimplemented | Code::Unauthenticated | Code::PermissionDenied => {
            tracing::error!(
                peer_code = ?status.code(),
                peer_message = status.message(),
                "a peer refused the gateway's call: a version or mTLS mismatch between the services"
            );
            tonic::Status::internal(format!(
                "an internal service refused the call ({:?}); the operators have the details in the gateway's log",
                status.code()
            ))
        }
        _ => status,
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(violations) => tanksim_proto::convert::bad_request_status(&violations),
            Error::Peer(status) => status,
            Error::Simulation(msg) => tonic::Status::internal(format!("simulation failed: {msg}")),
            Error::Serve(e) => tonic::Status::internal(format!("server: {e}")),
        }
    }
}
