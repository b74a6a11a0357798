//! Jobs the dispatcher refused by their tenant's quota (`tanksim_quota_rejections_total`, by
//! limit and tenant: the tenants the quotas file names, all others as one series) or shed at
//! the queue's high-water mark (`tanksim_jobs_shed_total`), each also logged with its tenant
//! and numbers.

use metrics::counter;
use tanksim_broker::{QuotaExceeded, QuotaLimit};
use tanksim_server::QuotaBook;
use tanksim_telemetry::metrics::names::{
    JOBS_SHED_TOTAL, LABEL_LIMIT, LABEL_TENANT, OTHER_TENANTS, QUOTA_REJECTIONS_TOTAL, limit,
};

/// The `limit` label of a job limit.
pub fn label(quota_limit: QuotaLimit) -> &'static str {
    match quota_limit {
        QuotaLimit::ConcurrentJobs => limit::CONCURRENT_JOBS,
        QuotaLimit::QueuedRuns => limit::QUEUED_RUNS,
        QuotaLimit::RunsPerDay => limit::RUNS_PER_DAY,
    }
}

/// Creates the refusal series known at start at zero: every job limit for the tenants the
/// quotas file names and for all others.
pub fn init(quotas: &QuotaBook) {
    counter!(JOBS_SHED_TOTAL).increment(0);
    let quotas = quotas.get();
    let tenants = std::iter::once(OTHER_TENANTS).chain(quotas.listed_tenants());
    for tenant in tenants {
        for quota_limit in QuotaLimit::ALL {
            counter!(QUOTA_REJECTIONS_TOTAL, LABEL_LIMIT => label(quota_limit), LABEL_TENANT => tenant.to_owned())
                .increment(0);
        }
    }
}

/// Counts and logs a job of `tenant`'s shed with `waiting` chunks waiting, at `mark`.
pub fn shed(tenant: &str, waiting: u64, mark: u64) {
    counter!(JOBS_SHED_TOTAL).increment(1);
    tracing::warn!(tenant, waiting, mark, "job shed: the queue is over its high-water mark");
}

/// Counts and logs a job refused by its tenant's quota.
pub fn refused(quotas: &QuotaBook, refusal: &QuotaExceeded) {
    let tenant = quotas.get().metric_tenant(&refusal.tenant);
    counter!(QUOTA_REJECTIONS_TOTAL, LABEL_LIMIT => label(refusal.limit), LABEL_TENANT => tenant)
        .increment(1);
    tracing::info!(
        tenant = %refusal.tenant,
        limit = refusal.limit.name(),
        used = refusal.used,
        requested = refusal.requested,
        max = refusal.max,
        "job refused by its tenant's quota"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_labels_are_the_limits_names() {
        for quota_limit in QuotaLimit::ALL {
            assert_eq!(label(quota_limit), quota_limit.name());
            assert!(limit::ALL.contains(&label(quota_limit)));
        }
    }
}
