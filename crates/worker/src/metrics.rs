//! The worker's business metrics (names and labels in `tanksim_telemetry::metrics::names`):
//! runs simulated and simulation time by job kind, chunks by what became of them, and chunks
//! that failed or were dead-lettered.

use std::time::Duration;

use metrics::{counter, histogram};
use tanksim_sim_core::JobKind;
use tanksim_telemetry::metrics::names::{
    LABEL_KIND, LABEL_OUTCOME, LABEL_REASON, SIMULATION_CHUNKS_TOTAL, SIMULATION_DURATION_SECONDS,
    SIMULATION_ERRORS_TOTAL, SIMULATION_RUNS_TOTAL, reason,
};

/// What became of a chunk the worker was given (the `outcome` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Simulated, reported, results confirmed.
    Succeeded,
    /// Failed for good (dead-lettered, its job failed), or its report failed and it is left
    /// for a retry after the visibility timeout.
    Failed,
    /// Given back to the stream unfinished (shutdown, or results away too long).
    HandedBack,
    /// Acknowledged without work: its job had already ended.
    Skipped,
}

impl Outcome {
    const ALL: [Outcome; 4] = [Outcome::Succeeded, Outcome::Failed, Outcome::HandedBack, Outcome::Skipped];

    fn label(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::HandedBack => "handed_back",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Creates every series with a fixed label set at zero, so they exist before the first chunk.
pub(crate) fn init() {
    // Every job kind a worker simulates (the `kind` label).
    for kind in JobKind::ALL.map(JobKind::name) {
        counter!(SIMULATION_RUNS_TOTAL, LABEL_KIND => kind).increment(0);
        for outcome in Outcome::ALL {
            counter!(SIMULATION_CHUNKS_TOTAL, LABEL_KIND => kind, LABEL_OUTCOME => outcome.label())
                .increment(0);
        }
        // Registering is enough: the histogram is exported with empty buckets.
        let _ = histogram!(SIMULATION_DURATION_SECONDS, LABEL_KIND => kind);
    }
    for reason in [reason::CHUNK_FAILED, reason::DEAD_LETTERED] {
        counter!(SIMULATION_ERRORS_TOTAL, LABEL_REASON => reason).increment(0);
    }
}

/// A chunk of `runs` runs of a `kind` job simulated in `elapsed`.
pub(crate) fn simulated(kind: &'static str, runs: u64, elapsed: Duration) {
    counter!(SIMULATION_RUNS_TOTAL, LABEL_KIND => kind).increment(runs);
    histogram!(SIMULATION_DURATION_SECONDS, LABEL_KIND => kind).record(elapsed.as_secs_f64());
}

/// The worker is done with a chunk of a `kind` job. Not counted when the kind is unknown (an
/// entry handed back at shutdown before its job was looked at).
pub(crate) fn chunk(kind: Option<&'static str>, outcome: Outcome) {
    if let Some(kind) = kind {
        counter!(SIMULATION_CHUNKS_TOTAL, LABEL_KIND => kind, LABEL_OUTCOME => outcome.label()).increment(1);
    }
    if outcome == Outcome::Failed {
        counter!(SIMULATION_ERRORS_TOTAL, LABEL_REASON => reason::CHUNK_FAILED).increment(1);
    }
}

/// A chunk moved to the dead-letter stream.
pub(crate) fn dead_lettered() {
    counter!(SIMULATION_ERRORS_TOTAL, LABEL_REASON => reason::DEAD_LETTERED).increment(1);
}
