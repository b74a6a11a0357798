//! A sweep's table: every grid point's axis values and objective, read from the job's rows
//! files in chunk order (run order), and the best point.
//!
//! The files are streamed (one row in memory at a time); only the points returned (at most
//! `max_points`) and the best are kept. Chunks without a file yet are skipped, so a running
//! job's table has the points reported so far, still in run order. The best point has the
//! smallest (minimise) or largest (maximise) finite objective; ties go to the lowest run
//! index; a point whose objective is absent (NaN) or infinite is never the best.

use tanksim_broker::{JobStatus, JobStore};
use tanksim_proto::convert::{metrics_from_row, objective_to_proto, param_path};
use tanksim_proto::v1::{SweepPoint, SweepResult};
use tanksim_sim_core::job::{Goal, JobSpec, Objective};

use crate::codec;
use crate::error::Error;
use crate::rows::RowsDir;
use crate::shared::Shared;

pub(crate) async fn sweep_result<S: JobStore>(
    shared: &Shared<S>,
    status: &JobStatus,
    max_points: usize,
) -> Result<SweepResult, Error> {
    let spec = codec::load_spec(&shared.store, &status.id).await?;
    let JobSpec::Sweep(sweep) = &spec else {
        return Err(Error::corrupt(format!("spec of job {}", status.id), "a sweep job without a sweep"));
    };
    let objective = sweep.objective;
    let params = spec.varied_params().into_iter().map(|p| param_path(p).to_owned()).collect();
    let (rows, id, chunks) = (shared.rows.clone(), status.id.clone(), status.chunks_total);
    let table = tokio::task::spawn_blocking(move || scan(&rows, &id, chunks, objective, max_points))
        .await
        .map_err(|e| Error::io(shared.rows.chunk_path(&status.id, 0), std::io::Error::other(e)))??;
    Ok(SweepResult {
        params,
        objective: Some(objective_to_proto(objective)),
        best: table.best.map(|(_, point)| point),
        complete: table.seen == status.runs_total && table.points.len() as u64 == table.seen,
        points: table.points,
    })
}

#[derive(Debug, Default)]
struct Table {
    best: Option<(f64, SweepPoint)>,
    points: Vec<SweepPoint>,
    /// Rows read.
    seen: u64,
}

fn scan(
    rows: &RowsDir,
    id: &str,
    chunks: u32,
    objective: Objective,
    max_points: usize,
) -> Result<Table, Error> {
    let mut table = Table::default();
    for chunk in 0..chunks {
        let Some(mut reader) = rows.open_chunk(id, chunk)? else { continue };
        while let Some(row) = reader.next_row()? {
            table.seen += 1;
            let value = metrics_from_row(&row).get(objective.metric).filter(|v| !v.is_nan());
            let point = SweepPoint { run: row.run, values: row.params, objective: value };
            if let Some(v) = value.filter(|v| v.is_finite())
                && table.best.as_ref().is_none_or(|(best, _)| better(objective.goal, v, *best))
            {
                table.best = Some((v, point.clone()));
            }
            if table.points.len() < max_points {
                table.points.push(point);
            }
        }
    }
    Ok(table)
}

/// Strictly better, so the first (lowest run) of equal values stays the best.
fn better(goal: Goal, candidate: f64, best: f64) -> bool {
    match goal {
        Goal::Minimize => candidate < best,
        Goal::Maximize => candidate > best,
    }
}
