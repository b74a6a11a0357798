//! The gateway's business metrics (names and labels in `tanksim_telemetry::metrics::names`):
//! requests by job kind, failed requests by reason, and the time `Simulate` spends simulating.

use std::time::Duration;

use metrics::{counter, histogram};
use tanksim_proto::v1::SubmitJobRequest;
use tanksim_server::QuotaBook;
use tanksim_sim_core::JobKind;
use tanksim_telemetry::metrics::names::{
    LABEL_KIND, LABEL_LIMIT, LABEL_REASON, LABEL_TENANT, OTHER_TENANTS, QUOTA_REJECTIONS_TOTAL,
    SIMULATION_DURATION_SECONDS, SIMULATION_ERRORS_TOTAL, SIMULATION_REQUESTS_TOTAL, reason,
};
use tonic::{Code, Status};

/// The `kind` of a `Simulate` call (one run, computed here).
pub const SINGLE: &str = "single";
const REASONS: [&str; 4] =
    [reason::INVALID_ARGUMENT, reason::UNAVAILABLE, reason::RESOURCE_EXHAUSTED, reason::INTERNAL];

/// Creates the series whose labels are known in advance at zero, so dashboards and alerts
/// see them before the first request (a rate over a missing series is no data, not zero).
pub fn init() {
    // Every job kind, and `Simulate`'s.
    for kind in JobKind::ALL.map(JobKind::name).into_iter().chain([SINGLE]) {
        counter!(SIMULATION_REQUESTS_TOTAL, LABEL_KIND => kind).increment(0);
    }
    for reason in REASONS {
        counter!(SIMULATION_ERRORS_TOTAL, LABEL_REASON => reason).increment(0);
    }
    // Registering is enough: the histogram is exported with empty buckets.
    let _ = histogram!(SIMULATION_DURATION_SECONDS, LABEL_KIND => SINGLE);
}

/// Calls refused by the gateway's quota `limit` (`requests_per_second`, `concurrent_streams`)
/// for `metric_tenant` ([`tanksim_server::quotas::Quotas::metric_tenant`]).
pub fn quota_rejections(limit: &'static str, metric_tenant: String) -> metrics::Counter {
    counter!(QUOTA_REJECTIONS_TOTAL, LABEL_LIMIT => limit, LABEL_TENANT => metric_tenant)
}

/// Creates the refusal series of `limit` known at start at zero: the tenants the quotas file
/// names and all others.
pub fn init_quota_rejections(quotas: &QuotaBook, limit: &'static str) {
    let quotas = quotas.get();
    for tenant in std::iter::once(OTHER_TENANTS).chain(quotas.listed_tenants()) {
        quota_rejections(limit, tenant.to_owned()).increment(0);
    }
}

/// The `kind` label of a submitted job; `None` when the request names no kind (it then
/// fails validation, and counts only as an error).
pub fn job_kind(request: &SubmitJobRequest) -> Option<&'static str> {
    request.job.as_ref().map(|job| tanksim_proto::convert::job_kind(job).name())
}

/// One request of kind `kind` received.
pub fn requested(kind: &'static str) {
    counter!(SIMULATION_REQUESTS_TOTAL, LABEL_KIND => kind).increment(1);
}

/// The `reason` a failed request is counted under, from the status it failed with.
pub fn reason(status: &Status) -> &'static str {
    match status.code() {
        Code::InvalidArgument => reason::INVALID_ARGUMENT,
        Code::Unavailable => reason::UNAVAILABLE,
        Code::ResourceExhausted => reason::RESOURCE_EXHAUSTED,
        _ => reason::INTERNAL,
    }
}

/// Counts `result` if it is a failure.
pub fn count_failure<T>(result: &Result<T, Status>) {
    if let Err(status) = result {
        counter!(SIMULATION_ERRORS_TOTAL, LABEL_REASON => reason(status)).increment(1);
    }
}

/// A `Simulate` call's simulation took `elapsed`.
pub fn simulated(elapsed: Duration) {
    histogram!(SIMULATION_DURATION_SECONDS, LABEL_KIND => SINGLE).record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_documented_reasons() {
        assert_eq!(reason(&Status::invalid_argument("x")), "invalid_argument");
        assert_eq!(reason(&Status::unavailable("x")), "unavailable");
        assert_eq!(reason(&Status::resource_exhausted("x")), "resource_exhausted");
        for other in [Status::internal("x"), Status::not_found("x"), Status::deadline_exceeded("x")] {
            assert_eq!(reason(&other), "internal");
        }
    }

    #[test]
    fn a_request_without_a_kind_has_no_kind_label() {
        use tanksim_proto::v1::submit_job_request::Job;

        assert_eq!(job_kind(&SubmitJobRequest::default()), None);
        let sweep = SubmitJobRequest { job: Some(Job::Sweep(Default::default())), ..Default::default() };
        assert_eq!(job_kind(&sweep), Some("sweep"));
    }
}
