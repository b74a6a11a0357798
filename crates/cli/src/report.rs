//! Printing a job's status and results as plain-text tables.

use std::fmt::Write;

use tanksim_proto::v1::{GetJobResultsResponse, Job, Metric, MetricSummary, SweepResult};

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

/// The per-metric summary table (and a sweep's best point).
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
    if let Some(sweep) = &results.sweep {
        out.push_str(&sweep_summary(sweep));
    }
    out
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

/// Summaries worth plotting (some values present, not all equal).
pub fn plottable(metrics: &[MetricSummary]) -> impl Iterator<Item = &MetricSummary> {
    metrics.iter().filter(|m| m.count > 0 && m.max > m.min && !m.histogram.is_empty())
}
