//! The one-run kernel: simulates any valid [`SimConfig`] and returns its metrics and, if asked,
//! its recorded trajectory.

use crate::config::{Controller, Plant, Recording, SimConfig};
use crate::controller::PidState;
use crate::metric::RunMetrics;
use crate::plant::{FirstOrderStep, TorricelliStep};
use crate::response::{ResponseAcc, ResponseShape};
use crate::rng::{NOISE_STREAM, RunRng};

/// The recorded samples of one run.
///
/// `t[i] = k as f64 * dt` for the recorded sample indices `k`; `u` is the input applied from
/// that sample on (at the last sample, which starts no step, the last applied input); `r` is
/// the setpoint (closed loop) or the input profile (open loop).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trajectory {
    pub t: Vec<f64>,
    pub h: Vec<f64>,
    pub u: Vec<f64>,
    pub r: Vec<f64>,
}

/// What one run produces.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    pub metrics: RunMetrics,
    /// Present when the configuration records samples.
    pub trajectory: Option<Trajectory>,
}

/// Simulates one run.
pub fn simulate(config: &SimConfig) -> RunOutput {
    if let Some(params) = crate::fast::FastParams::from_config(config) {
        return RunOutput { metrics: params.simulate(), trajectory: None };
    }
    let n = config.steps();
    let mut recorder = Recorder::new(config.record, n);
    // Compiled with FMA when the CPU has it, for the `mul_add`s of the metric sums.
    let metrics = crate::isa::Isa::Portable.run(
        #[inline(always)]
        || run(config, &mut recorder),
    );
    RunOutput { metrics, trajectory: recorder.finish() }
}

/// The reference the metrics measure against, and the reference at time `t`: the setpoint in
/// closed loop; in open loop, the steady state of the plant under the current input.
fn metric_reference(config: &SimConfig, t: f64) -> f64 {
    let value = config.input.value(t);
    match config.controller {
        Controller::Pid(_) => value,
        Controller::OpenLoop => config.plant.steady_state(value),
    }
}

/// The response shape (step from `h0` to the reference at the horizon) of a configuration.
pub fn response_shape(config: &SimConfig) -> ResponseShape {
    let n = config.steps();
    let r = metric_reference(config, n as f64 * config.dt);
    ResponseShape::new(config.plant.h0(), r, config.metrics.settling_band)
}

enum PlantSim {
    FirstOrder(FirstOrderStep),
    Torricelli(TorricelliStep),
}

#[inline(always)]
fn run(config: &SimConfig, recorder: &mut Recorder) -> RunMetrics {
    let n = config.steps();
    let dt = config.dt;
    let shape = response_shape(config);
    let mut acc = ResponseAcc::new(shape);
    let plant = match &config.plant {
        Plant::FirstOrder(p) => PlantSim::FirstOrder(FirstOrderStep::new(p, dt)),
        Plant::Torricelli(p) => PlantSim::Torricelli(TorricelliStep::new(p, dt)),
    };
    let mut pid = match config.controller {
        Controller::Pid(pid) => Some(PidState::new(pid, dt)),
        Controller::OpenLoop => None,
    };
    let mut noise = config.noise.filter(|n| n.sd > 0.0).map(|n| (n.sd, RunRng::new(n.seed, 0, NOISE_STREAM)));
    // A constant reference is hoisted: the common case, and it keeps `e` the canonical `r - h`.
    let constant_reference = config.input.constant_from_zero().map(|_| shape.r);
    let mut h = shape.h0;
    let mut overflow = 0.0;
    let mut u = 0.0;
    for k in 0..n {
        let kf = k as f64;
        let t = kf * dt;
        acc.sample(kf, h);
        let input = config.input.value(t);
        let reference = constant_reference.unwrap_or_else(|| metric_reference(config, t));
        let e = reference - h;
        let saturated;
        (u, saturated) = match &mut pid {
            Some(pid) => {
                let y = match &mut noise {
                    Some((sd, rng)) => h + *sd * rng.standard_normal(),
                    None => h,
                };
                let e_measured = if noise.is_some() { input - y } else { e };
                pid.step(e_measured, y)
            }
            None => (input, false),
        };
        acc.step(kf, e, u, saturated, dt);
        recorder.record(k, t, h, u, input);
        let u_plant = match &config.disturbance {
            Some(d) if t >= d.start && t < d.end => u + d.magnitude,
            _ => u,
        };
        h = match &plant {
            PlantSim::FirstOrder(p) => p.step(h, u_plant),
            PlantSim::Torricelli(p) => {
                let (next, spilled) = p.step(h, u_plant);
                overflow += spilled;
                next
            }
        };
    }
    let kf = n as f64;
    acc.sample(kf, h);
    recorder.record(n, kf * dt, h, u, config.input.value(kf * dt));
    acc.finish(n, dt, h, overflow)
}

/// Keeps the samples [`Recording`] asks for.
struct Recorder {
    every: u64,
    last: u64,
    trajectory: Option<Trajectory>,
}

impl Recorder {
    fn new(recording: Recording, n: u64) -> Self {
        let every = match recording {
            Recording::None => 0,
            Recording::Every(e) => u64::from(e.max(1)),
            Recording::Full => 1,
        };
        let trajectory = (every > 0).then(|| {
            // Bounded by validation (max recorded samples); capped here as well so a bad
            // configuration cannot reserve unbounded memory up front.
            let len = usize::try_from((n / every + 2).min(1 << 20)).unwrap_or(1 << 20);
            Trajectory {
                t: Vec::with_capacity(len),
                h: Vec::with_capacity(len),
                u: Vec::with_capacity(len),
                r: Vec::with_capacity(len),
            }
        });
        Self { every, last: n, trajectory }
    }

    #[inline]
    fn record(&mut self, k: u64, t: f64, h: f64, u: f64, r: f64) {
        if let Some(tr) = &mut self.trajectory
            && (k.is_multiple_of(self.every) || k == self.last)
        {
            tr.t.push(t);
            tr.h.push(h);
            tr.u.push(u);
            tr.r.push(r);
        }
    }

    fn finish(self) -> Option<Trajectory> {
        self.trajectory
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AntiWindup, Controller, Pid};

    /// The canonical MC-tau loop written out literally from its definition.
    fn canonical_reference(tau: f64) -> (f64, f64, Option<f64>, f64, f64) {
        let (k_gain, r, kp, ki, dt, n) = (2.0, 1.0, 2.0, 0.5, 0.01, 6000usize);
        let a = libm::exp(-dt / tau);
        let b = k_gain * (1.0 - a);
        let mut h = vec![0.0f64; n + 1];
        let (mut i, mut iae) = (0.0f64, 0.0f64);
        for k in 0..n {
            let e = r - h[k];
            let v = kp * e + ki * i;
            let u = v.clamp(0.0, 1.0);
            if v == u || (v > 1.0 && e < 0.0) || (v < 0.0 && e > 0.0) {
                i += e * dt;
            }
            iae += e.abs() * dt;
            h[k + 1] = a * h[k] + b * u;
        }
        let t = |k: usize| k as f64 * dt;
        let max = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let overshoot = f64::max(0.0, (max - r) / r * 100.0);
        let i10 = h.iter().position(|&x| x >= 0.1 * r);
        let i90 = h.iter().position(|&x| x >= 0.9 * r);
        let rise = match (i10, i90) {
            (Some(a), Some(b)) => Some(t(b) - t(a)),
            _ => None,
        };
        let settling = h.iter().rposition(|&x| (x - r).abs() > 0.02 * r).map_or(0.0, |k| t(k) + dt);
        (overshoot, settling, rise, h[n], iae)
    }

    #[test]
    fn canonical_mc_tau_is_bit_exact() {
        for tau in [1.0, 3.7, 10.0, 14.2, 25.0] {
            let m = simulate(&SimConfig::mc_tau(tau)).metrics;
            let (overshoot, settling, rise, final_level, iae) = canonical_reference(tau);
            assert_eq!(m.overshoot_pct.map(f64::to_bits), Some(overshoot.to_bits()), "tau {tau}");
            assert_eq!(m.settling_time.map(f64::to_bits), Some(settling.to_bits()), "tau {tau}");
            assert_eq!(m.rise_time.map(f64::to_bits), rise.map(f64::to_bits), "tau {tau}");
            assert_eq!(m.final_level.to_bits(), final_level.to_bits(), "tau {tau}");
            assert_eq!(m.iae.to_bits(), iae.to_bits(), "tau {tau}");
        }
    }

    #[test]
    fn general_pid_path_equals_the_fast_pi_path_when_equivalent() {
        // kd = 0 with conditional anti-windup takes the fast PI path; a tiny nonzero kd takes
        // the general path. They agree closely, which checks the general path's arithmetic.
        let fast = simulate(&SimConfig::mc_tau(10.0)).metrics;
        let mut cfg = SimConfig::mc_tau(10.0);
        cfg.controller = Controller::Pid(Pid {
            kd: 1e-300,
            anti_windup: AntiWindup::Conditional,
            ..Pid::pi(2.0, 0.5, 0.0, 1.0)
        });
        let general = simulate(&cfg).metrics;
        assert!((fast.iae - general.iae).abs() < 1e-12);
        assert_eq!(fast.settling_time, general.settling_time);
    }

    #[test]
    fn recording_every_n_keeps_those_samples_and_the_last() {
        let mut cfg = SimConfig::mc_tau(10.0);
        cfg.horizon = 0.1; // 10 steps
        cfg.record = Recording::Every(4);
        let tr = simulate(&cfg).trajectory.unwrap();
        assert_eq!(tr.t, [0u32, 4, 8, 10].map(|k| f64::from(k) * 0.01).to_vec());
        assert_eq!(tr.h.len(), 4);
        assert_eq!(tr.h[0], 0.0);
        cfg.record = Recording::Full;
        assert_eq!(simulate(&cfg).trajectory.unwrap().t.len(), 11);
        cfg.record = Recording::None;
        assert!(simulate(&cfg).trajectory.is_none());
    }
}
