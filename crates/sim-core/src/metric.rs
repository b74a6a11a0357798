//! The response metrics of one run, and the [`Metric`] names that index them.

/// The metrics of one run.
///
/// Step metrics (overshoot, rise time, settling time) are relative to the step from the
/// initial level `h0` to the reference `r` (the input profile's value at the horizon in closed
/// loop; the plant's steady state for the final input in open loop), and are `None` when
/// `r == h0`. Rise time is also `None` when the level never reaches 90 % of the step.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunMetrics {
    /// `max(0, (peak - r) / |r - h0| * 100)`, peak taken in the step's direction.
    pub overshoot_pct: Option<f64>,
    /// `t[i90] - t[i10]`: first samples at or past 10 % and 90 % of the step.
    pub rise_time: Option<f64>,
    /// `t[k] + dt` for the last sample `k` outside the band `|h - r| > band * |r - h0|`; 0 if none.
    pub settling_time: Option<f64>,
    /// Extreme level in the step's direction (the maximum when there is no step).
    pub peak: f64,
    /// Time of the first sample at the peak.
    pub peak_time: f64,
    /// `r - h[N]`.
    pub steady_state_error: f64,
    /// `sum |e| * dt` over steps `k = 0..N-1`, `e = r(t_k) - h[k]`.
    pub iae: f64,
    /// `sum e^2 * dt`.
    pub ise: f64,
    /// `sum t_k * |e| * dt`.
    pub itae: f64,
    /// `sum |u| * dt`.
    pub control_effort: f64,
    /// Fraction of steps whose controller output was clipped by its limits.
    pub saturated_fraction: f64,
    /// `h[N]`.
    pub final_level: f64,
    /// Volume spilled over the top of a Torricelli tank (0 for the first-order plant).
    pub overflow: f64,
}

/// A statistic of a metric's values over many runs: an optimisation's robust objective, an
/// adaptive job's stop rule (each says how it reads a quantile).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    Mean,
    /// The `q` quantile.
    Quantile(f64),
}

impl Statistic {
    /// The quantile, `None` for the mean.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Statistic::Mean => None,
            Statistic::Quantile(q) => Some(q),
        }
    }
}

/// The name of one metric, for summaries, objectives and APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    OvershootPct,
    RiseTime,
    SettlingTime,
    Peak,
    PeakTime,
    SteadyStateError,
    Iae,
    Ise,
    Itae,
    ControlEffort,
    SaturatedFraction,
    FinalLevel,
    Overflow,
}

impl Metric {
    /// Every metric, in a fixed order (the order of summaries and tables).
    pub const ALL: [Metric; 13] = [
        Metric::OvershootPct,
        Metric::RiseTime,
        Metric::SettlingTime,
        Metric::Peak,
        Metric::PeakTime,
        Metric::SteadyStateError,
        Metric::Iae,
        Metric::Ise,
        Metric::Itae,
        Metric::ControlEffort,
        Metric::SaturatedFraction,
        Metric::FinalLevel,
        Metric::Overflow,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// The snake_case name used in specs, APIs and tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::OvershootPct => "overshoot_pct",
            Metric::RiseTime => "rise_time",
            Metric::SettlingTime => "settling_time",
            Metric::Peak => "peak",
            Metric::PeakTime => "peak_time",
            Metric::SteadyStateError => "steady_state_error",
            Metric::Iae => "iae",
            Metric::Ise => "ise",
            Metric::Itae => "itae",
            Metric::ControlEffort => "control_effort",
            Metric::SaturatedFraction => "saturated_fraction",
            Metric::FinalLevel => "final_level",
            Metric::Overflow => "overflow",
        }
    }

    /// Parses a [`Metric::name`].
    pub fn from_name(name: &str) -> Option<Metric> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Position in [`Metric::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl RunMetrics {
    /// The value of one metric (`None` when it is absent for this run).
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::OvershootPct => self.overshoot_pct,
            Metric::RiseTime => self.rise_time,
            Metric::SettlingTime => self.settling_time,
            Metric::Peak => Some(self.peak),
            Metric::PeakTime => Some(self.peak_time),
            Metric::SteadyStateError => Some(self.steady_state_error),
            Metric::Iae => Some(self.iae),
            Metric::Ise => Some(self.ise),
            Metric::Itae => Some(self.itae),
            Metric::ControlEffort => Some(self.control_effort),
            Metric::SaturatedFraction => Some(self.saturated_fraction),
            Metric::FinalLevel => Some(self.final_level),
            Metric::Overflow => Some(self.overflow),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_order() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(Metric::from_name(m.name()), Some(m));
            assert_eq!(m.index(), i);
        }
        assert_eq!(Metric::from_name("overshoot"), None);
    }
}
