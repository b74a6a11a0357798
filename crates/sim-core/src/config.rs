//! The configuration of one simulation run: plant, controller, input profile, disturbance,
//! measurement noise, time grid, trajectory recording and metric options.
//!
//! These are plain values. [`crate::validate`] checks them before anything runs; the kernels
//! assume a validated configuration (they never panic on an invalid one, but its numbers are
//! meaningless).

/// One simulation run, fully specified.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub plant: Plant,
    pub controller: Controller,
    /// The setpoint `r(t)` in closed loop; the plant input `u(t)` in open loop.
    pub input: Profile,
    /// An extra inflow (positive) or outflow (negative) acting on the plant, in input units.
    pub disturbance: Option<Disturbance>,
    /// Gaussian noise added to the level the controller measures (metrics use the true level).
    pub noise: Option<MeasurementNoise>,
    /// Sample time in seconds (> 0).
    pub dt: f64,
    /// Simulated time in seconds; the run has `N = round(horizon / dt)` steps and `N + 1` samples.
    pub horizon: f64,
    pub record: Recording,
    pub metrics: MetricsConfig,
}

/// The process being controlled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plant {
    FirstOrder(FirstOrder),
    Torricelli(Torricelli),
}

/// Linear first-order tank `tau * dh/dt = K * u - h`, discretised exactly (zero-order hold).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirstOrder {
    /// Static gain `K` (level per unit input).
    pub gain: f64,
    /// Time constant `tau` in seconds (> 0).
    pub tau: f64,
    /// Initial level `h0`.
    pub h0: f64,
}

/// Nonlinear tank `A * dh/dt = q_in(u) - c * sqrt(h)` with `q_in(u) = max_inflow * u`,
/// integrated with RK4; the level is clamped to `[0, h_max]` and what spills over is counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Torricelli {
    /// Cross-section area `A` (> 0).
    pub area: f64,
    /// Outlet coefficient `c` (>= 0): outflow is `c * sqrt(h)`.
    pub outlet: f64,
    /// Inflow at `u = 1` (>= 0).
    pub max_inflow: f64,
    /// Tank height: the level never exceeds it; excess inflow overflows.
    pub h_max: f64,
    /// Initial level `h0` in `[0, h_max]`.
    pub h0: f64,
    /// RK4 substeps per sample (>= 1).
    pub substeps: u32,
}

/// What computes the plant input `u`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Controller {
    /// `u(t)` follows the input profile.
    OpenLoop,
    /// A PID controller tracking the input profile as setpoint.
    Pid(Pid),
}

/// A discrete PID controller with output limits, a filtered derivative and anti-windup.
///
/// Per step: `e = r - y`, `v = kp*e + ki*I (+ kd*D)`, `u = clamp(v, u_min, u_max)`, where `I`
/// integrates `e` (so `ki` multiplies the integral of the error) and `D` is the filtered
/// derivative selected by `derivative_on`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pid {
    pub kp: f64,
    pub ki: f64,
    pub kd: f64,
    pub u_min: f64,
    pub u_max: f64,
    /// Time constant `Tf` (s) of the first-order derivative filter; 0 means unfiltered.
    pub derivative_filter: f64,
    pub derivative_on: DerivativeOn,
    pub anti_windup: AntiWindup,
}

/// Which signal the derivative term differentiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DerivativeOn {
    /// `-dy/dt`: no derivative kick when the setpoint jumps (the usual choice).
    #[default]
    Measurement,
    /// `de/dt`.
    Error,
}

/// How the integrator is kept from winding up while the output saturates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AntiWindup {
    /// Integrate always.
    None,
    /// Conditional integration (clamping): integrate only when the output is not saturated,
    /// or when the error drives it out of saturation:
    /// `v == u || (v > u_max && e < 0) || (v < u_min && e > 0)`.
    Conditional,
    /// Back-calculation: `I += (e + gain * (u - v)) * dt`; `gain` is `1/(ki*Tt)` for a
    /// tracking time constant `Tt`.
    BackCalculation { gain: f64 },
}

/// A time function: the setpoint in closed loop, the plant input in open loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Profile {
    /// `initial` before `at`, `value` from `at` on.
    Step { initial: f64, value: f64, at: f64 },
    /// `from` until `start`, linear to `to` at `end`, `to` after.
    Ramp { from: f64, to: f64, start: f64, end: f64 },
    /// `offset + amplitude * sin(2*pi*t/period + phase)`.
    Sine { offset: f64, amplitude: f64, period: f64, phase: f64 },
    /// Piecewise constant: the value of the last point whose `at <= t`; before the first
    /// point, the first point's value. Points are in strictly increasing `at`.
    Schedule(Vec<SchedulePoint>),
}

/// One breakpoint of a [`Profile::Schedule`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulePoint {
    pub at: f64,
    pub value: f64,
}

/// A stepped disturbance: `magnitude` is added to the plant input from `start` until `end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disturbance {
    pub magnitude: f64,
    pub start: f64,
    /// `f64::INFINITY` for a disturbance that stays.
    pub end: f64,
}

/// Gaussian measurement noise with standard deviation `sd`, reproducible from `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasurementNoise {
    pub sd: f64,
    pub seed: u64,
}

/// Which samples of the trajectory a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recording {
    #[default]
    None,
    /// Samples `k = 0, n, 2n, ...` (and always the last one).
    Every(u32),
    Full,
}

/// Options of the response metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricsConfig {
    /// Settling band as a fraction of the step size (default 0.02).
    pub settling_band: f64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { settling_band: 0.02 }
    }
}

impl SimConfig {
    /// The canonical "MC-tau" run with a fixed `tau`: first-order tank K = 2, h0 = 0, PI
    /// (kp 2, ki 0.5, conditional integration, u in [0, 1]) tracking a unit step,
    /// dt = 0.01 s over 60 s.
    pub fn mc_tau(tau: f64) -> Self {
        Self {
            plant: Plant::FirstOrder(FirstOrder { gain: 2.0, tau, h0: 0.0 }),
            controller: Controller::Pid(Pid::pi(2.0, 0.5, 0.0, 1.0)),
            input: Profile::Step { initial: 1.0, value: 1.0, at: 0.0 },
            disturbance: None,
            noise: None,
            dt: 0.01,
            horizon: 60.0,
            record: Recording::None,
            metrics: MetricsConfig::default(),
        }
    }

    /// Number of steps `N`: `horizon / dt` rounded to the nearest integer, saturating
    /// (validation bounds it by the step limit).
    pub fn steps(&self) -> u64 {
        let n = (self.horizon / self.dt).round();
        if n.is_finite() && n > 0.0 { n as u64 } else { 0 }
    }
}

impl Pid {
    /// A PI controller with conditional-integration anti-windup and output limits.
    pub fn pi(kp: f64, ki: f64, u_min: f64, u_max: f64) -> Self {
        Self {
            kp,
            ki,
            kd: 0.0,
            u_min,
            u_max,
            derivative_filter: 0.0,
            derivative_on: DerivativeOn::Measurement,
            anti_windup: AntiWindup::Conditional,
        }
    }
}
