//! The dispatcher: turns an accepted job into chunk tasks on the Redis stream.
//!
//! - [`config`]: command-line / environment settings.
//! - [`service`]: `tanksim.internal.v1.DispatcherService` (DispatchJob, CancelJob): records the
//!   job, with its trace context, and answers at once.
//! - [`enqueue`]: appends a job's chunks to the stream in pipelined batches in the background,
//!   recording progress so a restarted dispatcher resumes where it stopped; each task carries
//!   the trace context of the `enqueue` span, a child of the job's.
//! - [`job_metrics`]: jobs ended by a cancel (count and duration).
//! - [`queue_metrics`]: the queue gauges, sampled from Redis at an interval.
//! - [`error`]: the crate's error and its gRPC status.
//!
//! [`run`] serves it on a bound listener until shutdown.

pub mod config;
pub mod enqueue;
pub mod error;
pub mod job_metrics;
pub mod queue_metrics;
pub mod service;

use std::future::Future;
use std::time::Duration;

use tanksim_broker::{JobStore, TaskQueue};
use tanksim_proto::internal::v1::dispatcher_service_server::DispatcherServiceServer;
use tokio::net::TcpListener;

pub use config::{DispatcherArgs, DispatcherSettings};
pub use error::Error;
pub use service::Dispatcher;

/// Serves the dispatcher on `listener` until `shutdown` resolves. First resumes enqueueing
/// the jobs a previous instance left unfinished; samples the queue gauges meanwhile.
pub async fn run<Q: TaskQueue, S: JobStore>(
    settings: DispatcherSettings,
    queue: Q,
    store: S,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    job_metrics::init();
    let dispatcher = Dispatcher::new(settings, queue.clone(), store.clone());
    dispatcher.resume_unfinished();
    let (basics, router) = tanksim_server::GrpcBasics::router();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let services = vec![String::new(), "tanksim.internal.v1.DispatcherService".to_owned()];
    let sampler = tokio::spawn(queue_metrics::sample(
        queue.clone(),
        settings.queue_metrics_interval,
        wait_for(stop_rx.clone()),
    ));
    let health = tokio::spawn(tanksim_server::health::monitor(
        basics.health,
        services,
        Duration::from_secs(2),
        move || {
            let (queue, store) = (queue.clone(), store.clone());
            async move { queue.ping().await.is_ok() && store.ping().await.is_ok() }
        },
        wait_for(stop_rx.clone()),
    ));
    let router = router.add_service(DispatcherServiceServer::new(dispatcher.clone()));
    let served = tanksim_server::serve(router, listener, shutdown).await;
    let _ = stop_tx.send(true);
    dispatcher.stop();
    let _ = health.await;
    let _ = sampler.await;
    served.map_err(Error::Serve)
}

async fn wait_for(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
