//! The rules of one configuration, applied to every value a field takes over a job's runs.

use super::Limits;
use super::Violations;
use super::domain::{Domain, Span};
use super::output::recorded_samples;
use crate::config::{AntiWindup, Controller, Plant, Profile, Recording, SimConfig};
use crate::param::Param;

/// Where each parameter's values come from: the configuration itself, or a job that varies it.
#[derive(Debug)]
pub(super) struct Sources([Source; Param::ALL.len()]);

#[derive(Debug, Clone)]
pub(super) enum Source {
    /// The configuration's own value.
    Fixed,
    /// A job varies it over `span` (already checked against the parameter's domain); `field`
    /// is the job field that does it, the one to blame when a cross-field rule fails.
    Varied { span: Span, field: String },
    /// A job varies it but the way it does is itself invalid (and reported): no rule can say
    /// anything useful about its values.
    Unknown,
}

impl Sources {
    pub(super) fn fixed() -> Sources {
        Sources(std::array::from_fn(|_| Source::Fixed))
    }

    pub(super) fn set(&mut self, param: Param, source: Source) {
        self.0[param as usize] = source;
    }

    pub(super) fn get(&self, param: Param) -> &Source {
        &self.0[param as usize]
    }
}

/// One side of a rule: a field, its path and the values it takes.
#[derive(Debug, Clone, Copy)]
struct Operand<'a> {
    path: &'a str,
    span: Span,
    /// The job field varying it, if any.
    varied: Option<&'a str>,
}

/// Checks `config` with the parameters in `sources` taking their job's values.
pub(super) fn check(config: &SimConfig, limits: &Limits, sources: &Sources, found: &mut Violations) {
    let mut c = Checker { config, sources, found };
    c.plant();
    c.controller();
    c.input();
    c.disturbance_and_noise();
    c.time_grid_and_recording(limits);
    c.param(Param::SettlingBand, config.metrics.settling_band);
}

struct Checker<'a> {
    config: &'a SimConfig,
    sources: &'a Sources,
    found: &'a mut Violations,
}

impl<'a> Checker<'a> {
    fn plant(&mut self) {
        match self.config.plant {
            Plant::FirstOrder(p) => {
                self.param(Param::Gain, p.gain);
                self.param(Param::Tau, p.tau);
                self.param(Param::H0, p.h0);
            }
            Plant::Torricelli(p) => {
                self.param(Param::Area, p.area);
                self.param(Param::Outlet, p.outlet);
                self.param(Param::MaxInflow, p.max_inflow);
                let h_max = self.param(Param::HMax, p.h_max);
                let h0 = self.param(Param::H0, p.h0);
                self.ordered(h0, h_max, false, Blame::Left);
                if !(1..=1000).contains(&p.substeps) {
                    self.found.push("plant.substeps", format!("must be in 1..=1000, got {}", p.substeps));
                }
            }
        }
    }

    fn controller(&mut self) {
        let Controller::Pid(pid) = self.config.controller else {
            return;
        };
        self.param(Param::Kp, pid.kp);
        self.param(Param::Ki, pid.ki);
        self.param(Param::Kd, pid.kd);
        self.param(Param::DerivativeFilter, pid.derivative_filter);
        if let AntiWindup::BackCalculation { gain } = pid.anti_windup {
            self.param(Param::BackCalculationGain, gain);
        }
        let u_min = self.param(Param::UMin, pid.u_min);
        let u_max = self.param(Param::UMax, pid.u_max);
        self.ordered(u_min, u_max, true, Blame::Right);
    }

    fn input(&mut self) {
        match &self.config.input {
            &Profile::Step { initial, value, at } => {
                self.param(Param::InputInitial, initial);
                self.param(Param::InputValue, value);
                self.param(Param::InputAt, at);
            }
            &Profile::Ramp { from, to, start, end } => {
                self.param(Param::InputInitial, from);
                self.param(Param::InputValue, to);
                let start = self.param(Param::InputAt, start);
                let end = self.field("input.end", end, Domain::NON_NEGATIVE);
                self.ordered(start, end, true, Blame::Right);
            }
            &Profile::Sine { offset, amplitude, period, phase } => {
                self.param(Param::InputValue, offset);
                self.param(Param::InputAmplitude, amplitude);
                self.param(Param::InputPeriod, period);
                self.field("input.phase", phase, Domain::FINITE);
            }
            Profile::Schedule(points) => {
                if points.is_empty() {
                    self.found.push("input.points", "a schedule needs at least one point");
                }
                // Each time is compared with the last valid one before it, so one bad time
                // neither hides nor causes an ordering error of its neighbours.
                let mut previous: Option<(usize, f64)> = None;
                for (i, point) in points.iter().enumerate() {
                    let path = format!("input.points[{i}].at");
                    if let Some(reason) = Domain::NON_NEGATIVE.violation(point.at) {
                        self.found.push(path, reason);
                    } else {
                        if let Some((j, at)) = previous.filter(|&(_, at)| point.at <= at) {
                            let reason =
                                format!("must be > input.points[{j}].at ({at:?}), got {:?}", point.at);
                            self.found.push(path, reason);
                        }
                        previous = Some((i, point.at));
                    }
                    if let Some(reason) = Domain::FINITE.violation(point.value) {
                        self.found.push(format!("input.points[{i}].value"), reason);
                    }
                }
            }
        }
    }

    fn disturbance_and_noise(&mut self) {
        if let Some(d) = self.config.disturbance {
            self.param(Param::DisturbanceMagnitude, d.magnitude);
            let start = self.param(Param::DisturbanceStart, d.start);
            let end = self.field("disturbance.end", d.end, Domain::FINITE_OR_INF);
            self.ordered(start, end, true, Blame::Right);
        }
        if let Some(noise) = self.config.noise {
            self.param(Param::NoiseSd, noise.sd);
        }
    }

    fn time_grid_and_recording(&mut self, limits: &Limits) {
        let (dt, horizon) = (self.config.dt, self.config.horizon);
        let dt_ok = self.field("dt", dt, Domain::POSITIVE);
        let horizon_ok = self.field("horizon", horizon, Domain::POSITIVE);
        if dt_ok.is_none() || horizon_ok.is_none() {
            return;
        }
        if horizon < dt {
            self.found.push("horizon", format!("must be >= dt ({dt:?}), got {horizon:?}"));
            return;
        }
        // The same rounding as `SimConfig::steps`, kept in f64 so a huge ratio is reported
        // rather than saturated.
        let steps = (horizon / dt).round();
        if steps > limits.max_steps_per_run as f64 {
            let shown = if steps < 1e18 { format!("{steps}") } else { format!("{steps:e}") };
            self.found.push(
                "horizon",
                format!(
                    "horizon / dt = {shown} steps, more than the limit of {} steps per run",
                    limits.max_steps_per_run
                ),
            );
            return;
        }
        let field = match self.config.record {
            Recording::None => return,
            Recording::Full => "record",
            Recording::Every(0) => {
                self.found.push("record.every", "must be >= 1, got 0");
                return;
            }
            Recording::Every(_) => "record.every",
        };
        let samples = recorded_samples(steps as u64, self.config.record);
        if samples > limits.max_recorded_samples {
            self.found.push(
                field,
                format!(
                    "records {samples} samples per run, more than the limit of {}",
                    limits.max_recorded_samples
                ),
            );
        }
    }

    /// Checks a parameter the configuration holds `value` for, unless a job varies it (its
    /// range was checked by the job's rules). Its values, when known to be valid.
    fn param(&mut self, param: Param, value: f64) -> Option<Operand<'a>> {
        let sources: &'a Sources = self.sources;
        match sources.get(param) {
            Source::Fixed => self.field(param.path(), value, Domain::of(param, &self.config.plant)),
            Source::Varied { span, field } => {
                Some(Operand { path: param.path(), span: *span, varied: Some(field) })
            }
            Source::Unknown => None,
        }
    }

    /// Checks a fixed field against its domain; its value when valid.
    fn field(&mut self, path: &'a str, value: f64, domain: Domain) -> Option<Operand<'a>> {
        match domain.violation(value) {
            Some(reason) => {
                self.found.push(path, reason);
                None
            }
            None => Some(Operand { path, span: Span::point(value), varied: None }),
        }
    }

    /// Checks `a < b` (`strict`) or `a <= b` for every value either takes. Skipped when either
    /// side is already invalid, so one bad number is reported once.
    fn ordered(&mut self, a: Option<Operand<'_>>, b: Option<Operand<'_>>, strict: bool, blame: Blame) {
        let (Some(a), Some(b)) = (a, b) else { return };
        if a.span.below(b.span, strict) {
            return;
        }
        let (blamed, other) = match blame {
            Blame::Left => (a, b),
            Blame::Right => (b, a),
        };
        let op = match (strict, blame) {
            (true, Blame::Left) => "<",
            (false, Blame::Left) => "<=",
            (true, Blame::Right) => ">",
            (false, Blame::Right) => ">=",
        };
        if let Some(field) = blamed.varied.or(other.varied) {
            let relation = if strict { "<" } else { "<=" };
            let reason = format!(
                "{a} must be {relation} {b} in every run, but {a} is {high} and {b} is {low}",
                a = a.path,
                b = b.path,
                high = a.span.describe_high(),
                low = b.span.describe_low(),
            );
            self.found.push(field, reason);
        } else {
            let reason =
                format!("must be {op} {} ({:?}), got {:?}", other.path, other.span.lo, blamed.span.lo);
            self.found.push(blamed.path, reason);
        }
    }
}

/// Which side of a cross-field rule a fixed configuration's error names.
#[derive(Debug, Clone, Copy)]
enum Blame {
    Left,
    Right,
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, validate_config};
    use crate::config::*;

    /// The fields of every violation of `config`.
    fn fields(config: &SimConfig) -> Vec<String> {
        fields_with(config, &Limits::default())
    }

    fn fields_with(config: &SimConfig, limits: &Limits) -> Vec<String> {
        match validate_config(config, limits) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_violations().into_iter().map(|v| v.field).collect(),
        }
    }

    fn reason(config: &SimConfig, field: &str) -> String {
        let err = validate_config(config, &Limits::default()).unwrap_err();
        let v = err.violations().iter().find(|v| v.field == field);
        v.unwrap_or_else(|| panic!("no violation of {field} in {err}")).reason.clone()
    }

    fn tank() -> SimConfig {
        let mut c = SimConfig::mc_tau(10.0);
        c.plant = Plant::Torricelli(Torricelli {
            area: 1.0,
            outlet: 0.5,
            max_inflow: 1.0,
            h_max: 4.0,
            h0: 1.0,
            substeps: 4,
        });
        c
    }

    fn pid(c: &mut SimConfig) -> &mut Pid {
        match &mut c.controller {
            Controller::Pid(p) => p,
            Controller::OpenLoop => panic!("pid"),
        }
    }

    #[test]
    fn canonical_configs_are_valid() {
        assert_eq!(fields(&SimConfig::mc_tau(10.0)), Vec::<String>::new());
        assert_eq!(fields(&tank()), Vec::<String>::new());
    }

    #[test]
    fn first_order_plant_fields() {
        let mut c = SimConfig::mc_tau(0.0);
        assert_eq!(fields(&c), ["plant.tau"]);
        assert_eq!(reason(&c, "plant.tau"), "must be > 0, got 0.0");
        c.plant = Plant::FirstOrder(FirstOrder { gain: f64::INFINITY, tau: f64::NAN, h0: f64::NEG_INFINITY });
        assert_eq!(fields(&c), ["plant.gain", "plant.tau", "plant.h0"]);
    }

    #[test]
    fn torricelli_plant_fields() {
        let mut c = tank();
        c.plant = Plant::Torricelli(Torricelli {
            area: 0.0,
            outlet: -1.0,
            max_inflow: -1.0,
            h_max: 0.0,
            h0: -1.0,
            substeps: 0,
        });
        assert_eq!(
            fields(&c),
            ["plant.area", "plant.outlet", "plant.max_inflow", "plant.h_max", "plant.h0", "plant.substeps"]
        );
        c.plant = Plant::Torricelli(Torricelli {
            area: 1.0,
            outlet: 0.0,
            max_inflow: 0.0,
            h_max: 2.0,
            h0: 2.5,
            substeps: 1001,
        });
        assert_eq!(fields(&c), ["plant.h0", "plant.substeps"]);
        assert_eq!(reason(&c, "plant.h0"), "must be <= plant.h_max (2.0), got 2.5");
        assert_eq!(reason(&c, "plant.substeps"), "must be in 1..=1000, got 1001");
    }

    #[test]
    fn pid_fields() {
        let mut c = SimConfig::mc_tau(10.0);
        *pid(&mut c) = Pid {
            kp: f64::NAN,
            ki: f64::INFINITY,
            kd: -0.1,
            u_min: 0.0,
            u_max: 1.0,
            derivative_filter: -1.0,
            derivative_on: DerivativeOn::Error,
            anti_windup: AntiWindup::BackCalculation { gain: -2.0 },
        };
        assert_eq!(
            fields(&c),
            [
                "controller.kp",
                "controller.ki",
                "controller.kd",
                "controller.derivative_filter",
                "controller.back_calculation_gain"
            ]
        );
        *pid(&mut c) = Pid::pi(-3.0, 0.0, 1.0, 1.0);
        assert_eq!(fields(&c), ["controller.u_max"]);
        assert_eq!(reason(&c, "controller.u_max"), "must be > controller.u_min (1.0), got 1.0");
        // Unbounded outputs are allowed, in the right direction only.
        *pid(&mut c) = Pid::pi(1.0, 1.0, f64::NEG_INFINITY, f64::INFINITY);
        assert!(fields(&c).is_empty());
        *pid(&mut c) = Pid::pi(1.0, 1.0, f64::INFINITY, f64::NEG_INFINITY);
        assert_eq!(fields(&c), ["controller.u_min", "controller.u_max"]);
    }

    #[test]
    fn profile_fields() {
        let mut c = SimConfig::mc_tau(10.0);
        c.input = Profile::Step { initial: f64::NAN, value: f64::INFINITY, at: -1.0 };
        assert_eq!(fields(&c), ["input.initial", "input.value", "input.at"]);
        c.input = Profile::Ramp { from: 0.0, to: 1.0, start: 5.0, end: 5.0 };
        assert_eq!(fields(&c), ["input.end"]);
        assert_eq!(reason(&c, "input.end"), "must be > input.at (5.0), got 5.0");
        c.input = Profile::Sine { offset: 1.0, amplitude: f64::NAN, period: 0.0, phase: f64::INFINITY };
        assert_eq!(fields(&c), ["input.amplitude", "input.period", "input.phase"]);
    }

    #[test]
    fn schedule_fields() {
        let mut c = SimConfig::mc_tau(10.0);
        c.input = Profile::Schedule(vec![]);
        assert_eq!(fields(&c), ["input.points"]);
        let p = |at, value| SchedulePoint { at, value };
        c.input =
            Profile::Schedule(vec![p(0.0, 1.0), p(5.0, 2.0), p(5.0, f64::NAN), p(-1.0, 0.0), p(3.0, 0.0)]);
        assert_eq!(
            fields(&c),
            ["input.points[2].at", "input.points[2].value", "input.points[3].at", "input.points[4].at"]
        );
        assert_eq!(reason(&c, "input.points[2].at"), "must be > input.points[1].at (5.0), got 5.0");
        assert_eq!(reason(&c, "input.points[4].at"), "must be > input.points[2].at (5.0), got 3.0");
        c.input = Profile::Schedule(vec![p(0.0, 1.0), p(0.5, 2.0)]);
        assert!(fields(&c).is_empty());
    }

    #[test]
    fn disturbance_and_noise_fields() {
        let mut c = SimConfig::mc_tau(10.0);
        c.disturbance = Some(Disturbance { magnitude: 0.5, start: 10.0, end: f64::INFINITY });
        c.noise = Some(MeasurementNoise { sd: 0.0, seed: 1 });
        assert!(fields(&c).is_empty());
        c.disturbance = Some(Disturbance { magnitude: f64::NAN, start: 10.0, end: 10.0 });
        c.noise = Some(MeasurementNoise { sd: -0.1, seed: 1 });
        assert_eq!(fields(&c), ["disturbance.magnitude", "disturbance.end", "noise.sd"]);
        assert_eq!(reason(&c, "disturbance.end"), "must be > disturbance.start (10.0), got 10.0");
        c.disturbance = Some(Disturbance { magnitude: 1.0, start: -1.0, end: f64::NAN });
        c.noise = None;
        assert_eq!(fields(&c), ["disturbance.start", "disturbance.end"]);
    }

    #[test]
    fn time_grid_fields() {
        let mut c = SimConfig::mc_tau(10.0);
        c.dt = 0.0;
        c.horizon = f64::INFINITY;
        assert_eq!(fields(&c), ["dt", "horizon"]);
        c.dt = 1.0;
        c.horizon = 0.5;
        assert_eq!(reason(&c, "horizon"), "must be >= dt (1.0), got 0.5");
        c.dt = 1e-5;
        c.horizon = 20.0;
        assert_eq!(
            reason(&c, "horizon"),
            "horizon / dt = 2000000 steps, more than the limit of 1000000 steps per run"
        );
        c.dt = 1e-300;
        c.horizon = 1e300;
        assert_eq!(fields(&c), ["horizon"]);
        // Exactly at the limit is allowed.
        c.dt = 1e-3;
        c.horizon = 1000.0;
        assert!(fields(&c).is_empty());
    }

    #[test]
    fn recording_fields() {
        let mut c = SimConfig::mc_tau(10.0); // 6000 steps, 6001 samples
        c.record = Recording::Every(0);
        assert_eq!(fields(&c), ["record.every"]);
        c.record = Recording::Full;
        let limits = Limits { max_recorded_samples: 6000, ..Limits::default() };
        assert_eq!(fields_with(&c, &limits), ["record"]);
        let limits = Limits { max_recorded_samples: 6001, ..Limits::default() };
        assert!(fields_with(&c, &limits).is_empty());
        // Every 7th of 6000 steps: k = 0, 7, ..., 5999 (858 samples) plus the last one.
        c.record = Recording::Every(7);
        assert!(fields_with(&c, &Limits { max_recorded_samples: 859, ..limits }).is_empty());
        assert_eq!(fields_with(&c, &Limits { max_recorded_samples: 858, ..limits }), ["record.every"]);
        let err = validate_config(&c, &Limits { max_recorded_samples: 858, ..limits }).unwrap_err();
        assert_eq!(err.to_string(), "record.every: records 859 samples per run, more than the limit of 858");
    }

    #[test]
    fn settling_band_field() {
        let mut c = SimConfig::mc_tau(10.0);
        c.metrics.settling_band = 1.0;
        assert_eq!(fields(&c), ["metrics.settling_band"]);
        assert_eq!(reason(&c, "metrics.settling_band"), "must be in (0, 1), got 1.0");
    }

    #[test]
    fn open_loop_has_no_controller_rules() {
        let mut c = SimConfig::mc_tau(10.0);
        c.controller = Controller::OpenLoop;
        assert!(fields(&c).is_empty());
    }
}
