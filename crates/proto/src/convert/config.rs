//! `tanksim.v1.SimConfig` to sim-core's [`SimConfig`]: proto3 defaults, structural checks
//! (required messages, enum values, fields the chosen kind does not use), and the mapping of
//! sim-core's configuration paths to request paths.
//!
//! Proto3 defaults, applied here and nowhere else:
//! - `settling_band` absent: 0.02 (sim-core's [`MetricsConfig::default`]);
//! - `controller.u_min` / `u_max` absent: `-inf` / `+inf` (unbounded on that side);
//! - `controller.anti_windup` UNSPECIFIED: conditional integration;
//! - `controller.derivative_on` UNSPECIFIED: the measurement;
//! - `disturbance.end` absent: `+inf` (the disturbance stays);
//! - `plant.substeps` 0: 1 (a Torricelli plant's RK4 substeps);
//! - `record` absent or `record.every` 0: no trajectory; `every = n`: every n-th sample;
//! - `disturbance` / `noise` absent: none.

use tanksim_sim_core::config::{
    AntiWindup, Controller, DerivativeOn, Disturbance, FirstOrder, MeasurementNoise, MetricsConfig, Pid,
    Plant, Profile, Recording, SchedulePoint, SimConfig, Torricelli,
};
use tanksim_sim_core::validate::{Limits, validate_config};

use super::violation::{FieldViolation, Violations, not_one_of};
use crate::v1;

const PLANT_KINDS: &[&str] = &["first_order", "torricelli"];
const CONTROLLER_KINDS: &[&str] = &["open_loop", "pid"];
const PROFILE_KINDS: &[&str] = &["step", "ramp", "sine", "schedule"];
const PROFILE_FIELDS: [&str; 7] = ["value", "initial", "at", "end", "amplitude", "period", "phase"];

/// Converts a configuration without checking its values, with unprefixed paths.
impl TryFrom<&v1::SimConfig> for SimConfig {
    type Error = Vec<FieldViolation>;

    fn try_from(config: &v1::SimConfig) -> Result<Self, Self::Error> {
        sim_config_from_proto(config, "")
    }
}

/// Converts a configuration (structural checks only; see the module docs for the defaults).
/// Every violation's path starts with `prefix` (`"config."` for a field named `config`, `""`
/// for a bare configuration).
pub fn sim_config_from_proto(config: &v1::SimConfig, prefix: &str) -> Result<SimConfig, Vec<FieldViolation>> {
    let mut found = Violations::default();
    let converted = read_config(config, prefix, &mut found);
    found.into_result(converted)
}

/// Converts a configuration and checks it with sim-core's `validate_config`, with every path
/// (structural or value) under `prefix`.
pub fn valid_sim_config(
    config: &v1::SimConfig,
    prefix: &str,
    limits: &Limits,
) -> Result<SimConfig, Vec<FieldViolation>> {
    let converted = sim_config_from_proto(config, prefix)?;
    let mut found = Violations::default();
    if let Err(e) = validate_config(&converted, limits) {
        found.extend(
            e.into_violations()
                .into_iter()
                .map(|v| FieldViolation { field: request_path(&v.field, prefix), reason: v.reason }),
        );
    }
    found.into_result(Some(converted))
}

/// The configuration of a `SimulationService.Simulate` request, converted and validated, with
/// paths under `config.` (a missing `config` is a violation of `config`).
pub fn simulate_config(
    request: &v1::SimulateRequest,
    limits: &Limits,
) -> Result<SimConfig, Vec<FieldViolation>> {
    match &request.config {
        Some(config) => valid_sim_config(config, "config.", limits),
        None => Err(vec![FieldViolation { field: "config".into(), reason: "required".into() }]),
    }
}

/// The request path of a path sim-core's configuration rules report, under `prefix`. The
/// proto keeps the settling band at the top level (`settling_band`, not
/// `metrics.settling_band`); every other configuration path is spelled alike.
pub(crate) fn request_path(core_path: &str, prefix: &str) -> String {
    let path = if core_path == "metrics.settling_band" { "settling_band" } else { core_path };
    format!("{prefix}{path}")
}

/// The configuration, or `None` after recording why it has none.
pub(crate) fn read_config(config: &v1::SimConfig, prefix: &str, found: &mut Violations) -> Option<SimConfig> {
    let mut r = Reader { prefix, found };
    let plant = r.plant(config.plant.as_ref());
    let controller = r.controller(config.controller.as_ref());
    let input = r.input(config.input.as_ref());
    let record = match config.record.map_or(0, |r| r.every) {
        0 => Recording::None,
        n => Recording::Every(n),
    };
    let settling_band = config.settling_band.unwrap_or(MetricsConfig::default().settling_band);
    Some(SimConfig {
        plant: plant?,
        controller: controller?,
        input: input?,
        disturbance: config.disturbance.map(|d| Disturbance {
            magnitude: d.magnitude,
            start: d.start,
            end: d.end.unwrap_or(f64::INFINITY),
        }),
        noise: config.noise.map(|n| MeasurementNoise { sd: n.sd, seed: n.seed }),
        dt: config.dt,
        horizon: config.horizon,
        record,
        metrics: MetricsConfig { settling_band },
    })
}

struct Reader<'a> {
    prefix: &'a str,
    found: &'a mut Violations,
}

impl Reader<'_> {
    fn push(&mut self, path: &str, reason: impl Into<String>) {
        self.found.push(format!("{}{path}", self.prefix), reason);
    }

    fn required<'m, T>(&mut self, path: &str, message: Option<&'m T>) -> Option<&'m T> {
        if message.is_none() {
            self.push(path, "required");
        }
        message
    }

    /// Rejects a field the chosen kind ignores, so a value set there is never silently lost.
    fn unused(&mut self, path: &str, set: bool, owner: &str) {
        if set {
            self.push(path, format!("not used by {owner}; leave it unset"));
        }
    }

    fn plant(&mut self, plant: Option<&v1::Plant>) -> Option<Plant> {
        let p = self.required("plant", plant)?;
        match v1::PlantKind::try_from(p.kind) {
            Ok(v1::PlantKind::FirstOrder) => {
                let owner = "a first_order plant";
                for (name, v) in [("area", p.area), ("outlet", p.outlet), ("max_inflow", p.max_inflow)] {
                    self.unused(&format!("plant.{name}"), v != 0.0, owner);
                }
                self.unused("plant.h_max", p.h_max != 0.0, owner);
                self.unused("plant.substeps", p.substeps != 0, owner);
                Some(Plant::FirstOrder(FirstOrder { gain: p.gain, tau: p.tau, h0: p.h0 }))
            }
            Ok(v1::PlantKind::Torricelli) => {
                self.unused("plant.gain", p.gain != 0.0, "a torricelli plant");
                self.unused("plant.tau", p.tau != 0.0, "a torricelli plant");
                Some(Plant::Torricelli(Torricelli {
                    area: p.area,
                    outlet: p.outlet,
                    max_inflow: p.max_inflow,
                    h_max: p.h_max,
                    h0: p.h0,
                    substeps: p.substeps.max(1),
                }))
            }
            Ok(v1::PlantKind::Unspecified) | Err(_) => {
                self.push("plant.kind", not_one_of(p.kind, PLANT_KINDS));
                None
            }
        }
    }

    fn controller(&mut self, controller: Option<&v1::Controller>) -> Option<Controller> {
        let c = self.required("controller", controller)?;
        match v1::ControllerKind::try_from(c.kind) {
            Ok(v1::ControllerKind::OpenLoop) => {
                let owner = "an open_loop controller";
                let floats =
                    [("kp", c.kp), ("ki", c.ki), ("kd", c.kd), ("derivative_filter", c.derivative_filter)];
                for (name, v) in floats {
                    self.unused(&format!("controller.{name}"), v != 0.0, owner);
                }
                self.unused("controller.u_min", c.u_min.is_some(), owner);
                self.unused("controller.u_max", c.u_max.is_some(), owner);
                self.unused("controller.derivative_on", c.derivative_on != 0, owner);
                self.unused("controller.anti_windup", c.anti_windup != 0, owner);
                self.unused("controller.back_calculation_gain", c.back_calculation_gain != 0.0, owner);
                Some(Controller::OpenLoop)
            }
            Ok(v1::ControllerKind::Pid) => self.pid(c),
            Ok(v1::ControllerKind::Unspecified) | Err(_) => {
                self.push("controller.kind", not_one_of(c.kind, CONTROLLER_KINDS));
                None
            }
        }
    }

    fn pid(&mut self, c: &v1::Controller) -> Option<Controller> {
        use v1::AntiWindup as Aw;
        let derivative_on = match v1::DerivativeOn::try_from(c.derivative_on) {
            Ok(v1::DerivativeOn::Unspecified | v1::DerivativeOn::Measurement) => {
                Some(DerivativeOn::Measurement)
            }
            Ok(v1::DerivativeOn::Error) => Some(DerivativeOn::Error),
            Err(_) => {
                self.push("controller.derivative_on", not_one_of(c.derivative_on, &["measurement", "error"]));
                None
            }
        };
        let anti_windup = match Aw::try_from(c.anti_windup) {
            Ok(Aw::Unspecified | Aw::Conditional) => Some(AntiWindup::Conditional),
            Ok(Aw::None) => Some(AntiWindup::None),
            Ok(Aw::BackCalculation) => Some(AntiWindup::BackCalculation { gain: c.back_calculation_gain }),
            Err(_) => {
                let names = ["none", "conditional", "back_calculation"];
                self.push("controller.anti_windup", not_one_of(c.anti_windup, &names));
                None
            }
        };
        if !matches!(anti_windup, Some(AntiWindup::BackCalculation { .. })) {
            let set = c.back_calculation_gain != 0.0;
            self.unused("controller.back_calculation_gain", set, "anti-windup other than back_calculation");
        }
        Some(Controller::Pid(Pid {
            kp: c.kp,
            ki: c.ki,
            kd: c.kd,
            u_min: c.u_min.unwrap_or(f64::NEG_INFINITY),
            u_max: c.u_max.unwrap_or(f64::INFINITY),
            derivative_filter: c.derivative_filter,
            derivative_on: derivative_on?,
            anti_windup: anti_windup?,
        }))
    }

    fn input(&mut self, input: Option<&v1::Profile>) -> Option<Profile> {
        let p = self.required("input", input)?;
        let (used, owner): (&[&str], &str) = match v1::ProfileKind::try_from(p.kind) {
            Ok(v1::ProfileKind::Step) => (&["value", "initial", "at"], "a step input"),
            Ok(v1::ProfileKind::Ramp) => (&["value", "initial", "at", "end"], "a ramp input"),
            Ok(v1::ProfileKind::Sine) => (&["value", "amplitude", "period", "phase"], "a sine input"),
            Ok(v1::ProfileKind::Schedule) => (&[], "a schedule input"),
            Ok(v1::ProfileKind::Unspecified) | Err(_) => {
                self.push("input.kind", not_one_of(p.kind, PROFILE_KINDS));
                return None;
            }
        };
        let values = [p.value, p.initial, p.at, p.end, p.amplitude, p.period, p.phase];
        for (name, v) in PROFILE_FIELDS.into_iter().zip(values) {
            if !used.contains(&name) {
                self.unused(&format!("input.{name}"), v != 0.0, owner);
            }
        }
        let schedule = used.is_empty();
        if !schedule {
            self.unused("input.points", !p.points.is_empty(), owner);
        }
        Some(match v1::ProfileKind::try_from(p.kind) {
            Ok(v1::ProfileKind::Step) => Profile::Step { initial: p.initial, value: p.value, at: p.at },
            Ok(v1::ProfileKind::Ramp) => {
                Profile::Ramp { from: p.initial, to: p.value, start: p.at, end: p.end }
            }
            Ok(v1::ProfileKind::Sine) => {
                Profile::Sine { offset: p.value, amplitude: p.amplitude, period: p.period, phase: p.phase }
            }
            _ => Profile::Schedule(
                p.points.iter().map(|s| SchedulePoint { at: s.at, value: s.value }).collect(),
            ),
        })
    }
}
