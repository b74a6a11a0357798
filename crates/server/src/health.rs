//! Health that means something: a service reports SERVING only while its dependencies (Redis,
//! the services it calls) answer, re-checked periodically, so Kubernetes' readiness probe and
//! load balancers stop sending work to a replica that cannot do it.

use std::future::Future;
use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// Runs `check` every `every` and sets each of `services` (fully qualified names, and "" for
/// the whole server) to SERVING when it returns true, NOT_SERVING otherwise. Returns when
/// `stop` resolves, after setting NOT_SERVING (a draining replica leaves the load balancer).
pub async fn monitor<F, Fut>(
    reporter: HealthReporter,
    services: Vec<String>,
    every: Duration,
    mut check: F,
    stop: impl Future<Output = ()>,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut last = None;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {
                let ok = check().await;
                if last != Some(ok) {
                    let status = if ok { ServingStatus::Serving } else { ServingStatus::NotServing };
                    tracing::info!(serving = ok, "health changed");
                    for s in &services {
                        reporter.set_service_status(s.as_str(), status).await;
                    }
                    last = Some(ok);
                }
            }
        }
    }
    for s in &services {
        reporter.set_service_status(s.as_str(), ServingStatus::NotServing).await;
    }
}
