//! The business metrics the dispatcher records: jobs it ends by cancelling them. (Jobs that
//! succeed or fail are counted by results, which makes those transitions.)

use metrics::{counter, histogram};
use tanksim_broker::{JobKind, JobState, JobStatus};
use tanksim_telemetry::metrics::names::{
    LABEL_KIND, LABEL_STATE, SIMULATION_JOB_DURATION_SECONDS, SIMULATION_JOBS_FINISHED_TOTAL,
};

/// Creates the cancelled-jobs series at zero, so they exist before the first cancel.
pub fn init() {
    for kind in JobKind::ALL {
        finished(kind.name(), JobState::Cancelled.name()).increment(0);
    }
}

/// Counts `job`, just cancelled by this dispatcher, and how long it lived.
pub fn job_cancelled(job: &JobStatus) {
    let (kind, state) = (job.kind.name(), job.state.name());
    finished(kind, state).increment(1);
    let lived_ms = job.finished_at_ms.unwrap_or(job.submitted_at_ms).saturating_sub(job.submitted_at_ms);
    histogram!(SIMULATION_JOB_DURATION_SECONDS, LABEL_KIND => kind, LABEL_STATE => state)
        .record(lived_ms as f64 / 1000.0);
}

fn finished(kind: &'static str, state: &'static str) -> metrics::Counter {
    counter!(SIMULATION_JOBS_FINISHED_TOTAL, LABEL_KIND => kind, LABEL_STATE => state)
}
