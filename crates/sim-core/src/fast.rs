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
#[derive(Clone, Copy, PartialEq, Debug)]
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
        let mut run =
            FastRun { p: self, acc: ResponseAcc::new(self.shape), h: self.shape.h0, integral: 0.0, k: 0 };
        while run.k < self.steps {
            let (r, kp, ki) = (self.shape.r, self.kp, self.ki);
            match regime(kp * (r - run.h) + ki * run.integral, self.lo, self.hi) {
                Regime::Linear => run.steps::<LINEAR>(),
                Regime::High => run.steps::<HIGH>(),
                Regime::Low => run.steps::<LOW>(),
            }
        }
        run.acc.sample(self.steps as f64, run.h);
        run.acc.finish(self.steps, self.dt, run.h, 0.0)
    }
}

const LINEAR: u8 = 0;
const HIGH: u8 = 1;
const LOW: u8 = 2;

/// The state of a one-run fast simulation.
struct FastRun<'a> {
    p: &'a FastParams,
    acc: ResponseAcc,
    h: f64,
    integral: f64,
    k: u64,
}

impl FastRun<'_> {
    /// Steps while the controller stays in regime `R` (a separate loop per regime: its exit
    /// is a predicted branch, never a select on the level's dependency chain).
    #[inline(always)]
    fn steps<const R: u8>(&mut self) {
        let p = self.p;
        let (r, kp, ki, lo, hi, dt) = (p.shape.r, p.kp, p.ki, p.lo, p.hi, p.dt);
        // Locals, not fields: keeps the loop-carried values in registers.
        let (mut acc, mut h, mut integral, mut k) = (self.acc, self.h, self.integral, self.k);
        // The sample index as a float counter: exact below 2^53, cheaper than converting.
        let mut kf = k as f64;
        while k < p.steps {
            let e = r - h;
            let v = kp * e + ki * integral;
            let expected = match R {
                LINEAR => Regime::Linear,
                HIGH => Regime::High,
                _ => Regime::Low,
            };
            if regime(v, lo, hi) != expected {
                break;
            }
            acc.sample(kf, h);
            let stepped = integral + e * dt;
            let u = match R {
                LINEAR => {
                    integral = stepped;
                    v
                }
                HIGH => {
                    integral = if e >= 0.0 { integral } else { stepped };
                    hi
                }
                _ => {
                    integral = if e <= 0.0 { integral } else { stepped };
                    lo
                }
            };
            acc.step(kf, e, u, R != LINEAR, dt);
            h = p.plant.step(h, u);
            k += 1;
            kf += 1.0;
        }
        (self.acc, self.h, self.integral, self.k) = (acc, h, integral, k);
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
