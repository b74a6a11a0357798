//! The canonical run shape both fast paths serve: first-order plant, PI with conditional
//! integration, constant setpoint, no noise, disturbance or recording (the MC-tau shape).
//! Here: its per-run constants, and the one-run kernel's loop for it.
//!
//! The one-run loop is latency-bound: each step depends on the previous level through
//! `e = r - h`, `v = kp*e + ki*I`, `u = clamp(v)`, `h = a*h + b*u`. Computing the clamp with
//! selects (as the vector lanes must) puts two compares on that chain; here the three
//! regimes — linear, saturated high, saturated low — are separate loops, so the branch
//! predictor guesses the regime, `u` is `v` (or a constant) without waiting for the compare,
//! and the chain is just the arithmetic. Each regime executes exactly the operations of
//! [`crate::controller::pi_conditional`] for that regime, so results are bit-identical to the
//! batch kernel (tested in `tests/batch.rs`).

use crate::config::{AntiWindup, Controller, Plant, Recording, SimConfig};
use crate::metric::RunMetrics;
use crate::plant::FirstOrderStep;
use crate::response::{ResponseAcc, ResponseShape};
use crate::simulate::response_shape;

/// The per-run constants of a canonical-shape run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastParams {
    pub(crate) plant: FirstOrderStep,
    pub(crate) kp: f64,
    pub(crate) ki: f64,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) dt: f64,
    pub(crate) shape: ResponseShape,
    pub(crate) steps: u64,
}

/// The controller's regime at one step.
#[derive(Clone, Copy, PartialEq)]
enum Regime {
    Linear,
    High,
    Low,
}

impl FastParams {
    /// The constants of `c`, or `None` if `c` is not of the canonical shape.
    pub(crate) fn from_config(c: &SimConfig) -> Option<Self> {
        let (Plant::FirstOrder(plant), Controller::Pid(pid)) = (&c.plant, &c.controller) else {
            return None;
        };
        let canonical = pid.kd == 0.0
            && pid.anti_windup == AntiWindup::Conditional
            && c.input.constant_from_zero().is_some()
            && c.disturbance.is_none()
            && c.noise.is_none_or(|n| n.sd == 0.0)
            && c.record == Recording::None;
        canonical.then(|| FastParams {
            plant: FirstOrderStep::new(plant, c.dt),
            kp: pid.kp,
            ki: pid.ki,
            lo: pid.u_min,
            hi: pid.u_max,
            dt: c.dt,
            shape: response_shape(c),
            steps: c.steps(),
        })
    }

    /// Simulates the run (the one-run kernel's fast path), compiled with FMA when the CPU
    /// has it (the `ise`/`itae` sums use `mul_add`).
    pub(crate) fn simulate(&self) -> RunMetrics {
        crate::isa::Isa::Portable.run(
            #[inline(always)]
            || self.simulate_inline(),
        )
    }

    #[inline(always)]
    fn simulate_inline(&self) -> RunMetrics {
        let (r, kp, ki, lo, hi, dt) = (self.shape.r, self.kp, self.ki, self.lo, self.hi, self.dt);
        let mut acc = ResponseAcc::new(self.shape);
        let mut h = self.shape.h0;
        let mut integral = 0.0;
        let mut k = 0;
        while k < self.steps {
            // One loop per regime; a loop exit is a predicted branch, never a select.
            let current = regime(kp * (r - h) + ki * integral, lo, hi);
            while k < self.steps {
                let kf = k as f64;
                let e = r - h;
                let v = kp * e + ki * integral;
                if regime(v, lo, hi) != current {
                    break;
                }
                acc.sample(kf, h);
                let stepped = integral + e * dt;
                let u = match current {
                    Regime::Linear => {
                        integral = stepped;
                        v
                    }
                    Regime::High => {
                        integral = if e >= 0.0 { integral } else { stepped };
                        hi
                    }
                    Regime::Low => {
                        integral = if e <= 0.0 { integral } else { stepped };
                        lo
                    }
                };
                acc.step(kf, e, u, current != Regime::Linear, dt);
                h = self.plant.step(h, u);
                k += 1;
            }
        }
        acc.sample(self.steps as f64, h);
        acc.finish(self.steps, dt, h, 0.0)
    }
}

/// The regime of controller output `v` (NaN counts as linear, as in `pi_conditional`).
#[inline(always)]
fn regime(v: f64, lo: f64, hi: f64) -> Regime {
    if v > hi {
        Regime::High
    } else if v < lo {
        Regime::Low
    } else {
        Regime::Linear
    }
}
