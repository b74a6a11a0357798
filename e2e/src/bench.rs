//! What the benchmark binaries (`src/bin/bench-*.rs`) share: the service binaries built beside
//! them, the MC-tau spec they submit, medians and percentiles.

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
