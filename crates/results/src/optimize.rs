//! Optimisations (see `tanksim_sim_core::optimize`): a generation per wave. The search is a
//! pure function of its *history*, the objective values of the generations run (λ per
//! generation, each a candidate's metric over its runs), which this service reads from the
//! generation's rows once its chunks are merged. The history up to the last released
//! generation is the job's wave state in the store: stored with each release, read by
//! workers to know a generation's candidates, and extended here from the rows of
//! generations past it.
//!
//! Every replica computes the same history from the same rows (a row is written once and
//! never changes), so a repeated or concurrent decision releases the same chunks with the
//! same state, and only the first release stores it.

use tanksim_broker::{JobStatus, JobStore};
use tanksim_proto::convert::{objective_to_proto, param_path};
use tanksim_proto::v1::{OptimizeCandidate, OptimizeResult, OptimizeStep, OptimizeStopReason};
use tanksim_sim_core::ChunkLayout;
use tanksim_sim_core::optimize::{Best, Next, Optimize, Stopped, history_from_bytes, history_to_bytes};

use crate::error::Error;
use crate::rows::RowsDir;
use crate::shared::Shared;
use crate::waves::Decision;

/// After the generations ending at chunk `upto` (all merged): the next generation's release
/// with the history so far, or the stop.
pub(crate) async fn after_generation<S: JobStore>(
    shared: &Shared<S>,
    status: &JobStatus,
    upto: u32,
    opt: &Optimize,
) -> Result<Decision, Error> {
    let layout = layout(status)?;
    let per = opt.runs_per_generation();
    let done = layout.runs_before(upto) / per.max(1);
    let mut history = history(shared, status, opt, upto).await?;
    // A call that another has overtaken may find a longer stored history: this wave's decision
    // is the one on its first `done` generations (and releases nothing new).
    history.truncate(usize::try_from(done * u64::from(opt.population)).unwrap_or(usize::MAX));
    let search = opt.replay(&history);
    // Every generation before `upto` is merged, so its rows are all written: a shorter history
    // would release nothing new and leave the job waiting forever. Refused instead, the report
    // is retried and, failing each time, ends the job FAILED with this reason.
    if u64::from(search.generation()) != done {
        let detail = format!(
            "{} generations in the history where {done} are merged (a rows file of the job is missing)",
            search.generation()
        );
        return Err(Error::corrupt(format!("search history of job {}", status.id), detail));
    }
    Ok(match search.next() {
        Next::Generation(g) => Decision::Release {
            chunks: layout.chunks_covering((u64::from(g) + 1).saturating_mul(per)),
            state: Some(history_to_bytes(&history)),
        },
        Next::Stop(why) => Decision::Stop { reason: format!("{why:?}") },
    })
}

/// The search's result from the history of the generations whose rows are all in.
pub(crate) async fn optimize_result<S: JobStore>(
    shared: &Shared<S>,
    status: &JobStatus,
    opt: &Optimize,
) -> Result<OptimizeResult, Error> {
    let history = history(shared, status, opt, status.chunks_total).await?;
    let search = opt.replay(&history);
    let stopped = match search.next() {
        Next::Generation(_) => OptimizeStopReason::Unspecified,
        Next::Stop(Stopped::Converged) => OptimizeStopReason::Converged,
        Next::Stop(Stopped::Degenerate) => OptimizeStopReason::Degenerate,
        Next::Stop(Stopped::Cap) => OptimizeStopReason::MaxGenerations,
    };
    let path = search
        .path()
        .iter()
        .map(|step| OptimizeStep {
            generation: step.generation,
            best: step.best.as_ref().map(candidate),
            mean: step.mean.clone(),
            width: step.width,
        })
        .collect();
    Ok(OptimizeResult {
        params: opt.params.iter().map(|b| param_path(b.param).to_owned()).collect(),
        objective: Some(objective_to_proto(opt.objective)),
        best: search.best().map(candidate),
        path,
        runs: u64::from(search.generation()) * opt.runs_per_generation(),
        stopped: stopped as i32,
        complete: stopped != OptimizeStopReason::Unspecified && status.state.is_terminal(),
    })
}

fn candidate(best: &Best) -> OptimizeCandidate {
    OptimizeCandidate {
        generation: best.generation,
        candidate: best.candidate,
        values: best.point.clone(),
        objective: best.value,
    }
}

fn layout(status: &JobStatus) -> Result<ChunkLayout, Error> {
    status.layout().ok_or_else(|| Error::corrupt(format!("job {}", status.id), "no chunk layout"))
}

/// The history of the generations within chunks `0..chunks` whose rows are all written: the
/// stored wave state, extended from the rows of the generations past it.
async fn history<S: JobStore>(
    shared: &Shared<S>,
    status: &JobStatus,
    opt: &Optimize,
    chunks: u32,
) -> Result<Vec<f64>, Error> {
    let id = status.id.as_str();
    let stored = shared.store.wave_state(id).await?;
    let mut history = history_from_bytes(&stored).ok_or_else(|| {
        Error::corrupt(format!("wave state of job {id}"), format!("{} bytes", stored.len()))
    })?;
    let lambda = opt.population as usize;
    history.truncate(history.len() / lambda.max(1) * lambda);
    let (rows, job, opt, layout) = (shared.rows.clone(), id.to_owned(), opt.clone(), layout(status)?);
    tokio::task::spawn_blocking(move || {
        extend_from_rows(&rows, &job, &opt, layout, chunks, &mut history).map(|()| history)
    })
    .await
    .map_err(|e| Error::io(shared.rows.chunk_path(id, 0), std::io::Error::other(e)))?
}

/// Appends the objective values of each generation after those in `history` whose runs lie
/// in chunks `0..chunks` and whose rows are all written; stops at the first that is not.
fn extend_from_rows(
    rows: &RowsDir,
    id: &str,
    opt: &Optimize,
    layout: ChunkLayout,
    chunks: u32,
    history: &mut Vec<f64>,
) -> Result<(), Error> {
    let (per, lambda) = (opt.runs_per_generation(), opt.population as usize);
    let metric = opt.objective.metric;
    let end = layout.runs_before(chunks.min(layout.chunks()));
    loop {
        let generation = (history.len() / lambda.max(1)) as u64;
        let runs = generation * per..(generation + 1) * per;
        if runs.end > end || per == 0 {
            return Ok(());
        }
        let mut values = Vec::with_capacity(usize::try_from(per).unwrap_or(0));
        let first = layout.chunks_covering(runs.start);
        for chunk in first..layout.chunks_covering(runs.end) {
            let Some(mut reader) = rows.open_chunk(id, chunk)? else { return Ok(()) };
            while let Some(row) = reader.next_row()? {
                if row.run != runs.start + values.len() as u64 {
                    let detail =
                        format!("run {} where run {} was due", row.run, runs.start + values.len() as u64);
                    return Err(Error::corrupt(format!("rows of job {id} chunk {chunk}"), detail));
                }
                values.push(row.metrics.get(metric.index()).copied().filter(|v| !v.is_nan()));
            }
        }
        if values.len() as u64 != per {
            let detail = format!("{} rows for the generation's {per} runs", values.len());
            return Err(Error::corrupt(format!("rows of job {id} generation {generation}"), detail));
        }
        history.extend(opt.generation_values(&values));
    }
}
