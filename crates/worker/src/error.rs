//! The worker's one error type: what can stop it (chunk-level failures are not errors of the
//! worker: they are retried, handed back or dead-lettered by the consume loop).

use std::net::SocketAddr;

use tanksim_broker::BrokerError;

/// Why the worker could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option is invalid (exit code 64, before anything binds or connects).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The queue or the store failed in a way retrying does not fix.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// The health listener could not be bound.
    #[error("binding {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    /// The health server failed.
    #[error("serving gRPC health: {0}")]
    Serve(#[from] tonic::transport::Error),
}

impl Error {
    /// The process exit code for this error (sysexits.h).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) => 64,                       // EX_USAGE
            Error::Broker(e) if e.is_unavailable() => 69, // EX_UNAVAILABLE
            Error::Broker(_) | Error::Serve(_) => 70,     // EX_SOFTWARE
            Error::Bind { .. } => 71,                     // EX_OSERR
        }
    }
}

/// The worker serves no API of its own (only health), so this mapping exists for whoever
/// embeds it behind one: precise codes, never UNKNOWN.
impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        match &e {
            Error::Config(_) => tonic::Status::invalid_argument(e.to_string()),
            Error::Broker(b) => tanksim_server::broker_status(b),
            Error::Serve(_) | Error::Bind { .. } => tonic::Status::internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Error::Config("x".into()).exit_code(), 64);
        let corrupt = Error::Broker(BrokerError::Corrupt { what: "task", detail: "x".into() });
        assert_eq!(corrupt.exit_code(), 70);
        assert_eq!(tonic::Status::from(corrupt).code(), tonic::Code::DataLoss);
        let missing = tonic::Status::from(Error::Broker(BrokerError::NoSuchJob("j".into())));
        assert_eq!(missing.code(), tonic::Code::NotFound);
    }
}
