//! `ExportRuns`: a dataset or sweep job's per-run rows, in run order, streamed from its rows
//! files in messages of at most [`MAX_ROWS`] rows and about [`MAX_BYTES`] bytes (rows with
//! trajectories are large; gRPC's default message limit is 4 MiB). The first message carries
//! the varied parameters' paths (and no rows if there are none yet).
//!
//! A job that has not succeeded (running, failed) exports the rows present so far up to the
//! first chunk without a file: always a prefix of the runs in run order, complete once the job
//! has SUCCEEDED (where a missing chunk file is DATA_LOSS, never a silent gap). A cancelled job
//! exports no rows: they are deleted when the cancel is observed (see `cleanup`).
//!
//! One blocking task per export reads the files; it holds at most one message being built
//! plus the channel's few, whatever the job's size, and stops when the client goes away (or
//! the service stops: its shell then ends the stream with UNAVAILABLE and drops it).

use std::sync::Arc;

use prost::Message;
use tanksim_broker::{JobKind, JobState, JobStatus, JobStore};
use tanksim_proto::convert::param_path;
use tanksim_proto::v1::{ExportRunsResponse, RunRow};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::codec;
use crate::error::Error;
use crate::rows::RowsDir;
use crate::shared::{Shared, check_job_id};

/// Rows per message at most.
pub const MAX_ROWS: usize = 1000;
/// Encoded rows per message at most (a single larger row still goes, alone).
pub const MAX_BYTES: usize = 2 << 20;

/// The response stream of `ExportRuns`.
pub type ExportStream = ReceiverStream<Result<ExportRunsResponse, Status>>;

type Sender = mpsc::Sender<Result<ExportRunsResponse, Status>>;

pub(crate) async fn export_runs<S: JobStore>(
    shared: Arc<Shared<S>>,
    tenant: &str,
    id: String,
) -> Result<ExportStream, Error> {
    check_job_id("id", &id)?;
    let status = shared.load(tenant, &id).await?;
    if status.kind == JobKind::MonteCarlo {
        return Err(Error::FailedPrecondition(
            "Monte Carlo jobs keep summaries only; submit a dataset job for per-run rows".into(),
        ));
    }
    let spec = codec::load_spec(&shared.store, &id).await?;
    let params = spec.varied_params().into_iter().map(|p| param_path(p).to_owned()).collect();
    let (tx, rx) = mpsc::channel(2);
    let rows = shared.rows.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = stream_rows(&rows, &status, params, &tx) {
            tracing::warn!(job_id = %status.id, error = %e, "export failed");
            let _ = tx.blocking_send(Err(e.into()));
        }
    });
    Ok(ReceiverStream::new(rx))
}

/// Sends every row; `Ok` also when the client went away.
fn stream_rows(rows: &RowsDir, status: &JobStatus, params: Vec<String>, tx: &Sender) -> Result<(), Error> {
    let mut batch = Batch { message: ExportRunsResponse { params, rows: Vec::new() }, bytes: 0, sent: false };
    for chunk in 0..status.chunks_total {
        let Some(mut reader) = rows.open_chunk(&status.id, chunk)? else {
            if status.state == JobState::Succeeded {
                let path = rows.chunk_path(&status.id, chunk);
                return Err(Error::corrupt(
                    format!("rows of job {}", status.id),
                    format!("{} is missing", path.display()),
                ));
            }
            break;
        };
        while let Some(row) = reader.next_row()? {
            if !batch.push(row, tx) {
                return Ok(());
            }
        }
    }
    if !batch.sent || !batch.message.rows.is_empty() {
        batch.flush(tx);
    }
    Ok(())
}

/// The message being filled.
struct Batch {
    message: ExportRunsResponse,
    bytes: usize,
    sent: bool,
}

impl Batch {
    /// Adds a row, first sending the batch if the row would overfill it. False when the
    /// client went away.
    fn push(&mut self, row: RunRow, tx: &Sender) -> bool {
        let len = row.encoded_len();
        let full = self.message.rows.len() >= MAX_ROWS || self.bytes + len > MAX_BYTES;
        if full && !self.message.rows.is_empty() && !self.flush(tx) {
            return false;
        }
        self.bytes += len;
        self.message.rows.push(row);
        true
    }

    fn flush(&mut self, tx: &Sender) -> bool {
        let rows = std::mem::take(&mut self.message.rows);
        let message = ExportRunsResponse { params: std::mem::take(&mut self.message.params), rows };
        self.bytes = 0;
        self.sent = true;
        tx.blocking_send(Ok(message)).is_ok()
    }
}
