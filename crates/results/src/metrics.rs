//! The results service's business metrics (names and labels in
//! `tanksim_telemetry::metrics::names`): jobs that reached a final state, and how long they
//! took from submission, by kind and state. Counted by the call that made the transition
//! only, so a job counts once however many replicas and duplicate reports there are. And the
//! ended jobs retention deleted.

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

/// A time stamp for a transition to a final state: the wall clock in milliseconds, but never
/// the same value twice in this process, so that [`finished_by_this_call`] can tell two calls
/// apart that race on one job within the same millisecond (two chunk reports finishing it).
pub(crate) fn transition_stamp_ms() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = tanksim_server::job::now_ms();
    let stamp = |last: u64| now.max(last + 1);
    // The closure always returns `Some`, so the update always succeeds.
    let (Ok(last) | Err(last)) =
        LAST.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| Some(stamp(last)));
    stamp(last)
}

/// Counts `after` as finished if it is the outcome of this call's transition to a final
/// state: final now, not before (`before` is the state the caller read), and stamped with
/// this call's `now_ms` from [`transition_stamp_ms`] (two calls racing on one job both see it
/// final; only the one whose stamp the store kept made the change).
pub(crate) fn finished_by_this_call(before: JobState, after: &JobStatus, now_ms: u64) {
    if before.is_terminal() || !after.state.is_terminal() || after.finished_at_ms != Some(now_ms) {
        return;
    }
    let (kind, state) = (after.kind.name(), after.state.name());
    counter!(SIMULATION_JOBS_FINISHED_TOTAL, LABEL_KIND => kind, LABEL_STATE => state).increment(1);
    let seconds = Duration::from_millis(now_ms.saturating_sub(after.submitted_at_ms)).as_secs_f64();
    histogram!(SIMULATION_JOB_DURATION_SECONDS, LABEL_KIND => kind, LABEL_STATE => state).record(seconds);
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

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
    fn transition_stamps_are_unique_and_follow_the_clock() {
        let stamps: Vec<u64> = (0..10_000).map(|_| transition_stamp_ms()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
        let now = tanksim_server::job::now_ms();
        assert!(stamps[0] + 10_000 >= now && *stamps.last().unwrap() <= now + 10_000);
    }

    #[test]
    fn only_the_call_that_made_the_transition_counts() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            init();
            // This call finished it at 4000.
            finished_by_this_call(JobState::Running, &status(JobState::Succeeded, Some(4_000)), 4_000);
            // A racing replica: saw it running, but the store kept the other call's time.
            finished_by_this_call(JobState::Running, &status(JobState::Succeeded, Some(4_000)), 4_001);
            // Already final before the call; not final after it.
            finished_by_this_call(JobState::Failed, &status(JobState::Failed, Some(5_000)), 5_000);
            finished_by_this_call(JobState::Queued, &status(JobState::Running, None), 5_000);
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
    }
}
