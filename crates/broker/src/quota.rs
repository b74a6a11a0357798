//! Per-tenant job quotas, enforced where jobs are created: how many jobs a tenant may have
//! that have not ended, how many runs those jobs may hold, and how many runs it may submit in
//! a UTC day.
//!
//! [`JobStore::create_job_within`](crate::JobStore::create_job_within) checks a new job against
//! the tenant's [`JobQuota`] and reserves it in the same atomic step (one Lua script in Redis,
//! one lock in memory), so concurrent creates on any number of dispatcher replicas never
//! admit more than the limit; a refused job is not created and nothing changes. The job keeps
//! its reservation until it ends: the transition that makes it terminal (finish, fail, cancel)
//! gives it back in the same step, exactly once (a repeated or late transition changes
//! nothing). Runs of the day count what was submitted that day, and the day's counter expires
//! on its own ([`DAY_COUNTER_TTL`]); they are given back only by an adaptive job that stops
//! before its cap ([`JobStore::stop_early`](crate::JobStore::stop_early)): the runs it will
//! never run, from its usage and from its submission day's counter while that exists.

use std::fmt;
use std::time::Duration;

/// A day in milliseconds.
const DAY_MS: u64 = 86_400_000;

/// How long a day's run counter outlives its day: a counter is only read on its own UTC day,
/// and the margin covers clocks that disagree about when a day ends.
pub const DAY_COUNTER_TTL: Duration = Duration::from_secs(2 * 86_400);

/// The retry hint of a refusal by the concurrent-jobs or queued-runs limit: jobs take seconds
/// to minutes, and a job ending frees its share at once.
pub const JOB_QUOTA_RETRY_AFTER: Duration = Duration::from_secs(10);

/// A tenant's job limits; `0` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobQuota {
    /// Jobs not yet ended (queued or running).
    pub concurrent_jobs: u64,
    /// Runs of the jobs not yet ended (each job's `runs_total`).
    pub queued_runs: u64,
    /// Runs submitted in one UTC day (kept when a job ends).
    pub runs_per_day: u64,
}

impl JobQuota {
    /// No limit at all (usage is still counted).
    pub const UNLIMITED: JobQuota = JobQuota { concurrent_jobs: 0, queued_runs: 0, runs_per_day: 0 };
}

/// Which limit refused a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaLimit {
    ConcurrentJobs,
    QueuedRuns,
    RunsPerDay,
}

impl QuotaLimit {
    /// Every job limit, in the order they are checked.
    pub const ALL: [QuotaLimit; 3] =
        [QuotaLimit::ConcurrentJobs, QuotaLimit::QueuedRuns, QuotaLimit::RunsPerDay];

    /// The limit's name: in the quota configuration, in metrics (`limit` label) and in the
    /// store's replies.
    pub fn name(self) -> &'static str {
        match self {
            QuotaLimit::ConcurrentJobs => "concurrent_jobs",
            QuotaLimit::QueuedRuns => "queued_runs",
            QuotaLimit::RunsPerDay => "runs_per_day",
        }
    }

    pub fn parse(name: &str) -> Option<QuotaLimit> {
        QuotaLimit::ALL.into_iter().find(|l| l.name() == name)
    }

    fn max(self, quota: &JobQuota) -> u64 {
        match self {
            QuotaLimit::ConcurrentJobs => quota.concurrent_jobs,
            QuotaLimit::QueuedRuns => quota.queued_runs,
            QuotaLimit::RunsPerDay => quota.runs_per_day,
        }
    }
}

/// What a tenant holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotaUsage {
    /// Jobs created and not yet ended.
    pub concurrent_jobs: u64,
    /// Runs of those jobs.
    pub queued_runs: u64,
    /// Runs submitted on the UTC day asked about.
    pub runs_today: u64,
}

impl QuotaUsage {
    /// What the tenant holds of `limit`.
    pub fn used(&self, limit: QuotaLimit) -> u64 {
        match limit {
            QuotaLimit::ConcurrentJobs => self.concurrent_jobs,
            QuotaLimit::QueuedRuns => self.queued_runs,
            QuotaLimit::RunsPerDay => self.runs_today,
        }
    }

    /// The first limit of `quota` that a job of `runs` runs would exceed, if any (the one check
    /// both stores make; the Redis script makes the same in Lua).
    pub fn exceeded(&self, quota: &JobQuota, runs: u64) -> Option<QuotaLimit> {
        QuotaLimit::ALL.into_iter().find(|&limit| {
            let max = limit.max(quota);
            let adding = if limit == QuotaLimit::ConcurrentJobs { 1 } else { runs };
            max > 0 && self.used(limit).saturating_add(adding) > max
        })
    }
}

/// A job refused by its tenant's quota (nothing was created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub tenant: String,
    pub limit: QuotaLimit,
    /// What the tenant held of the limit when the job was refused.
    pub used: u64,
    /// What the job would have added (1 job, or its runs).
    pub requested: u64,
    pub max: u64,
    /// When trying again may succeed; `None` when the job alone exceeds the limit, so waiting
    /// cannot help.
    pub retry_after: Option<Duration>,
}

impl QuotaExceeded {
    /// The refusal of a job of `runs` runs by `limit` of `quota`, with the tenant's `used`
    /// amount, at `now_ms` (the job's submission time: it sets the day).
    pub fn new(tenant: &str, limit: QuotaLimit, used: u64, quota: &JobQuota, runs: u64, now_ms: u64) -> Self {
        let requested = if limit == QuotaLimit::ConcurrentJobs { 1 } else { runs };
        let max = limit.max(quota);
        let retry_after = if requested > max {
            None
        } else if limit == QuotaLimit::RunsPerDay {
            Some(until_next_utc_day(now_ms))
        } else {
            Some(JOB_QUOTA_RETRY_AFTER)
        };
        QuotaExceeded { tenant: tenant.to_owned(), limit, used, requested, max, retry_after }
    }
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let QuotaExceeded { tenant, used, requested, max, .. } = self;
        match self.limit {
            QuotaLimit::ConcurrentJobs => {
                write!(f, "tenant {tenant}: {used} concurrent jobs (limit {max}); retry when one ends")
            }
            QuotaLimit::QueuedRuns if requested > max => write!(
                f,
                "tenant {tenant}: a job of {requested} runs exceeds the queued runs limit ({max}) by itself"
            ),
            QuotaLimit::QueuedRuns => write!(
                f,
                "tenant {tenant}: {used} queued runs + {requested} of this job (limit {max}); retry when a job ends"
            ),
            QuotaLimit::RunsPerDay if requested > max => write!(
                f,
                "tenant {tenant}: a job of {requested} runs exceeds the runs per day limit ({max}) by itself"
            ),
            QuotaLimit::RunsPerDay => write!(
                f,
                "tenant {tenant}: {used} runs submitted today (UTC) + {requested} of this job (limit {max}); \
                 retry after midnight UTC"
            ),
        }
    }
}

/// The UTC date of `ms` since the epoch, `YYYY-MM-DD` (it names the day's run counter).
pub fn utc_day(ms: u64) -> String {
    // Howard Hinnant's days-to-civil, for days since 1970-01-01 (never negative here).
    let days = ms / DAY_MS;
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Time from `ms` to the next UTC midnight.
pub fn until_next_utc_day(ms: u64) -> Duration {
    Duration::from_millis(DAY_MS - ms % DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days_are_calendar_dates() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(DAY_MS - 1), "1970-01-01");
        assert_eq!(utc_day(DAY_MS), "1970-01-02");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(1_709_164_800_000), "2024-02-29");
        assert_eq!(utc_day(1_735_689_599_999), "2024-12-31");
        assert_eq!(utc_day(1_735_689_600_000), "2025-01-01");
        assert_eq!(until_next_utc_day(1_735_689_599_000), Duration::from_secs(1));
        assert_eq!(until_next_utc_day(1_735_689_600_000), Duration::from_secs(86_400));
    }

    #[test]
    fn the_first_limit_exceeded_is_named_and_zero_is_unlimited() {
        let quota = JobQuota { concurrent_jobs: 2, queued_runs: 100, runs_per_day: 150 };
        let usage = QuotaUsage { concurrent_jobs: 1, queued_runs: 60, runs_today: 60 };
        assert_eq!(usage.exceeded(&quota, 40), None, "exactly at the limits");
        assert_eq!(usage.exceeded(&quota, 41), Some(QuotaLimit::QueuedRuns));
        let full = QuotaUsage { concurrent_jobs: 2, ..usage };
        assert_eq!(full.exceeded(&quota, 1), Some(QuotaLimit::ConcurrentJobs));
        let late = QuotaUsage { runs_today: 140, ..usage };
        assert_eq!(late.exceeded(&quota, 11), Some(QuotaLimit::RunsPerDay));
        let busy = QuotaUsage { concurrent_jobs: u64::MAX, queued_runs: u64::MAX, runs_today: u64::MAX };
        assert_eq!(busy.exceeded(&JobQuota::UNLIMITED, u64::MAX), None);
        for limit in QuotaLimit::ALL {
            assert_eq!(QuotaLimit::parse(limit.name()), Some(limit));
        }
    }

    #[test]
    fn refusals_say_the_numbers_and_when_to_retry() {
        let quota = JobQuota { concurrent_jobs: 5, queued_runs: 1_000, runs_per_day: 2_000 };
        let now = 1_735_689_599_000; // one second before 2025-01-01
        let jobs = QuotaExceeded::new("acme", QuotaLimit::ConcurrentJobs, 5, &quota, 10, now);
        assert_eq!(jobs.to_string(), "tenant acme: 5 concurrent jobs (limit 5); retry when one ends");
        assert_eq!((jobs.requested, jobs.retry_after), (1, Some(JOB_QUOTA_RETRY_AFTER)));
        let runs = QuotaExceeded::new("acme", QuotaLimit::QueuedRuns, 900, &quota, 200, now);
        assert_eq!(
            runs.to_string(),
            "tenant acme: 900 queued runs + 200 of this job (limit 1000); retry when a job ends"
        );
        let day = QuotaExceeded::new("acme", QuotaLimit::RunsPerDay, 1_900, &quota, 200, now);
        assert_eq!(day.retry_after, Some(Duration::from_secs(1)), "until midnight UTC");
        assert!(day.to_string().contains("1900 runs submitted today (UTC) + 200"), "{day}");
        let never = QuotaExceeded::new("acme", QuotaLimit::QueuedRuns, 0, &quota, 1_001, now);
        assert_eq!(never.retry_after, None, "waiting cannot help a job larger than the limit");
        assert!(never.to_string().contains("a job of 1001 runs exceeds the queued runs limit (1000)"));
    }
}
