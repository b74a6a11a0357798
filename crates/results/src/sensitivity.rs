//! A sensitivity job's Sobol' indices: each chosen metric's value in every run, read from the
//! job's rows files in chunk order, then sim-core's estimators
//! ([`tanksim_sim_core::sensitivity::estimate`]) per metric.
//!
//! The values are held in memory (validation bounds them by
//! [`tanksim_sim_core::sensitivity::MAX_VALUES`]). Chunks without a file yet are skipped: a
//! running job's indices use the base samples whose runs are all in, and say they are not
//! complete. The result is a pure function of the rows and the spec, so every replica and
//! every read gives the same bits; a finished job's result is computed once per replica and
//! kept ([`Cache`]: the bootstrap costs about a second of CPU for 65,536 base samples).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use tanksim_broker::{JobState, JobStatus, JobStore};
use tanksim_proto::convert::{metric_to_i32, param_path};
use tanksim_proto::v1::{MetricSensitivity, SensitivityResult, SobolIndex};
use tanksim_sim_core::job::{JobSpec, Sensitivity};
use tanksim_sim_core::sensitivity::estimate::{Bootstrap, Estimate, indices};
use tanksim_sim_core::sensitivity::runs_per_sample;

use crate::codec;
use crate::error::Error;
use crate::rows::RowsDir;
use crate::shared::Shared;

/// Finished jobs whose indices a replica keeps: reading them again costs nothing.
const CACHED_JOBS: usize = 64;

/// The indices of the last [`CACHED_JOBS`] finished sensitivity jobs read, by job id. Only a
/// succeeded job's complete result goes in: its rows no longer change.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    /// Oldest first.
    entries: Mutex<VecDeque<(String, SensitivityResult)>>,
}

impl Cache {
    fn get(&self, id: &str) -> Option<SensitivityResult> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.iter().find(|(key, _)| key == id).map(|(_, result)| result.clone())
    }

    fn put(&self, id: &str, result: &SensitivityResult) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.iter().any(|(key, _)| key == id) {
            return;
        }
        if entries.len() == CACHED_JOBS {
            entries.pop_front();
        }
        entries.push_back((id.to_owned(), result.clone()));
    }
}

pub(crate) async fn sensitivity_result<S: JobStore>(
    shared: &Shared<S>,
    status: &JobStatus,
) -> Result<SensitivityResult, Error> {
    let finished = status.state == JobState::Succeeded;
    if let Some(result) = finished.then(|| shared.sensitivity.get(&status.id)).flatten() {
        return Ok(result);
    }
    let result = compute_result(shared, status).await?;
    if finished && result.complete {
        shared.sensitivity.put(&status.id, &result);
    }
    Ok(result)
}

async fn compute_result<S: JobStore>(
    shared: &Shared<S>,
    status: &JobStatus,
) -> Result<SensitivityResult, Error> {
    let spec = codec::load_spec(&shared.store, &status.id).await?;
    let JobSpec::Sensitivity(job) = spec else {
        return Err(Error::corrupt(
            format!("spec of job {}", status.id),
            "a sensitivity job without its design",
        ));
    };
    let (rows, id, chunks) = (shared.rows.clone(), status.id.clone(), status.chunks_total);
    tokio::task::spawn_blocking(move || compute(&rows, &id, chunks, &job))
        .await
        .map_err(|e| Error::io(shared.rows.chunk_path(&status.id, 0), std::io::Error::other(e)))?
}

fn compute(rows: &RowsDir, id: &str, chunks: u32, job: &Sensitivity) -> Result<SensitivityResult, Error> {
    let runs = job.runs();
    let per = runs_per_sample(job.params.len()) as usize;
    let len =
        usize::try_from(runs).map_err(|_| Error::corrupt(format!("spec of job {id}"), "too many runs"))?;
    // Metric-major: metric k's value in run r at k·runs + r.
    let mut values = vec![f64::NAN; len * job.metrics.len()];
    let mut seen = vec![false; len];
    for chunk in 0..chunks {
        let Some(mut reader) = rows.open_chunk(id, chunk)? else { continue };
        while let Some(row) = reader.next_row()? {
            let Some(run) = usize::try_from(row.run).ok().filter(|r| *r < len) else {
                return Err(Error::corrupt(
                    format!("rows of job {id}"),
                    format!("run {} of {runs}", row.run),
                ));
            };
            seen[run] = true;
            for (k, metric) in job.metrics.iter().enumerate() {
                values[k * len + run] = row.metrics.get(metric.index()).copied().unwrap_or(f64::NAN);
            }
        }
    }
    // The base samples whose every run is in, in order.
    let complete: Vec<usize> =
        (0..len / per).filter(|j| seen[j * per..(j + 1) * per].iter().all(|s| *s)).collect();
    let bootstrap = Bootstrap { resamples: job.resamples, confidence: job.confidence, seed: job.seed };
    let mut outputs = Vec::with_capacity(complete.len() * per);
    let metrics = job
        .metrics
        .iter()
        .enumerate()
        .map(|(k, metric)| {
            let column = &values[k * len..(k + 1) * len];
            outputs.clear();
            for j in &complete {
                outputs.extend_from_slice(&column[j * per..(j + 1) * per]);
            }
            let got = indices(job.params.len(), &outputs, &bootstrap);
            MetricSensitivity {
                metric: metric_to_i32(*metric),
                samples_used: got.samples_used,
                samples_dropped: got.samples_dropped,
                variance: got.variance,
                first_order: got.first_order.iter().map(sobol_index).collect(),
                total_order: got.total_order.iter().map(sobol_index).collect(),
            }
        })
        .collect();
    Ok(SensitivityResult {
        params: job.params.iter().map(|p| param_path(p.param).to_owned()).collect(),
        samples: job.samples,
        confidence_level: job.confidence,
        metrics,
        complete: complete.len() as u64 == job.samples,
    })
}

fn sobol_index(e: &Estimate) -> SobolIndex {
    SobolIndex { value: e.value, lo: e.lo, hi: e.hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(samples: u64) -> SensitivityResult {
        SensitivityResult { samples, complete: true, ..SensitivityResult::default() }
    }

    #[test]
    fn the_cache_keeps_the_newest_jobs() {
        let cache = Cache::default();
        for i in 0..=CACHED_JOBS as u64 {
            cache.put(&format!("job-{i}"), &result(i));
        }
        // The oldest went out; the others are there, each with its own result.
        assert_eq!(cache.get("job-0"), None);
        assert_eq!(cache.get("job-1").map(|r| r.samples), Some(1));
        assert_eq!(cache.get(&format!("job-{CACHED_JOBS}")).map(|r| r.samples), Some(CACHED_JOBS as u64));
        // A second put of a job changes nothing (its result is the same by construction).
        cache.put("job-1", &result(99));
        assert_eq!(cache.get("job-1").map(|r| r.samples), Some(1));
    }
}
