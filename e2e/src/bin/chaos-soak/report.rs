//! The summary of a run: a table on stderr, one JSON line on stdout, and the verdict, with
//! every job that did not succeed identically.

use std::sync::atomic::Ordering;

use serde_json::json;
use tanksim_e2e::Cluster;
use tanksim_e2e::bench::median;

use crate::drive::{Driven, Submitted};
use crate::faults::{Fault, Faults};
use crate::jobs::Kind;
use crate::{Args, CHUNK_SIZE, DRAIN_LIMIT, KIND_WEIGHTS, RETRIED};

/// The numbers of a run, for the table and the JSON line.
pub(crate) struct Summary {
    soak_s: f64,
    verify_s: f64,
    jobs_by_kind: Vec<(Kind, u64)>,
    jobs_total: usize,
    runs_total: u64,
    faults: Faults,
    identical: usize,
    unfinished: usize,
    latency_s_median: f64,
    latency_s_max: f64,
    retried: u64,
    worker_crashes: usize,
    /// Every job that did not succeed identically, and every submission that failed for good.
    offending: Vec<String>,
}

impl Summary {
    /// `timings`: the soak's seconds (with the drain) and the verification's.
    pub(crate) fn new(
        driven: &Driven,
        verdicts: &[Result<(), String>],
        faults: Faults,
        cluster: &Cluster,
        (soak_s, verify_s): (f64, f64),
    ) -> Summary {
        let submitted: Vec<&Submitted> =
            driven.ended.iter().map(|e| &e.submitted).chain(&driven.unfinished).collect();
        let jobs_by_kind = KIND_WEIGHTS
            .iter()
            .map(|&(kind, _)| (kind, submitted.iter().filter(|s| s.generated.kind == kind).count() as u64))
            .collect();
        let latencies: Vec<f64> =
            driven.ended.iter().filter(|e| e.outcome.is_ok()).map(|e| e.latency_s).collect();
        let mut offending: Vec<String> = driven
            .ended
            .iter()
            .zip(verdicts)
            .filter_map(|(e, v)| v.as_ref().err().map(|reason| describe(&e.submitted, reason)))
            .collect();
        offending.extend(driven.unfinished.iter().map(|s| {
            let last = match &s.last {
                Some(job) => {
                    let chunks =
                        job.progress.as_ref().map(|p| (p.chunks_done, p.chunks_total)).unwrap_or_default();
                    format!("{:?} with {} of {} chunks done", job.state(), chunks.0, chunks.1)
                }
                None => "never".to_owned(),
            };
            describe(s, &format!("not ended {DRAIN_LIMIT:?} after the soak; last seen {last}"))
        }));
        offending.extend(driven.submit_errors.iter().map(|e| format!("submission failed: {e}")));
        Summary {
            soak_s,
            verify_s,
            jobs_by_kind,
            jobs_total: submitted.len(),
            runs_total: submitted.iter().map(|s| s.generated.runs).sum(),
            faults,
            identical: verdicts.iter().filter(|v| v.is_ok()).count(),
            unfinished: driven.unfinished.len(),
            latency_s_median: median(latencies.clone()),
            latency_s_max: latencies.iter().copied().fold(f64::NAN, f64::max),
            retried: RETRIED.load(Ordering::Relaxed),
            worker_crashes: cluster.worker_crashes().len(),
            offending,
        }
    }

    /// Every job submitted ended SUCCEEDED and identical, and there was at least one.
    pub(crate) fn passed(&self) -> bool {
        self.offending.is_empty() && self.jobs_total > 0 && self.identical == self.jobs_total
    }

    pub(crate) fn json(&self, args: &Args) -> serde_json::Value {
        let jobs: serde_json::Map<String, serde_json::Value> =
            self.jobs_by_kind.iter().map(|(kind, n)| (kind.name().to_owned(), json!(n))).collect();
        let faults: serde_json::Map<String, serde_json::Value> = Fault::NAMES
            .iter()
            .zip(self.faults.counts)
            .map(|(name, n)| ((*name).to_owned(), json!(n)))
            .collect();
        json!({
            "seconds": args.seconds,
            "seed": args.seed,
            "workers": args.workers,
            "in_flight": args.in_flight,
            "fault_every_ms": args.fault_every_ms,
            "chunk_size": CHUNK_SIZE,
            "soak_s": self.soak_s,
            "verify_s": self.verify_s,
            "jobs_total": self.jobs_total,
            "jobs": jobs,
            "runs_total": self.runs_total,
            "faults_total": self.faults.total(),
            "faults": faults,
            "sigterm_not_exit_0": self.faults.unclean_terms,
            "worker_crashes": self.worker_crashes,
            "api_errors_retried": self.retried,
            "jobs_identical": self.identical,
            "jobs_unfinished": self.unfinished,
            "latency_s_median": self.latency_s_median,
            "latency_s_max": self.latency_s_max,
            "passed": self.passed(),
        })
    }

    pub(crate) fn print_table(&self, args: &Args) {
        let by_kind: Vec<String> =
            self.jobs_by_kind.iter().map(|(k, n)| format!("{} {n}", k.name())).collect();
        let faults: Vec<String> =
            Fault::NAMES.iter().zip(self.faults.counts).map(|(name, n)| format!("{name} {n}")).collect();
        eprintln!(
            "chaos soak {} s: seed {}, {} workers, {} jobs in flight, a fault every ~{} ms",
            args.seconds, args.seed, args.workers, args.in_flight, args.fault_every_ms
        );
        eprintln!("  soak (with the drain)    {:.1} s", self.soak_s);
        eprintln!("  chunk size               {CHUNK_SIZE} runs");
        eprintln!("  reference runs           {:.1} s", self.verify_s);
        eprintln!("  jobs                     {} ({})", self.jobs_total, by_kind.join(", "));
        eprintln!("  runs                     {}", self.runs_total);
        eprintln!("  faults                   {} ({})", self.faults.total(), faults.join(", "));
        eprintln!("  SIGTERM, not exit 0      {}", self.faults.unclean_terms);
        eprintln!("  worker crashes           {}", self.worker_crashes);
        eprintln!("  API errors retried       {}", self.retried);
        eprintln!("  identical / total        {} / {}", self.identical, self.jobs_total);
        eprintln!(
            "  job latency              median {:.2} s, max {:.2} s",
            self.latency_s_median, self.latency_s_max
        );
        for line in &self.offending {
            eprintln!("  FAILED: {line}");
        }
        eprintln!("  verdict                  {}", if self.passed() { "PASS" } else { "FAIL" });
    }
}

fn describe(s: &Submitted, reason: &str) -> String {
    let g = &s.generated;
    format!("job {} (#{} {}, {} runs, {}): {reason}", s.id, g.number, g.kind.name(), g.runs, g.spec.name)
}
