//! `tanksim.v1.Metric` <-> sim-core's [`Metric`]: proto number `n` is `Metric::ALL[n - 1]`, so
//! "metrics in `Metric` order" means the same list on both sides.

use tanksim_sim_core::Metric;

use crate::v1;

/// A proto metric number that names no metric (0, UNSPECIFIED, or one this build does not
/// know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a tanksim.v1.Metric (1..=13)")]
pub struct UnknownMetric(pub i32);

impl From<Metric> for v1::Metric {
    fn from(metric: Metric) -> Self {
        match metric {
            Metric::OvershootPct => v1::Metric::OvershootPct,
            Metric::RiseTime => v1::Metric::RiseTime,
            Metric::SettlingTime => v1::Metric::SettlingTime,
            Metric::Peak => v1::Metric::Peak,
            Metric::PeakTime => v1::Metric::PeakTime,
            Metric::SteadyStateError => v1::Metric::SteadyStateError,
            Metric::Iae => v1::Metric::Iae,
            Metric::Ise => v1::Metric::Ise,
            Metric::Itae => v1::Metric::Itae,
            Metric::ControlEffort => v1::Metric::ControlEffort,
            Metric::SaturatedFraction => v1::Metric::SaturatedFraction,
            Metric::FinalLevel => v1::Metric::FinalLevel,
            Metric::Overflow => v1::Metric::Overflow,
        }
    }
}

impl TryFrom<v1::Metric> for Metric {
    type Error = UnknownMetric;

    fn try_from(metric: v1::Metric) -> Result<Self, UnknownMetric> {
        Ok(match metric {
            v1::Metric::Unspecified => return Err(UnknownMetric(0)),
            v1::Metric::OvershootPct => Metric::OvershootPct,
            v1::Metric::RiseTime => Metric::RiseTime,
            v1::Metric::SettlingTime => Metric::SettlingTime,
            v1::Metric::Peak => Metric::Peak,
            v1::Metric::PeakTime => Metric::PeakTime,
            v1::Metric::SteadyStateError => Metric::SteadyStateError,
            v1::Metric::Iae => Metric::Iae,
            v1::Metric::Ise => Metric::Ise,
            v1::Metric::Itae => Metric::Itae,
            v1::Metric::ControlEffort => Metric::ControlEffort,
            v1::Metric::SaturatedFraction => Metric::SaturatedFraction,
            v1::Metric::FinalLevel => Metric::FinalLevel,
            v1::Metric::Overflow => Metric::Overflow,
        })
    }
}

/// The metric a generated message's `metric` field (an `i32`) names, if any.
pub fn metric_from_i32(value: i32) -> Option<Metric> {
    v1::Metric::try_from(value).ok().and_then(|m| Metric::try_from(m).ok())
}

/// The proto number of a metric, as generated messages store it.
pub fn metric_to_i32(metric: Metric) -> i32 {
    v1::Metric::from(metric) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_order_is_proto_number_order() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(metric_to_i32(m), i as i32 + 1, "{m:?}");
            assert_eq!(metric_from_i32(i as i32 + 1), Some(m));
            // The proto name is the sim-core name, upper-cased and prefixed.
            let proto = v1::Metric::from(m).as_str_name();
            assert_eq!(proto, format!("METRIC_{}", m.name().to_uppercase()));
        }
        assert_eq!(metric_from_i32(0), None);
        assert_eq!(metric_from_i32(14), None);
        assert_eq!(Metric::try_from(v1::Metric::Unspecified), Err(UnknownMetric(0)));
    }
}
