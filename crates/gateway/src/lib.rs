//! The gateway: tanksim's public gRPC API (`tanksim.v1`).
//!
//! - [`auth`]: every public call authenticated (API key or OIDC JWT) and its scope checked
//!   before a handler runs; handlers act for the caller's tenant.
//! - [`rate_limit`]: each tenant's request rate (a token bucket per tenant at this replica),
//!   checked after authentication.
//! - [`jobs`]: `JobService`. `SubmitJob` validates (INVALID_ARGUMENT with a `BadRequest` field
//!   violation per bad field) and hands the job to the dispatcher, which answers as soon as
//!   it is recorded; reads and watches go to the results service; cancel to the dispatcher.
//! - [`streams`]: each tenant's open WatchJob and ExportRuns streams, capped by its quota.
//! - [`simulation`]: `SimulationService.Simulate`, one run computed here.
//! - [`peers`]: the clients to the dispatcher and the results service (traced).
//! - [`metrics`]: requests by job kind, failures by reason, `Simulate`'s simulation time.
//! - [`config`], [`error`].
//!
//! [`run`] serves both on a bound listener until shutdown.

pub mod auth;
pub mod config;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod peers;
pub mod rate_limit;
pub mod simulation;
pub mod streams;

use std::future::Future;

use tanksim_proto::v1::job_service_server::JobServiceServer;
use tanksim_proto::v1::simulation_service_server::SimulationServiceServer;

pub use config::{GatewayArgs, GatewaySettings};
pub use error::Error;
pub use peers::Peers;

/// Serves the public API on `listener` until `shutdown` resolves. Ready while both peers
/// are. At shutdown open WatchJob and ExportRuns streams end with UNAVAILABLE (clients
/// re-watch through another replica) and other calls in flight finish within the grace
/// period.
pub async fn run(
    settings: GatewaySettings,
    peers: Peers,
    listener: impl Into<tanksim_server::Listener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    metrics::init();
    auth::init_metrics();
    rate_limit::init_metrics(&settings.quotas);
    streams::init_metrics(&settings.quotas);
    settings.quotas.keep_reloaded();
    let limiter = rate_limit::TenantRateLimiter::new(settings.quotas.clone());
    let max = settings.max_message_bytes;
    let shell = tanksim_server::Shell::new(settings.shutdown_grace)
        .add_service(public(
            JobServiceServer::new(jobs::Jobs::new(settings.clone(), peers.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            &settings,
            &limiter,
        ))
        .add_service(public(
            SimulationServiceServer::new(simulation::Simulation::new(settings.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            &settings,
            &limiter,
        ));
    let ready = move || {
        let peers = peers.clone();
        async move { peers.healthy().await }
    };
    shell.serve(listener, ready, shutdown).await.map_err(Error::Serve)
}

/// A public service behind the edge's checks: authentication and scope (who calls, for which
/// tenant: nothing else runs for an unknown caller), then the tenant's request rate.
fn public<S>(
    service: S,
    settings: &GatewaySettings,
    limiter: &rate_limit::TenantRateLimiter,
) -> auth::Authenticated<S> {
    auth::Authenticated::new(service, settings.auth.clone(), limiter.clone())
}
