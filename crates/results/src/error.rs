//! The results service's one error type and its one mapping to gRPC status codes.

use std::path::PathBuf;

use tanksim_broker::BrokerError;
use tanksim_proto::convert::{FieldViolation, bad_request_status};
use tonic::Status;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is invalid (INVALID_ARGUMENT with a `BadRequest` naming `field`).
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    /// The job does not exist.
    #[error("no job {0:?}")]
    NotFound(String),
    /// The request is valid but the job is not in a state or kind that allows it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The method belongs to another service.
    #[error("{0}")]
    Unimplemented(&'static str),
    /// The job store failed (Redis down: retry later) or holds data that does not parse.
    #[error("job store: {0}")]
    Store(#[from] BrokerError),
    /// Stored data (a summary, a spec, a rows file) that does not decode.
    #[error("corrupt {what}: {detail}")]
    Corrupt { what: String, detail: String },
    /// Reading or writing the data directory failed.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The gRPC server itself failed (from [`crate::run`], never from a handler).
    #[error("serving: {0}")]
    Serve(#[from] tonic::transport::Error),
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument { field, reason: reason.into() }
    }

    pub(crate) fn corrupt(what: impl Into<String>, detail: impl ToString) -> Self {
        Error::Corrupt { what: what.into(), detail: detail.to_string() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::InvalidArgument { field, reason } => {
                bad_request_status(&[FieldViolation { field: field.to_owned(), reason }])
            }
            Error::NotFound(id) => Status::not_found(format!("no job {id:?}")),
            Error::FailedPrecondition(msg) => Status::failed_precondition(msg),
            Error::Unimplemented(msg) => Status::unimplemented(msg),
            Error::Store(e) => tanksim_server::broker_status(&e),
            e @ Error::Corrupt { .. } => Status::data_loss(e.to_string()),
            Error::Io { path, source } if source.kind() == std::io::ErrorKind::StorageFull => {
                Status::resource_exhausted(format!("data directory full: {}: {source}", path.display()))
            }
            e @ Error::Io { .. } => Status::internal(e.to_string()),
            e @ Error::Serve(_) => Status::internal(e.to_string()),
        }
    }
}
