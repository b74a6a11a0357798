//! A histogram per metric: the runs per bin, the mean and p5/p95 marked, the metric's value
//! (with its unit) across and run counts up.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tanksim_proto::v1::MetricSummary;

use super::axes::{self, Frame, Linear};
use super::ticks::{self, compact};
use crate::report::metric_name;

const FRAME: Frame = Frame { width: 640.0, height: 400.0, left: 72.0, right: 24.0, top: 48.0, bottom: 56.0 };

/// Writes `<dir>/<metric>.svg` for each summary; returns the files written.
pub fn histograms<'a>(
    dir: &Path,
    metrics: impl Iterator<Item = &'a MetricSummary>,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for m in metrics {
        let path = dir.join(format!("{}.svg", metric_name(m.metric())));
        std::fs::write(&path, histogram_svg(m)).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// One metric's histogram, with its mean and p5/p95 marked.
pub fn histogram_svg(m: &MetricSummary) -> String {
    let f = FRAME;
    let bins: Vec<_> = m.histogram.iter().filter(|b| b.lo.is_finite() && b.hi.is_finite()).collect();
    let (lo, hi) = [m.min, m.max]
        .into_iter()
        .chain(bins.iter().flat_map(|b| [b.lo, b.hi]))
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = axes::domain(lo, hi);
    let peak = bins.iter().map(|b| b.count).max().unwrap_or(0);
    let y_ticks = ticks::count_ticks(peak as f64);
    let top = y_ticks.values.last().copied().unwrap_or(1.0).max(1.0);
    let x = Linear { d0: lo, d1: hi, p0: f.x0(), p1: f.x1() };
    let y = Linear { d0: 0.0, d1: top, p0: f.y0(), p1: f.y1() };
    let x_ticks = axes::placed(&ticks::nice_ticks(lo, hi), |v| x.at(v));
    let y_ticks = axes::placed(&y_ticks, |v| y.at(v));

    let name = metric_name(m.metric());
    let mut svg = axes::header(&f, f.left, &format!("{name} — {} runs", m.count));
    axes::x_grid(&mut svg, &f, &x_ticks);
    axes::y_grid(&mut svg, &f, &y_ticks);
    for b in bins {
        let (x0, x1) = (x.clamped(b.lo.min(b.hi)), x.clamped(b.lo.max(b.hi)));
        let yc = y.clamped(b.count as f64);
        let _ = write!(
            svg,
            r##"<rect x="{x0:.1}" y="{yc:.1}" width="{:.1}" height="{:.1}" fill="#4c78a8"><title>[{}, {}): {} runs</title></rect>"##,
            (x1 - x0 - 1.0).max(0.5),
            f.y0() - yc,
            compact(b.lo),
            compact(b.hi),
            b.count
        );
    }
    // Staggered labels: the mean on the first line, p5 (left of its line) and p95 (right of
    // its line) on the second, so close marks do not print over each other.
    for (label, v, color, dy, anchor, dx) in [
        ("mean", m.mean, "#e45756", 12.0, "start", 3.0),
        ("p5", m.p5, "#54a24b", 26.0, "end", -3.0),
        ("p95", m.p95, "#54a24b", 26.0, "start", 3.0),
    ] {
        if v.is_finite() && v >= lo && v <= hi {
            let xv = x.at(v);
            let _ = write!(
                svg,
                r#"<line x1="{xv:.1}" y1="{:.1}" x2="{xv:.1}" y2="{:.1}" stroke="{color}" stroke-dasharray="4 3"><title>{label} = {}</title></line><text x="{:.1}" y="{:.1}" font-size="11" fill="{color}" text-anchor="{anchor}">{label}</text>"#,
                f.y1(),
                f.y0(),
                compact(v),
                xv + dx,
                f.y1() + dy
            );
        }
    }
    axes::x_axis(&mut svg, &f, &x_ticks, &axes::metric_label(m.metric()));
    axes::y_axis(&mut svg, &f, &y_ticks, "runs");
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use tanksim_proto::v1::HistogramBin;

    use super::super::axes::assert_well_formed;
    use super::*;

    fn summary() -> MetricSummary {
        MetricSummary {
            metric: 1,
            count: 10,
            mean: 1.5,
            min: 0.0,
            max: 3.0,
            p5: 0.2,
            p95: 2.8,
            histogram: vec![
                HistogramBin { lo: 0.0, hi: 1.0, count: 2 },
                HistogramBin { lo: 1.0, hi: 2.0, count: 5 },
                HistogramBin { lo: 2.0, hi: 3.0, count: 3 },
            ],
            ..Default::default()
        }
    }

    /// The labels of the text elements anchored `middle` below the x axis and `end` left of
    /// the y axis (the tick labels).
    fn tick_labels<'a>(svg: &'a str, marker: &str) -> Vec<&'a str> {
        svg.split(marker)
            .skip(1)
            .filter_map(|s| s.split_once('>')?.1.split_once('<').map(|(t, _)| t))
            .collect()
    }

    #[test]
    fn histogram_has_bars_marks_and_ticks_on_both_axes() {
        let svg = histogram_svg(&summary());
        assert_eq!(svg.matches(r##"fill="#4c78a8""##).count(), 3);
        assert!(svg.contains(">mean<") && svg.contains(">p5<") && svg.contains(">p95<"));
        let x_labels = tick_labels(&svg, r#"font-size="11" text-anchor="middle""#);
        assert_eq!(x_labels, ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0"]);
        let y_labels = tick_labels(&svg, r#"font-size="11" text-anchor="end""#);
        assert!(y_labels.starts_with(&["0", "1", "2", "3", "4", "5"]), "{y_labels:?}");
        assert!(svg.contains(">overshoot_pct (%)<") && svg.contains(">runs<"));
        assert_well_formed(&svg);
    }

    #[test]
    fn bad_summaries_still_draw() {
        let mut m = summary();
        m.min = f64::NAN;
        m.mean = f64::INFINITY;
        m.histogram.push(HistogramBin { lo: f64::NAN, hi: 1.0, count: 100 });
        let svg = histogram_svg(&m);
        assert_eq!(svg.matches(r##"fill="#4c78a8""##).count(), 3);
        assert_well_formed(&svg);
        let empty = MetricSummary { min: 2.0, max: 2.0, ..Default::default() };
        assert_well_formed(&histogram_svg(&empty));
    }
}
