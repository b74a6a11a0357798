//! The discrete PID controller: output limits, filtered derivative, anti-windup.
//!
//! [`pi_conditional`] is the canonical PI step (MC-tau) written once and inlined into both the
//! one-run kernel and the batch kernel, which is what makes their results bit-identical.

use crate::config::{AntiWindup, DerivativeOn, Pid};

/// `clamp(v, lo, hi)` written as two selects (not `f64::clamp`, which panics on `lo > hi`,
/// nor `f64::max`, whose NaN handling costs extra instructions in the vector loop).
#[inline(always)]
pub fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    let w = if v < lo { lo } else { v };
    if w > hi { hi } else { w }
}

/// One canonical PI step with conditional-integration anti-windup:
/// `v = kp*e + ki*I; u = clamp(v, lo, hi)`, and `I += e*dt` only if
/// `v == u || (v > hi && e < 0) || (v < lo && e > 0)`. Returns `(u, saturated)`.
///
/// Written as its complement, "hold the integrator when saturated and the error pushes further
/// into saturation", which is the same predicate for every non-NaN `v`, `e` and `lo <= hi`
/// (validation guarantees both) and costs the vector loop three fewer mask instructions.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn pi_conditional(
    e: f64,
    integral: &mut f64,
    kp: f64,
    ki: f64,
    lo: f64,
    hi: f64,
    dt: f64,
) -> (f64, bool) {
    let v = kp * e + ki * *integral;
    let u = clamp(v, lo, hi);
    // Non-short-circuit `&`/`|`: plain mask operations in the vector loop, no branches.
    let above = v > hi;
    let below = v < lo;
    let hold = (above & (e >= 0.0)) | (below & (e <= 0.0));
    let stepped = *integral + e * dt;
    *integral = if hold { *integral } else { stepped };
    (u, above | below)
}

/// The state of a [`Pid`] across steps.
#[derive(Debug, Clone)]
pub struct PidState {
    pid: Pid,
    dt: f64,
    integral: f64,
    derivative: f64,
    /// The differentiated signal at the previous step; `None` before the first step, so the
    /// first step has no derivative kick.
    previous: Option<f64>,
    /// `Tf / (Tf + dt)`: the backward-Euler pole of the derivative filter.
    filter_pole: f64,
}

impl PidState {
    pub fn new(pid: Pid, dt: f64) -> Self {
        let tf = pid.derivative_filter;
        Self { pid, dt, integral: 0.0, derivative: 0.0, previous: None, filter_pole: tf / (tf + dt) }
    }

    /// One step for error `e = r - y` and measurement `y`; returns `(u, saturated)`.
    #[inline]
    pub fn step(&mut self, e: f64, y: f64) -> (f64, bool) {
        let p = &self.pid;
        if p.kd == 0.0 && p.anti_windup == AntiWindup::Conditional {
            return pi_conditional(e, &mut self.integral, p.kp, p.ki, p.u_min, p.u_max, self.dt);
        }
        let mut v = p.kp * e + p.ki * self.integral;
        if p.kd != 0.0 {
            let x = match p.derivative_on {
                DerivativeOn::Measurement => -y,
                DerivativeOn::Error => e,
            };
            let raw = self.previous.map_or(0.0, |prev| (x - prev) / self.dt);
            self.previous = Some(x);
            self.derivative = self.filter_pole * self.derivative + (1.0 - self.filter_pole) * raw;
            v += p.kd * self.derivative;
        }
        let u = clamp(v, p.u_min, p.u_max);
        match p.anti_windup {
            AntiWindup::None => self.integral += e * self.dt,
            AntiWindup::Conditional => {
                // The literal canonical predicate; `pi_conditional` uses its complement.
                if v == u || (v > p.u_max && e < 0.0) || (v < p.u_min && e > 0.0) {
                    self.integral += e * self.dt;
                }
            }
            AntiWindup::BackCalculation { gain } => self.integral += (e + gain * (u - v)) * self.dt,
        }
        (u, v != u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_integration_freezes_while_saturated_by_the_error() {
        let mut i = 10.0;
        // v = 2*1 + 0.5*10 = 7 > 1 and e > 0: saturated, pushing further: no integration.
        let (u, sat) = pi_conditional(1.0, &mut i, 2.0, 0.5, 0.0, 1.0, 0.01);
        assert_eq!((u, sat, i), (1.0, true, 10.0));
        // Saturated high but the error is negative: integrate, it unwinds.
        let (_, sat) = pi_conditional(-0.1, &mut i, 2.0, 0.5, 0.0, 1.0, 0.01);
        assert!(sat);
        assert_eq!(i, 10.0 - 0.1 * 0.01);
        // Inside the limits: integrate.
        let mut i = 0.0;
        let (u, sat) = pi_conditional(0.2, &mut i, 2.0, 0.5, 0.0, 1.0, 0.01);
        assert_eq!((u, sat, i), (0.4, false, 0.2 * 0.01));
    }

    #[test]
    fn back_calculation_bleeds_the_integrator_while_saturated() {
        let pid =
            Pid { anti_windup: AntiWindup::BackCalculation { gain: 2.0 }, ..Pid::pi(1.0, 1.0, 0.0, 1.0) };
        let mut s = PidState::new(pid, 0.1);
        let (u, sat) = s.step(3.0, 0.0);
        assert_eq!((u, sat), (1.0, true));
        // v = 3, u = 1: I += (3 + 2*(1-3))*0.1 = -0.1
        assert!((s.integral + 0.1).abs() < 1e-15);
    }

    #[test]
    fn derivative_on_measurement_has_no_kick_and_is_filtered() {
        let pid = Pid { kd: 1.0, derivative_filter: 0.1, ..Pid::pi(0.0, 0.0, -10.0, 10.0) };
        let mut s = PidState::new(pid, 0.1);
        assert_eq!(s.step(1.0, 0.0).0, 0.0);
        // y rises by 0.1 in 0.1 s: raw derivative of -y is -1, filtered by Tf/(Tf+dt) = 0.5.
        let (u, _) = s.step(0.9, 0.1);
        assert!((u + 0.5).abs() < 1e-15, "{u}");
    }

    #[test]
    fn no_anti_windup_always_integrates() {
        let pid = Pid { anti_windup: AntiWindup::None, ..Pid::pi(1.0, 1.0, 0.0, 1.0) };
        let mut s = PidState::new(pid, 0.5);
        s.step(4.0, 0.0);
        assert_eq!(s.integral, 2.0);
    }
}
