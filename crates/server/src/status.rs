//! The one mapping of broker errors ([`BrokerError`]) to gRPC status codes, for every service
//! that reads or writes the job store and the task queue. Here rather than in the broker, which
//! knows nothing of gRPC.

use std::time::Duration;

use tanksim_broker::BrokerError;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The metadata key of a refusal's retry hint, in whole seconds (HTTP's `Retry-After`), next
/// to the `google.rpc.RetryInfo` detail for clients that read rich errors.
pub const RETRY_AFTER_METADATA: &str = "retry-after";

/// The status a caller gets for a failed queue or store operation: UNAVAILABLE when retrying
/// later may succeed (Redis down or restarting), NOT_FOUND for a missing job, ALREADY_EXISTS
/// for a conflict, DATA_LOSS for stored data that does not parse, RESOURCE_EXHAUSTED (with
/// when to retry) for a job over its tenant's quota and for a job store that is full (Redis at
/// `maxmemory`: nothing was written, and retention or an operator frees room).
pub fn broker_status(error: &BrokerError) -> Status {
    match error {
        BrokerError::Redis(_) if error.is_out_of_memory() => resource_exhausted(
            "the job store is full (Redis reached its maxmemory); nothing was written, retry later".into(),
            Some(STORE_FULL_RETRY),
        ),
        BrokerError::Redis(_) => Status::unavailable(format!("job store unavailable: {error}")),
        BrokerError::NoSuchJob(id) => Status::not_found(format!("no job {id}")),
        BrokerError::Conflict(what) => Status::already_exists(what.clone()),
        BrokerError::Corrupt { .. } => Status::data_loss(format!("job store: {error}")),
        BrokerError::QuotaExceeded(refusal) => resource_exhausted(refusal.to_string(), refusal.retry_after),
    }
}

/// When a client should retry after the job store refused a write for lack of memory.
const STORE_FULL_RETRY: Duration = Duration::from_secs(30);

/// RESOURCE_EXHAUSTED for a call over a quota or rate limit: `message` names the limit and the
/// numbers; `retry_after` (none when waiting cannot help) goes in a `google.rpc.RetryInfo`
/// detail and in [`RETRY_AFTER_METADATA`] (rounded up to whole seconds, at least 1).
pub fn resource_exhausted(message: String, retry_after: Option<Duration>) -> Status {
    let Some(delay) = retry_after else { return Status::resource_exhausted(message) };
    let mut status = Status::with_error_details(
        Code::ResourceExhausted,
        message,
        ErrorDetails::with_retry_info(Some(delay)),
    );
    let seconds = u64::try_from(delay.as_millis().div_ceil(1000)).unwrap_or(u64::MAX).max(1);
    status.metadata_mut().insert(RETRY_AFTER_METADATA, MetadataValue::from(seconds));
    status
}

/// The retry hint of a refusal as a client reads it: the `google.rpc.RetryInfo` delay and the
/// [`RETRY_AFTER_METADATA`] value, each if present.
pub fn retry_hint(status: &Status) -> (Option<Duration>, Option<String>) {
    let delay = status.get_details_retry_info().and_then(|r| r.retry_delay);
    let header = status.metadata().get(RETRY_AFTER_METADATA).and_then(|v| v.to_str().ok()).map(str::to_owned);
    (delay, header)
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
    fn a_job_over_its_quota_is_resource_exhausted_with_when_to_retry() {
        use tanksim_broker::{JobQuota, QuotaExceeded, QuotaLimit};
        let quota = JobQuota { concurrent_jobs: 5, queued_runs: 100, runs_per_day: 0 };
        let refusal = QuotaExceeded::new("acme", QuotaLimit::ConcurrentJobs, 5, &quota, 10, 0);
        let status = broker_status(&BrokerError::QuotaExceeded(refusal));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), "tenant acme: 5 concurrent jobs (limit 5); retry when one ends");
        assert_eq!(
            retry_hint(&status),
            (Some(tanksim_broker::quota::JOB_QUOTA_RETRY_AFTER), Some("10".into()))
        );

        // Waiting cannot help a job larger than the limit: no hint at all.
        let alone = QuotaExceeded::new("acme", QuotaLimit::QueuedRuns, 0, &quota, 101, 0);
        let status = broker_status(&BrokerError::QuotaExceeded(alone));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(retry_hint(&status), (None, None));
    }

    #[test]
    fn retry_hints_round_up_to_whole_seconds() {
        let status = resource_exhausted("slow down".into(), Some(Duration::from_millis(1)));
        assert_eq!(retry_hint(&status), (Some(Duration::from_millis(1)), Some("1".into())));
        let status = resource_exhausted("slow down".into(), Some(Duration::from_millis(2_001)));
        assert_eq!(retry_hint(&status).1.as_deref(), Some("3"));
    }

    #[test]
    fn corrupt_stored_data_is_data_loss() {
        let status = broker_status(&BrokerError::Corrupt { what: "job status", detail: "bad field".into() });
        assert_eq!(status.code(), Code::DataLoss);
        assert_eq!(status.message(), "job store: corrupt job status: bad field");
    }
}
