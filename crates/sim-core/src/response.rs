//! Streaming computation of the response metrics: a few accumulators updated per sample and
//! per step, so no trajectory has to be stored to measure a run.
//!
//! The update functions are `#[inline(always)]` free functions on plain `f64`s so that the
//! one-run kernel (through [`ResponseAcc`]) and the batch kernel (on its lane arrays) execute
//! the same operations in the same order, hence the same bits.
//!
//! Directions: the step goes from `h0` to `r`; with `s = +1` for an upward step (or none) and
//! `-1` for a downward one, every comparison is made on `s*h` ("signed level"), which is exact,
//! so one code path serves both directions.

use crate::metric::RunMetrics;

/// "Not reached yet" for the sample-index accumulators (indices are kept as `f64` so every
/// lane of the batch kernel is the same width; they are exact up to 2^53).
pub(crate) const NONE: f64 = -1.0;

/// The constants of one run's metric computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseShape {
    pub h0: f64,
    /// The reference level `r` the step metrics are measured against.
    pub r: f64,
    /// `+1` upward step (or no step), `-1` downward.
    pub s: f64,
    /// `s * (h0 + 0.1*(r - h0))`, `s * (h0 + 0.9*(r - h0))`.
    pub thr10_s: f64,
    pub thr90_s: f64,
    /// `band * |r - h0|`.
    pub band_abs: f64,
}

impl ResponseShape {
    pub fn new(h0: f64, r: f64, band: f64) -> Self {
        let s = if r < h0 { -1.0 } else { 1.0 };
        Self {
            h0,
            r,
            s,
            thr10_s: s * (h0 + 0.1 * (r - h0)),
            thr90_s: s * (h0 + 0.9 * (r - h0)),
            band_abs: band * (r - h0).abs(),
        }
    }

    pub fn has_step(&self) -> bool {
        self.r != self.h0
    }
}

/// Per-sample accumulators: the peak (in the step's direction) and its index, and the last
/// sample outside the settling band.
#[inline(always)]
pub(crate) fn observe_sample(
    band_abs: f64,
    kf: f64,
    hs: f64,
    deviation: f64,
    peak_s: &mut f64,
    peak_k: &mut f64,
    last_out: &mut f64,
) {
    let higher = hs > *peak_s;
    *peak_k = if higher { kf } else { *peak_k };
    *peak_s = if higher { hs } else { *peak_s };
    *last_out = if deviation > band_abs { kf } else { *last_out };
}

/// First samples at or past 10 % and 90 % of the step. Once both are found nothing here can
/// change again, which lets the batch kernel stop calling it.
#[inline(always)]
pub(crate) fn observe_crossings(thr10_s: f64, thr90_s: f64, kf: f64, hs: f64, i10: &mut f64, i90: &mut f64) {
    *i10 = if *i10 < 0.0 && hs >= thr10_s { kf } else { *i10 };
    *i90 = if *i90 < 0.0 && hs >= thr90_s { kf } else { *i90 };
}

/// Per-step accumulators. `iae` is the canonical `iae += |e|*dt`; the others keep raw sums and
/// are scaled once at the end, and `ise`/`itae` use fused multiply-adds: fewer operations in
/// the hot loop, and `mul_add` is correctly rounded everywhere (hardware or software), so the
/// bits do not depend on the CPU.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn observe_step(
    kf: f64,
    e: f64,
    abs_e: f64,
    abs_u: f64,
    saturated: bool,
    dt: f64,
    iae: &mut f64,
    ise_sum: &mut f64,
    itae_sum: &mut f64,
    effort_sum: &mut f64,
    saturated_steps: &mut f64,
) {
    *iae += abs_e * dt;
    *ise_sum = e.mul_add(e, *ise_sum);
    *itae_sum = kf.mul_add(abs_e, *itae_sum);
    *effort_sum += abs_u;
    // A select of the sum (not `+= 0.0 or 1.0`) so the vector loop emits one masked add.
    *saturated_steps = if saturated { *saturated_steps + 1.0 } else { *saturated_steps };
}

/// All accumulators of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseAcc {
    pub shape: ResponseShape,
    pub peak_s: f64,
    pub peak_k: f64,
    pub i10: f64,
    pub i90: f64,
    pub last_out: f64,
    pub iae: f64,
    pub ise_sum: f64,
    pub itae_sum: f64,
    pub effort_sum: f64,
    pub saturated_steps: f64,
}

impl ResponseAcc {
    pub fn new(shape: ResponseShape) -> Self {
        Self {
            shape,
            peak_s: f64::NEG_INFINITY,
            peak_k: 0.0,
            i10: NONE,
            i90: NONE,
            last_out: NONE,
            iae: 0.0,
            ise_sum: 0.0,
            itae_sum: 0.0,
            effort_sum: 0.0,
            saturated_steps: 0.0,
        }
    }

    /// Sample `k` has level `h`.
    #[inline(always)]
    pub fn sample(&mut self, kf: f64, h: f64) {
        let sh = self.shape;
        let hs = sh.s * h;
        observe_sample(
            sh.band_abs,
            kf,
            hs,
            (sh.r - h).abs(),
            &mut self.peak_s,
            &mut self.peak_k,
            &mut self.last_out,
        );
        observe_crossings(sh.thr10_s, sh.thr90_s, kf, hs, &mut self.i10, &mut self.i90);
    }

    /// Step `k` had tracking error `e` (reference minus true level) and input `u`.
    #[inline(always)]
    pub fn step(&mut self, kf: f64, e: f64, u: f64, saturated: bool, dt: f64) {
        observe_step(
            kf,
            e,
            e.abs(),
            u.abs(),
            saturated,
            dt,
            &mut self.iae,
            &mut self.ise_sum,
            &mut self.itae_sum,
            &mut self.effort_sum,
            &mut self.saturated_steps,
        );
    }

    /// The metrics of a run of `n` steps that ended at level `h_final`.
    pub fn finish(&self, n: u64, dt: f64, h_final: f64, overflow: f64) -> RunMetrics {
        let sh = &self.shape;
        let t = |k: f64| k * dt;
        let step = sh.has_step();
        let span = (sh.r - sh.h0).abs();
        let nf = n as f64;
        RunMetrics {
            overshoot_pct: step.then(|| f64::max(0.0, (self.peak_s - sh.s * sh.r) / span * 100.0)),
            rise_time: (step && self.i10 >= 0.0 && self.i90 >= 0.0).then(|| t(self.i90) - t(self.i10)),
            settling_time: step.then(|| if self.last_out >= 0.0 { t(self.last_out) + dt } else { 0.0 }),
            peak: sh.s * self.peak_s,
            peak_time: t(self.peak_k),
            steady_state_error: sh.r - h_final,
            iae: self.iae,
            ise: self.ise_sum * dt,
            itae: self.itae_sum * dt * dt,
            control_effort: self.effort_sum * dt,
            saturated_fraction: if n == 0 { 0.0 } else { self.saturated_steps / nf },
            final_level: h_final,
            overflow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_thresholds_for_a_step_from_zero() {
        let s = ResponseShape::new(0.0, 1.0, 0.02);
        assert_eq!((s.s, s.thr10_s, s.thr90_s, s.band_abs), (1.0, 0.1, 0.9, 0.02));
    }

    #[test]
    fn downward_step_measures_undershoot_as_overshoot() {
        let mut acc = ResponseAcc::new(ResponseShape::new(1.0, 0.0, 0.02));
        for (k, h) in [1.0, 0.5, -0.2, 0.0].into_iter().enumerate() {
            acc.sample(k as f64, h);
        }
        let m = acc.finish(3, 1.0, 0.0, 0.0);
        assert!((m.overshoot_pct.unwrap() - 20.0).abs() < 1e-12);
        assert_eq!(m.peak, -0.2);
        assert_eq!(m.peak_time, 2.0);
        assert_eq!(m.rise_time, Some(1.0)); // 10 % crossed at k=1, 90 % at k=2
        assert_eq!(m.settling_time, Some(3.0)); // last outside the band: k=2
    }

    #[test]
    fn no_step_means_no_step_metrics() {
        let mut acc = ResponseAcc::new(ResponseShape::new(0.5, 0.5, 0.02));
        acc.sample(0.0, 0.5);
        let m = acc.finish(0, 0.1, 0.5, 0.0);
        assert_eq!((m.overshoot_pct, m.rise_time, m.settling_time), (None, None, None));
        assert_eq!(m.peak, 0.5);
    }
}
