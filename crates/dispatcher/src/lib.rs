//! The dispatcher: turns an accepted job into chunk tasks on the Redis stream.
//!
//! - [`config`]: command-line / environment settings.
//! - [`service`]: `tanksim.internal.v1.DispatcherService` (DispatchJob, CancelJob): records the
//!   job, with its trace context, and answers at once.
//! - [`scheduler`]: keeps a bounded backlog of chunks on the stream, chosen fairly across
//!   tenants and jobs ([`fair`]), recording each job's progress so a restarted dispatcher
//!   resumes where it stopped; each task carries the trace context of its job's `enqueue`
//!   span, a child of the job's.
//! - [`job_metrics`]: jobs ended by a cancel (count and duration).
//! - [`quota_metrics`]: jobs refused by their tenant's quota.
//! - [`queue_metrics`]: the queue gauges, sampled from Redis at an interval.
//! - [`error`]: the crate's error and its gRPC status.
//!
//! [`run`] serves it on a bound listener until shutdown.

pub mod config;
pub mod error;
pub mod fair;
pub mod job_metrics;
pub mod queue_metrics;
pub mod quota_metrics;
pub mod scheduler;
pub mod service;

use std::future::Future;

use tanksim_broker::{JobStore, TaskQueue};
use tanksim_proto::internal::v1::dispatcher_service_server::DispatcherServiceServer;
use tanksim_server::Listener;
use tanksim_server::tls::Role;

pub use config::{DispatcherArgs, DispatcherSettings};
pub use error::Error;
pub use service::Dispatcher;

/// Serves the dispatcher on `listener` until `shutdown` resolves. First schedules again the
/// jobs a previous instance left unfinished; samples the queue gauges meanwhile. Ready while
/// Redis answers; at shutdown calls in flight finish within the grace period, then the
/// scheduler stops (a restarted dispatcher resumes its jobs).
pub async fn run<Q: TaskQueue, S: JobStore>(
    settings: DispatcherSettings,
    queue: Q,
    store: S,
    listener: impl Into<Listener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    job_metrics::init();
    quota_metrics::init(&settings.quotas);
    settings.quotas.keep_reloaded();
    let (dispatcher, scheduler) = Dispatcher::start(settings.clone(), queue.clone(), store.clone());
    dispatcher.resume_unfinished();
    let shell = tanksim_server::Shell::new(settings.shutdown_grace)
        // Accepts what the gateway accepts (the same limit, plus the wrapping's few bytes).
        .add_internal(
            DispatcherServiceServer::new(dispatcher.clone())
                .max_decoding_message_size(settings.limits.internal_message_bytes())
                .max_encoding_message_size(settings.limits.internal_message_bytes()),
            &[Role::Gateway],
        );
    let sampler = tokio::spawn(queue_metrics::sample(
        queue.clone(),
        settings.queue_metrics_interval,
        tanksim_server::stopped(shell.stopping()),
    ));
    let ready = move || {
        let (queue, store) = (queue.clone(), store.clone());
        async move { queue.ping().await.is_ok() && store.ping().await.is_ok() }
    };
    let served = shell.serve(listener, ready, shutdown).await;
    dispatcher.stop();
    let _ = scheduler.await;
    let _ = sampler.await;
    served.map_err(Error::Serve)
}
