//! The standard normal distribution's CDF, survival function and inverse CDF, accurate far
//! into the tails, for inverse-CDF sampling and truncated normals.
//!
//! Pure Rust (`libm`, no platform maths library), so every platform computes the same bits.

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

/// `1/sqrt(2) - FRAC_1_SQRT_2`: with it, the pair carries 1/sqrt(2) to about 1e-33.
const FRAC_1_SQRT_2_LO: f64 = -4.833_646_656_726_457e-17;

/// `P(Z <= x)` for a standard normal `Z`.
///
/// Keeps its relative accuracy (about 1e-15) in the lower tail down to the subnormal range
/// (`x` near -37.5), because it goes through `erfc` rather than `1 - erf`.
pub fn norm_cdf(x: f64) -> f64 {
    norm_sf(-x)
}

/// `P(Z > x)`, the upper tail: accurate where `1 - norm_cdf(x)` would round to 0.
pub fn norm_sf(x: f64) -> f64 {
    // `erfc(y)` turns a relative error `e` in `y` into about `2 y^2 e`, and `y = x / sqrt(2)`
    // rounds: alone that costs up to 1e-13 by x = 37. A first-order correction with the
    // rounding residual (exact via fma) restores erfc's own accuracy.
    let y = x * FRAC_1_SQRT_2;
    let e = libm::erfc(y);
    // NaN, infinities, and subnormal results (which have no relative accuracy to restore).
    if !(e >= f64::MIN_POSITIVE && x.is_finite()) {
        return 0.5 * e;
    }
    let residual = libm::fma(x, FRAC_1_SQRT_2, -y) + x * FRAC_1_SQRT_2_LO;
    0.5 * (e - residual * FRAC_2_SQRT_PI * libm::exp(-y * y))
}

/// The inverse of [`norm_cdf`]: the `z` with `P(Z <= z) = p`.
///
/// Wichura's algorithm AS241 (PPND16, Applied Statistics 37(3), 1988): a relative error of a
/// few 1e-16 (under 7e-16 against 50-digit references for `p` from 1e-300 to 0.5), for every
/// `p` in `(0, 1)` down to the smallest subnormal (where it gives about -38.47). Returns `-inf` at 0, `+inf` at 1 and NaN outside `[0, 1]` or for NaN.
///
/// For an upper-tail probability `q` use `-norm_ppf(q)`: `p = 1 - q` would lose `q`'s digits.
pub fn norm_ppf(p: f64) -> f64 {
    // `!(0 <= p <= 1)` so that NaN lands here too.
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    // The tail: work with the smaller of p and 1 - p (1 - p is exact here since p > 0.5).
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = libm::sqrt(-libm::log(tail));
    let z =
        if r <= 5.0 { poly(&C, r - 1.6) / poly(&D, r - 1.6) } else { poly(&E, r - 5.0) / poly(&F, r - 5.0) };
    if q < 0.0 { -z } else { z }
}

/// Horner evaluation of `c[0] + c[1] x + ... + c[7] x^7`, in AS241's order of operations.
fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

// AS241 coefficients, transcription checked against the paper's hash sums (the sums of the
// coefficients' mantissas): A and B 55.8831928806149014439, C and D 49.33206503301610289036,
// E and F 47.52583317549289671629. The denominators' leading 1 is B[0], D[0], F[0]. They keep
// the paper's 20 digits (more than f64 holds) so they can be checked against it digit by digit.

/// Numerator for `|p - 0.5| <= 0.425`.
#[allow(clippy::excessive_precision)]
const A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
#[allow(clippy::excessive_precision)]
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
/// Numerator for `sqrt(-ln(min(p, 1 - p))) <= 5`.
#[allow(clippy::excessive_precision)]
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
/// Numerator for the far tails, `sqrt(-ln(min(p, 1 - p))) > 5`.
#[allow(clippy::excessive_precision)]
const E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
#[allow(clippy::excessive_precision)]
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn rel_err(got: f64, want: f64) -> f64 {
        ((got - want) / want).abs()
    }

    /// Reference values from mpmath at 60 digits.
    #[test]
    fn ppf_matches_reference_values() {
        let cases = [
            (0.975, 1.959_963_984_540_054_2),
            (0.3, -0.524_400_512_708_040_8),
            (0.024_25, -1.972_961_051_311_885),
            (1e-10, -6.361_340_902_404_056),
            (1e-20, -9.262_340_089_798_408),
            (1e-100, -21.273_453_560_965_324),
            (1e-300, -37.047_096_299_361_2),
            (f64::MIN_POSITIVE, -37.519_379_347_144_5),
            (f64::from_bits(1), -38.467_405_617_144_346),
            (2f64.powi(-53), -8.209_536_151_601_387),
        ];
        for (p, want) in cases {
            let got = norm_ppf(p);
            assert!(rel_err(got, want) < 1e-15, "ppf({p}) = {got}, want {want}");
        }
        assert_eq!(norm_ppf(0.5), 0.0);
        // 0.999999 is not exact in binary; its 1 - p differs from 1e-6 by ~1e-11 relative.
        assert!(rel_err(norm_ppf(0.999_999), 4.753_424_308_822_899) < 1e-11);
    }

    #[test]
    fn ppf_edges() {
        assert_eq!(norm_ppf(0.0), f64::NEG_INFINITY);
        assert_eq!(norm_ppf(1.0), f64::INFINITY);
        for bad in [-1e-300, 1.0 + f64::EPSILON, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(norm_ppf(bad).is_nan(), "ppf({bad}) should be NaN");
        }
        assert!(norm_ppf(1e-300).is_finite());
    }

    #[test]
    fn ppf_is_antisymmetric() {
        // 1 - p is exact for p in [0.5, 1), so ppf(p) and ppf(1 - p) must mirror exactly.
        for k in 0..400 {
            let p = 0.5 + f64::from(k) * 0.001_234_5;
            assert_eq!(norm_ppf(p), -norm_ppf(1.0 - p), "p = {p}");
        }
    }

    #[test]
    fn cdf_and_sf_match_reference_values() {
        let cases = [
            (-8.0, 6.220_960_574_271_784e-16),
            (-1.0, 0.158_655_253_931_457_05),
            (0.5, 0.691_462_461_274_013_1),
            (3.0, 0.998_650_101_968_369_9),
            (-20.0, 2.753_624_118_606_233_7e-89),
            (-37.5, 4.605_353_009_581_955e-308),
        ];
        for (x, want) in cases {
            assert!(rel_err(norm_cdf(x), want) < 2e-15, "cdf({x}) = {}", norm_cdf(x));
            assert!(rel_err(norm_sf(-x), want) < 2e-15, "sf({})", -x);
        }
        assert!(rel_err(norm_sf(30.0), 4.906_713_927_148_187e-198) < 2e-15);
        // Subnormal: only the leading digits survive.
        assert!(rel_err(norm_sf(38.0), 2.885_428_36e-316) < 1e-6);
        assert_eq!(norm_cdf(0.0), 0.5);
        assert_eq!(norm_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(norm_cdf(f64::INFINITY), 1.0);
        assert_eq!(norm_sf(f64::INFINITY), 0.0);
        assert!(norm_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn cdf_inverts_ppf_over_a_log_range() {
        // p from 1e-300 to 0.5. A relative error e in z moves the tail probability by about
        // z^2 e, so ppf's few-ulp error shows up amplified by z^2 (about 1400 at p = 1e-300).
        let mut p = 1e-300_f64;
        while p < 0.5 {
            let z = norm_ppf(p);
            let tol = 1e-15 * (1.0 + z * z);
            assert!(rel_err(norm_cdf(z), p) < tol, "p = {p:e}: cdf(ppf(p)) = {:e}", norm_cdf(z));
            // The upper tail, by symmetry through the survival function.
            assert!(rel_err(norm_sf(-z), p) < tol, "p = {p:e}");
            p *= 1.37;
        }
    }
}
