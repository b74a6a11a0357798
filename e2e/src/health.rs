//! Waiting for a service to answer the standard gRPC health check with SERVING (it does only
//! once its own dependencies, Redis or its peers, answer).

use std::process::ExitStatus;
use std::time::Duration;

use tokio::time::Instant;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long one health check may take (a process still starting may accept and stall).
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(25);

/// Polls `url`'s overall health until SERVING, for at most `limit`. `exited` is asked between
/// polls whether the process died meanwhile, so a crash fails at once with its status.
pub async fn wait_serving(
    url: &str,
    limit: Duration,
    mut exited: impl FnMut() -> Option<ExitStatus>,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| format!("{url}: {e}"))?
        .connect_timeout(CHECK_TIMEOUT)
        .timeout(CHECK_TIMEOUT);
    let mut client = HealthClient::new(endpoint.connect_lazy());
    loop {
        let last = match client.check(HealthCheckRequest { service: String::new() }).await {
            Ok(r) if r.get_ref().status() == ServingStatus::Serving => return Ok(()),
            Ok(r) => format!("status {:?}", r.get_ref().status()),
            Err(status) => format!("{:?}: {}", status.code(), status.message()),
        };
        if let Some(status) = exited() {
            return Err(format!("{url}: the process exited ({status}) before it was serving ({last})"));
        }
        if Instant::now() >= deadline {
            return Err(format!("{url}: not SERVING within {limit:?} ({last})"));
        }
        tokio::time::sleep(POLL).await;
    }
}
