//! An optimisation's path: each generation's best objective (points) and the best so far (a
//! line), generation across and the objective, with its unit, up.

use std::fmt::Write;

use tanksim_proto::v1::{Goal, OptimizeResult};

use super::axes::{self, Frame, Linear};
use super::ticks::{self, compact};
use crate::report::metric_name;

const FRAME: Frame = Frame { width: 640.0, height: 400.0, left: 72.0, right: 24.0, top: 48.0, bottom: 56.0 };

/// The path, or `None` before any generation has a finite best objective.
pub fn path_svg(result: &OptimizeResult) -> Option<String> {
    let f = FRAME;
    let steps: Vec<(u32, f64)> = result
        .path
        .iter()
        .filter_map(|s| s.best.as_ref().map(|b| (s.generation, b.objective)))
        .filter(|(_, v)| v.is_finite())
        .collect();
    let (lo, hi) =
        steps.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, v)| (a.min(*v), b.max(*v)));
    if steps.is_empty() {
        return None;
    }
    let (lo, hi) = axes::domain(lo, hi);
    let last = f64::from(result.path.last().map_or(1, |s| s.generation).max(1));
    let x = Linear { d0: 0.0, d1: last, p0: f.x0(), p1: f.x1() };
    let y = Linear { d0: lo, d1: hi, p0: f.y0(), p1: f.y1() };
    let x_ticks = axes::placed(&ticks::nice_ticks(0.0, last), |v| x.at(v));
    let y_ticks = axes::placed(&ticks::nice_ticks(lo, hi), |v| y.at(v));
    let objective = result.objective.unwrap_or_default();
    let maximize = objective.goal() == Goal::Maximize;
    let title = format!(
        "CMA-ES: best {} per generation — {} generations, {} runs",
        metric_name(objective.metric()),
        result.path.len(),
        result.runs
    );
    let mut svg = axes::header(&f, f.left, &title);
    axes::x_grid(&mut svg, &f, &x_ticks);
    axes::y_grid(&mut svg, &f, &y_ticks);
    let mut best = if maximize { f64::NEG_INFINITY } else { f64::INFINITY };
    let mut line = String::new();
    for &(g, v) in &steps {
        best = if maximize { best.max(v) } else { best.min(v) };
        let _ = write!(line, "{:.1},{:.1} ", x.at(f64::from(g)), y.clamped(best));
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#4c78a8"><title>generation {g}: {}</title></circle>"##,
            x.at(f64::from(g)),
            y.clamped(v),
            compact(v)
        );
    }
    let _ = write!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#e45756" stroke-width="1.5"><title>best so far</title></polyline>"##,
        line.trim_end()
    );
    axes::x_axis(&mut svg, &f, &x_ticks, "generation");
    axes::y_axis(&mut svg, &f, &y_ticks, &axes::metric_label(objective.metric()));
    svg.push_str("</svg>\n");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use tanksim_proto::v1::{Objective, OptimizeCandidate, OptimizeStep};

    use super::super::axes::assert_well_formed;
    use super::*;

    fn step(generation: u32, objective: Option<f64>) -> OptimizeStep {
        OptimizeStep {
            generation,
            best: objective.map(|objective| OptimizeCandidate {
                generation,
                objective,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn draws_a_point_per_generation_with_a_best_and_the_best_so_far() {
        let result = OptimizeResult {
            objective: Some(Objective { metric: 8, goal: 1 }),
            path: vec![step(0, Some(3.0)), step(1, None), step(2, Some(2.5)), step(3, Some(2.8))],
            runs: 24,
            ..Default::default()
        };
        let svg = path_svg(&result).expect("a path");
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("best ise per generation"), "{svg}");
        assert!(svg.contains(">generation<"), "{svg}");
        // The best so far never rises when minimising: its last point is at 2.5, like the third.
        let line = svg.split("<polyline points=\"").nth(1).and_then(|s| s.split('"').next()).expect("a line");
        let ys: Vec<&str> = line.split(' ').map(|p| p.split(',').nth(1).unwrap_or_default()).collect();
        assert_eq!((ys.len(), ys[1], ys[2]), (3, ys[1], ys[1]));
        assert_eq!(path_svg(&OptimizeResult { path: vec![step(0, None)], ..result }), None);
    }
}
