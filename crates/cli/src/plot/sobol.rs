//! A sensitivity job's Sobol' indices as a bar chart per metric: a row per parameter with its
//! first-order (S1) and total (ST) index as horizontal bars, each with its confidence interval.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tanksim_proto::v1::{MetricSensitivity, SensitivityResult, SobolIndex};

use super::axes::{self, Frame, Linear, escape};
use super::ticks::{self, compact};
use crate::report::metric_name;

/// Height of one parameter's row, of one bar in it, and the gap between its two bars.
const ROW: f64 = 40.0;
const BAR: f64 = 13.0;
const BAR_GAP: f64 = 3.0;
/// Width of the plotting area; the left margin grows with the longest parameter path.
const PLOT_WIDTH: f64 = 480.0;
/// Width of one character of the 12 px row labels, generously.
const LABEL_CHAR: f64 = 7.0;
/// The drawn index range never goes past these (indices from few samples can stray far).
const CLAMP: (f64, f64) = (-0.2, 1.2);
const S1_COLOUR: &str = "#4c78a8";
const ST_COLOUR: &str = "#f58518";

/// Writes `<dir>/sobol-<metric>.svg` for each metric of the result; returns the files written.
pub fn sensitivity_charts(dir: &Path, result: &SensitivityResult) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for m in &result.metrics {
        let path = dir.join(format!("sobol-{}.svg", metric_name(m.metric())));
        std::fs::write(&path, sobol_svg(result, m)).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// One metric's Sobol' indices: per parameter of `result`, its first-order and total index as
/// bars with their confidence intervals as whiskers (bounds that are NaN are left out).
pub fn sobol_svg(result: &SensitivityResult, metric: &MetricSensitivity) -> String {
    let rows = result.params.len().max(1) as f64;
    let widest = result.params.iter().map(|p| p.chars().count()).max().unwrap_or(0) as f64;
    let left = (widest * LABEL_CHAR + 24.0).max(90.0);
    let f = Frame {
        width: left + PLOT_WIDTH + 30.0,
        height: 64.0 + rows * ROW + 84.0,
        left,
        right: 30.0,
        top: 64.0,
        bottom: 84.0,
    };
    let (lo, hi) = (metric.first_order.iter().chain(&metric.total_order))
        .flat_map(|s| [s.value, s.lo, s.hi])
        .filter(|v| v.is_finite())
        .fold((0.0f64, 1.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = (lo.max(CLAMP.0), hi.min(CLAMP.1));
    let x = Linear { d0: lo, d1: hi, p0: f.x0(), p1: f.x1() };
    let x_ticks = axes::placed(&ticks::nice_ticks(lo, hi), |v| x.at(v));

    let name = metric_name(metric.metric());
    let confidence = Some(result.confidence_level * 100.0).filter(|c| *c > 0.0 && *c < 100.0).map(compact);
    let ci = confidence.as_ref().map_or_else(String::new, |c| format!(", {c}% CI"));
    let title = format!("{name} — Sobol' indices (n = {} base samples{ci})", metric.samples_used);
    let mut svg = axes::header(&f, 12.0, &title);
    subtitle(&mut svg, result, metric);
    for i in (0..result.params.len()).step_by(2) {
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{ROW}" fill="#f6f6f6"/>"##,
            f.x0(),
            f.y1() + i as f64 * ROW,
            f.x1() - f.x0()
        );
    }
    axes::x_grid(&mut svg, &f, &x_ticks);
    let zero = x.at(0.0);
    let _ = write!(
        svg,
        r##"<line x1="{zero:.1}" y1="{:.1}" x2="{zero:.1}" y2="{:.1}" stroke="#444" stroke-width="1.2"/>"##,
        f.y1(),
        f.y0()
    );
    for (i, param) in result.params.iter().enumerate() {
        let row_top = f.y1() + i as f64 * ROW;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
            f.x0() - 8.0,
            row_top + ROW / 2.0 + 4.0,
            escape(param)
        );
        let first_bar = row_top + (ROW - 2.0 * BAR - BAR_GAP) / 2.0;
        for (k, (class, label, colour, list)) in
            [("s1", "S1", S1_COLOUR, &metric.first_order), ("st", "ST", ST_COLOUR, &metric.total_order)]
                .into_iter()
                .enumerate()
        {
            let y = first_bar + k as f64 * (BAR + BAR_GAP);
            bar(&mut svg, &x, y, (class, label, colour), param, list.get(i));
        }
    }
    axes::x_axis(&mut svg, &f, &x_ticks, "Sobol' index");
    legend(&mut svg, &f, confidence.as_deref());
    svg.push_str("</svg>\n");
    svg
}

/// A line under the title when the indices rest on less than the whole design.
fn subtitle(svg: &mut String, result: &SensitivityResult, metric: &MetricSensitivity) {
    let mut notes = Vec::new();
    if !result.complete {
        notes.push("partial: the job is not finished".to_owned());
    }
    if metric.samples_dropped > 0 {
        notes.push(format!(
            "{} of {} base samples left out (a run without a finite value)",
            metric.samples_dropped,
            metric.samples_dropped.saturating_add(metric.samples_used)
        ));
    }
    if !notes.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="12" y="44" font-size="11" fill="#666">{}</text>"##,
            escape(&notes.join("; "))
        );
    }
}

/// One index's bar from 0 (held to the drawn range), its whisker and a tooltip; `n/a` when
/// the index is missing or not finite.
fn bar(
    svg: &mut String,
    x: &Linear,
    y: f64,
    style: (&str, &str, &str),
    param: &str,
    index: Option<&SobolIndex>,
) {
    let (class, label, colour) = style;
    let bound = |v: f64| if v.is_finite() { compact(v) } else { "-".to_owned() };
    let Some(s) = index.filter(|s| s.value.is_finite()) else {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#666">{label} n/a<title>{} {label}: no value</title></text>"##,
            x.at(0.0) + 4.0,
            y + BAR - 3.0,
            escape(param)
        );
        return;
    };
    let (x0, xv) = (x.clamped(0.0), x.clamped(s.value));
    let _ = write!(
        svg,
        r#"<rect class="bar {class}" x="{:.1}" y="{y:.1}" width="{:.1}" height="{BAR}" fill="{colour}"><title>{} {label} = {} [{}, {}]</title></rect>"#,
        x0.min(xv),
        (xv - x0).abs().max(1.0),
        escape(param),
        compact(s.value),
        bound(s.lo),
        bound(s.hi)
    );
    let ends: Vec<f64> = [s.lo, s.hi].into_iter().filter(|v| v.is_finite()).collect();
    let mid = y + BAR / 2.0;
    let (from, to) = match ends[..] {
        [a, b] => (a, b),
        [a, ..] => (s.value, a),
        [] => return,
    };
    let _ = write!(
        svg,
        r#"<g class="ci" stroke="black" stroke-width="1.2"><line x1="{:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}"/>"#,
        x.clamped(from),
        x.clamped(to)
    );
    for e in ends {
        let xe = x.at(e);
        if xe == x.clamped(e) {
            let _ = write!(
                svg,
                r#"<line x1="{xe:.1}" y1="{:.1}" x2="{xe:.1}" y2="{:.1}"/>"#,
                mid - 4.0,
                mid + 4.0
            );
        }
    }
    svg.push_str("</g>");
}

/// Swatches for S1 and ST and a whisker for the interval, under the axis title.
fn legend(svg: &mut String, f: &Frame, confidence: Option<&str>) {
    let y = f.y0() + 60.0;
    let mut x = f.x0();
    for (colour, text) in [(S1_COLOUR, "first order S1"), (ST_COLOUR, "total ST")] {
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{:.1}" width="14" height="10" fill="{colour}"/><text x="{:.1}" y="{y:.1}" font-size="11">{text}</text>"#,
            y - 9.0,
            x + 19.0
        );
        x += 120.0;
    }
    let mid = y - 4.0;
    let interval =
        confidence.map_or_else(|| "confidence interval".to_owned(), |c| format!("{c}% confidence interval"));
    let _ = write!(
        svg,
        r#"<g stroke="black" stroke-width="1.2"><line x1="{x:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}"/><line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></g><text x="{:.1}" y="{y:.1}" font-size="11">{}</text>"#,
        x + 16.0,
        mid - 4.0,
        mid + 4.0,
        x + 16.0,
        mid - 4.0,
        x + 16.0,
        mid + 4.0,
        x + 21.0,
        escape(&interval)
    );
}

#[cfg(test)]
mod tests {
    use super::super::axes::assert_well_formed;
    use super::*;

    fn index(value: f64, lo: f64, hi: f64) -> SobolIndex {
        SobolIndex { value, lo, hi }
    }

    fn result() -> SensitivityResult {
        let nan = f64::NAN;
        SensitivityResult {
            params: vec!["controller.kp".into(), "plant.tau".into(), "plant.<gain>".into()],
            samples: 1024,
            confidence_level: 0.95,
            metrics: vec![MetricSensitivity {
                metric: 8,
                samples_used: 1000,
                samples_dropped: 24,
                variance: 2.0,
                first_order: vec![index(0.61, 0.55, 0.67), index(0.2, nan, nan), index(-0.01, -0.05, nan)],
                total_order: vec![index(0.7, 0.64, 0.76), index(0.31, 0.25, 0.37), index(0.02, nan, nan)],
            }],
            complete: true,
        }
    }

    #[test]
    fn two_bars_per_parameter_and_whiskers_only_for_finite_bounds() {
        let r = result();
        let svg = sobol_svg(&r, &r.metrics[0]);
        assert_eq!(svg.matches(r#"class="bar s1""#).count(), 3);
        assert_eq!(svg.matches(r#"class="bar st""#).count(), 3);
        // Both bounds for kp S1, kp ST, tau ST; the lower one only for gain S1.
        assert_eq!(svg.matches(r#"class="ci""#).count(), 4);
        for label in
            [">controller.kp<", ">plant.tau<", ">plant.&lt;gain&gt;<", ">first order S1<", ">total ST<"]
        {
            assert!(svg.contains(label), "{label}");
        }
        assert!(svg.contains(">ise — Sobol' indices (n = 1000 base samples, 95% CI)<"));
        assert!(svg.contains("controller.kp S1 = 0.61 [0.55, 0.67]"));
        assert!(svg.contains("plant.tau S1 = 0.2 [-, -]"));
        assert!(svg.contains("24 of 1024 base samples left out"));
        assert!(svg.contains(">0.0<") && svg.contains(">1.0<") && svg.contains(">0.4<"));
        assert_well_formed(&svg);
    }

    #[test]
    fn stray_values_are_held_to_the_drawn_range() {
        let mut r = result();
        let m = &mut r.metrics[0];
        m.first_order = vec![index(3.0, -5.0, 9.0), index(f64::NAN, f64::NAN, f64::NAN)];
        m.total_order = vec![index(f64::INFINITY, 0.0, 1.0)];
        r.confidence_level = f64::NAN;
        r.complete = false;
        let svg = sobol_svg(&r, &r.metrics[0]);
        assert!(svg.contains(">-0.2<") && svg.contains(">1.2<"), "{svg}");
        assert!(svg.contains("n = 1000 base samples)") && svg.contains("partial"));
        assert_eq!(svg.matches(r#"class="bar "#).count(), 1);
        assert_eq!(svg.matches(" n/a<").count(), 5);
        assert_well_formed(&svg);
        let empty = SensitivityResult::default();
        assert_well_formed(&sobol_svg(&empty, &MetricSensitivity::default()));
    }

    #[test]
    fn charts_are_written_per_metric() {
        let dir = tempfile::tempdir().unwrap();
        let files = sensitivity_charts(dir.path(), &result()).unwrap();
        assert_eq!(files, [dir.path().join("sobol-ise.svg")]);
        assert!(std::fs::read_to_string(&files[0]).unwrap().starts_with("<svg"));
    }
}
