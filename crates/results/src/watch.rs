//! `WatchJob`: the job's status at once, then again whenever it changes, until it ends.
//!
//! A watcher wakes on the store's change notifications (pub/sub in Redis, so a report taken
//! by any replica wakes watchers on every replica) and re-reads the status at least every
//! `watch_poll` as well, because notifications can be lost (a Redis reconnect). Each stream is
//! one task that ends when the job ends or when the client goes away. When the service stops,
//! its shell ends the stream with UNAVAILABLE (so the client re-watches through another
//! replica) and drops it, which this task sees as its client gone.
//!
//! A watch is a `watch_job` span in the watcher's trace (under its `grpc.server` span), with a
//! link to the job's own trace (the context the dispatcher stored with the job): the watcher
//! did not cause the job, and may watch long after it started, so the job's trace is not its
//! parent. Each message sent is an event on the span.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use tanksim_broker::{JobStatus, JobStore};
use tanksim_proto::v1::WatchJobResponse;
use tanksim_server::job::job_to_proto;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::Instrument;

use crate::error::Error;
use crate::shared::{Shared, check_job_id};

/// The response stream of `WatchJob`.
pub type WatchStream = ReceiverStream<Result<WatchJobResponse, Status>>;

type Changes = Pin<Box<dyn Stream<Item = ()> + Send>>;

/// Starts watching job `id` (errors about the request or the first read come back at once).
pub(crate) async fn watch_job<S: JobStore>(
    shared: Arc<Shared<S>>,
    tenant: &str,
    id: String,
) -> Result<WatchStream, Error> {
    let span = tracing::info_span!("watch_job", job.id = %id);
    async move {
        check_job_id("id", &id)?;
        // Subscribe before the first read, so a change between the two is not missed.
        let changes = shared.store.subscribe(&id).await?;
        let first = shared.load(tenant, &id).await?;
        tanksim_telemetry::propagation::add_link(&tracing::Span::current(), &first.trace_context);
        let (tx, rx) = mpsc::channel(4);
        // The span lasts as long as the stream.
        tokio::spawn(stream_status(shared, changes, first, tx).in_current_span());
        Ok(ReceiverStream::new(rx))
    }
    .instrument(span)
    .await
}

async fn stream_status<S: JobStore>(
    shared: Arc<Shared<S>>,
    mut changes: Changes,
    mut last: JobStatus,
    tx: mpsc::Sender<Result<WatchJobResponse, Status>>,
) {
    let id = last.id.clone();
    let mut poll = tokio::time::interval(shared.watch_poll);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    poll.reset(); // the first tick would fire at once; the first status is sent below
    if !send(&tx, &last).await || last.state.is_terminal() {
        return;
    }
    loop {
        tokio::select! {
            () = tx.closed() => {
                tracing::debug!(job_id = %id, "watcher went away");
                return;
            }
            change = changes.next() => {
                if change.is_none() {
                    // Subscription gone: keep polling.
                    changes = Box::pin(futures_util::stream::pending());
                }
            }
            _ = poll.tick() => {}
        }
        let status = match shared.load(&last.tenant, &id).await {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!(job_id = %id, error = %e, "watch ends: cannot read the job");
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        if status != last {
            let terminal = status.state.is_terminal();
            if !send(&tx, &status).await || terminal {
                return;
            }
            last = status;
        }
    }
}

/// Sends `status` to the watcher (an event on the watch's span); false if it went away.
async fn send(tx: &mpsc::Sender<Result<WatchJobResponse, Status>>, status: &JobStatus) -> bool {
    let sent = tx.send(Ok(WatchJobResponse { job: Some(job_to_proto(status)) })).await.is_ok();
    if sent {
        tracing::info!(
            job.state = status.state.name(),
            runs_done = status.runs_done,
            chunks_done = status.chunks_done,
            "progress sent"
        );
    }
    sent
}
