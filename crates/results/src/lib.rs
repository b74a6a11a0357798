//! tanksim's results service: what workers report becomes job state and results.
//!
//! It serves, on one listener, `tanksim.internal.v1.ResultsService` (chunk reports from
//! workers) and the read side of the public `tanksim.v1.JobService` (the gateway forwards
//! GetJob, WatchJob, ListJobs, GetJobResults and ExportRuns here), plus health and reflection.
//! Any number of replicas may run over one Redis and one data directory.
//!
//! - [`config`]: flags and the checked [`ResultsSettings`];
//! - `report`: chunk reports (checked against the job's chunk layout, recorded once per
//!   chunk) and chunk failures; `merge`: the merged prefix, in chunk order, and finishing;
//! - `rows`: per-run rows of dataset, sweep and sensitivity jobs on disk, one atomic file per
//!   chunk;
//!   `cleanup`: a cancelled job's rows are deleted;
//! - `jobs`: the `JobService` handler over `watch`, `list`, `results` (with `sweep` and
//!   `sensitivity`) and
//!   `export`; `shared`: what the handlers share; `codec`: stored bytes;
//! - `metrics`: jobs finished by kind and final state, and their duration;
//! - [`error`]: the crate's error and its gRPC status codes.
//!
//! [`run`] serves on a bound listener until a shutdown future resolves (the binary, tests,
//! the embedded `tanksim run`); [`services`] hands out the two tonic services to mount
//! elsewhere.

#![forbid(unsafe_code)]

pub mod config;
pub mod error;

mod cleanup;
mod codec;
mod export;
mod jobs;
mod list;
mod merge;
mod metrics;
mod optimize;
mod report;
mod results;
mod rows;
mod sensitivity;
mod shared;
mod sweep;
mod watch;
mod waves;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tanksim_broker::JobStore;
use tanksim_proto::MAX_CHUNK_REPORT_BYTES;
use tanksim_proto::internal::v1::results_service_server::ResultsServiceServer;
use tanksim_proto::v1::job_service_server::JobServiceServer;
use tanksim_server::tls::Role;
use tanksim_server::{Listener, Shell};

pub use config::{ResultsArgs, ResultsSettings};
pub use error::Error;
pub use export::{ExportStream, MAX_BYTES as EXPORT_MAX_BYTES, MAX_ROWS as EXPORT_MAX_ROWS};
pub use jobs::JobReader;
pub use report::ReportHandler;
pub use watch::WatchStream;

use crate::rows::RowsDir;
use crate::shared::Shared;

/// Temporary rows files older than this are left from a crash and removed at start.
const STALE_TEMP_AGE: Duration = Duration::from_secs(15 * 60);

/// Serves the results service on `listener` until `shutdown` resolves. Health is SERVING
/// while `store` answers. At shutdown open WatchJob and ExportRuns streams end with
/// UNAVAILABLE (clients re-watch through another replica) and other calls in flight finish
/// within the grace period.
pub async fn run<S: JobStore>(
    settings: ResultsSettings,
    store: S,
    listener: impl Into<Listener>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let listener = listener.into();
    let (results, jobs) = services(&settings, store.clone());
    let shell = Shell::new(settings.shutdown_grace)
        .add_internal(results, &[Role::Worker])
        .add_internal(jobs, &[Role::Gateway]);

    let rows = RowsDir::new(&settings.data_dir);
    let stale = rows.clone();
    tokio::task::spawn_blocking(move || stale.remove_stale_temps(STALE_TEMP_AGE));
    let stopping = tanksim_server::stopped(shell.stopping());
    let sweep = tokio::spawn(cleanup::sweep(
        store.clone(),
        rows,
        settings.job_retention,
        cleanup::sweep_every(settings.job_retention),
        stopping,
    ));

    let ready = move || {
        let store = store.clone();
        async move { store.ping().await.is_ok() }
    };
    tracing::info!(addr = ?listener.local_addr().ok(), data_dir = %settings.data_dir.display(), "results service serving");
    let served = shell.serve(listener, ready, shutdown).await;
    sweep.abort();
    served?;
    tracing::info!("results service stopped");
    Ok(())
}

/// The two services, to mount on another server (the embedded mode). Their streams end
/// only with their jobs or their clients; served in a [`Shell`] (as [`run`] does) they also
/// end at shutdown.
pub fn services<S: JobStore>(
    settings: &ResultsSettings,
    store: S,
) -> (ResultsServiceServer<ReportHandler<S>>, JobServiceServer<JobReader<S>>) {
    metrics::init();
    let shared = Arc::new(Shared {
        store,
        rows: RowsDir::new(&settings.data_dir),
        watch_poll: settings.watch_poll,
        sensitivity: Default::default(),
    });
    let results = ResultsServiceServer::new(ReportHandler::new(shared.clone()))
        .max_decoding_message_size(MAX_CHUNK_REPORT_BYTES);
    // The gateway forwards the public calls here: the same message limit as the edge's.
    let max = settings.max_message_bytes;
    let jobs = JobServiceServer::new(JobReader::new(shared))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    (results, jobs)
}
