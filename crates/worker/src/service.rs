//! The worker as a service: the consume loop in the service shell (gRPC health on its
//! listener), together until shutdown, then a drain bounded by the grace period.

use std::future::Future;
use std::sync::Arc;

use tanksim_broker::{JobStore, TaskQueue};
use tanksim_server::Shell;
use tokio::net::TcpListener;

use crate::report::ResultsClient;
use crate::{Error, WorkerSettings, chunk, consume, metrics, report};

/// Runs the worker until `shutdown` resolves: serves gRPC health on `listener` (SERVING while
/// the queue and the store answer) and consumes chunks, reporting them through `results`.
/// After `shutdown`, stops reading, finishes or hands back the chunk in flight within
/// `settings.shutdown_grace` (health keeps answering meanwhile), and returns `Ok`.
pub async fn run<Q: TaskQueue, S: JobStore>(
    settings: WorkerSettings,
    queue: Q,
    store: S,
    results: ResultsClient,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    settings.validate()?;
    metrics::init();
    let shell = Shell::new(settings.shutdown_grace);
    let (check_queue, check_store) = (queue.clone(), store.clone());
    let ready = move || {
        let (queue, store) = (check_queue.clone(), check_store.clone());
        async move { queue.ping().await.is_ok() && store.ping().await.is_ok() }
    };
    let ctx =
        chunk::Ctx { queue, store, results: report::with_limits(results), settings: Arc::new(settings) };
    // The loop learns of the shutdown, and its deadline, from the shell's drain.
    let consume = consume::consume(ctx, shell.stopping());
    let shutdown = async {
        shutdown.await;
        tracing::info!("stopping: finishing or handing back the chunk in flight");
    };
    shell.serve_until(listener, ready, shutdown, consume).await.map_err(Error::from)
}
