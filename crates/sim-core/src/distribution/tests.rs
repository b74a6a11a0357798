//! Tests of the distributions: moments, tails, support, error messages, draw counts.
use super::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

fn trunc(mean: f64, sd: f64, lo: f64, hi: f64) -> Distribution {
    Distribution::TruncatedNormal { mean, sd, lo, hi }
}

/// The canonical workload: tau ~ Normal(10, 2) truncated to tau >= 1.
fn canonical() -> Distribution {
    trunc(10.0, 2.0, 1.0, f64::INFINITY)
}

/// `n` values as a job draws them: run `i` of seed 2024 on stream 0, one value per run.
fn draws(d: &Distribution, n: u64) -> Vec<f64> {
    (0..n).map(|run| d.sample(&mut RunRng::new(2024, run, 0))).collect()
}

/// Whether 100 000 draws of `d` have the given mean and variance within 5 standard
/// errors: `sqrt(var / n)` for the mean and `sqrt((m4 - s^4) / n)` (sample fourth central
/// moment) for the variance. A correct sampler is off by more with probability < 1e-6.
fn moments_match(d: &Distribution, mean: f64, var: f64) -> Result<(), String> {
    const N: u64 = 100_000;
    let xs = draws(d, N);
    let n = N as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    let (tol_mean, tol_var) = (5.0 * (var / n).sqrt(), 5.0 * ((m4 - v * v) / n).sqrt());
    if (m - mean).abs() >= tol_mean {
        return Err(format!("{d:?}: mean {m}, want {mean} ± {tol_mean}"));
    }
    if (v - var).abs() >= tol_var {
        return Err(format!("{d:?}: variance {v}, want {var} ± {tol_var}"));
    }
    Ok(())
}

/// Mean and variance of Normal(mean, sd) truncated to [lo, hi].
fn truncated_moments(mean: f64, sd: f64, lo: f64, hi: f64) -> (f64, f64) {
    let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
    let mass = standard_mass(a, b);
    let (pa, pb) = (pdf(a), pdf(b));
    let shift = (pa - pb) / mass;
    let x_pdf = |x: f64, p: f64| if x.is_finite() { x * p } else { 0.0 };
    let var = 1.0 + (x_pdf(a, pa) - x_pdf(b, pb)) / mass - shift * shift;
    (mean + sd * shift, sd * sd * var)
}

/// CDF of Normal(mean, sd) truncated to [lo, hi], from the tail nearer the interval.
fn truncated_cdf(mean: f64, sd: f64, lo: f64, hi: f64) -> impl Fn(f64) -> f64 {
    let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
    let mass = standard_mass(a, b);
    move |x| {
        let z = (x - mean) / sd;
        if a + b > 0.0 { (norm_sf(a) - norm_sf(z)) / mass } else { (norm_cdf(z) - norm_cdf(a)) / mass }
    }
}

/// Kolmogorov-Smirnov distance between the sample and `cdf`.
fn ks(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    xs.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0, f64::max)
}

#[test]
fn moments_match_the_analytic_ones() {
    let (mu, sigma) = (0.5_f64, 0.4_f64);
    let (lo, mode, hi) = (1.0_f64, 2.0_f64, 5.0_f64);
    let tri_var = |lo: f64, mode: f64, hi: f64| {
        (lo * lo + mode * mode + hi * hi - lo * mode - lo * hi - mode * hi) / 18.0
    };
    let cases = [
        (Distribution::Uniform { lo: 2.0, hi: 5.0 }, 3.5, 0.75),
        (Distribution::Normal { mean: -1.0, sd: 3.0 }, -1.0, 9.0),
        (
            Distribution::LogNormal { mu, sigma },
            (mu + sigma * sigma / 2.0).exp(),
            ((sigma * sigma).exp() - 1.0) * (2.0 * mu + sigma * sigma).exp(),
        ),
        (Distribution::Triangular { lo, mode, hi }, (lo + mode + hi) / 3.0, tri_var(lo, mode, hi)),
        (Distribution::Triangular { lo: 0.0, mode: 0.0, hi: 3.0 }, 1.0, tri_var(0.0, 0.0, 3.0)),
        (Distribution::Triangular { lo: 0.0, mode: 3.0, hi: 3.0 }, 2.0, tri_var(0.0, 3.0, 3.0)),
        // P(1) = 1/4, P(10) = 3/4; 2 has weight 0.
        (Distribution::Choice { values: vec![1.0, 2.0, 10.0], weights: vec![1.0, 0.0, 3.0] }, 7.75, 15.1875),
        (Distribution::Choice { values: vec![3.0, 4.0, 5.0, 6.0], weights: vec![] }, 4.5, 1.25),
    ];
    for (d, mean, var) in cases {
        d.check().unwrap();
        moments_match(&d, mean, var).unwrap();
    }
}

#[test]
fn truncated_normal_moments_match_the_analytic_ones() {
    let inf = f64::INFINITY;
    for (mean, sd, lo, hi) in [
        (10.0, 2.0, 1.0, inf),    // the canonical tau
        (0.0, 1.0, -0.5, 2.0),    // straddling the mean
        (0.0, 1.0, -inf, -1.0),   // one lower tail
        (0.0, 1.0, 30.0, 31.0),   // far upper tail
        (0.0, 1.0, -31.0, -30.0), // far lower tail
        (5.0, 0.1, 8.0, 8.1),     // far tail, scaled
        (0.0, 1.0, 37.0, inf),    // as far as f64 has mass
    ] {
        let d = trunc(mean, sd, lo, hi);
        d.check().unwrap();
        let (m, v) = truncated_moments(mean, sd, lo, hi);
        moments_match(&d, m, v).unwrap();
    }
    // The canonical truncation barely moves the mean: 10 + 2 phi(4.5) / Phi(4.5).
    let (m, _) = truncated_moments(10.0, 2.0, 1.0, inf);
    assert!((m - 10.000_031_98).abs() < 1e-7, "{m}");
}

#[test]
fn the_moment_check_has_power() {
    // A mean off by 0.05 sd is 16 standard errors at this sample size.
    let d = Distribution::Normal { mean: 0.0, sd: 1.0 };
    assert!(moments_match(&d, 0.05, 1.0).is_err());
    assert!(moments_match(&d, 0.0, 1.05).is_err());
    moments_match(&d, 0.0, 1.0).unwrap();
}

#[test]
fn truncated_normal_follows_its_cdf_in_the_tails() {
    // KS critical value at the 0.1% level is 1.95 / sqrt(n).
    let n = 20_000;
    let limit = 1.95 / (n as f64).sqrt();
    for (mean, sd, lo, hi) in
        [(10.0, 2.0, 1.0, f64::INFINITY), (0.0, 1.0, 30.0, 31.0), (0.0, 1.0, -31.0, -30.0)]
    {
        let xs = draws(&trunc(mean, sd, lo, hi), n);
        let d = ks(xs.clone(), truncated_cdf(mean, sd, lo, hi));
        assert!(d < limit, "[{lo}, {hi}]: KS {d} >= {limit}");
        // Power: the same sample against the CDF shifted by 0.05 of the distribution's
        // sd (KS distance ~0.02) is rejected.
        let cdf = truncated_cdf(mean, sd, lo, hi);
        let shift = 0.05 * truncated_moments(mean, sd, lo, hi).1.sqrt();
        let moved = ks(xs, |x| cdf(x - shift));
        assert!(moved > limit, "[{lo}, {hi}]: KS against a shifted CDF {moved}");
    }
}

#[test]
fn truncated_normal_stays_inside_its_bounds_and_never_hangs() {
    let inf = f64::INFINITY;
    let extreme_u = [2f64.powi(-53), 1e-9, 0.5, 1.0 - 1e-9, 1.0 - 2f64.powi(-53)];
    for (mean, sd, lo, hi) in [
        (0.0, 1.0, 30.0, 31.0),
        (0.0, 1.0, -40.0, -39.0), // no mass in f64: check refuses it, sampling still holds
        (0.0, 1.0, 39.0, 40.0),
        (0.0, 1.0, 50.0, inf),
        (0.0, 1.0, -inf, -50.0),
        (0.0, 1.0, 0.1, 0.1 + 1e-12),
        (10.0, 2.0, 1.0, inf),
        (3.0, 1e-3, -1.0, 2.0),
    ] {
        let d = trunc(mean, sd, lo, hi);
        let inside = |x: f64| lo <= x && x <= hi;
        for x in draws(&d, 10_000) {
            assert!(inside(x), "{d:?} gave {x}");
        }
        for u in extreme_u {
            let x = d.quantile(u);
            assert!(inside(x), "{d:?} at u = {u} gave {x}");
        }
    }
    assert!(trunc(0.0, 1.0, -40.0, -39.0).check().is_err());
}

#[test]
fn every_sample_lies_inside_support() {
    let inf = f64::INFINITY;
    let dists = [
        Distribution::Fixed(3.0),
        Distribution::Uniform { lo: -1.0, hi: 1.0 },
        Distribution::Uniform { lo: 1.0, hi: 1.0 + 1e-15 },
        Distribution::Normal { mean: 2.0, sd: 0.0 },
        Distribution::Normal { mean: 2.0, sd: 1.0 },
        canonical(),
        trunc(0.0, 1.0, -inf, 0.0),
        Distribution::LogNormal { mu: 0.0, sigma: 1.0 },
        Distribution::LogNormal { mu: -700.0, sigma: 1.0 }, // exp may underflow: support from 0
        Distribution::LogNormal { mu: 1.0, sigma: 0.0 },
        Distribution::LogNormal { mu: 1.0, sigma: 1e-300 },
        Distribution::Triangular { lo: -1.0, mode: 0.5, hi: 2.0 },
        Distribution::Choice { values: vec![5.0, -2.0, 9.0], weights: vec![] },
        Distribution::Choice { values: vec![5.0, -2.0, 9.0], weights: vec![1.0, 1.0, 0.0] },
    ];
    for d in dists {
        d.check().unwrap();
        let (lo, hi) = d.support();
        let us = [2f64.powi(-53), 0.25, 0.5, 1.0 - 2f64.powi(-53)];
        for x in draws(&d, 10_000).into_iter().chain(us.map(|u| d.quantile(u))) {
            assert!(x.is_finite() && lo <= x && x <= hi, "{d:?}: {x} outside [{lo}, {hi}]");
        }
    }
    // Supports that validation relies on.
    assert_eq!(canonical().support(), (1.0, inf));
    assert_eq!(Distribution::Normal { mean: 1.0, sd: 2.0 }.support(), (-inf, inf));
    let (lo, hi) = Distribution::LogNormal { mu: 0.0, sigma: 1.0 }.support();
    assert!(lo > 0.0 && lo < (-39.0f64).exp() && hi == inf, "{lo}");
    assert_eq!(Distribution::LogNormal { mu: -700.0, sigma: 1.0 }.support().0, 0.0);
    let choice = Distribution::Choice { values: vec![5.0, -2.0, 9.0], weights: vec![1.0, 1.0, 0.0] };
    assert_eq!(choice.support(), (-2.0, 5.0));
}

#[test]
fn uniform_excludes_hi_even_when_rounding_reaches_it() {
    // (hi - lo) * u rounds up to hi - lo for u near 1 when lo is large next to the width.
    let d = Distribution::Uniform { lo: 1e16, hi: 1e16 + 4.0 };
    let x = d.quantile(1.0 - 2f64.powi(-53));
    assert!((1e16..1e16 + 4.0).contains(&x), "{x}");
}

#[test]
fn every_variant_consumes_exactly_one_draw() {
    let dists = [
        Distribution::Fixed(1.0),
        Distribution::Uniform { lo: 0.0, hi: 1.0 },
        Distribution::Normal { mean: 0.0, sd: 1.0 },
        canonical(),
        Distribution::LogNormal { mu: 0.0, sigma: 1.0 },
        Distribution::Triangular { lo: 0.0, mode: 0.2, hi: 1.0 },
        Distribution::Choice { values: vec![1.0, 2.0], weights: vec![0.5, 0.5] },
    ];
    for d in dists {
        let mut rng = RunRng::new(5, 6, 7);
        let mut reference = rng.clone();
        d.sample(&mut rng);
        reference.next_u64();
        assert_eq!(rng.next_u64(), reference.next_u64(), "{}", d.name());
    }
}

#[test]
fn quantiles_increase_with_u() {
    // The same draw maps to the same quantile of every variant (and both truncated-normal
    // branches, direct and mirrored, keep that order).
    let dists = [
        Distribution::Uniform { lo: 0.0, hi: 1.0 },
        Distribution::Normal { mean: 0.0, sd: 1.0 },
        canonical(),
        trunc(0.0, 1.0, -3.0, 1.0),
        trunc(0.0, 1.0, 30.0, 31.0),
        Distribution::LogNormal { mu: 0.0, sigma: 1.0 },
        Distribution::Triangular { lo: 0.0, mode: 0.2, hi: 1.0 },
        Distribution::Choice { values: vec![1.0, 2.0, 3.0], weights: vec![0.2, 0.0, 0.8] },
    ];
    for d in dists {
        let mut prev = f64::NEG_INFINITY;
        for k in 1..1000 {
            let x = d.quantile(f64::from(k) / 1000.0);
            assert!(x >= prev, "{d:?} decreases at u = {k}/1000");
            prev = x;
        }
        assert!(d.quantile(0.999) > d.quantile(0.001), "{d:?} is constant");
    }
    assert_eq!(Distribution::Fixed(4.0).quantile(0.3), 4.0);
}

#[test]
fn choice_never_draws_zero_weight_values() {
    let d = Distribution::Choice { values: vec![1.0, 2.0, 3.0, 4.0], weights: vec![0.0, 1.0, 0.0, 1.0] };
    let xs = draws(&d, 10_000);
    assert!(xs.iter().all(|&x| x == 2.0 || x == 4.0));
    assert!(xs.contains(&2.0) && xs.contains(&4.0));
    // At the top of (0, 1): the last value with weight, not a trailing zero-weight one.
    let d = Distribution::Choice { values: vec![1.0, 2.0], weights: vec![1.0, 0.0] };
    assert_eq!(d.quantile(1.0 - 2f64.powi(-53)), 1.0);
}

#[test]
fn check_names_the_offending_field() {
    let inf = f64::INFINITY;
    let nan = f64::NAN;
    let choice = |values: Vec<f64>, weights: Vec<f64>| Distribution::Choice { values, weights };
    let cases: Vec<(Distribution, &str, &str)> = vec![
        (Distribution::Fixed(nan), "value", "finite"),
        (Distribution::Uniform { lo: 1.0, hi: 1.0 }, "hi", "greater than lo"),
        (Distribution::Uniform { lo: 0.0, hi: inf }, "hi", "finite"),
        (Distribution::Uniform { lo: -1e308, hi: 1e308 }, "hi", "overflows"),
        (Distribution::Normal { mean: inf, sd: 1.0 }, "mean", "finite"),
        (Distribution::Normal { mean: 0.0, sd: -1.0 }, "sd", ">= 0"),
        (Distribution::Normal { mean: 0.0, sd: 1e307 }, "sd", "overflow"),
        (trunc(0.0, 0.0, -1.0, 1.0), "sd", "> 0"),
        (trunc(0.0, 1.0, 2.0, 1.0), "hi", "greater than lo"),
        (trunc(0.0, 1.0, nan, 1.0), "lo", "-inf"),
        (trunc(0.0, 1.0, inf, inf), "lo", "-inf"),
        (trunc(0.0, 1.0, -1.0, -inf), "hi", "+inf"),
        (trunc(0.0, 1.0, 39.0, 40.0), "lo", "no probability mass"),
        (trunc(0.0, 1.0, -40.0, -39.0), "hi", "no probability mass"),
        (trunc(0.0, 1e-300, 1.0, 2.0), "lo", "no probability mass"),
        (Distribution::LogNormal { mu: 0.0, sigma: -1.0 }, "sigma", ">= 0"),
        (Distribution::LogNormal { mu: 0.0, sigma: 20.0 }, "sigma", "overflow"),
        (Distribution::LogNormal { mu: 710.0, sigma: 0.0 }, "mu", "overflow"),
        (Distribution::LogNormal { mu: nan, sigma: 1.0 }, "mu", "finite"),
        (Distribution::Triangular { lo: 0.0, mode: 2.0, hi: 1.0 }, "mode", "[lo, hi]"),
        (Distribution::Triangular { lo: 1.0, mode: 1.0, hi: 1.0 }, "hi", "greater than lo"),
        (Distribution::Triangular { lo: 0.0, mode: nan, hi: 1.0 }, "mode", "finite"),
        (choice(vec![], vec![]), "values", "empty"),
        (choice(vec![1.0, nan], vec![]), "values", "values[1]"),
        (choice(vec![1.0, 2.0], vec![1.0]), "weights", "1 entries for 2 values"),
        (choice(vec![1.0, 2.0], vec![1.0, -1.0]), "weights", "weights[1]"),
        (choice(vec![1.0, 2.0], vec![inf, 1.0]), "weights", "weights[0]"),
        (choice(vec![1.0, 2.0], vec![0.0, 0.0]), "weights", "all zero"),
        (choice(vec![1.0, 2.0], vec![1e308, 1e308]), "weights", "overflows"),
    ];
    for (d, field, reason) in cases {
        let e = d.check().expect_err(&format!("{d:?} should be invalid"));
        assert_eq!(e.field, field, "{d:?}: {e}");
        assert!(e.reason.contains(reason), "{d:?}: {e}");
    }
    let e = trunc(0.0, 1.0, 39.0, 40.0).check().unwrap_err();
    assert_eq!(
        e.to_string(),
        "lo: truncation interval [39.0, 40.0] has no probability mass under Normal(0.0, 1.0) in f64 \
         (39.0 to 40.0 standard deviations from the mean)"
    );
    for ok in [
        canonical(),
        trunc(0.0, 1.0, -inf, inf),
        trunc(0.0, 1.0, 30.0, 31.0),
        Distribution::Normal { mean: 1.0, sd: 0.0 },
        choice(vec![1.0, 2.0], vec![0.0, 1.0]),
    ] {
        ok.check().unwrap();
    }
}

#[test]
fn names() {
    let names = [
        Distribution::Fixed(0.0),
        Distribution::Uniform { lo: 0.0, hi: 1.0 },
        Distribution::Normal { mean: 0.0, sd: 1.0 },
        canonical(),
        Distribution::LogNormal { mu: 0.0, sigma: 1.0 },
        Distribution::Triangular { lo: 0.0, mode: 0.0, hi: 1.0 },
        Distribution::Choice { values: vec![1.0], weights: vec![] },
    ]
    .map(|d| d.name());
    assert_eq!(
        names,
        ["fixed", "uniform", "normal", "truncated_normal", "log_normal", "triangular", "choice"]
    );
}

/// Mostly ordinary numbers, with every special value well represented.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -50.0..50.0f64,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e308),
        1 => Just(-1e308),
        1 => Just(1e-300),
        1 => Just(f64::from_bits(1)),
        1 => any::<f64>(),
    ]
}

/// A truncated normal: half the time from raw numbers, half the time with ordered bounds
/// placed anywhere from the centre to beyond f64's reach (±45 sd), either maybe infinite.
fn truncated_normal() -> impl Strategy<Value = Distribution> {
    let bound = |inf: f64| prop_oneof![4 => -45.0..45.0f64, 1 => Just(inf)];
    let structured =
        (-50.0..50.0f64, 1e-3..20.0f64, bound(f64::NEG_INFINITY), bound(f64::INFINITY), 0.0..5.0f64)
            .prop_map(|(mean, sd, a, b, width)| {
                let lo = mean + sd * a;
                let hi = if b.is_finite() { lo + sd * width } else { b };
                trunc(mean, sd, lo, hi)
            });
    let raw = (number(), number(), number(), number()).prop_map(|(mean, sd, lo, hi)| trunc(mean, sd, lo, hi));
    prop_oneof![structured, raw]
}

fn distribution() -> impl Strategy<Value = Distribution> {
    let weights = |n: usize| {
        prop_oneof![
            Just(vec![]),
            vec(prop_oneof![3 => 0.0..5.0f64, 1 => number()], n..=n),
            vec(number(), 0..6),
        ]
    };
    let triangular = prop_oneof![
        (number(), number(), number()),
        (-1e3..1e3f64, 0.0..1.0f64, 1e-9..1e3f64).prop_map(|(lo, f, w)| (lo, lo + f * w, lo + w)),
    ]
    .prop_map(|(lo, mode, hi)| Distribution::Triangular { lo, mode, hi });
    prop_oneof![
        1 => number().prop_map(Distribution::Fixed),
        1 => (number(), number()).prop_map(|(lo, hi)| Distribution::Uniform { lo, hi }),
        1 => (number(), number()).prop_map(|(mean, sd)| Distribution::Normal { mean, sd }),
        3 => truncated_normal(),
        1 => (number(), number()).prop_map(|(mu, sigma)| Distribution::LogNormal { mu, sigma }),
        2 => triangular,
        1 => vec(number(), 0..6)
            .prop_flat_map(move |values| {
                let n = values.len();
                (Just(values), weights(n))
            })
            .prop_map(|(values, weights)| Distribution::Choice { values, weights }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_distributions_sample_finite_values_inside_support(d in distribution(), seed in any::<u64>()) {
        // `check` and `support` must not panic on anything; `sample` neither.
        let valid = d.check().is_ok();
        let (lo, hi) = d.support();
        let edges = [2f64.powi(-53), 1.0 - 2f64.powi(-53)].map(|u| d.quantile(u));
        let xs = (0..100).map(|run| d.sample(&mut RunRng::new(seed, run, 0)));
        for x in xs.chain(edges) {
            prop_assert!(!valid || (x.is_finite() && lo <= x && x <= hi), "{:?}: {} outside [{}, {}]", d, x, lo, hi);
        }
    }
}
