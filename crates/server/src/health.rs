//! Health that means something: a service reports SERVING only while its dependencies (Redis,
//! the services it calls) answer, re-checked periodically, so Kubernetes' readiness probe and
//! load balancers stop sending work to a replica that cannot do it.
//!
//! Liveness is the separate health service [`LIVENESS`], SERVING from the moment the monitor
//! starts until the process exits: a Kubernetes liveness probe must not restart every replica
//! because Redis is briefly away (readiness takes them out of the load balancer instead).

use std::future::Future;
use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// The health service name of the liveness probe (`grpc: {port, service: liveness}`): the
/// process is up and serving gRPC, whatever its dependencies do.
pub const LIVENESS: &str = "liveness";

/// Marks [`LIVENESS`] SERVING, then runs `check` every `every` and sets each of `services` (fully qualified names, and "" for
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
    reporter.set_service_status(LIVENESS, ServingStatus::Serving).await;
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

#[cfg(test)]
mod tests {
    use tonic::Request;
    use tonic_health::pb::health_server::Health;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus as Wire};
    use tonic_health::server::{HealthReporter, HealthService};

    use super::*;

    async fn status(reporter: &HealthReporter, service: &str) -> Option<Wire> {
        let health = HealthService::from_health_reporter(reporter.clone());
        let request = Request::new(HealthCheckRequest { service: service.to_owned() });
        health.check(request).await.ok().map(|r| r.into_inner().status())
    }

    #[tokio::test]
    async fn readiness_follows_the_dependencies_and_liveness_stays_serving() {
        let reporter = HealthReporter::new();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let monitor = tokio::spawn(monitor(
            reporter.clone(),
            vec![String::new()],
            Duration::from_millis(10),
            || async { false }, // Redis is away
            async move {
                let _ = stop_rx.await;
            },
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(status(&reporter, "").await, Some(Wire::NotServing), "not ready");
        assert_eq!(status(&reporter, LIVENESS).await, Some(Wire::Serving), "but alive");
        stop_tx.send(()).expect("the monitor runs");
        monitor.await.expect("the monitor stops");
        assert_eq!(status(&reporter, LIVENESS).await, Some(Wire::Serving), "alive until the process exits");
    }
}
