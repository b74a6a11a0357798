//! Advancing a plant by one sample: the exact zero-order-hold update of the first-order tank
//! and RK4 for the Torricelli tank, with precomputed coefficients.

use crate::config::{FirstOrder, Plant, Torricelli};

/// The first-order tank's exact discretisation: `h[k+1] = a*h[k] + b*u[k]` with
/// `a = exp(-dt/tau)`, `b = K*(1 - a)`.
///
/// `exp` is `libm`'s, not the platform's: the same bits on every node and C library, so a job
/// gives identical results wherever its chunks run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirstOrderStep {
    pub a: f64,
    pub b: f64,
}

impl FirstOrderStep {
    pub fn new(plant: &FirstOrder, dt: f64) -> Self {
        let a = libm::exp(-dt / plant.tau);
        Self { a, b: plant.gain * (1.0 - a) }
    }

    /// One sample. Written as two products and a sum, never fused: the canonical definition.
    #[inline(always)]
    pub fn step(&self, h: f64, u: f64) -> f64 {
        self.a * h + self.b * u
    }
}

/// RK4 integration of `A*dh/dt = max_inflow*u - outlet*sqrt(h)` with substeps, clamping the
/// level to `[0, h_max]` after every substep and counting the spilled volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TorricelliStep {
    inv_area: f64,
    outlet: f64,
    max_inflow: f64,
    h_max: f64,
    area: f64,
    substep: f64,
    substeps: u32,
}

impl TorricelliStep {
    pub fn new(plant: &Torricelli, dt: f64) -> Self {
        let substeps = plant.substeps.max(1);
        Self {
            inv_area: 1.0 / plant.area,
            outlet: plant.outlet,
            max_inflow: plant.max_inflow,
            h_max: plant.h_max,
            area: plant.area,
            substep: dt / f64::from(substeps),
            substeps,
        }
    }

    #[inline]
    fn rate(&self, inflow: f64, h: f64) -> f64 {
        // Intermediate RK stages may dip below 0; the outlet cannot run on a negative level.
        (inflow - self.outlet * h.max(0.0).sqrt()) * self.inv_area
    }

    /// One sample; returns the new level and the volume that overflowed during it.
    pub fn step(&self, h: f64, u: f64) -> (f64, f64) {
        let inflow = self.max_inflow * u;
        let hs = self.substep;
        let mut h = h;
        let mut spilled = 0.0;
        for _ in 0..self.substeps {
            let k1 = self.rate(inflow, h);
            let k2 = self.rate(inflow, h + 0.5 * hs * k1);
            let k3 = self.rate(inflow, h + 0.5 * hs * k2);
            let k4 = self.rate(inflow, h + hs * k3);
            h += hs / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            if h > self.h_max {
                spilled += (h - self.h_max) * self.area;
                h = self.h_max;
            } else if h < 0.0 {
                h = 0.0;
            }
        }
        (h, spilled)
    }
}

impl Plant {
    /// The initial level.
    pub fn h0(&self) -> f64 {
        match self {
            Plant::FirstOrder(p) => p.h0,
            Plant::Torricelli(p) => p.h0,
        }
    }

    /// The level the plant settles at under a constant input `u`: `K*u` for the first-order
    /// tank, `(max_inflow*u/outlet)^2` capped to `[0, h_max]` for the Torricelli tank.
    pub fn steady_state(&self, u: f64) -> f64 {
        match self {
            Plant::FirstOrder(p) => p.gain * u,
            Plant::Torricelli(p) => {
                let inflow = p.max_inflow * u;
                if inflow <= 0.0 {
                    0.0
                } else if p.outlet <= 0.0 {
                    p.h_max
                } else {
                    let ratio = inflow / p.outlet;
                    (ratio * ratio).min(p.h_max)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_order_coefficients_are_the_zoh_ones() {
        let s = FirstOrderStep::new(&FirstOrder { gain: 2.0, tau: 10.0, h0: 0.0 }, 0.01);
        assert_eq!(s.a, libm::exp(-0.001));
        assert_eq!(s.b, 2.0 * (1.0 - s.a));
        assert_eq!(s.step(1.0, 0.5), s.a + s.b * 0.5);
    }

    #[test]
    fn torricelli_clamps_and_counts_overflow() {
        let p = Torricelli { area: 2.0, outlet: 0.1, max_inflow: 5.0, h_max: 1.0, h0: 0.99, substeps: 4 };
        let s = TorricelliStep::new(&p, 0.1);
        let (h, spilled) = s.step(0.99, 1.0);
        assert_eq!(h, 1.0);
        assert!(spilled > 0.0);
        let (h, spilled) = s.step(0.0, 0.0);
        assert_eq!((h, spilled), (0.0, 0.0));
    }

    #[test]
    fn steady_states() {
        let fo = Plant::FirstOrder(FirstOrder { gain: 2.0, tau: 1.0, h0: 0.0 });
        assert_eq!(fo.steady_state(0.5), 1.0);
        let t = Plant::Torricelli(Torricelli {
            area: 1.0,
            outlet: 0.5,
            max_inflow: 1.0,
            h_max: 3.0,
            h0: 0.0,
            substeps: 1,
        });
        assert_eq!(t.steady_state(0.5), 1.0);
        assert_eq!(t.steady_state(1.0), 3.0);
        assert_eq!(t.steady_state(0.0), 0.0);
    }
}
