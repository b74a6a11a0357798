//! Simulating one chunk: its run range split into contiguous sub-ranges, one per thread, and
//! the metrics summarised afterwards in run order, so the summary is bit-identical whatever
//! the thread count (and equal to summarising `simulate_batch` of the same configurations).

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use tanksim_proto::convert::run_row;
use tanksim_proto::v1;
use tanksim_sim_core::batch::{LANES, simulate_batch};
use tanksim_sim_core::config::Recording;
use tanksim_sim_core::job::RunMap;
use tanksim_sim_core::simulate::simulate;
use tanksim_sim_core::summary::RunSummary;
use tanksim_sim_core::{Metric, RunMetrics};

/// Runs simulated between two looks at the cancel flag: a multiple of the batch kernel's
/// lane count, small enough (a few milliseconds) that a hand-back at shutdown is prompt.
const BLOCK: u64 = 16 * LANES as u64;

/// Which per-run rows a job wants besides the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// Monte Carlo: the summary is the product.
    None,
    /// Sweeps and sensitivity jobs: parameters and metrics of every run.
    Values,
    /// Datasets: parameters, metrics and the decimated trajectory the job's recording keeps.
    WithTrajectories,
}

/// What a chunk produced.
#[derive(Debug, Default)]
pub(crate) struct ChunkOutput {
    pub(crate) summary: RunSummary,
    /// In run order; empty for [`Rows::None`].
    pub(crate) rows: Vec<v1::RunRow>,
}

/// Simulates runs `runs` of `spec` (a job's spec, or an optimisation's generation) on
/// `threads` threads, summarised into a copy of `empty` (the job's empty summary, see
/// `JobSpec::summary`). `None` if `cancel` was raised before it finished (the partial work is
/// dropped).
pub(crate) fn compute<M: RunMap>(
    spec: &M,
    empty: &RunSummary,
    runs: Range<u64>,
    rows: Rows,
    threads: usize,
    cancel: &AtomicBool,
) -> Option<ChunkOutput> {
    let jobs = split(runs, threads).into_iter().map(|range| move || simulate_part(spec, range, rows, cancel));
    let parts = in_parallel(jobs.collect()).into_iter().collect::<Option<Vec<Part>>>()?;
    let summary = summarise(empty, &parts, threads);
    Some(ChunkOutput { summary, rows: parts.into_iter().flat_map(|p| p.rows).collect() })
}

/// Each metric's summary takes the runs in run order, exactly as [`RunSummary::add`] feeds
/// it (so the bits are the same), with the metrics spread over threads: run by run on one
/// thread, summarising would cost a sixth of the simulation time.
fn summarise(empty: &RunSummary, parts: &[Part], threads: usize) -> RunSummary {
    let runs = || parts.iter().flat_map(|p| &p.metrics);
    let mut summaries = empty.clone().into_metrics();
    let per_thread = Metric::COUNT.div_ceil(threads.clamp(1, Metric::COUNT));
    let jobs =
        summaries.chunks_mut(per_thread).zip(Metric::ALL.chunks(per_thread)).map(|(summaries, metrics)| {
            move || {
                for run in runs() {
                    for (summary, &metric) in summaries.iter_mut().zip(metrics) {
                        summary.add(run.get(metric));
                    }
                }
            }
        });
    in_parallel(jobs.collect());
    RunSummary::from_metrics(summaries).unwrap_or_else(|_| {
        // Unreachable (every metric saw every run); the plain way is correct regardless.
        let mut summary = empty.clone();
        runs().for_each(|run| summary.add(run));
        summary
    })
}

/// Runs `jobs` on scoped threads (this thread takes the first) and returns their results in
/// order. A panic in a job (a bug) is re-raised here, on the blocking task, where the consume
/// loop turns it into a failed chunk.
fn in_parallel<T: Send, F: FnOnce() -> T + Send>(jobs: Vec<F>) -> Vec<T> {
    std::thread::scope(|scope| {
        let mut jobs = jobs.into_iter();
        let Some(first) = jobs.next() else { return Vec::new() };
        let handles: Vec<_> = jobs.map(|job| scope.spawn(job)).collect();
        let mut results = vec![first()];
        results
            .extend(handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))));
        results
    })
}

/// `threads` contiguous sub-ranges covering `runs` (fewer if there are fewer runs), in order.
fn split(runs: Range<u64>, threads: usize) -> Vec<Range<u64>> {
    let n = runs.end.saturating_sub(runs.start);
    let parts = u64::try_from(threads.max(1)).unwrap_or(1).min(n.max(1));
    let size = n.div_ceil(parts);
    (0..parts)
        .map(|i| {
            let start = runs.start + (i * size).min(n);
            start..(start + size).min(runs.end)
        })
        .filter(|r| !r.is_empty() || n == 0)
        .collect()
}

struct Part {
    metrics: Vec<RunMetrics>,
    rows: Vec<v1::RunRow>,
}

fn simulate_part<M: RunMap>(spec: &M, runs: Range<u64>, rows: Rows, cancel: &AtomicBool) -> Option<Part> {
    let len = usize::try_from(runs.end - runs.start).unwrap_or(0);
    let mut part = Part { metrics: Vec::with_capacity(len), rows: Vec::new() };
    if rows != Rows::None {
        part.rows.reserve(len);
    }
    let (mut configs, mut params, mut trajectories) = (Vec::new(), Vec::new(), Vec::new());
    // A dataset without trajectories (record_every 0) keeps the batch kernel's speed.
    let recording = rows == Rows::WithTrajectories && spec.base().record != Recording::None;
    let mut start = runs.start;
    while start < runs.end {
        if cancel.load(Ordering::Relaxed) {
            return None;
        }
        let end = (start + BLOCK).min(runs.end);
        spec.configs(start..end, &mut configs);
        let first = part.metrics.len();
        if recording {
            // Recording runs take the one-run kernel (the batch kernel would do the same
            // for them, and drop the trajectory).
            trajectories.clear();
            for config in &configs {
                let run = simulate(config);
                part.metrics.push(run.metrics);
                trajectories.push(run.trajectory);
            }
        } else {
            simulate_batch(&configs, &mut part.metrics);
        }
        if rows != Rows::None {
            for (i, run) in (start..end).enumerate() {
                spec.run_params(run, &mut params);
                let trajectory = trajectories.get(i).and_then(Option::as_ref);
                part.rows.push(run_row(run, &params, &part.metrics[first + i], trajectory));
            }
        }
        start = end;
    }
    Some(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tanksim_sim_core::job::JobSpec;

    #[test]
    fn splits_cover_the_range_in_order() {
        assert_eq!(split(10..20, 3), [10..14, 14..18, 18..20]);
        assert_eq!(split(0..2, 4), [0..1, 1..2]);
        assert_eq!(split(5..6, 1), vec![5..6]);
        assert_eq!(split(7..7, 2), vec![7..7]);
        for threads in 1..9 {
            let parts = split(100..1_103, threads);
            assert_eq!(parts.len(), threads);
            assert_eq!(parts.first().map(|r| r.start), Some(100));
            assert!(parts.windows(2).all(|w| w[0].end == w[1].start));
            assert_eq!(parts.last().map(|r| r.end), Some(1_103));
        }
    }

    fn bits(summary: &RunSummary) -> Vec<[u64; 7]> {
        let parts = summary.metrics().iter().map(|m| m.to_parts());
        parts
            .map(|p| {
                [
                    p.count,
                    p.absent,
                    p.non_finite,
                    p.mean.to_bits(),
                    p.m2.to_bits(),
                    p.min.to_bits(),
                    p.max.to_bits(),
                ]
            })
            .collect()
    }

    #[test]
    fn any_thread_count_gives_the_bits_of_summarising_the_batch_kernel_run_by_run() {
        let dist = tanksim_sim_core::distribution::Distribution::Uniform { lo: 0.5, hi: 30.0 };
        let spec = JobSpec::MonteCarlo(tanksim_sim_core::job::MonteCarlo {
            base: tanksim_sim_core::SimConfig::mc_tau(10.0),
            runs: 1_000,
            seed: 9,
            params: vec![tanksim_sim_core::job::ParamDist { param: tanksim_sim_core::Param::Tau, dist }],
            sampling: tanksim_sim_core::sampling::Sampling::Random,
            stop: None,
        });
        let (mut configs, mut metrics) = (Vec::new(), Vec::new());
        spec.configs(100..701, &mut configs);
        simulate_batch(&configs, &mut metrics);
        let mut expected = RunSummary::new();
        metrics.iter().for_each(|m| expected.add(m));
        for threads in [1, 2, 3, 5, 13, 16] {
            let out =
                compute(&spec, &RunSummary::new(), 100..701, Rows::None, threads, &AtomicBool::new(false))
                    .expect("not cancelled");
            assert_eq!(bits(&out.summary), bits(&expected), "{threads} threads");
            assert_eq!(out.summary, expected, "{threads} threads");
        }
    }

    #[test]
    fn a_raised_cancel_flag_stops_the_chunk() {
        let spec = JobSpec::MonteCarlo(tanksim_sim_core::job::MonteCarlo {
            base: tanksim_sim_core::SimConfig::mc_tau(10.0),
            runs: 1_000,
            seed: 1,
            params: Vec::new(),
            sampling: tanksim_sim_core::sampling::Sampling::Random,
            stop: None,
        });
        assert!(
            compute(&spec, &RunSummary::new(), 0..1_000, Rows::None, 2, &AtomicBool::new(true)).is_none()
        );
        let out = compute(&spec, &RunSummary::new(), 0..40, Rows::Values, 2, &AtomicBool::new(false))
            .expect("not cancelled");
        assert_eq!((out.summary.runs(), out.rows.len()), (40, 40));
        assert_eq!(out.rows.iter().map(|r| r.run).collect::<Vec<_>>(), (0..40).collect::<Vec<_>>());
    }
}
