//! The batch kernel: many runs at once, structure-of-arrays, one lane per run, in a loop the
//! compiler vectorises (AVX-512 or AVX2 chosen at run time, so release binaries run on any
//! x86-64 node).
//!
//! Lanes run the canonical loop (first-order plant, PI with conditional integration, constant
//! setpoint, no noise, disturbance or recording) through the very same inlined functions as
//! the one-run kernel ([`crate::controller::pi_conditional`], [`crate::response`]), so every
//! lane's result is bit-identical to [`crate::simulate::simulate`]. Runs outside that shape
//! are simulated one by one with the one-run kernel: same results, no speed-up.

use crate::config::SimConfig;
use crate::controller::pi_conditional;
use crate::fast::FastParams;
pub use crate::isa::Isa;
use crate::metric::RunMetrics;
use crate::response::{ResponseAcc, ResponseShape, observe_crossings, observe_sample, observe_step};
use crate::simulate::simulate;

/// Runs per vector group. 16 lanes are two AVX-512 (four AVX2) registers per quantity: enough
/// independent work to hide the ~30-cycle dependency chain of one step (measured in
/// `benches/kernel.rs`), few enough that the state stays in registers.
pub const LANES: usize = 16;

/// Simulates `configs` and appends their metrics to `out`, in order.
pub fn simulate_batch(configs: &[SimConfig], out: &mut Vec<RunMetrics>) {
    simulate_batch_with(configs, Isa::Auto, out);
}

/// [`simulate_batch`] with an explicit instruction set (benchmarks compare them).
pub fn simulate_batch_with(configs: &[SimConfig], isa: Isa, out: &mut Vec<RunMetrics>) {
    let isa = isa.resolve();
    out.reserve(configs.len());
    for group in configs.chunks(LANES) {
        match Lanes::<LANES>::from_configs(group) {
            Some(lanes) => {
                let state = run_lanes(&lanes, isa);
                out.extend((0..group.len()).map(|j| lanes.finish(&state, j)));
            }
            None => out.extend(group.iter().map(|c| simulate(c).metrics)),
        }
    }
}

/// Whether a configuration runs in the vector lanes (otherwise it runs alone, same result).
pub fn is_vectorised(config: &SimConfig) -> bool {
    FastParams::from_config(config).is_some()
}

/// Structure of arrays of the lanes' constants.
struct Lanes<const L: usize> {
    a: [f64; L],
    b: [f64; L],
    kp: [f64; L],
    ki: [f64; L],
    lo: [f64; L],
    hi: [f64; L],
    dt: [f64; L],
    r: [f64; L],
    s: [f64; L],
    thr10_s: [f64; L],
    thr90_s: [f64; L],
    band_abs: [f64; L],
    h0: [f64; L],
    shapes: [ResponseShape; L],
    steps: u64,
}

/// Structure of arrays of the lanes' state.
#[derive(Clone, Copy)]
struct State<const L: usize> {
    h: [f64; L],
    integral: [f64; L],
    peak_s: [f64; L],
    peak_k: [f64; L],
    i10: [f64; L],
    i90: [f64; L],
    last_out: [f64; L],
    iae: [f64; L],
    ise_sum: [f64; L],
    itae_sum: [f64; L],
    effort_sum: [f64; L],
    saturated_steps: [f64; L],
}

impl<const L: usize> Lanes<L> {
    /// Packs a group of at most `L` configurations, or `None` if one of them cannot run in a
    /// lane or their step counts differ. A short group is padded with copies of its first run.
    fn from_configs(group: &[SimConfig]) -> Option<Self> {
        let first = FastParams::from_config(group.first()?)?;
        let mut params = [first; L];
        for (slot, c) in params.iter_mut().zip(group) {
            *slot = FastParams::from_config(c).filter(|p| p.steps == first.steps)?;
        }
        let pick = |f: fn(&FastParams) -> f64| params.map(|p| f(&p));
        Some(Self {
            a: pick(|p| p.plant.a),
            b: pick(|p| p.plant.b),
            kp: pick(|p| p.kp),
            ki: pick(|p| p.ki),
            lo: pick(|p| p.lo),
            hi: pick(|p| p.hi),
            dt: pick(|p| p.dt),
            r: pick(|p| p.shape.r),
            s: pick(|p| p.shape.s),
            thr10_s: pick(|p| p.shape.thr10_s),
            thr90_s: pick(|p| p.shape.thr90_s),
            band_abs: pick(|p| p.shape.band_abs),
            h0: pick(|p| p.shape.h0),
            shapes: params.map(|p| p.shape),
            steps: first.steps,
        })
    }

    /// Lane `j`'s metrics, through the same [`ResponseAcc::finish`] as the one-run kernel.
    fn finish(&self, st: &State<L>, j: usize) -> RunMetrics {
        let acc = ResponseAcc {
            shape: self.shapes[j],
            peak_s: st.peak_s[j],
            peak_k: st.peak_k[j],
            i10: st.i10[j],
            i90: st.i90[j],
            last_out: st.last_out[j],
            iae: st.iae[j],
            ise_sum: st.ise_sum[j],
            itae_sum: st.itae_sum[j],
            effort_sum: st.effort_sum[j],
            saturated_steps: st.saturated_steps[j],
        };
        acc.finish(self.steps, self.dt[j], st.h[j], 0.0)
    }
}

fn run_lanes<const L: usize>(lanes: &Lanes<L>, isa: Isa) -> State<L> {
    isa.run(
        #[inline(always)]
        || kernel(lanes),
    )
}

/// Steps per block between checks of whether every lane has risen past 90 %.
const BLOCK: u64 = 64;

/// The lane loop, compiled once per instruction set by [`Isa::run`].
///
/// Runs in blocks: while some lane has not yet crossed 90 % of its step, blocks track the
/// first crossings (`RISING = true`); after that the crossings can no longer change ("first
/// sample at or past"), so the remaining blocks skip those comparisons. Same operations on
/// every value that matters, fewer instructions per step.
#[inline(always)]
fn kernel<const L: usize>(p: &Lanes<L>) -> State<L> {
    let mut st = State {
        h: p.h0,
        integral: [0.0; L],
        peak_s: [f64::NEG_INFINITY; L],
        peak_k: [0.0; L],
        i10: [crate::response::NONE; L],
        i90: [crate::response::NONE; L],
        last_out: [crate::response::NONE; L],
        iae: [0.0; L],
        ise_sum: [0.0; L],
        itae_sum: [0.0; L],
        effort_sum: [0.0; L],
        saturated_steps: [0.0; L],
    };
    // Upward steps with non-negative inputs in every lane (the usual case) skip the
    // multiplication by s and the absolute value of u.
    let up = p.s.iter().all(|&s| s == 1.0) && p.lo.iter().all(|&lo| lo >= 0.0);
    // Blocks are first run speculatively as linear (no lane's controller saturates: u = v,
    // always integrate), which skips the clamp, the anti-windup masks and the saturation
    // count. If some lane did leave [u_min, u_max] in the block, the state is restored and the
    // block rerun in full. Where nothing saturates the two compute the same operations on the
    // same values, so results are bit-identical either way. After a block that saturated, the
    // next ones run in full until one sees no saturation (MC-tau saturates only in its first
    // few hundred of 6,000 steps).
    let mut speculate = false;
    let mut k = 0;
    while k < p.steps {
        let end = (k + BLOCK).min(p.steps);
        let rising = !st.i90.iter().all(|&i| i >= 0.0);
        if speculate {
            let saved = st;
            if block::<L, true>(p, &mut st, k..end, rising, up) {
                k = end;
                continue;
            }
            st = saved;
        }
        let saturated_before = st.saturated_steps;
        block::<L, false>(p, &mut st, k..end, rising, up);
        speculate = st.saturated_steps == saturated_before;
        k = end;
    }
    let kf = p.steps as f64;
    for j in 0..L {
        let h = st.h[j];
        let hs = p.s[j] * h;
        observe_sample(
            p.band_abs[j],
            kf,
            hs,
            (p.r[j] - h).abs(),
            &mut st.peak_s[j],
            &mut st.peak_k[j],
            &mut st.last_out[j],
        );
        observe_crossings(p.thr10_s[j], p.thr90_s[j], kf, hs, &mut st.i10[j], &mut st.i90[j]);
    }
    st
}

/// One block of steps, with the variant's flags as constants. Returns false when a `LINEAR`
/// block saw a controller output outside its limits (its state must then be discarded).
#[inline(always)]
fn block<const L: usize, const LINEAR: bool>(
    p: &Lanes<L>,
    st: &mut State<L>,
    range: std::ops::Range<u64>,
    rising: bool,
    up: bool,
) -> bool {
    match (rising, up) {
        (true, true) => steps::<L, true, true, LINEAR>(p, st, range),
        (true, false) => steps::<L, true, false, LINEAR>(p, st, range),
        (false, true) => steps::<L, false, true, LINEAR>(p, st, range),
        (false, false) => steps::<L, false, false, LINEAR>(p, st, range),
    }
}

/// Steps `range` of every lane; with `RISING = false` the 10 %/90 % crossings are known for
/// all lanes and are not tracked; with `UP` every lane's step goes up (`s = 1`, `s*h = h`) and
/// its input is non-negative (`u >= lo >= 0`, `|u| = u`: equal bits, as a sum of `-0.0` and
/// `+0.0` terms starting from `+0.0` is `+0.0` either way); with `LINEAR` the controller is
/// assumed unsaturated (`u = v`, integrate: what `pi_conditional` does for `lo <= v <= hi`)
/// and the function returns whether that held in every lane.
#[inline(always)]
fn steps<const L: usize, const RISING: bool, const UP: bool, const LINEAR: bool>(
    p: &Lanes<L>,
    st: &mut State<L>,
    range: std::ops::Range<u64>,
) -> bool {
    // The extreme controller outputs of a linear block, checked against the limits at its end.
    let (mut v_max, mut v_min) = ([f64::NEG_INFINITY; L], [f64::INFINITY; L]);
    // The sample index as a float counter: exact below 2^53 and cheaper than a conversion.
    let mut kf = range.start as f64;
    for _ in range {
        for j in 0..L {
            let h = st.h[j];
            // e = r - h serves the controller, the error integrals and (as |r - h|) the
            // settling band, exactly as in `simulate`.
            let e = p.r[j] - h;
            let abs_e = e.abs();
            let hs = if UP { h } else { p.s[j] * h };
            observe_sample(
                p.band_abs[j],
                kf,
                hs,
                abs_e,
                &mut st.peak_s[j],
                &mut st.peak_k[j],
                &mut st.last_out[j],
            );
            if RISING {
                observe_crossings(p.thr10_s[j], p.thr90_s[j], kf, hs, &mut st.i10[j], &mut st.i90[j]);
            }
            let (u, saturated) = if LINEAR {
                let v = p.kp[j] * e + p.ki[j] * st.integral[j];
                st.integral[j] += e * p.dt[j];
                v_max[j] = if v > v_max[j] { v } else { v_max[j] };
                v_min[j] = if v < v_min[j] { v } else { v_min[j] };
                (v, false)
            } else {
                pi_conditional(e, &mut st.integral[j], p.kp[j], p.ki[j], p.lo[j], p.hi[j], p.dt[j])
            };
            observe_step(
                kf,
                e,
                abs_e,
                if UP { u } else { u.abs() },
                saturated,
                p.dt[j],
                &mut st.iae[j],
                &mut st.ise_sum[j],
                &mut st.itae_sum[j],
                &mut st.effort_sum[j],
                &mut st.saturated_steps[j],
            );
            st.h[j] = p.a[j] * h + p.b[j] * u;
        }
        kf += 1.0;
    }
    !LINEAR || (0..L).all(|j| v_max[j] <= p.hi[j] && v_min[j] >= p.lo[j])
}
