//! A 2-D sweep's objective as a heatmap: one cell per grid point (first axis across, second
//! up), the best point circled, ticks at the axes' values and a colour bar for the objective.

use std::fmt::Write;

use tanksim_proto::v1::SweepResult;

use super::axes::{self, Frame, Linear, VIRIDIS, escape};
use super::ticks::{self, compact};
use crate::report::metric_name;

/// Room on the right for the colour bar, its ticks and its title.
const FRAME: Frame = Frame { width: 720.0, height: 440.0, left: 80.0, right: 150.0, top: 48.0, bottom: 60.0 };
/// Gap between the plotting area and the colour bar, and the bar's width.
const BAR_GAP: f64 = 24.0;
const BAR_WIDTH: f64 = 14.0;
/// Most value labels on an axis whose values are neither evenly nor geometrically spaced.
const MAX_LIST_LABELS: usize = 8;

/// A 2-D sweep's objective over its grid (first axis across, second up); the best point
/// circled. `None` unless the sweep has exactly two axes and every point.
pub fn heatmap_svg(sweep: &SweepResult) -> Option<String> {
    if sweep.params.len() != 2 || !sweep.complete || sweep.points.is_empty() {
        return None;
    }
    let coords = |p: &[f64]| Some((*p.first()?, *p.get(1)?)).filter(|(a, b)| a.is_finite() && b.is_finite());
    let xs = GridAxis::new(sweep.points.iter().filter_map(|p| coords(&p.values)).map(|c| c.0))?;
    let ys = GridAxis::new(sweep.points.iter().filter_map(|p| coords(&p.values)).map(|c| c.1))?;
    let colours = ColourScale::new(sweep.points.iter().filter_map(|p| p.objective));
    let f = FRAME;
    let (cw, ch) = ((f.x1() - f.x0()) / xs.len(), (f.y0() - f.y1()) / ys.len());
    // Cell-index positions (cell i spans [i, i + 1]) to pixels.
    let px = Linear { d0: 0.0, d1: xs.len(), p0: f.x0(), p1: f.x1() };
    let py = Linear { d0: 0.0, d1: ys.len(), p0: f.y0(), p1: f.y1() };
    let objective = sweep.objective.map(|o| o.metric());
    let objective_name = objective.map_or("objective", metric_name);
    let (p0, p1) = (&sweep.params[0], &sweep.params[1]);

    let mut svg = axes::header(&f, f.left, &format!("{objective_name} over {p0} × {p1}"));
    for p in &sweep.points {
        let Some((vx, vy)) = coords(&p.values) else { continue };
        let (i, j) = (xs.index(vx), ys.index(vy));
        let colour = p
            .objective
            .filter(|v| v.is_finite())
            .map_or("#cccccc".to_owned(), |v| axes::viridis(colours.t(v)));
        let _ = write!(
            svg,
            r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{colour}"><title>{} = {}, {} = {}: {}</title></rect>"#,
            px.at(i),
            py.at(j + 1.0),
            cw + 0.2,
            ch + 0.2,
            escape(p0),
            compact(vx),
            escape(p1),
            compact(vy),
            p.objective.map_or("-".to_owned(), compact)
        );
    }
    if let Some((bx, by)) = sweep.best.as_ref().and_then(|b| coords(&b.values)) {
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="none" stroke="red" stroke-width="2"><title>best: {} = {}, {} = {}</title></circle>"#,
            px.at(xs.index(bx) + 0.5),
            py.at(ys.index(by) + 0.5),
            (cw.min(ch) * 0.8).max(4.0),
            escape(p0),
            compact(bx),
            escape(p1),
            compact(by)
        );
    }
    axes::x_axis(&mut svg, &f, &xs.ticks(|v| px.at(v)), p0);
    axes::y_axis(&mut svg, &f, &ys.ticks(|v| py.at(v)), p1);
    let title = objective.map_or_else(|| "objective".to_owned(), axes::metric_label);
    colour_bar(&mut svg, &f, &colours, &title);
    svg.push_str("</svg>\n");
    Some(svg)
}

/// The sorted distinct values of one sweep axis and how they are spaced.
#[derive(Debug)]
struct GridAxis {
    values: Vec<f64>,
    spacing: Spacing,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Spacing {
    /// Evenly spaced: value `v` sits at cell position `(v - first) / step + 0.5`.
    Linear { step: f64 },
    /// Geometrically spaced: `ln(v / first) / ln_ratio + 0.5`.
    Log { ln_ratio: f64 },
    /// Anything else (or a single value): labels at the centres of some cells.
    List,
}

impl GridAxis {
    /// `None` without values.
    fn new(values: impl Iterator<Item = f64>) -> Option<Self> {
        let mut values: Vec<f64> = values.collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let (&first, &last) = (values.first()?, values.last()?);
        let n = (values.len() - 1) as f64;
        let even = |g: &dyn Fn(f64) -> f64| {
            let step = (g(last) - g(first)) / n;
            let ok = step.is_finite()
                && step > 0.0
                && values.windows(2).all(|w| ((g(w[1]) - g(w[0])) / step - 1.0).abs() < 1e-6);
            ok.then_some(step)
        };
        let spacing = if values.len() < 2 {
            Spacing::List
        } else if let Some(step) = even(&|v| v) {
            Spacing::Linear { step }
        } else if let Some(ln_ratio) = (first > 0.0).then(|| even(&f64::ln)).flatten() {
            Spacing::Log { ln_ratio }
        } else {
            Spacing::List
        };
        Some(Self { values, spacing })
    }

    fn len(&self) -> f64 {
        self.values.len() as f64
    }

    /// The cell index of `v` (one of the values).
    fn index(&self, v: f64) -> f64 {
        self.values.partition_point(|&x| x < v) as f64
    }

    /// Ticks as (pixel, label): nice values where the values are evenly or geometrically
    /// spaced, else a thinned subset of the values at their cells' centres; `at` maps a cell
    /// position to its pixel.
    fn ticks(&self, at: impl Fn(f64) -> f64) -> Vec<(f64, String)> {
        let (first, last) = (self.values[0], self.values[self.values.len() - 1]);
        match self.spacing {
            Spacing::Linear { step } => {
                axes::placed(&ticks::nice_ticks(first, last), |v| at((v - first) / step + 0.5))
            }
            Spacing::Log { ln_ratio } => {
                axes::placed(&ticks::log_ticks(first, last), |v| at((v / first).ln() / ln_ratio + 0.5))
            }
            Spacing::List => {
                let every = self.values.len().div_ceil(MAX_LIST_LABELS);
                let picked = self.values.iter().enumerate().step_by(every);
                picked.map(|(i, &v)| (at(i as f64 + 0.5), compact(v))).collect()
            }
        }
    }
}

/// Objective values to [0, 1] for the colours: linear, or logarithmic when the finite values
/// are all positive and span more than two decades (objectives like ISE span decades across a
/// grid: a log scale keeps the good region readable instead of one dark block next to a few
/// bright outliers).
#[derive(Debug)]
struct ColourScale {
    /// The finite range, `None` without finite values.
    range: Option<(f64, f64)>,
    log: bool,
}

impl ColourScale {
    fn new(values: impl Iterator<Item = f64>) -> Self {
        let (lo, hi) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let range = (lo <= hi).then_some((lo, hi));
        Self { range, log: lo > 0.0 && hi / lo > 100.0 }
    }

    fn t(&self, v: f64) -> f64 {
        match self.range {
            Some((lo, hi)) if hi > lo && self.log => (v / lo).ln() / (hi / lo).ln(),
            Some((lo, hi)) if hi > lo => (v - lo) / (hi - lo),
            _ => 0.0,
        }
    }
}

/// A vertical viridis bar right of the plot with ticks at nice objective values (decades on a
/// log scale) and the objective's name and unit; a note instead when no value is finite.
fn colour_bar(svg: &mut String, f: &Frame, colours: &ColourScale, title: &str) {
    let x = f.x1() + BAR_GAP;
    let (top, bottom) = (f.y1(), f.y0());
    let Some((lo, hi)) = colours.range else {
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" font-size="11">no finite {}</text>"#,
            (top + bottom) / 2.0,
            escape(title)
        );
        return;
    };
    svg.push_str(r#"<defs><linearGradient id="viridis" x1="0" y1="1" x2="0" y2="0">"#);
    for (i, (r, g, b)) in VIRIDIS.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<stop offset="{}" stop-color="rgb({r},{g},{b})"/>"#,
            i as f64 / (VIRIDIS.len() - 1) as f64
        );
    }
    let fill = if hi > lo { "url(#viridis)".to_owned() } else { axes::viridis(0.0) };
    let _ = write!(
        svg,
        r##"</linearGradient></defs><rect class="colour-bar" x="{x:.1}" y="{top:.1}" width="{BAR_WIDTH}" height="{:.1}" fill="{fill}" stroke="#888"/>"##,
        bottom - top
    );
    let bar = Linear { d0: 0.0, d1: 1.0, p0: bottom, p1: top };
    let ticks = if colours.log { ticks::log_ticks(lo, hi) } else { ticks::nice_ticks(lo, hi) };
    let right = x + BAR_WIDTH;
    for (y, label) in axes::placed(&ticks, |v| bar.at(colours.t(v))) {
        let _ = write!(
            svg,
            r#"<line x1="{right:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="black"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            right + 4.0,
            right + 7.0,
            y + 4.0,
            escape(&label)
        );
    }
    let (tx, mid) = (f.width - 14.0, (top + bottom) / 2.0);
    let _ = write!(
        svg,
        r#"<text x="{tx:.1}" y="{mid:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 {tx:.1} {mid:.1})">{}{}</text>"#,
        escape(title),
        if colours.log { ", log scale" } else { "" }
    );
}

#[cfg(test)]
mod tests {
    use tanksim_proto::v1::{Objective, SweepPoint};

    use super::super::axes::assert_well_formed;
    use super::*;

    fn sweep(xs: &[f64], ys: &[f64], objective: impl Fn(f64, f64) -> Option<f64>) -> SweepResult {
        let points = xs
            .iter()
            .flat_map(|&x| ys.iter().map(move |&y| (x, y)))
            .enumerate()
            .map(|(r, (x, y))| SweepPoint { run: r as u64, values: vec![x, y], objective: objective(x, y) })
            .collect();
        SweepResult {
            params: vec!["plant.gain".into(), "controller.kp".into()],
            objective: Some(Objective { metric: 8, goal: 1 }),
            best: Some(SweepPoint { run: 0, values: vec![xs[0], ys[0]], objective: objective(xs[0], ys[0]) }),
            points,
            complete: true,
        }
    }

    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .filter_map(|s| s.split_once('>')?.1.split_once('<').map(|(t, _)| t))
            .collect()
    }

    #[test]
    fn heatmap_needs_two_axes_and_colours_every_point() {
        let mut s = sweep(&[0.0, 1.0], &[0.0, 1.0, 2.0], |x, y| Some(x * 3.0 + y));
        let svg = heatmap_svg(&s).unwrap();
        assert_eq!(svg.matches("<rect x=").count(), 6);
        assert!(svg.contains("<circle") && svg.contains(r#"class="colour-bar""#));
        assert_well_formed(&svg);
        s.params.pop();
        assert!(heatmap_svg(&s).is_none());
    }

    #[test]
    fn even_axes_get_nice_ticks_at_their_values() {
        let xs: Vec<f64> = (0..11).map(|i| 0.5 + 0.15 * i as f64).collect();
        let svg = heatmap_svg(&sweep(&xs, &[1.0, 2.0, 3.0, 4.0], |x, y| Some(x + y))).unwrap();
        let t = texts(&svg);
        for label in
            ["0.6", "1.0", "1.4", "1.8", "2.0", "3.0", "4.0", "plant.gain", "controller.kp", "ise (m²·s)"]
        {
            assert!(t.contains(&label), "{label} not in {t:?}");
        }
        // x = 1.4 is 6 steps of 0.15 from 0.5: the centre of cell 6 of 11 over 490 px from 80.
        let cell = (720.0 - 150.0 - 80.0) / 11.0;
        assert!(svg.contains(&format!(r#"<text x="{:.1}""#, 80.0 + 6.5 * cell)));
        assert_well_formed(&svg);
    }

    #[test]
    fn log_axes_and_log_colours() {
        let xs = [0.01, 0.1, 1.0, 10.0];
        let ys = [1.0, 1.5, 7.0];
        let svg = heatmap_svg(&sweep(&xs, &ys, |x, y| Some(x * x * y))).unwrap();
        let t = texts(&svg);
        for label in ["0.01", "0.1", "1", "10", "1.5", "7"] {
            assert!(t.contains(&label), "{label} not in {t:?}");
        }
        assert!(svg.contains("ise (m²·s), log scale"));
        assert_well_formed(&svg);
    }

    #[test]
    fn missing_and_odd_values_do_not_break_it() {
        let s = sweep(&[1.0, 2.0], &[5.0], |_, _| None);
        let svg = heatmap_svg(&s).unwrap();
        assert!(svg.contains("no finite ise"));
        assert_well_formed(&svg);
        let mut s = sweep(&[1.0, 2.0], &[5.0, 6.0], |x, _| Some(if x > 1.0 { f64::NAN } else { 3.0 }));
        s.points[0].values.clear();
        s.best = None;
        assert_well_formed(&heatmap_svg(&s).unwrap());
    }
}
