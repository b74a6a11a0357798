//! Evaluating input profiles (setpoints in closed loop, plant inputs in open loop) over time.

use crate::config::Profile;

impl Profile {
    /// The profile's value at time `t` (seconds).
    pub fn value(&self, t: f64) -> f64 {
        match self {
            Profile::Step { initial, value, at } => {
                if t < *at {
                    *initial
                } else {
                    *value
                }
            }
            Profile::Ramp { from, to, start, end } => {
                if t <= *start {
                    *from
                } else if t >= *end {
                    *to
                } else {
                    from + (to - from) * ((t - start) / (end - start))
                }
            }
            Profile::Sine { offset, amplitude, period, phase } => {
                offset + amplitude * libm::sin(std::f64::consts::TAU * t / period + phase)
            }
            Profile::Schedule(points) => {
                // Last point with `at <= t`; points are sorted (validated), so a binary search
                // keeps long schedules cheap.
                let idx = points.partition_point(|p| p.at <= t);
                points.get(idx.saturating_sub(1)).map_or(f64::NAN, |p| p.value)
            }
        }
    }

    /// `Some(v)` when the profile equals `v` at every `t >= 0`: what lets the batch kernel
    /// hoist the setpoint out of its loop.
    pub fn constant_from_zero(&self) -> Option<f64> {
        match self {
            Profile::Step { initial, value, at } if *at <= 0.0 || initial == value => Some(*value),
            Profile::Ramp { from, to, .. } if from == to => Some(*to),
            Profile::Sine { offset, amplitude, .. } if *amplitude == 0.0 => Some(*offset),
            Profile::Schedule(points) => match points.as_slice() {
                [only] => Some(only.value),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Profile, SchedulePoint};

    #[test]
    fn step_switches_at_its_time() {
        let p = Profile::Step { initial: 0.5, value: 2.0, at: 1.0 };
        assert_eq!(p.value(0.999), 0.5);
        assert_eq!(p.value(1.0), 2.0);
        assert_eq!(p.constant_from_zero(), None);
        assert_eq!(Profile::Step { initial: 0.0, value: 2.0, at: 0.0 }.constant_from_zero(), Some(2.0));
    }

    #[test]
    fn ramp_is_linear_between_its_ends() {
        let p = Profile::Ramp { from: 1.0, to: 3.0, start: 2.0, end: 4.0 };
        assert_eq!(p.value(0.0), 1.0);
        assert_eq!(p.value(3.0), 2.0);
        assert_eq!(p.value(10.0), 3.0);
    }

    #[test]
    fn sine_has_its_period() {
        let p = Profile::Sine { offset: 1.0, amplitude: 0.5, period: 4.0, phase: 0.0 };
        assert!((p.value(1.0) - 1.5).abs() < 1e-15);
        assert!((p.value(3.0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn schedule_holds_the_last_point_reached() {
        let p = Profile::Schedule(vec![
            SchedulePoint { at: 1.0, value: 0.2 },
            SchedulePoint { at: 5.0, value: 0.8 },
        ]);
        assert_eq!(p.value(0.0), 0.2);
        assert_eq!(p.value(1.0), 0.2);
        assert_eq!(p.value(4.99), 0.2);
        assert_eq!(p.value(5.0), 0.8);
        assert_eq!(p.value(100.0), 0.8);
    }
}
