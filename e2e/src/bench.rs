//! What the benchmark binaries (`src/bin/bench-*.rs`) and the soak (`src/bin/chaos-soak/`)
//! share: the service binaries built beside them, the MC-tau spec they submit, the command
//! line's numeric flags, medians and percentiles, and a seeded PRNG.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use tanksim_proto::v1::SubmitJobRequest;
use tanksim_sim_core::canonical::mc_tau_job;

use crate::Binaries;

/// The `e2e-*` service binaries next to the running executable (the same build).
pub fn binaries_beside_exe() -> Binaries {
    let dir: PathBuf =
        std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.to_owned())).unwrap_or_default();
    Binaries {
        gateway: dir.join("e2e-gateway"),
        dispatcher: dir.join("e2e-dispatcher"),
        results: dir.join("e2e-results"),
        worker: dir.join("e2e-worker"),
    }
}

/// The MC-tau job with `runs` runs, as the example spec (seed 42).
pub fn mc_tau_spec(runs: u64) -> SubmitJobRequest {
    let mut spec = SubmitJobRequest::from(&mc_tau_job(runs, 42));
    spec.name = format!("bench-mc-tau-{runs}");
    spec
}

/// The parsed command line; on an error, prints it after `program: ` and exits with 64
/// (EX_USAGE).
pub fn or_exit_usage<T>(program: &str, parsed: Result<T, String>) -> T {
    parsed.unwrap_or_else(|e| {
        eprintln!("{program}: {e}");
        std::process::exit(64);
    })
}

/// The command line's `--flag NUMBER` pairs, in order.
pub fn numeric_flags() -> Result<Vec<(String, u64)>, String> {
    let mut flags = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let n: u64 = value.parse().map_err(|e| format!("{flag}: {e}"))?;
        flags.push((flag, n));
    }
    Ok(flags)
}

/// The median of the finite values of `v` (NaN when there are none).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// The `p`th percentile of `v` (nearest rank, rounding up).
pub fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (v.len() - 1) as f64).ceil() as usize;
    v[i.min(v.len() - 1)]
}

/// SplitMix64: a tiny, fast PRNG, plenty for choosing jobs and faults; a seed gives the same
/// sequence on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A generator seeded from this one. Giving each consumer its own (chaos-soak: the job
    /// loop and the fault loop) keeps one's choices independent of how many the other made in
    /// between.
    pub fn split(&mut self) -> Rng {
        Rng(self.next_u64())
    }

    /// Uniform in `0..n`, `n > 0` (multiply-shift: the bias is below 2^-32 for any `n` below
    /// 2^32).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `range` (both ends included).
    pub fn within(&mut self, range: &RangeInclusive<u64>) -> u64 {
        range.start() + self.below(range.end() - range.start() + 1)
    }

    /// Uniform in `0..len`, `len > 0`.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// One of `choices`, each as likely as its weight.
    pub fn weighted<T: Copy>(&mut self, choices: &[(T, u64)]) -> T {
        let mut x = self.below(choices.iter().map(|(_, w)| w).sum());
        for &(choice, weight) in choices {
            if x < weight {
                return choice;
            }
            x -= weight;
        }
        unreachable!("x is below the sum of the weights")
    }
}
