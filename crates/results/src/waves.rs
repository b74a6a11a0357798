//! Jobs that run in waves, adaptive Monte Carlo jobs (see `tanksim_sim_core::adaptive`) and
//! optimisations (see [`crate::optimize`]): once every released chunk is merged, the job's
//! rule decides whether it stops there or which chunks the next wave releases; and
//! `GetJobResults` reports an adaptive job's precision.
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
use tanksim_sim_core::job::JobSpec;
use tanksim_sim_core::summary::RunSummary;

use crate::error::Error;
use crate::shared::Shared;
use crate::{codec, metrics, optimize};

/// What a wave's end decides.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Release chunks up to `chunks`, storing `state` with them (what their runs depend on).
    Release { chunks: u32, state: Option<Vec<u8>> },
    /// The job needs nothing more: stop it here.
    Stop { reason: String },
}

/// After the wave that ended at chunk `upto` (every released chunk, merged into `merged`):
/// releases the next wave's chunks, or stops the job early and finishes it. Returns the
/// job's status afterwards.
pub(crate) async fn after_wave<S: JobStore>(
    shared: &Shared<S>,
    status: JobStatus,
    upto: u32,
    merged: &RunSummary,
) -> Result<JobStatus, Error> {
    let (id, store) = (status.id.as_str(), &shared.store);
    let spec = codec::load_spec(store, id).await?;
    let decision = match (&spec, spec.stop(), status.layout()) {
        (JobSpec::Optimize(opt), _, _) => optimize::after_generation(shared, &status, upto, opt).await?,
        (_, Some(stop), Some(layout)) => match stop.next(status.runs_total, merged.metric(stop.metric)) {
            Wave::Next(runs) => Decision::Release { chunks: layout.chunks_covering(runs), state: None },
            Wave::Stop(why) => Decision::Stop { reason: format!("{why:?}") },
        },
        _ => return Err(Error::corrupt(format!("job {id}"), "chunks held back without a stop rule")),
    };
    match decision {
        Decision::Release { chunks, state } => {
            let after = match state {
                Some(state) => store.release_with_state(id, chunks, &state).await?,
                None => store.release(id, chunks).await?,
            };
            let after = after.ok_or_else(|| Error::NotFound(id.to_owned()))?;
            tracing::info!(job_id = id, runs_done = merged.runs(), chunks, "next wave released");
            Ok(after)
        }
        Decision::Stop { reason } => {
            let outcome = store
                .stop_early(id, upto, merged.runs(), now_ms())
                .await?
                .ok_or_else(|| Error::NotFound(id.to_owned()))?;
            if outcome.stopped {
                tracing::info!(job_id = id, runs = merged.runs(), reason, "job stopped after its wave");
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

/// The precision an adaptive job's runs so far give its stop metric's mean or quantile.
pub(crate) fn stop_result(stop: &Stop, max_runs: u64, merged: &RunSummary) -> StopResult {
    let summary = merged.metric(stop.metric);
    let precision = stop.precision(summary);
    let (lower, upper) = precision.interval.unwrap_or((f64::NAN, f64::NAN));
    StopResult {
        metric: metric_to_i32(stop.metric),
        mean: summary.mean().unwrap_or(f64::NAN),
        half_width: precision.half_width.unwrap_or(f64::NAN),
        target_half_width: precision.target.unwrap_or(f64::NAN),
        confidence_level: stop.confidence,
        runs: precision.runs,
        values: precision.count,
        max_runs,
        target_reached: precision.reached(),
        // 0 for the mean, as in `MonteCarloStop`.
        quantile: stop.statistic.quantile().unwrap_or(0.0),
        estimate: precision.estimate.unwrap_or(f64::NAN),
        lower,
        upper,
    }
}
