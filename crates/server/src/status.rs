//! The one mapping of broker errors ([`BrokerError`]) to gRPC status codes, for every service
//! that reads or writes the job store and the task queue. Here rather than in the broker, which
//! knows nothing of gRPC.

use tanksim_broker::BrokerError;
use tonic::Status;

/// The status a caller gets for a failed queue or store operation: UNAVAILABLE when retrying
/// later may succeed (Redis down or restarting), NOT_FOUND for a missing job, ALREADY_EXISTS
/// for a conflict, DATA_LOSS for stored data that does not parse.
pub fn broker_status(error: &BrokerError) -> Status {
    match error {
        BrokerError::Redis(_) => Status::unavailable(format!("job store unavailable: {error}")),
        BrokerError::NoSuchJob(id) => Status::not_found(format!("no job {id}")),
        BrokerError::Conflict(what) => Status::already_exists(what.clone()),
        BrokerError::Corrupt { .. } => Status::data_loss(format!("job store: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn redis_failures_are_unavailable_so_clients_retry() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = BrokerError::Redis(redis::RedisError::from(io));
        assert!(error.is_unavailable());
        let status = broker_status(&error);
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.message().starts_with("job store unavailable: "), "{status:?}");
    }

    #[test]
    fn a_missing_job_is_not_found() {
        let status = broker_status(&BrokerError::NoSuchJob("j-1".into()));
        assert_eq!((status.code(), status.message()), (Code::NotFound, "no job j-1"));
    }

    #[test]
    fn a_conflict_is_already_exists() {
        let status = broker_status(&BrokerError::Conflict("key k exists".into()));
        assert_eq!((status.code(), status.message()), (Code::AlreadyExists, "key k exists"));
    }

    #[test]
    fn corrupt_stored_data_is_data_loss() {
        let status = broker_status(&BrokerError::Corrupt { what: "job status", detail: "bad field".into() });
        assert_eq!(status.code(), Code::DataLoss);
        assert_eq!(status.message(), "job store: corrupt job status: bad field");
    }
}
