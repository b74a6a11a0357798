//! The gateway: tanksim's public gRPC API (`tanksim.v1`).
//!
//! - [`jobs`]: `JobService`. `SubmitJob` validates (INVALID_ARGUMENT with a `BadRequest` field
//!   violation per bad field) and hands the job to the dispatcher, which answers as soon as
//!   it is recorded; reads and watches go to the results service; cancel to the dispatcher.
//! - [`simulation`]: `SimulationService.Simulate`, one run computed here.
//! - [`peers`]: the clients to the dispatcher and the results service (traced).
//! - [`metrics`]: requests by job kind, failures by reason, `Simulate`'s simulation time.
//! - [`config`], [`error`].
//!
//! [`run`] serves both on a bound listener until shutdown.

pub mod config;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod peers;
pub mod simulation;

use std::future::Future;
use std::time::Duration;

use tanksim_proto::v1::job_service_server::JobServiceServer;
use tanksim_proto::v1::simulation_service_server::SimulationServiceServer;
use tokio::net::TcpListener;

pub use config::{GatewayArgs, GatewaySettings};
pub use error::Error;
pub use peers::Peers;

/// Serves the public API on `listener` until `shutdown` resolves.
pub async fn run(
    settings: GatewaySettings,
    peers: Peers,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    metrics::init();
    let (basics, router) = tanksim_server::GrpcBasics::router();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let services =
        vec![String::new(), "tanksim.v1.JobService".to_owned(), "tanksim.v1.SimulationService".to_owned()];
    let health_peers = peers.clone();
    let health = tokio::spawn(tanksim_server::health::monitor(
        basics.health,
        services,
        Duration::from_secs(2),
        move || {
            let peers = health_peers.clone();
            async move { peers.healthy().await }
        },
        async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        },
    ));
    let max = settings.max_message_bytes;
    let router = router
        .add_service(
            JobServiceServer::new(jobs::Jobs::new(settings.clone(), peers))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            SimulationServiceServer::new(simulation::Simulation::new(settings))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
    let served = tanksim_server::serve(router, listener, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = health.await;
    served.map_err(Error::Serve)
}
