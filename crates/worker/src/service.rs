//! The worker as a service: gRPC health on its listener and the consume loop, together
//! until shutdown, then a drain bounded by the grace period.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tanksim_broker::{JobStore, TaskQueue};
use tanksim_server::{GrpcBasics, health};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::report::ResultsClient;
use crate::{Error, WorkerSettings, chunk, consume, metrics, report};

/// How often health re-checks Redis.
const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// Runs the worker until `shutdown` resolves: serves gRPC health on `listener` (SERVING while
/// the queue and the store answer) and consumes chunks, reporting them through `results`.
/// After `shutdown`, stops reading, finishes or hands back the chunk in flight within
/// `settings.shutdown_grace`, and returns `Ok`.
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
    let grace = settings.shutdown_grace;
    let (stop_tx, stop) = watch::channel(None::<Instant>);

    let (basics, router) = GrpcBasics::router();
    let (check_queue, check_store) = (queue.clone(), store.clone());
    let check = move || {
        let (queue, store) = (check_queue.clone(), check_store.clone());
        async move { queue.ping().await.is_ok() && store.ping().await.is_ok() }
    };
    let mut health_stop = stop.clone();
    let monitor =
        tokio::spawn(health::monitor(basics.health, vec![String::new()], HEALTH_EVERY, check, async move {
            let _ = health_stop.wait_for(Option::is_some).await;
        }));
    let (server_stop_tx, server_stop) = tokio::sync::oneshot::channel::<()>();
    let server = tanksim_server::serve(router, listener, async {
        let _ = server_stop.await;
    });

    let ctx =
        chunk::Ctx { queue, store, results: report::with_limits(results), settings: Arc::new(settings) };
    let consume = consume::consume(ctx, stop);
    let request_stop = async {
        shutdown.await;
        tracing::info!(
            grace_ms = grace.as_millis(),
            "stopping: finishing or handing back the chunk in flight"
        );
        stop_tx.send_replace(Some(Instant::now() + grace));
        std::future::pending::<()>().await;
    };
    tokio::pin!(consume, server, request_stop);
    let (mut consumed, mut server_result) = (false, None);
    tokio::select! {
        () = &mut consume => consumed = true,
        () = &mut request_stop => {}
        result = &mut server => {
            // The health server died (it only stops when told to): stop consuming gracefully.
            tracing::error!(?result, "health server stopped; stopping the worker");
            stop_tx.send_replace(Some(Instant::now() + grace));
            server_result = Some(result);
        }
    }
    if !consumed {
        // With a stop requested, this finishes within the grace period.
        tokio::select! {
            () = &mut consume => {}
            () = &mut request_stop => {}
        }
    }
    let _ = server_stop_tx.send(());
    let server_result = match server_result {
        Some(result) => result,
        None => server.await,
    };
    let _ = monitor.await;
    server_result.map_err(Error::from)
}
