//! "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten (after Heckbert, "Nice numbers
//! for graph labels", Graphics Gems, 1990), decade ticks for log scales, and compact labels
//! formatted by the step (never `0.30000000000000004`, never `NaN`).

/// Intervals Heckbert's rounding aims at: about six ticks.
const TARGET_INTERVALS: f64 = 5.0;
/// Fewest ticks a linear axis gets when its range allows: the step shrinks until it does.
const MIN_TICKS: f64 = 5.0;
/// Most ticks a log axis gets before it keeps only powers of ten (or every few of them).
const MAX_LOG_TICKS: usize = 8;
/// A guard against degenerate input; the step rule never gives more than about ten.
const MAX_TICKS: f64 = 50.0;

/// Tick values along an axis with the format their labels share.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ticks {
    /// The values, ascending.
    pub(super) values: Vec<f64>,
    format: Format,
}

/// How an axis's labels are written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    /// Fixed-point with this many decimals (the step's).
    Fixed(usize),
    /// Exponent notation with at most this many mantissa decimals.
    Exp(usize),
    /// Each value on its own, with [`compact`].
    Compact,
}

impl Ticks {
    fn compact(values: Vec<f64>) -> Self {
        Self { values, format: Format::Compact }
    }

    /// The label of `v` (one of [`Ticks::values`]).
    pub(super) fn label(&self, v: f64) -> String {
        if !v.is_finite() {
            return "-".to_owned();
        }
        match self.format {
            Format::Fixed(decimals) => positive_zero(format!("{v:.decimals$}")),
            Format::Exp(_) if v == 0.0 => "0".to_owned(),
            Format::Exp(decimals) => trim_exp(&format!("{v:.decimals$e}")),
            Format::Compact => compact(v),
        }
    }
}

/// A tick step `mantissa * 10^exponent` with `mantissa` 1, 2 or 5.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    mantissa: u8,
    exponent: i32,
}

impl Step {
    /// Heckbert's rounding of `raw` to the nearest nice step.
    fn round(raw: f64) -> Option<Step> {
        if !(raw.is_finite() && raw > 0.0) {
            return None;
        }
        let exponent = raw.log10().floor();
        if !exponent.is_finite() {
            return None;
        }
        let exponent = exponent as i32;
        let fraction = raw / pow10(exponent);
        Some(match fraction {
            f if f < 1.5 => Step { mantissa: 1, exponent },
            f if f < 3.0 => Step { mantissa: 2, exponent },
            f if f < 7.0 => Step { mantissa: 5, exponent },
            _ => Step { mantissa: 1, exponent: exponent + 1 },
        })
    }

    /// The next finer nice step.
    fn finer(self) -> Step {
        match self.mantissa {
            5 => Step { mantissa: 2, ..self },
            2 => Step { mantissa: 1, ..self },
            _ => Step { mantissa: 5, exponent: self.exponent - 1 },
        }
    }

    fn value(self) -> f64 {
        f64::from(self.mantissa) * pow10(self.exponent)
    }

    /// Decimals that write every multiple of the step exactly.
    fn decimals(self) -> usize {
        usize::try_from(-self.exponent).unwrap_or(0)
    }
}

/// `10^e`, divided rather than multiplied for negative `e` so that `10^-6` is the nearest f64
/// to 1e-6.
fn pow10(e: i32) -> f64 {
    if e >= 0 { 10f64.powi(e) } else { 1.0 / 10f64.powi(-e) }
}

/// Nice ticks within `[lo, hi]` (ends swapped if reversed): about 5 to 8 multiples of a
/// 1/2/5 step. One tick when `lo == hi`; none when an end is not finite.
pub(super) fn nice_ticks(lo: f64, hi: f64) -> Ticks {
    ticks(lo, hi, false, false)
}

/// Integer ticks from 0 that reach `max` or beyond (the last tick is the axis top): counts.
pub(super) fn count_ticks(max: f64) -> Ticks {
    let max = if max.is_finite() { max.max(1.0) } else { 1.0 };
    ticks(0.0, max, true, true)
}

/// Ticks on a log scale over `[lo, hi]` (both > 0): 1, 2, 5 times powers of ten, only powers
/// of ten when those are too many, linear nice ticks when the range spans under a decade.
pub(super) fn log_ticks(lo: f64, hi: f64) -> Ticks {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0) {
        return Ticks::compact(Vec::new());
    }
    if hi / lo < 10.0 {
        return nice_ticks(lo, hi);
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let inside = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let with = |mantissas: &[f64], every: i32| -> Vec<f64> {
        (first..=last)
            .filter(|e| (e - first) % every == 0)
            .flat_map(|e| mantissas.iter().map(move |m| m * pow10(e)))
            .filter(inside)
            .collect()
    };
    let mut values = with(&[1.0, 2.0, 5.0], 1);
    let mut every = 1;
    while values.len() > MAX_LOG_TICKS {
        values = with(&[1.0], every);
        every += 1;
    }
    Ticks::compact(values)
}

/// The shared rule: Heckbert's step for about six ticks, made finer until at least
/// [`MIN_TICKS`] fit (not below 1 for `integer`); `loose` extends the end ticks to cover the
/// range instead of staying inside it.
fn ticks(lo: f64, hi: f64, loose: bool, integer: bool) -> Ticks {
    if !(lo.is_finite() && hi.is_finite()) {
        return Ticks::compact(Vec::new());
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let span = hi - lo;
    let Some(mut step) = Step::round(span / TARGET_INTERVALS).filter(|_| span > 0.0) else {
        return Ticks::compact(if lo == hi { vec![lo] } else { vec![lo, hi] });
    };
    let bounds = |step: Step| {
        let s = step.value();
        if loose {
            ((lo / s + 1e-9).floor(), (hi / s - 1e-9).ceil())
        } else {
            ((lo / s - 1e-9).ceil(), (hi / s + 1e-9).floor())
        }
    };
    for _ in 0..3 {
        let (k0, k1) = bounds(step);
        let finer = step.finer();
        if k1 - k0 + 1.0 >= MIN_TICKS || (integer && finer.exponent < 0) {
            break;
        }
        step = finer;
    }
    if integer && step.exponent < 0 {
        step = Step { mantissa: 1, exponent: 0 };
    }
    let s = step.value();
    let (k0, k1) = bounds(step);
    let count = k1 - k0 + 1.0;
    if !(s.is_finite() && s > 0.0 && count.is_finite() && (1.0..=MAX_TICKS).contains(&count)) {
        return Ticks::compact(vec![lo, hi]);
    }
    // `+ 0.0` turns a `-0.0` into `0.0`.
    let values: Vec<f64> = (0..count as usize).map(|i| (k0 + i as f64) * s + 0.0).collect();
    let magnitude = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let format = if magnitude >= 1e6 || (magnitude > 0.0 && magnitude < 1e-3) {
        let digits = magnitude.log10().floor() as i32 - step.exponent;
        Format::Exp(usize::try_from(digits).unwrap_or(0).min(16))
    } else {
        Format::Fixed(step.decimals().min(17))
    };
    Ticks { values, format }
}

/// A value on its own, in at most four significant digits (exponent notation outside
/// `[1e-3, 1e6)`); `-` when not finite.
pub(super) fn compact(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_owned();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let magnitude = v.abs();
    if !(1e-3..1e6).contains(&magnitude) {
        return trim_exp(&format!("{v:.3e}"));
    }
    let decimals = usize::try_from(3 - magnitude.log10().floor() as i32).unwrap_or(0).min(6);
    positive_zero(trim_zeros(&format!("{v:.decimals$}")).to_owned())
}

/// `1.50e-5` -> `1.5e-5`, `2.00e6` -> `2e6`.
fn trim_exp(s: &str) -> String {
    match s.split_once('e') {
        Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa)),
        None => s.to_owned(),
    }
}

/// `1.500` -> `1.5`, `2.000` -> `2`; integers unchanged.
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
}

/// `-0.00` -> `0.00`.
fn positive_zero(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<String> {
        t.values.iter().map(|&v| t.label(v)).collect()
    }

    #[test]
    fn unit_range_steps_by_a_fifth() {
        let t = nice_ticks(0.0, 1.0);
        assert_eq!(labels(&t), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    }

    #[test]
    fn zero_to_37_steps_by_five() {
        let t = nice_ticks(0.0, 37.0);
        assert_eq!(t.values, [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0]);
        assert_eq!(labels(&t)[7], "35");
    }

    #[test]
    fn float_noise_is_not_printed() {
        let t = nice_ticks(0.1, 0.3);
        let l = labels(&t);
        assert!(l.contains(&"0.30".to_owned()), "{l:?}");
        assert!(l.iter().all(|s| s.len() <= 4), "{l:?}");
    }

    #[test]
    fn tiny_ranges_get_distinct_exact_labels() {
        let l = labels(&nice_ticks(0.999998, 1.000002));
        assert_eq!(l, ["0.999998", "0.999999", "1.000000", "1.000001", "1.000002"]);
        let l = labels(&nice_ticks(1e7 + 1.0, 1e7 + 5.0));
        assert_eq!(l, ["1.0000001e7", "1.0000002e7", "1.0000003e7", "1.0000004e7", "1.0000005e7"]);
    }

    #[test]
    fn large_and_small_magnitudes_use_exponents() {
        assert_eq!(labels(&nice_ticks(0.0, 5e7)), ["0", "1e7", "2e7", "3e7", "4e7", "5e7"]);
        assert_eq!(labels(&nice_ticks(0.0, 5e-5)), ["0", "1e-5", "2e-5", "3e-5", "4e-5", "5e-5"]);
        assert_eq!(labels(&nice_ticks(0.0, 2e-5))[1..3], ["5e-6", "1e-5"]);
    }

    #[test]
    fn negative_ranges() {
        assert_eq!(nice_ticks(-37.0, -3.0).values, [-35.0, -30.0, -25.0, -20.0, -15.0, -10.0, -5.0]);
        assert_eq!(labels(&nice_ticks(-1.0, 1.0)), ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        assert_eq!(nice_ticks(1.0, -1.0), nice_ticks(-1.0, 1.0));
    }

    #[test]
    fn degenerate_input_does_not_panic() {
        let t = nice_ticks(2.5, 2.5);
        assert_eq!(labels(&t), ["2.5"]);
        for (lo, hi) in
            [(f64::NAN, 1.0), (0.0, f64::INFINITY), (f64::NEG_INFINITY, f64::INFINITY), (f64::NAN, f64::NAN)]
        {
            assert!(nice_ticks(lo, hi).values.is_empty());
            assert!(log_ticks(lo, hi).values.is_empty());
        }
        for (lo, hi) in [(-f64::MAX, f64::MAX), (0.0, 5e-324), (1.0, 1.0 + f64::EPSILON), (0.0, f64::MAX)] {
            let t = nice_ticks(lo, hi);
            assert!(!t.values.is_empty() && t.values.len() <= 50, "{lo} {hi}: {t:?}");
            assert!(labels(&t).iter().all(|l| !l.contains("NaN") && !l.contains("inf")));
        }
        assert_eq!(labels(&count_ticks(f64::NAN)), ["0", "1"]);
    }

    #[test]
    fn counts_are_integers_reaching_the_top() {
        assert_eq!(count_ticks(3.0).values, [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(count_ticks(37.0).values, [0.0, 10.0, 20.0, 30.0, 40.0]);
        assert_eq!(labels(&count_ticks(1.0)), ["0", "1"]);
        assert_eq!(*count_ticks(1234.0).values.last().unwrap(), 1400.0);
    }

    #[test]
    fn log_ticks_mark_decades() {
        assert_eq!(labels(&log_ticks(0.01, 10.0)), ["0.01", "0.1", "1", "10"]);
        assert_eq!(labels(&log_ticks(1.0, 100.0)), ["1", "2", "5", "10", "20", "50", "100"]);
        assert_eq!(log_ticks(1e-12, 1e12).values.len(), 7);
        assert_eq!(log_ticks(2.0, 5.0), nice_ticks(2.0, 5.0));
        assert!(log_ticks(0.0, 5.0).values.is_empty());
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(0.30000000000000004), "0.3");
        assert_eq!(compact(-0.00012344), "-1.234e-4");
        assert_eq!(compact(1234567.0), "1.235e6");
        assert_eq!(compact(999.96), "1000");
        assert_eq!(compact(f64::NAN), "-");
    }
}
