//! SVG pictures of results: a histogram per metric, a heatmap of a 2-D sweep's objective.
//! Plain SVG written by hand: opens in any browser, no plotting dependency.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tanksim_proto::v1::{MetricSummary, SweepResult};

use crate::report::metric_name;

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

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
    let (lo, hi) = (m.min, m.max);
    let peak = m.histogram.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64;
    let x = |v: f64| LEFT + (v - lo) / (hi - lo) * (W - LEFT - RIGHT);
    let y = |c: f64| H - BOTTOM - c / peak * (H - TOP - BOTTOM);
    let mut svg = header(&format!("{} — {} runs", metric_name(m.metric()), m.count));
    for b in &m.histogram {
        let (x0, x1) = (x(b.lo), x(b.hi));
        let _ = write!(
            svg,
            r##"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#4c78a8"><title>[{:.4}, {:.4}): {}</title></rect>"##,
            y(b.count as f64),
            (x1 - x0 - 1.0).max(0.5),
            H - BOTTOM - y(b.count as f64),
            b.lo,
            b.hi,
            b.count
        );
    }
    for (label, v, color) in [("mean", m.mean, "#e45756"), ("p5", m.p5, "#72b7b2"), ("p95", m.p95, "#72b7b2")]
    {
        if v.is_finite() && v >= lo && v <= hi {
            let xv = x(v);
            let _ = write!(
                svg,
                r#"<line x1="{xv:.1}" y1="{TOP}" x2="{xv:.1}" y2="{:.1}" stroke="{color}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="11" fill="{color}">{label}</text>"#,
                H - BOTTOM,
                xv + 3.0,
                TOP + 12.0
            );
        }
    }
    axes(&mut svg, (lo, hi), "value", "runs", peak);
    svg.push_str("</svg>\n");
    svg
}

/// A 2-D sweep's objective over its grid (first axis across, second up); the best point
/// circled. `None` unless the sweep has exactly two axes and every point.
pub fn heatmap_svg(sweep: &SweepResult) -> Option<String> {
    if sweep.params.len() != 2 || !sweep.complete || sweep.points.is_empty() {
        return None;
    }
    let mut xs: Vec<f64> = sweep.points.iter().map(|p| p.values[0]).collect();
    let mut ys: Vec<f64> = sweep.points.iter().map(|p| p.values[1]).collect();
    for v in [&mut xs, &mut ys] {
        v.sort_by(f64::total_cmp);
        v.dedup();
    }
    let values: Vec<f64> =
        sweep.points.iter().filter_map(|p| p.objective).filter(|v| v.is_finite()).collect();
    let (vmin, vmax) =
        values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (cw, ch) = ((W - LEFT - RIGHT) / xs.len() as f64, (H - TOP - BOTTOM) / ys.len() as f64);
    // Objectives like ISE span decades across a grid: a log colour scale keeps the good region
    // readable instead of one dark block next to a few bright outliers.
    let log = vmin > 0.0 && vmax / vmin > 100.0;
    let scale = |v: f64| {
        let t = if log { (v / vmin).ln() / (vmax / vmin).ln() } else { (v - vmin) / (vmax - vmin) };
        if vmax > vmin { t } else { 0.0 }
    };
    let objective = sweep.objective.map(|o| metric_name(o.metric())).unwrap_or("objective");
    let mut svg = header(&format!("{objective} over {} x {}", sweep.params[0], sweep.params[1]));
    for p in &sweep.points {
        let i = xs.partition_point(|&v| v < p.values[0]);
        let j = ys.partition_point(|&v| v < p.values[1]);
        let color = p.objective.filter(|v| v.is_finite()).map_or("#cccccc".to_owned(), |v| viridis(scale(v)));
        let _ = write!(
            svg,
            r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{color}"><title>{} = {:.4}, {} = {:.4}: {}</title></rect>"#,
            LEFT + i as f64 * cw,
            H - BOTTOM - (j + 1) as f64 * ch,
            cw + 0.2,
            ch + 0.2,
            sweep.params[0],
            p.values[0],
            sweep.params[1],
            p.values[1],
            p.objective.map_or("-".to_owned(), |v| format!("{v:.5}"))
        );
    }
    if let Some(best) = &sweep.best {
        let i = xs.partition_point(|&v| v < best.values[0]);
        let j = ys.partition_point(|&v| v < best.values[1]);
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="none" stroke="red" stroke-width="2"><title>best</title></circle>"#,
            LEFT + (i as f64 + 0.5) * cw,
            H - BOTTOM - (j as f64 + 0.5) * ch,
            (cw.min(ch) * 0.8).max(4.0)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="{:.1}" font-size="12">{} ({:.3} .. {:.3})</text><text x="12" y="{:.1}" font-size="12" transform="rotate(-90 12 {:.1})">{} ({:.3} .. {:.3})</text><text x="{:.1}" y="{:.1}" font-size="11">{objective}: {vmin:.4} (dark) .. {vmax:.4} (yellow){}</text>"#,
        H - 15.0,
        sweep.params[0],
        xs[0],
        xs[xs.len() - 1],
        H / 2.0,
        H / 2.0,
        sweep.params[1],
        ys[0],
        ys[ys.len() - 1],
        W - 330.0,
        TOP - 8.0,
        if log { ", log scale" } else { "" }
    );
    svg.push_str("</svg>\n");
    Some(svg)
}

fn header(title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="24" font-size="15">{}</text>"#,
        escape(title)
    )
}

fn axes(svg: &mut String, (lo, hi): (f64, f64), xlabel: &str, ylabel: &str, peak: f64) {
    let (b, r) = (H - BOTTOM, W - RIGHT);
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="black"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b:.1}" stroke="black"/><text x="{LEFT}" y="{:.1}" font-size="11">{lo:.4}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{hi:.4}</text><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{xlabel}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{peak}</text><text x="14" y="{:.1}" font-size="12" transform="rotate(-90 14 {:.1})">{ylabel}</text>"#,
        b + 16.0,
        r,
        b + 16.0,
        (LEFT + r) / 2.0,
        b + 36.0,
        LEFT - 4.0,
        TOP + 4.0,
        H / 2.0,
        H / 2.0,
    );
}

/// A perceptually uniform colour for `t` in [0, 1] (viridis, 5-stop interpolation).
fn viridis(t: f64) -> String {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use tanksim_proto::v1::{HistogramBin, SweepPoint};

    use super::*;

    #[test]
    fn histogram_has_a_bar_per_bin_and_marks() {
        let m = MetricSummary {
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
        };
        let svg = histogram_svg(&m);
        assert_eq!(svg.matches("<rect x=").count(), 3);
        assert!(svg.contains(">mean<") && svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }

    #[test]
    fn heatmap_needs_two_axes_and_colours_every_point() {
        let points = (0..6)
            .map(|r| SweepPoint {
                run: r,
                values: vec![(r / 3) as f64, (r % 3) as f64],
                objective: Some(r as f64),
            })
            .collect();
        let mut sweep = SweepResult {
            params: vec!["plant.gain".into(), "plant.tau".into()],
            points,
            complete: true,
            best: Some(SweepPoint { run: 0, values: vec![0.0, 0.0], objective: Some(0.0) }),
            ..Default::default()
        };
        let svg = heatmap_svg(&sweep).unwrap();
        assert_eq!(svg.matches("<rect x=").count(), 6);
        assert!(svg.contains("<circle"));
        sweep.params.pop();
        assert!(heatmap_svg(&sweep).is_none());
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
    }
}
