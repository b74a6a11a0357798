//! Each tenant's request rate at this gateway replica: a token bucket per tenant (GCRA, the
//! `governor` crate) of `burst` calls refilled at `requests_per_second`, both from the tenant's
//! quota ([`tanksim_server::quotas`]). A call over it is refused before its handler runs with
//! RESOURCE_EXHAUSTED, the bucket's wait as the retry hint (RetryInfo and `retry-after`),
//! counted in `tanksim_quota_rejections_total{limit="requests_per_second"}` and logged.
//!
//! [`crate::auth::Authenticated`] asks [`TenantRateLimiter::admit`] once the caller is
//! authenticated: the bucket is the caller's tenant's, and a caller without a valid credential
//! never spends a tenant's tokens. Buckets are per replica (N replicas let a tenant through at
//! up to N times the rate); tenants with the same rate share one keyed limiter, and a tenant
//! whose rate changes with the quotas file starts a fresh bucket at the new rate.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use tanksim_server::QuotaBook;
use tanksim_server::quotas::RateQuota;
use tanksim_telemetry::metrics::names::limit;
use tonic::Status;

use crate::metrics::{init_quota_rejections, quota_rejections};

/// How often idle buckets are dropped (a bucket refilled to the full burst is the same as none).
const PRUNE_EVERY: Duration = Duration::from_secs(60);

type Keyed<C> = RateLimiter<String, HashMapStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Every tenant's bucket at this replica. Cheap to clone (clones share the buckets).
#[derive(Debug, Clone)]
pub struct TenantRateLimiter<C: Clock = DefaultClock> {
    quotas: QuotaBook,
    clock: C,
    limiters: Arc<Mutex<Limiters<C>>>,
}

#[derive(Debug)]
struct Limiters<C: Clock> {
    by_rate: HashMap<RateQuota, Arc<Keyed<C>>>,
    pruned: C::Instant,
}

impl TenantRateLimiter {
    /// Buckets sized by each tenant's quota in `quotas` (read at every call: a reloaded file
    /// applies at once).
    pub fn new(quotas: QuotaBook) -> Self {
        Self::with_clock(quotas, DefaultClock::default())
    }
}

impl<C: Clock + Clone> TenantRateLimiter<C> {
    /// With the time from `clock` (tests use a fake one).
    pub fn with_clock(quotas: QuotaBook, clock: C) -> Self {
        let pruned = clock.now();
        let limiters = Arc::new(Mutex::new(Limiters { by_rate: HashMap::new(), pruned }));
        TenantRateLimiter { quotas, clock, limiters }
    }

    /// Takes a token from `tenant`'s bucket, or says how long until one is there.
    pub fn check(&self, tenant: &str) -> Result<(), RateLimited> {
        let rate = self.quotas.for_tenant(tenant).rate;
        if rate.is_unlimited() {
            return Ok(());
        }
        let limiter = self.limiter(rate);
        match limiter.check_key(&tenant.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => Err(RateLimited {
                tenant: tenant.to_owned(),
                rate,
                retry_after: not_until.wait_time_from(self.clock.now()),
            }),
        }
    }

    /// [`check`](Self::check) for a call to `path`, a refusal counted, logged and made the
    /// call's status.
    pub fn admit(&self, tenant: &str, path: &str) -> Result<(), Status> {
        self.check(tenant).map_err(|refusal| {
            quota_rejections(limit::REQUESTS_PER_SECOND, self.quotas.get().metric_tenant(&refusal.tenant))
                .increment(1);
            tracing::info!(
                path,
                tenant = %refusal.tenant,
                retry_after_ms = refusal.retry_after.as_millis() as u64,
                "call refused by the tenant's request rate"
            );
            Status::from(refusal)
        })
    }

    /// The keyed limiter of `rate`; drops idle buckets now and then.
    fn limiter(&self, rate: RateQuota) -> Arc<Keyed<C>> {
        // A panic under the lock leaves a whole map (entries are inserted whole).
        let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now();
        if now.duration_since(limiters.pruned) >= PRUNE_EVERY.into() {
            limiters.pruned = now;
            limiters.by_rate.retain(|_, keyed| {
                keyed.retain_recent();
                keyed.shrink_to_fit();
                !keyed.is_empty()
            });
        }
        let clock = self.clock.clone();
        Arc::clone(limiters.by_rate.entry(rate).or_insert_with(|| Arc::new(keyed(rate, clock))))
    }
}

fn keyed<C: Clock>(rate: RateQuota, clock: C) -> Keyed<C> {
    let per_second = NonZeroU32::new(rate.requests_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::new(Quota::per_second(per_second).allow_burst(burst), HashMapStateStore::default(), clock)
}

/// A call refused by its tenant's request rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited {
    pub tenant: String,
    pub rate: RateQuota,
    /// When the next call may pass.
    pub retry_after: Duration,
}

impl From<RateLimited> for Status {
    fn from(r: RateLimited) -> Status {
        let message = format!(
            "tenant {}: more than {} requests per second (burst {}) at this gateway; retry in {} ms",
            r.tenant,
            r.rate.requests_per_second,
            r.rate.burst.max(1),
            r.retry_after.as_millis().max(1)
        );
        tanksim_server::status::resource_exhausted(message, Some(r.retry_after))
    }
}

/// Creates the refusal series known at start at zero (the tenants the quotas file names and
/// all others).
pub fn init_metrics(quotas: &QuotaBook) {
    init_quota_rejections(quotas, limit::REQUESTS_PER_SECOND);
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;
    use tanksim_server::quotas::{Quotas, TenantQuota};

    use super::*;

    fn limiter(
        rate: RateQuota,
        acme: Option<RateQuota>,
    ) -> (TenantRateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let quotas = TenantQuota { rate, ..TenantQuota::UNLIMITED };
        let file = acme.map(|r| {
            let yaml = format!(
                "tenants: {{acme: {{requests_per_second: {}, burst: {}}}}}",
                r.requests_per_second, r.burst
            );
            tanksim_server::quotas::QuotasFile::parse(std::path::Path::new("q.yaml"), &yaml, false).unwrap()
        });
        let clock = FakeRelativeClock::default();
        let book = QuotaBook::fixed(Quotas::new(quotas, file.as_ref()));
        (TenantRateLimiter::with_clock(book, clock.clone()), clock)
    }

    #[test]
    fn a_burst_passes_then_calls_wait_for_the_refill() {
        let (limiter, clock) = limiter(RateQuota { requests_per_second: 2, burst: 3 }, None);
        for _ in 0..3 {
            assert_eq!(limiter.check("beta"), Ok(()));
        }
        let refused = limiter.check("beta").unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_millis(500), "one token every 1/2 s");
        assert_eq!(refused.rate, RateQuota { requests_per_second: 2, burst: 3 });
        clock.advance(Duration::from_millis(499));
        assert!(limiter.check("beta").is_err());
        clock.advance(Duration::from_millis(1));
        assert_eq!(limiter.check("beta"), Ok(()));
        assert!(limiter.check("beta").is_err(), "one token, one call");
        // Another tenant has a bucket of its own.
        assert_eq!(limiter.check("gamma"), Ok(()));
    }

    #[test]
    fn each_tenant_has_its_own_rate_and_zero_is_unlimited() {
        let (limiter, _) = limiter(
            RateQuota { requests_per_second: 0, burst: 0 },
            Some(RateQuota { requests_per_second: 1, burst: 1 }),
        );
        for _ in 0..1_000 {
            assert_eq!(limiter.check("beta"), Ok(()));
        }
        assert_eq!(limiter.check("acme"), Ok(()));
        let refused = limiter.check("acme").unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        let status = Status::from(refused);
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            status.message(),
            "tenant acme: more than 1 requests per second (burst 1) at this gateway; retry in 1000 ms"
        );
        assert_eq!(status.metadata().get(tanksim_server::status::RETRY_AFTER_METADATA).unwrap(), "1");
    }

    #[test]
    fn idle_buckets_are_dropped() {
        let (limiter, clock) = limiter(RateQuota { requests_per_second: 10, burst: 10 }, None);
        for tenant in ["a", "b", "c"] {
            limiter.check(tenant).unwrap();
        }
        let keyed = |l: &TenantRateLimiter<FakeRelativeClock>| {
            l.limiters.lock().unwrap().by_rate.values().map(|k| k.len()).sum::<usize>()
        };
        assert_eq!(keyed(&limiter), 3);
        clock.advance(PRUNE_EVERY);
        limiter.check("d").unwrap();
        assert_eq!(keyed(&limiter), 1, "the refilled buckets went, the new one stays");
    }
}
