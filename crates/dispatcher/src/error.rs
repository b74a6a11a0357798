//! The dispatcher's errors and their one mapping to gRPC status codes.

use tanksim_broker::BrokerError;

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
            Error::Broker(e) => tanksim_server::broker_status(&e),
            Error::Serve(e) => tonic::Status::internal(format!("server: {e}")),
        }
    }
}
