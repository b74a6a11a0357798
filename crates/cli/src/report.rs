//! Printing a job's status and results as plain-text tables.

use std::fmt::Write;

use tanksim_proto::v1::{
    GetJobResultsResponse, Job, Metric, MetricSummary, OptimizeResult, OptimizeStopReason, SensitivityResult,
    SobolIndex, StopResult, SweepResult,
};

use crate::client::state_name;

/// One line per job: id, state, progress, name.
pub fn job_line(job: &Job) -> String {
    let p = job.progress.unwrap_or_default();
    let error = if job.error.is_empty() { String::new() } else { format!("  ({})", job.error) };
    format!(
        "{}  {:<9}  {:>12}/{:<12} runs  {}{}",
        job.id,
        state_name(job.state()),
        p.runs_done,
        p.runs_total,
        job.name,
        error
    )
}

/// The per-metric summary table (and a sweep's best point, a sensitivity job's indices).
pub fn results_table(results: &GetJobResultsResponse) -> String {
    let mut out = String::new();
    if let Some(job) = &results.job {
        let _ = writeln!(out, "{}\n", job_line(job));
    }
    let _ = writeln!(
        out,
        "{:<20} {:>9} {:>7} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "metric", "count", "absent", "mean", "std", "min", "p5", "p50", "p95", "max"
    );
    for m in &results.metrics {
        let _ = writeln!(
            out,
            "{:<20} {:>9} {:>7} {} {} {} {} {} {} {}",
            metric_name(m.metric()),
            m.count,
            m.absent,
            num(m.mean),
            num(m.std),
            num(m.min),
            num(m.p5),
            num(m.p50),
            num(m.p95),
            num(m.max)
        );
    }
    if !results.metrics.is_empty() {
        let worst = results.metrics.iter().map(|m| m.quantile_rank_error).fold(0.0, f64::max);
        let _ = writeln!(out, "{}", quantile_note(worst));
    }
    if let Some(sweep) = &results.sweep {
        out.push_str(&sweep_summary(sweep));
    }
    if let Some(sensitivity) = &results.sensitivity {
        out.push_str(&sensitivity_table(sensitivity));
    }
    if let Some(stop) = &results.stop {
        out.push_str(&stop_summary(stop));
    }
    if let Some(optimize) = &results.optimize {
        out.push_str(&optimize_summary(optimize));
    }
    out
}

/// How exact the table's quantiles are: exact, or the worst metric's rank-error bound.
fn quantile_note(rank_error: f64) -> String {
    if rank_error > 0.0 {
        format!(
            "p5/p50/p95: each within {:.2} % of the runs in rank of the exact one (99 % bound)",
            100.0 * rank_error
        )
    } else {
        "p5/p50/p95: exact".to_string()
    }
}

/// Rows of an optimisation's path the table shows; longer paths show every k-th generation
/// (and always the last).
const PATH_ROWS: usize = 25;

/// An optimisation's path (a row per generation: its best objective, the search's mean and
/// width) and its best point.
fn optimize_summary(result: &OptimizeResult) -> String {
    let mut out = String::new();
    let objective = result.objective.map(|o| metric_name(o.metric())).unwrap_or("objective");
    let _ = writeln!(
        out,
        "
CMA-ES path ({} generations, {} runs)",
        result.path.len(),
        result.runs
    );
    let width = result.params.iter().map(|p| p.len().max(12)).collect::<Vec<_>>();
    let mut header = format!("{:>10} {:>14}", "generation", format!("best {objective}"));
    for (p, w) in result.params.iter().zip(&width) {
        let _ = write!(header, " {:>w$}", format!("mean {p}"), w = w + 5);
    }
    let _ = writeln!(out, "{header} {:>10}", "width");
    let every = result.path.len().div_ceil(PATH_ROWS).max(1);
    for (i, step) in result.path.iter().enumerate() {
        if i % every != 0 && i + 1 != result.path.len() {
            continue;
        }
        let best = step.best.as_ref().map_or(f64::NAN, |b| b.objective);
        let mut row = format!("{:>10} {:>14}", step.generation, num(best).trim());
        for (v, w) in step.mean.iter().zip(&width) {
            let _ = write!(row, " {:>w$}", num(*v).trim(), w = w + 5);
        }
        let _ = writeln!(out, "{row} {:>10.2e}", step.width);
    }
    let verdict = match result.stopped() {
        OptimizeStopReason::Converged => "converged",
        OptimizeStopReason::Degenerate => "stopped: the search distribution degenerated",
        OptimizeStopReason::MaxGenerations => "stopped at max_generations",
        OptimizeStopReason::Unspecified => "still searching",
    };
    match &result.best {
        Some(best) => {
            let point: Vec<String> =
                result.params.iter().zip(&best.values).map(|(p, v)| format!("{p} = {v:.6}")).collect();
            let _ = writeln!(
                out,
                "\nbest point (generation {}, candidate {}): {}  ->  {objective} = {:.6}  ({verdict})",
                best.generation,
                best.candidate,
                point.join(", "),
                best.objective
            );
        }
        None => {
            let _ = writeln!(out, "\nno candidate with a finite {objective} yet ({verdict})");
        }
    }
    out
}

/// An adaptive job's precision: the interval of its metric's mean or quantile, the target
/// and the runs.
fn stop_summary(stop: &StopResult) -> String {
    let verdict = if stop.target_reached {
        "target reached"
    } else if stop.runs >= stop.max_runs {
        "stopped at the run cap, target not reached"
    } else {
        "target not reached yet"
    };
    let statistic = match stop.quantile {
        0.0 => "mean".to_owned(),
        // p95, p97.5, p99.9: the percentile, to six decimals.
        q => format!("p{}", (100.0 * q * 1e6).round() / 1e6),
    };
    let interval = if stop.lower.is_nan() {
        "no interval yet".to_owned()
    } else {
        format!("[{}, {}]", num(stop.lower).trim(), num(stop.upper).trim())
    };
    format!(
        "
{statistic} {} = {} +- {} {interval} ({:.0} % confidence; target +- {}) after {} of at most {} runs: {verdict}\n",
        metric_name(stop.metric()),
        num(stop.estimate).trim(),
        num(stop.half_width).trim(),
        100.0 * stop.confidence_level,
        num(stop.target_half_width).trim(),
        stop.runs,
        stop.max_runs,
    )
}

/// Each metric's first-order (S1) and total (ST) index per parameter, with intervals.
fn sensitivity_table(result: &SensitivityResult) -> String {
    let mut out = String::new();
    let partial = if result.complete { "" } else { ", partial: the job is not finished" };
    let _ = writeln!(
        out,
        "\nSobol' indices ({} base samples, {:.0} % confidence intervals{partial})",
        result.samples,
        100.0 * result.confidence_level
    );
    let width = result.params.iter().map(String::len).max().unwrap_or(0).max(9);
    let _ =
        writeln!(out, "{:<20} {:<width$} {:>26} {:>26}", "metric", "parameter", "first order S1", "total ST");
    for m in &result.metrics {
        for (i, param) in result.params.iter().enumerate() {
            let index = |list: &[SobolIndex]| list.get(i).map_or_else(|| format!("{:>26}", "-"), interval);
            let _ = writeln!(
                out,
                "{:<20} {param:<width$} {} {}",
                metric_name(m.metric()),
                index(&m.first_order),
                index(&m.total_order)
            );
        }
        if m.samples_dropped > 0 {
            let _ = writeln!(
                out,
                "{:<20} ({} of {} base samples left out: a run without a finite {})",
                "",
                m.samples_dropped,
                m.samples_dropped + m.samples_used,
                metric_name(m.metric())
            );
        }
    }
    out
}

/// `0.412 [0.380, 0.440]` in a 26-wide column.
fn interval(index: &SobolIndex) -> String {
    let bound = |v: f64| if v.is_finite() { format!("{v:.3}") } else { "-".to_owned() };
    format!("{:>26}", format!("{:.3} [{}, {}]", index.value, bound(index.lo), bound(index.hi)))
}

fn sweep_summary(sweep: &SweepResult) -> String {
    let mut out = String::new();
    let objective = sweep.objective.map(|o| metric_name(o.metric())).unwrap_or("objective");
    if let Some(best) = &sweep.best {
        let point: Vec<String> =
            sweep.params.iter().zip(&best.values).map(|(p, v)| format!("{p} = {v:.6}")).collect();
        let _ = writeln!(
            out,
            "\nbest point (run {}): {}  ->  {objective} = {}",
            best.run,
            point.join(", "),
            best.objective.map_or("-".to_owned(), |v| format!("{v:.6}"))
        );
    }
    out
}

/// A number in a 12-wide column (`-` when absent).
fn num(v: f64) -> String {
    if v.is_nan() {
        format!("{:>12}", "-")
    } else if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        format!("{v:>12.4e}")
    } else {
        format!("{v:>12.5}")
    }
}

/// The snake_case name of a metric.
pub fn metric_name(metric: Metric) -> &'static str {
    tanksim_proto::convert::metric_from_i32(metric as i32).map_or("unspecified", |m| m.name())
}

/// The unit of a metric's values, for axis labels; empty when it has none worth printing.
///
/// Levels in metres and times in seconds; `u` is the controller output (the plant input).
/// Overflow has none: the model counts spilled `(h - h_max) * area` with `area` unitless.
pub fn metric_unit(metric: Metric) -> &'static str {
    match metric {
        Metric::OvershootPct => "%",
        Metric::RiseTime | Metric::SettlingTime | Metric::PeakTime => "s",
        Metric::Peak | Metric::SteadyStateError | Metric::FinalLevel => "m",
        Metric::Iae => "m·s",
        Metric::Ise => "m²·s",
        Metric::Itae => "m·s²",
        Metric::ControlEffort => "u·s",
        Metric::SaturatedFraction => "fraction",
        Metric::Overflow | Metric::Unspecified => "",
    }
}

/// Summaries worth plotting (some values present, not all equal).
pub fn plottable(metrics: &[MetricSummary]) -> impl Iterator<Item = &MetricSummary> {
    metrics.iter().filter(|m| m.count > 0 && m.max > m.min && !m.histogram.is_empty())
}
