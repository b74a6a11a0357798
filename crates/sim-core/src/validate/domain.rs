//! The valid values of each numeric field ([`Domain`]), the range a field takes over a job's
//! runs ([`Span`]), and how to say in words why a value or a range does not fit.

use crate::config::Plant;
use crate::param::Param;

/// An interval of valid values. An infinite end that is excluded means "any finite value"; an
/// included infinite end allows that infinity itself (e.g. `u_max = inf`: no upper limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Domain {
    lo: f64,
    lo_inclusive: bool,
    hi: f64,
    hi_inclusive: bool,
}

impl Domain {
    pub(super) const FINITE: Domain = Domain::new(f64::NEG_INFINITY, false, f64::INFINITY, false);
    pub(super) const POSITIVE: Domain = Domain::new(0.0, false, f64::INFINITY, false);
    pub(super) const NON_NEGATIVE: Domain = Domain::new(0.0, true, f64::INFINITY, false);
    /// Finite, or `+inf` (an end time that never comes, an output limit that never binds).
    pub(super) const FINITE_OR_INF: Domain = Domain::new(f64::NEG_INFINITY, false, f64::INFINITY, true);
    pub(super) const FINITE_OR_NEG_INF: Domain = Domain::new(f64::NEG_INFINITY, true, f64::INFINITY, false);
    pub(super) const FRACTION: Domain = Domain::new(0.0, false, 1.0, false);

    const fn new(lo: f64, lo_inclusive: bool, hi: f64, hi_inclusive: bool) -> Self {
        Self { lo, lo_inclusive, hi, hi_inclusive }
    }

    /// The valid values of a parameter. Only `plant.h0` depends on the configuration: a
    /// Torricelli level cannot be negative (its upper bound `h_max` is a cross-field rule).
    pub(super) fn of(param: Param, plant: &Plant) -> Domain {
        match param {
            Param::Tau | Param::Area | Param::HMax | Param::InputPeriod => Domain::POSITIVE,
            Param::H0 => match plant {
                Plant::FirstOrder(_) => Domain::FINITE,
                Plant::Torricelli(_) => Domain::NON_NEGATIVE,
            },
            Param::Outlet
            | Param::MaxInflow
            | Param::Kd
            | Param::DerivativeFilter
            | Param::BackCalculationGain
            | Param::InputAt
            | Param::DisturbanceStart
            | Param::NoiseSd => Domain::NON_NEGATIVE,
            Param::UMin => Domain::FINITE_OR_NEG_INF,
            Param::UMax => Domain::FINITE_OR_INF,
            Param::SettlingBand => Domain::FRACTION,
            Param::Gain
            | Param::Kp
            | Param::Ki
            | Param::InputValue
            | Param::InputInitial
            | Param::InputAmplitude
            | Param::DisturbanceMagnitude => Domain::FINITE,
        }
    }

    pub(super) fn contains(self, x: f64) -> bool {
        self.admits_lower(x, false) && self.admits_upper(x, false)
    }

    /// Whether every value of `span` is valid.
    pub(super) fn admits(self, span: Span) -> bool {
        self.admits_lower(span.lo, span.lo_open) && self.admits_upper(span.hi, span.hi_open)
    }

    fn admits_lower(self, lo: f64, open: bool) -> bool {
        lo > self.lo || (lo == self.lo && (self.lo_inclusive || open))
    }

    fn admits_upper(self, hi: f64, open: bool) -> bool {
        hi < self.hi || (hi == self.hi && (self.hi_inclusive || open))
    }

    /// What the valid values are, after "must be": `> 0`, `in (0, 1)`, `finite or -inf`.
    pub(super) fn describe(self) -> String {
        let (lo_finite, hi_finite) = (self.lo.is_finite(), self.hi.is_finite());
        let lo_op = if self.lo_inclusive { ">=" } else { ">" };
        let hi_op = if self.hi_inclusive { "<=" } else { "<" };
        match (lo_finite, hi_finite) {
            (true, true) => {
                let open = if self.lo_inclusive { '[' } else { '(' };
                let close = if self.hi_inclusive { ']' } else { ')' };
                format!("in {open}{}, {}{close}", self.lo, self.hi)
            }
            (true, false) if self.hi_inclusive => format!("{lo_op} {} (inf allowed)", self.lo),
            (true, false) => format!("{lo_op} {}", self.lo),
            (false, true) if self.lo_inclusive => format!("{hi_op} {} (-inf allowed)", self.hi),
            (false, true) => format!("{hi_op} {}", self.hi),
            (false, false) => match (self.lo_inclusive, self.hi_inclusive) {
                (false, false) => "finite".to_string(),
                (true, false) => "finite or -inf".to_string(),
                (false, true) => "finite or inf".to_string(),
                (true, true) => "a number".to_string(),
            },
        }
    }

    /// Why `x` is not valid (`must be > 0, got -1`), or `None` when it is.
    pub(super) fn violation(self, x: f64) -> Option<String> {
        if self.contains(x) {
            None
        } else if x.is_nan() {
            Some("must be a number, got NaN".to_string())
        } else if x.is_infinite()
            && (x == self.hi || x == self.lo)
            && self.lo.is_finite() != self.hi.is_finite()
        {
            // Excluded only for being infinite: "must be > 0, got inf" would read wrong.
            Some(format!("must be finite, got {x:?}"))
        } else {
            Some(format!("must be {}, got {x:?}", self.describe()))
        }
    }

    /// How a distribution sampling outside this domain could be fixed, for a normal one:
    /// `use truncated_normal with lo > 0`. Empty when no truncation would help.
    pub(super) fn truncation_hint(self, span: Span) -> String {
        let mut bounds = Vec::new();
        if !self.admits_lower(span.lo, span.lo_open) && self.lo.is_finite() {
            bounds.push(format!("lo {} {}", if self.lo_inclusive { ">=" } else { ">" }, self.lo));
        }
        if !self.admits_upper(span.hi, span.hi_open) && self.hi.is_finite() {
            bounds.push(format!("hi {} {}", if self.hi_inclusive { "<=" } else { "<" }, self.hi));
        }
        if bounds.is_empty() {
            String::new()
        } else {
            format!("; use truncated_normal with {}", bounds.join(" and "))
        }
    }
}

/// The values a field takes over a job's runs: `[lo, hi]`, where an open end is an infinite
/// bound that samples approach but never reach (a normal distribution's support is
/// `(-inf, inf)`: unbounded, yet every sample is finite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Span {
    pub(super) lo: f64,
    pub(super) lo_open: bool,
    pub(super) hi: f64,
    pub(super) hi_open: bool,
}

impl Span {
    pub(super) fn point(x: f64) -> Span {
        Span { lo: x, lo_open: false, hi: x, hi_open: false }
    }

    /// Exactly the values in `[lo, hi]` (sweep axes: the ends are values of the axis).
    pub(super) fn closed(lo: f64, hi: f64) -> Span {
        Span { lo, lo_open: false, hi, hi_open: false }
    }

    /// A distribution's support `(lo, hi)`: infinite ends mean "unbounded".
    pub(super) fn support((lo, hi): (f64, f64)) -> Span {
        Span { lo, lo_open: lo.is_infinite(), hi, hi_open: hi.is_infinite() }
    }

    pub(super) fn is_point(self) -> bool {
        self.lo == self.hi && !self.lo_open && !self.hi_open
    }

    /// Whether every value of `self` is below (`strict`) or at most every value of `other`.
    pub(super) fn below(self, other: Span, strict: bool) -> bool {
        if strict {
            self.hi < other.lo || (self.hi == other.lo && (self.hi_open || other.lo_open))
        } else {
            self.hi <= other.lo
        }
    }

    /// `any value`, `values in [1, inf)`.
    pub(super) fn describe(self) -> String {
        if self.lo_open && self.hi_open {
            "any value".to_string()
        } else {
            let open = if self.lo_open { '(' } else { '[' };
            let close = if self.hi_open { ')' } else { ']' };
            format!("values in {open}{:?}, {:?}{close}", self.lo, self.hi)
        }
    }

    /// The largest value, in words: `2`, `as high as 2`, `unbounded above`.
    pub(super) fn describe_high(self) -> String {
        if self.is_point() {
            format!("{:?}", self.hi)
        } else if self.hi_open {
            "unbounded above".to_string()
        } else {
            format!("as high as {:?}", self.hi)
        }
    }

    /// The smallest value, in words.
    pub(super) fn describe_low(self) -> String {
        if self.is_point() {
            format!("{:?}", self.lo)
        } else if self.lo_open {
            "unbounded below".to_string()
        } else {
            format!("as low as {:?}", self.lo)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FirstOrder, Torricelli};

    #[test]
    fn contains_respects_inclusivity_and_infinities() {
        assert!(!Domain::POSITIVE.contains(0.0) && Domain::POSITIVE.contains(1e-300));
        assert!(!Domain::POSITIVE.contains(f64::INFINITY));
        assert!(Domain::NON_NEGATIVE.contains(0.0) && !Domain::NON_NEGATIVE.contains(-0.1));
        assert!(Domain::FINITE_OR_INF.contains(f64::INFINITY));
        assert!(!Domain::FINITE_OR_INF.contains(f64::NEG_INFINITY));
        assert!(Domain::FINITE_OR_NEG_INF.contains(f64::NEG_INFINITY));
        assert!(!Domain::FRACTION.contains(1.0) && Domain::FRACTION.contains(0.5));
        for d in [Domain::FINITE, Domain::POSITIVE, Domain::FINITE_OR_INF, Domain::FRACTION] {
            assert!(!d.contains(f64::NAN));
        }
    }

    #[test]
    fn violations_say_what_is_expected_and_what_came() {
        assert_eq!(Domain::POSITIVE.violation(-1.0).as_deref(), Some("must be > 0, got -1.0"));
        assert_eq!(Domain::POSITIVE.violation(f64::INFINITY).as_deref(), Some("must be finite, got inf"));
        assert_eq!(Domain::FINITE.violation(f64::NEG_INFINITY).as_deref(), Some("must be finite, got -inf"));
        assert_eq!(Domain::NON_NEGATIVE.violation(f64::NAN).as_deref(), Some("must be a number, got NaN"));
        assert_eq!(Domain::FRACTION.violation(1.0).as_deref(), Some("must be in (0, 1), got 1.0"));
        assert_eq!(
            Domain::FINITE_OR_NEG_INF.violation(f64::INFINITY).as_deref(),
            Some("must be finite or -inf, got inf")
        );
        assert_eq!(
            Domain::FINITE_OR_INF.violation(f64::NEG_INFINITY).as_deref(),
            Some("must be finite or inf, got -inf")
        );
        assert_eq!(Domain::POSITIVE.violation(0.0).as_deref(), Some("must be > 0, got 0.0"));
        assert_eq!(Domain::POSITIVE.violation(2.0), None);
    }

    #[test]
    fn unbounded_supports_fit_finite_domains_but_not_bounded_ones() {
        let normal = Span::support((f64::NEG_INFINITY, f64::INFINITY));
        assert!(Domain::FINITE.admits(normal));
        assert!(!Domain::POSITIVE.admits(normal));
        assert_eq!(Domain::POSITIVE.truncation_hint(normal), "; use truncated_normal with lo > 0");
        assert_eq!(Domain::FRACTION.truncation_hint(normal), "; use truncated_normal with lo > 0 and hi < 1");
        let truncated = Span::support((1.0, f64::INFINITY));
        assert!(Domain::POSITIVE.admits(truncated));
        assert!(!Domain::POSITIVE.admits(Span::closed(1.0, f64::INFINITY)));
        assert!(!Domain::POSITIVE.admits(Span::support((0.0, 1.0))));
    }

    #[test]
    fn spans_compare_by_their_extremes() {
        assert!(Span::closed(0.0, 1.0).below(Span::closed(2.0, 3.0), true));
        assert!(!Span::closed(0.0, 2.0).below(Span::closed(2.0, 3.0), true));
        assert!(Span::closed(0.0, 2.0).below(Span::closed(2.0, 3.0), false));
        // Unbounded finite samples stay below a limit of +inf.
        assert!(Span::support((0.0, f64::INFINITY)).below(Span::point(f64::INFINITY), true));
        assert!(!Span::point(f64::INFINITY).below(Span::point(f64::INFINITY), true));
        assert!(!Span::point(f64::NAN).below(Span::point(1.0), false));
    }

    #[test]
    fn h0_domain_depends_on_the_plant() {
        let first = Plant::FirstOrder(FirstOrder { gain: 1.0, tau: 1.0, h0: 0.0 });
        let tank = Plant::Torricelli(Torricelli {
            area: 1.0,
            outlet: 1.0,
            max_inflow: 1.0,
            h_max: 1.0,
            h0: 0.0,
            substeps: 1,
        });
        assert!(Domain::of(Param::H0, &first).contains(-1.0));
        assert!(!Domain::of(Param::H0, &tank).contains(-1.0));
    }

    #[test]
    fn every_param_has_a_domain_that_rejects_nan() {
        let first = Plant::FirstOrder(FirstOrder { gain: 1.0, tau: 1.0, h0: 0.0 });
        for p in Param::ALL {
            assert!(!Domain::of(p, &first).contains(f64::NAN), "{}", p.path());
        }
    }
}
