//! The gateway's errors and their one mapping to gRPC status codes.

/// What can go wrong in the gateway itself (peers' statuses are passed through, see
/// [`crate::peers`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is invalid: one violation per bad field.
    #[error("invalid request")]
    Invalid(Vec<tanksim_proto::convert::FieldViolation>),
    /// A peer answered with an error status: returned to the caller as it is (a refusal
    /// between the services is already INTERNAL, see [`crate::peers`]).
    #[error("{0}")]
    Peer(tonic::Status),
    #[error("simulation task failed: {0}")]
    Simulation(String),
    #[error("serving: {0}")]
    Serve(#[source] tonic::transport::Error),
}

impl From<tonic::Status> for Error {
    fn from(s: tonic::Status) -> Self {
        Error::Peer(s)
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
