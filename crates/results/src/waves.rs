//! Adaptive Monte Carlo jobs, which run in waves (see `tanksim_sim_core::adaptive`): once every
//! released chunk is merged, the merged prefix decides whether the job stops there or which
//! chunks the next wave releases; and `GetJobResults` reports the precision reached.
//!
//! The decision is a pure function of the spec and the merged prefix, which is bit-identical
//! however the job was split among workers, so every replica (and a duplicate report's
//! repeat of the decision) decides the same: releasing only raises `chunks_released`, and
//! stopping early at the same chunk twice changes nothing the second time.

use tanksim_broker::{JobStatus, JobStore};
use tanksim_proto::convert::metric_to_i32;
use tanksim_proto::v1::StopResult;
use tanksim_server::job::now_ms;
use tanksim_sim_core::adaptive::{Stop, Wave};
use tanksim_sim_core::summary::RunSummary;

use crate::codec;
use crate::error::Error;
use crate::metrics;

/// After the wave that ended at chunk `upto` (every released chunk, merged into `merged`):
/// releases the next wave's chunks, or stops the job early and finishes it. Returns the
/// job's status afterwards.
pub(crate) async fn after_wave<S: JobStore>(
    store: &S,
    status: JobStatus,
    upto: u32,
    merged: &RunSummary,
) -> Result<JobStatus, Error> {
    let id = status.id.as_str();
    let spec = codec::load_spec(store, id).await?;
    let (Some(stop), Some(layout)) = (spec.stop(), status.layout()) else {
        return Err(Error::corrupt(format!("job {id}"), "chunks held back without a stop rule"));
    };
    match stop.next(status.runs_total, merged.metric(stop.metric)) {
        Wave::Next(runs) => {
            let chunks = layout.chunks_covering(runs);
            let after = store.release(id, chunks).await?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
            tracing::info!(
                job_id = id,
                runs_done = merged.runs(),
                next_wave_ends_at = runs,
                chunks,
                "next wave released"
            );
            Ok(after)
        }
        Wave::Stop(why) => {
            let outcome = store
                .stop_early(id, upto, merged.runs(), now_ms())
                .await?
                .ok_or_else(|| Error::NotFound(id.to_owned()))?;
            if outcome.stopped {
                tracing::info!(job_id = id, runs = merged.runs(), reason = ?why, "adaptive job stopped");
                // At a wave's end the job has chunks past `upto`, so the call that ends it is
                // the one that cuts it; a repeat has nothing left to cut (`stopped: false`).
                if outcome.status.state.is_terminal() {
                    metrics::job_ended(&outcome.status);
                }
            }
            Ok(outcome.status)
        }
    }
}

/// The precision an adaptive job's runs so far give its stop metric's mean.
pub(crate) fn stop_result(stop: &Stop, max_runs: u64, merged: &RunSummary) -> StopResult {
    let precision = stop.precision(merged.metric(stop.metric));
    StopResult {
        metric: metric_to_i32(stop.metric),
        mean: precision.mean.unwrap_or(f64::NAN),
        half_width: precision.half_width.unwrap_or(f64::NAN),
        target_half_width: precision.target.unwrap_or(f64::NAN),
        confidence_level: stop.confidence,
        runs: precision.runs,
        values: precision.count,
        max_runs,
        target_reached: precision.reached(),
    }
}
