//! The results service's business metrics (names and labels in
//! `tanksim_telemetry::metrics::names`): jobs that reached a final state, and how long they
//! took from submission, by kind and state. Counted by the call the store says made the
//! transition ([`tanksim_broker::Ended`]) only, so a job counts once however many replicas
//! and duplicate reports there are. And the ended jobs retention deleted.

use std::time::Duration;

use metrics::{counter, histogram};
use tanksim_broker::{JobKind, JobState, JobStatus};
use tanksim_telemetry::metrics::names::{
    JOBS_EXPIRED_TOTAL, LABEL_KIND, LABEL_STATE, SIMULATION_JOB_DURATION_SECONDS,
    SIMULATION_JOBS_FINISHED_TOTAL,
};

/// The final states this service moves jobs to (the dispatcher cancels).
const STATES: [JobState; 2] = [JobState::Succeeded, JobState::Failed];

/// Creates every series with a fixed label set at zero, so they exist before the first job.
pub(crate) fn init() {
    for kind in JobKind::ALL.map(JobKind::name) {
        for state in STATES.map(JobState::name) {
            counter!(SIMULATION_JOBS_FINISHED_TOTAL, LABEL_KIND => kind, LABEL_STATE => state).increment(0);
            // Registering is enough: the histogram is exported with empty buckets.
            let _ = histogram!(SIMULATION_JOB_DURATION_SECONDS, LABEL_KIND => kind, LABEL_STATE => state);
        }
    }
    counter!(JOBS_EXPIRED_TOTAL).increment(0);
}

/// Counts `jobs` ended jobs deleted by retention (each by the replica whose call deleted it).
pub(crate) fn jobs_expired(jobs: usize) {
    counter!(JOBS_EXPIRED_TOTAL).increment(jobs as u64);
}

/// Counts `status` as finished: the counter and the duration from submission to its end
/// (`finished_at_ms - submitted_at_ms`), by kind and final state. Call it only for a job this
/// call ended, as the store says ([`tanksim_broker::Ended::ended`], or a
/// [`tanksim_broker::StopOutcome`] that stopped the job and left it terminal): of concurrent
/// calls on one job the store tells exactly one so, on whichever replica.
pub(crate) fn job_ended(status: &JobStatus) {
    let (kind, state) = (status.kind.name(), status.state.name());
    counter!(SIMULATION_JOBS_FINISHED_TOTAL, LABEL_KIND => kind, LABEL_STATE => state).increment(1);
    // A terminal status always has its end; without one there is no duration to record.
    if let Some(finished_at_ms) = status.finished_at_ms {
        let seconds =
            Duration::from_millis(finished_at_ms.saturating_sub(status.submitted_at_ms)).as_secs_f64();
        histogram!(SIMULATION_JOB_DURATION_SECONDS, LABEL_KIND => kind, LABEL_STATE => state).record(seconds);
    }
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;
    use tanksim_broker::Ended;

    use super::*;

    fn status(state: JobState, finished_at_ms: Option<u64>) -> JobStatus {
        JobStatus {
            id: "j".into(),
            tenant: tanksim_broker::DEFAULT_TENANT.into(),
            name: String::new(),
            kind: JobKind::Sweep,
            state,
            runs_total: 10,
            runs_done: 10,
            chunk_size: 10,
            chunks_total: 1,
            chunks_released: 1,
            chunks_enqueued: 1,
            chunks_done: 1,
            chunks_failed: 0,
            submitted_at_ms: 1_000,
            started_at_ms: Some(1_500),
            finished_at_ms,
            error: None,
            trace_context: Vec::new(),
        }
    }

    #[test]
    fn only_a_job_the_store_says_this_call_ended_counts() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // What a caller does with the store's answer.
        let count = |outcome: Ended| {
            if outcome.ended {
                job_ended(&outcome.status);
            }
        };
        metrics::with_local_recorder(&recorder, || {
            init();
            // This call finished it at 4000.
            count(Ended { ended: true, status: status(JobState::Succeeded, Some(4_000)) });
            // A racing replica's call on the same job, or a repeat: already final, not ended by it.
            count(Ended { ended: false, status: status(JobState::Succeeded, Some(4_000)) });
            // A job not done yet: nothing ended.
            count(Ended { ended: false, status: status(JobState::Running, None) });
        });
        let text = handle.render();
        let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(str::to_owned);
        let sweep_ok = "{kind=\"sweep\",state=\"succeeded\"}";
        assert_eq!(
            line(&format!("simulation_jobs_finished_total{sweep_ok}")).as_deref(),
            Some(format!("simulation_jobs_finished_total{sweep_ok} 1").as_str()),
            "{text}"
        );
        let failed = "simulation_jobs_finished_total{kind=\"sweep\",state=\"failed\"} 0";
        assert!(text.contains(failed), "zero-initialised: {text}");
        assert!(
            text.contains("simulation_job_duration_seconds_sum{kind=\"sweep\",state=\"succeeded\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("simulation_job_duration_seconds_count{kind=\"sweep\",state=\"succeeded\"} 1"),
            "one duration, from submission to the end: {text}"
        );
    }
}
