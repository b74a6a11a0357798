//! Numeric fields of a [`SimConfig`] that distributions and sweep axes may vary, named by
//! their field path (`plant.tau`, `controller.kp`, ...).

use crate::config::{AntiWindup, Controller, Plant, Profile, SimConfig};

/// A numeric field of a [`SimConfig`], addressed by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Param {
    /// `plant.gain` (first-order).
    Gain,
    /// `plant.tau` (first-order).
    Tau,
    /// `plant.h0` (both plants).
    H0,
    /// `plant.area` (Torricelli).
    Area,
    /// `plant.outlet` (Torricelli).
    Outlet,
    /// `plant.max_inflow` (Torricelli).
    MaxInflow,
    /// `plant.h_max` (Torricelli).
    HMax,
    Kp,
    Ki,
    Kd,
    UMin,
    UMax,
    DerivativeFilter,
    /// `controller.back_calculation_gain` (back-calculation anti-windup).
    BackCalculationGain,
    /// `input.value`: the final value of a step, `to` of a ramp, `offset` of a sine.
    InputValue,
    /// `input.initial`: the value before a step, `from` of a ramp.
    InputInitial,
    /// `input.at`: the time of a step, `start` of a ramp.
    InputAt,
    /// `input.amplitude` (sine).
    InputAmplitude,
    /// `input.period` (sine).
    InputPeriod,
    /// `disturbance.magnitude`.
    DisturbanceMagnitude,
    /// `disturbance.start`.
    DisturbanceStart,
    /// `noise.sd`.
    NoiseSd,
    /// `metrics.settling_band`.
    SettlingBand,
}

/// Why a parameter cannot be set on a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct NotApplicable {
    pub path: &'static str,
    pub reason: &'static str,
}

impl Param {
    pub const ALL: [Param; 23] = [
        Param::Gain,
        Param::Tau,
        Param::H0,
        Param::Area,
        Param::Outlet,
        Param::MaxInflow,
        Param::HMax,
        Param::Kp,
        Param::Ki,
        Param::Kd,
        Param::UMin,
        Param::UMax,
        Param::DerivativeFilter,
        Param::BackCalculationGain,
        Param::InputValue,
        Param::InputInitial,
        Param::InputAt,
        Param::InputAmplitude,
        Param::InputPeriod,
        Param::DisturbanceMagnitude,
        Param::DisturbanceStart,
        Param::NoiseSd,
        Param::SettlingBand,
    ];

    /// The field path, as specs and error messages spell it.
    pub fn path(self) -> &'static str {
        match self {
            Param::Gain => "plant.gain",
            Param::Tau => "plant.tau",
            Param::H0 => "plant.h0",
            Param::Area => "plant.area",
            Param::Outlet => "plant.outlet",
            Param::MaxInflow => "plant.max_inflow",
            Param::HMax => "plant.h_max",
            Param::Kp => "controller.kp",
            Param::Ki => "controller.ki",
            Param::Kd => "controller.kd",
            Param::UMin => "controller.u_min",
            Param::UMax => "controller.u_max",
            Param::DerivativeFilter => "controller.derivative_filter",
            Param::BackCalculationGain => "controller.back_calculation_gain",
            Param::InputValue => "input.value",
            Param::InputInitial => "input.initial",
            Param::InputAt => "input.at",
            Param::InputAmplitude => "input.amplitude",
            Param::InputPeriod => "input.period",
            Param::DisturbanceMagnitude => "disturbance.magnitude",
            Param::DisturbanceStart => "disturbance.start",
            Param::NoiseSd => "noise.sd",
            Param::SettlingBand => "metrics.settling_band",
        }
    }

    /// Parses a [`Param::path`].
    pub fn from_path(path: &str) -> Option<Param> {
        Self::ALL.into_iter().find(|p| p.path() == path)
    }

    /// Sets this field of `config` to `value`, or says why the configuration has no such field
    /// (e.g. `plant.tau` on a Torricelli tank). Does not validate the value.
    pub fn apply(self, config: &mut SimConfig, value: f64) -> Result<(), NotApplicable> {
        let path = self.path();
        let missing = |reason| Err(NotApplicable { path, reason });
        let slot: &mut f64 = match (self, &mut config.plant) {
            (Param::Gain, Plant::FirstOrder(p)) => &mut p.gain,
            (Param::Tau, Plant::FirstOrder(p)) => &mut p.tau,
            (Param::H0, Plant::FirstOrder(p)) => &mut p.h0,
            (Param::H0, Plant::Torricelli(p)) => &mut p.h0,
            (Param::Area, Plant::Torricelli(p)) => &mut p.area,
            (Param::Outlet, Plant::Torricelli(p)) => &mut p.outlet,
            (Param::MaxInflow, Plant::Torricelli(p)) => &mut p.max_inflow,
            (Param::HMax, Plant::Torricelli(p)) => &mut p.h_max,
            (Param::Gain | Param::Tau, _) => return missing("only the first-order plant has it"),
            (Param::Area | Param::Outlet | Param::MaxInflow | Param::HMax, _) => {
                return missing("only the Torricelli plant has it");
            }
            _ => match (self, &mut config.controller) {
                (Param::Kp, Controller::Pid(c)) => &mut c.kp,
                (Param::Ki, Controller::Pid(c)) => &mut c.ki,
                (Param::Kd, Controller::Pid(c)) => &mut c.kd,
                (Param::UMin, Controller::Pid(c)) => &mut c.u_min,
                (Param::UMax, Controller::Pid(c)) => &mut c.u_max,
                (Param::DerivativeFilter, Controller::Pid(c)) => &mut c.derivative_filter,
                (Param::BackCalculationGain, Controller::Pid(c)) => match &mut c.anti_windup {
                    AntiWindup::BackCalculation { gain } => gain,
                    _ => return missing("the controller does not use back-calculation anti-windup"),
                },
                (
                    Param::Kp
                    | Param::Ki
                    | Param::Kd
                    | Param::UMin
                    | Param::UMax
                    | Param::DerivativeFilter
                    | Param::BackCalculationGain,
                    Controller::OpenLoop,
                ) => return missing("an open-loop run has no controller gains"),
                _ => return apply_rest(self, config, value),
            },
        };
        *slot = value;
        Ok(())
    }
}

/// The input, disturbance, noise and metric fields.
fn apply_rest(param: Param, config: &mut SimConfig, value: f64) -> Result<(), NotApplicable> {
    let path = param.path();
    let missing = |reason| Err(NotApplicable { path, reason });
    let slot: &mut f64 = match (param, &mut config.input) {
        (Param::InputValue, Profile::Step { value: v, .. }) => v,
        (Param::InputValue, Profile::Ramp { to, .. }) => to,
        (Param::InputValue, Profile::Sine { offset, .. }) => offset,
        (Param::InputInitial, Profile::Step { initial, .. }) => initial,
        (Param::InputInitial, Profile::Ramp { from, .. }) => from,
        (Param::InputAt, Profile::Step { at, .. }) => at,
        (Param::InputAt, Profile::Ramp { start, .. }) => start,
        (Param::InputAmplitude, Profile::Sine { amplitude, .. }) => amplitude,
        (Param::InputPeriod, Profile::Sine { period, .. }) => period,
        (Param::InputValue | Param::InputInitial | Param::InputAt, _) => {
            return missing("only step and ramp inputs have it (and sine for input.value)");
        }
        (Param::InputAmplitude | Param::InputPeriod, _) => return missing("only a sine input has it"),
        (Param::DisturbanceMagnitude | Param::DisturbanceStart, _) => match &mut config.disturbance {
            Some(d) if param == Param::DisturbanceMagnitude => &mut d.magnitude,
            Some(d) => &mut d.start,
            None => return missing("the configuration has no disturbance"),
        },
        (Param::NoiseSd, _) => match &mut config.noise {
            Some(n) => &mut n.sd,
            None => return missing("the configuration has no measurement noise"),
        },
        (Param::SettlingBand, _) => &mut config.metrics.settling_band,
        _ => unreachable!("plant and controller parameters are handled by Param::apply"),
    };
    *slot = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Plant, Torricelli};

    #[test]
    fn paths_round_trip() {
        for p in Param::ALL {
            assert_eq!(Param::from_path(p.path()), Some(p));
        }
        assert_eq!(Param::from_path("plant.taux"), None);
    }

    #[test]
    fn apply_sets_the_named_field() {
        let mut c = SimConfig::mc_tau(10.0);
        Param::Tau.apply(&mut c, 7.5).unwrap();
        Param::Kp.apply(&mut c, 3.0).unwrap();
        Param::InputValue.apply(&mut c, 0.5).unwrap();
        assert_eq!(c.plant, Plant::FirstOrder(crate::config::FirstOrder { gain: 2.0, tau: 7.5, h0: 0.0 }));
        let Controller::Pid(pid) = c.controller else { panic!("pid") };
        assert_eq!(pid.kp, 3.0);
        assert_eq!(c.input, Profile::Step { initial: 1.0, value: 0.5, at: 0.0 });
    }

    #[test]
    fn apply_refuses_fields_the_config_lacks() {
        let mut c = SimConfig::mc_tau(10.0);
        c.plant = Plant::Torricelli(Torricelli {
            area: 1.0,
            outlet: 0.5,
            max_inflow: 1.0,
            h_max: 4.0,
            h0: 0.0,
            substeps: 1,
        });
        let err = Param::Tau.apply(&mut c, 1.0).unwrap_err();
        assert_eq!(err.path, "plant.tau");
        assert!(Param::NoiseSd.apply(&mut c, 1.0).is_err());
        assert!(Param::BackCalculationGain.apply(&mut c, 1.0).is_err());
        assert!(Param::HMax.apply(&mut c, 5.0).is_ok());
    }
}
