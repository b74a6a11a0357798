//! The dispatcher's errors and their one mapping to gRPC status codes.

use std::time::Duration;

use tanksim_broker::BrokerError;

/// The retry hint of a job shed at the queue's high-water mark: the workers need a while to
/// get the queue below it.
pub const SHED_RETRY: Duration = Duration::from_secs(30);

/// What can go wrong in the dispatcher.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The submitted job is invalid (the gateway validates first; this guards direct callers).
    #[error("invalid job")]
    InvalidJob(Vec<tanksim_proto::convert::FieldViolation>),
    #[error("invalid argument {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("no job {0}")]
    NotFound(String),
    /// Load shedding: the chunks waiting for the stream are at the high-water mark.
    #[error("the queue is over its high-water mark")]
    Shed { waiting: u64, mark: u64 },
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("serving: {0}")]
    Serve(#[source] tonic::transport::Error),
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidJob(violations) => tanksim_proto::convert::bad_request_status(&violations),
            Error::InvalidArgument { field, reason } => {
                tanksim_proto::convert::bad_request_status(&[tanksim_proto::convert::FieldViolation {
                    field: field.to_owned(),
                    reason,
                }])
            }
            Error::NotFound(id) => tonic::Status::not_found(format!("no job {id}")),
            Error::Shed { waiting, mark } => tanksim_server::status::resource_exhausted(
                format!(
                    "the queue is over its high-water mark: {waiting} chunks are waiting for the \
                     workers (mark {mark}); retry in {} s",
                    SHED_RETRY.as_secs()
                ),
                Some(SHED_RETRY),
            ),
            Error::Broker(e) => tanksim_server::broker_status(&e),
            Error::Serve(e) => tonic::Status::internal(format!("server: {e}")),
        }
    }
}
