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
//! - `rows`: per-run rows of dataset and sweep jobs on disk, one atomic file per chunk;
//! - `jobs`: the `JobService` handler over `watch`, `list`, `results` (with `sweep`) and
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

mod codec;
mod export;
mod jobs;
mod list;
mod merge;
mod metrics;
mod report;
mod results;
mod rows;
mod shared;
mod sweep;
mod watch;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tanksim_broker::JobStore;
use tanksim_proto::internal::v1::results_service_server::ResultsServiceServer;
use tanksim_proto::v1::job_service_server::JobServiceServer;
use tanksim_server::{GrpcBasics, health, serve};
use tokio::net::TcpListener;
use tokio::sync::watch as flag;

pub use config::{ResultsArgs, ResultsSettings};
pub use error::Error;
pub use export::{ExportStream, MAX_BYTES as EXPORT_MAX_BYTES, MAX_ROWS as EXPORT_MAX_ROWS};
pub use jobs::JobReader;
pub use report::ReportHandler;
pub use watch::WatchStream;

use crate::rows::RowsDir;
use crate::shared::Shared;

/// The largest chunk report accepted (a dataset chunk's rows with trajectories are big; the
/// dispatcher's chunk size for datasets must keep a chunk's rows under this).
pub const MAX_REPORT_BYTES: usize = 64 << 20;

/// Temporary rows files older than this are left from a crash and removed at start.
const STALE_TEMP_AGE: Duration = Duration::from_secs(15 * 60);

/// How often health re-checks the job store.
const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// The gRPC services this process carries (health reports on each, and on "").
const SERVICE_NAMES: [&str; 3] = ["", "tanksim.internal.v1.ResultsService", "tanksim.v1.JobService"];

/// Serves the results service on `listener` until `shutdown` resolves. Health is SERVING
/// while `store` answers. At shutdown open watch streams end with UNAVAILABLE (clients
/// re-watch through another replica) and other calls in flight finish.
pub async fn run<S: JobStore>(
    settings: ResultsSettings,
    store: S,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let (stop, stopping) = flag::channel(false);
    let (results, jobs) = build(&settings, store.clone(), stopping.clone());
    let (basics, router) = GrpcBasics::router();
    let router = router.add_service(results).add_service(jobs);

    let rows = RowsDir::new(&settings.data_dir);
    tokio::task::spawn_blocking(move || rows.remove_stale_temps(STALE_TEMP_AGE));

    let mut health_stop = stopping;
    let monitor = health::monitor(
        basics.health,
        SERVICE_NAMES.map(String::from).to_vec(),
        HEALTH_EVERY,
        move || {
            let store = store.clone();
            async move { store.ping().await.is_ok() }
        },
        async move {
            let _ = health_stop.wait_for(|s| *s).await;
        },
    );
    tracing::info!(addr = ?listener.local_addr().ok(), data_dir = %settings.data_dir.display(), "results service serving");
    let served = serve(router, listener, async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    // The monitor stops when shutdown starts, or when `serve` fails (dropping `stop`).
    let (served, ()) = tokio::join!(served, monitor);
    served?;
    tracing::info!("results service stopped");
    Ok(())
}

/// The two services, to mount on another server (the embedded mode). Their watch streams
/// end only with their jobs or their clients; [`run`] also ends them at shutdown.
pub fn services<S: JobStore>(
    settings: &ResultsSettings,
    store: S,
) -> (ResultsServiceServer<ReportHandler<S>>, JobServiceServer<JobReader<S>>) {
    // A dropped sender: "stopping" never becomes true.
    let (_, stopping) = flag::channel(false);
    build(settings, store, stopping)
}

fn build<S: JobStore>(
    settings: &ResultsSettings,
    store: S,
    stopping: flag::Receiver<bool>,
) -> (ResultsServiceServer<ReportHandler<S>>, JobServiceServer<JobReader<S>>) {
    metrics::init();
    let shared = Arc::new(Shared {
        store,
        rows: RowsDir::new(&settings.data_dir),
        watch_poll: settings.watch_poll,
        stopping,
    });
    let results = ResultsServiceServer::new(ReportHandler::new(shared.clone()))
        .max_decoding_message_size(MAX_REPORT_BYTES);
    (results, JobServiceServer::new(JobReader::new(shared)))
}
