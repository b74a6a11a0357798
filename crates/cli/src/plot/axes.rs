//! What every plot shares: the frame and its linear scales, the SVG header, grid lines, axes
//! with tick marks and labels, text escaping, axis titles with units, and the viridis colours.

use std::fmt::Write;

use tanksim_proto::v1::Metric;

use super::ticks::Ticks;
use crate::report::{metric_name, metric_unit};

/// Light grey of grid lines.
const GRID: &str = "#e3e3e3";
/// Width of one character of 11 px sans-serif, roughly, for spacing labels.
const CHAR_WIDTH: f64 = 6.2;

/// The picture's size and the margins around its plotting area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Frame {
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) left: f64,
    pub(super) right: f64,
    pub(super) top: f64,
    pub(super) bottom: f64,
}

impl Frame {
    /// Left edge of the plotting area.
    pub(super) fn x0(&self) -> f64 {
        self.left
    }

    /// Right edge of the plotting area.
    pub(super) fn x1(&self) -> f64 {
        self.width - self.right
    }

    /// Bottom edge of the plotting area (SVG y grows downwards).
    pub(super) fn y0(&self) -> f64 {
        self.height - self.bottom
    }

    /// Top edge of the plotting area.
    pub(super) fn y1(&self) -> f64 {
        self.top
    }
}

/// A linear map from data values `[d0, d1]` to pixels `[p0, p1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Linear {
    pub(super) d0: f64,
    pub(super) d1: f64,
    pub(super) p0: f64,
    pub(super) p1: f64,
}

impl Linear {
    /// The pixel of `v` (the middle when the domain is a single point).
    pub(super) fn at(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            (self.p0 + self.p1) / 2.0
        } else {
            self.p0 + (v - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)
        }
    }

    /// [`Linear::at`] held to the pixel range.
    pub(super) fn clamped(&self, v: f64) -> f64 {
        self.at(v).max(self.p0.min(self.p1)).min(self.p0.max(self.p1))
    }
}

/// A finite domain with `lo < hi`: `(0, 1)` when either end is not finite, a single point
/// widened by 5 % of its size (±0.5 around 0).
pub(super) fn domain(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if hi > lo {
        return (lo, hi);
    }
    let pad = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
    (lo - pad, hi + pad)
}

/// Ticks as (pixel, label) pairs, `at` mapping a value to its pixel.
pub(super) fn placed(ticks: &Ticks, at: impl Fn(f64) -> f64) -> Vec<(f64, String)> {
    ticks.values.iter().map(|&v| (at(v), ticks.label(v))).collect()
}

/// `<svg ...>`, a white background and the title at `(title_x, 24)`.
pub(super) fn header(frame: &Frame, title_x: f64, title: &str) -> String {
    let (w, h) = (frame.width, frame.height);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="{title_x}" y="24" font-size="15">{}</text>"#,
        escape(title)
    )
}

/// Vertical grid lines across the plotting area at the ticks' pixels.
pub(super) fn x_grid(svg: &mut String, frame: &Frame, ticks: &[(f64, String)]) {
    for (x, _) in ticks {
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{GRID}"/>"#,
            frame.y1(),
            frame.y0()
        );
    }
}

/// Horizontal grid lines across the plotting area at the ticks' pixels.
pub(super) fn y_grid(svg: &mut String, frame: &Frame, ticks: &[(f64, String)]) {
    for (y, _) in ticks {
        let _ = write!(
            svg,
            r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{GRID}"/>"#,
            frame.x0(),
            frame.x1()
        );
    }
}

/// The bottom axis: its line, tick marks, tick labels (every other one, or fewer, when they
/// would overlap) and its title.
pub(super) fn x_axis(svg: &mut String, frame: &Frame, ticks: &[(f64, String)], title: &str) {
    let (b, x0, x1) = (frame.y0(), frame.x0(), frame.x1());
    let _ = write!(svg, r#"<line x1="{x0:.1}" y1="{b:.1}" x2="{x1:.1}" y2="{b:.1}" stroke="black"/>"#);
    let widest = ticks.iter().map(|(_, l)| l.chars().count()).max().unwrap_or(0) as f64 * CHAR_WIDTH;
    let gap = ticks.windows(2).map(|w| (w[1].0 - w[0].0).abs()).fold(f64::INFINITY, f64::min);
    let every =
        if gap.is_finite() && gap > 0.0 { ((widest + 6.0) / gap).ceil().max(1.0) as usize } else { 1 };
    for (i, (x, label)) in ticks.iter().enumerate() {
        let _ =
            write!(svg, r#"<line x1="{x:.1}" y1="{b:.1}" x2="{x:.1}" y2="{:.1}" stroke="black"/>"#, b + 5.0);
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
                b + 18.0,
                escape(label)
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text>"#,
        (x0 + x1) / 2.0,
        b + 38.0,
        escape(title)
    );
}

/// The left axis: its line, tick marks, tick labels and its title (rotated, at the far left).
pub(super) fn y_axis(svg: &mut String, frame: &Frame, ticks: &[(f64, String)], title: &str) {
    let (x0, b, t) = (frame.x0(), frame.y0(), frame.y1());
    let _ = write!(svg, r#"<line x1="{x0:.1}" y1="{t:.1}" x2="{x0:.1}" y2="{b:.1}" stroke="black"/>"#);
    for (y, label) in ticks {
        let _ = write!(
            svg,
            r#"<line x1="{:.1}" y1="{y:.1}" x2="{x0:.1}" y2="{y:.1}" stroke="black"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
            x0 - 5.0,
            x0 - 8.0,
            y + 4.0,
            escape(label)
        );
    }
    let mid = (t + b) / 2.0;
    let _ = write!(
        svg,
        r#"<text x="16" y="{mid:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 16 {mid:.1})">{}</text>"#,
        escape(title)
    );
}

/// `name (unit)`, or the name alone for a metric without a unit.
pub(super) fn metric_label(metric: Metric) -> String {
    match metric_unit(metric) {
        "" => metric_name(metric).to_owned(),
        unit => format!("{} ({unit})", metric_name(metric)),
    }
}

/// Text safe inside SVG elements and attribute values.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The viridis colour map's stops, evenly spaced over [0, 1].
pub(super) const VIRIDIS: [(f64, f64, f64); 5] =
    [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];

/// A perceptually uniform colour for `t` in [0, 1] (viridis, 5-stop interpolation); NaN is
/// the dark end.
pub(super) fn viridis(t: f64) -> String {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) * 4.0 };
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Checks a picture the way a browser would first fail on it: one `<svg>` root, every tag
/// closed in order, no `NaN` or infinity printed.
#[cfg(test)]
pub(super) fn assert_well_formed(svg: &str) {
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"), "not one svg element");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "a non-finite number: {svg}");
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("an unclosed tag") + start;
        let tag = &rest[start + 1..end];
        let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap_or_default();
        assert!(!name.is_empty(), "an empty tag in {svg}");
        if let Some(closing) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(closing.trim()), "mismatched </{closing}>");
        } else if !tag.ends_with('/') {
            open.push(name);
        }
        assert!(!rest[start + 1..end].contains('<'), "a stray < in {tag}");
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    assert!(!rest.contains('>'), "a stray >");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
        assert_eq!(viridis(f64::NAN), "#440154");
    }

    #[test]
    fn domains_are_finite_and_open() {
        assert_eq!(domain(1.0, 3.0), (1.0, 3.0));
        assert_eq!(domain(3.0, 1.0), (1.0, 3.0));
        assert_eq!(domain(0.0, 0.0), (-0.5, 0.5));
        assert_eq!(domain(f64::NAN, 1.0), (0.0, 1.0));
        let (lo, hi) = domain(-2.0, -2.0);
        assert!(lo < -2.0 && hi > -2.0);
    }

    #[test]
    fn labels_carry_units() {
        assert_eq!(metric_label(Metric::OvershootPct), "overshoot_pct (%)");
        assert_eq!(metric_label(Metric::RiseTime), "rise_time (s)");
        assert_eq!(metric_label(Metric::Ise), "ise (m²·s)");
        assert_eq!(metric_label(Metric::Overflow), "overflow");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"a<b & "c">"#), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn linear_scale_maps_and_clamps() {
        let s = Linear { d0: 0.0, d1: 10.0, p0: 100.0, p1: 0.0 };
        assert_eq!(s.at(2.5), 75.0);
        assert_eq!(s.clamped(20.0), 0.0);
        assert_eq!(Linear { d0: 1.0, d1: 1.0, p0: 0.0, p1: 10.0 }.at(1.0), 5.0);
    }
}
