//! A stored job's status ([`tanksim_broker::JobStatus`]) in API form ([`v1::Job`]). (Its kind
//! and state as metric and span labels are [`JobKind::name`] and [`JobState::name`].)

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tanksim_broker::{JobKind, JobState, JobStatus};
use tanksim_proto::v1;

/// The API view of a job's status.
pub fn job_to_proto(s: &JobStatus) -> v1::Job {
    v1::Job {
        id: s.id.clone(),
        name: s.name.clone(),
        kind: kind_to_proto(s.kind) as i32,
        state: state_to_proto(s.state) as i32,
        progress: Some(v1::Progress {
            runs_total: s.runs_total,
            runs_done: s.runs_done,
            chunks_total: s.chunks_total,
            chunks_done: s.chunks_done,
            chunks_failed: s.chunks_failed,
            runs_released: s.layout().map_or(s.runs_total, |layout| layout.runs_before(s.chunks_released)),
        }),
        submitted_at: Some(timestamp(s.submitted_at_ms)),
        started_at: s.started_at_ms.map(timestamp),
        finished_at: s.finished_at_ms.map(timestamp),
        error: s.error.clone().unwrap_or_default(),
        tenant: s.tenant.clone(),
    }
}

pub fn kind_to_proto(kind: JobKind) -> v1::JobKind {
    match kind {
        JobKind::MonteCarlo => v1::JobKind::MonteCarlo,
        JobKind::Sweep => v1::JobKind::Sweep,
        JobKind::Dataset => v1::JobKind::Dataset,
        JobKind::Sensitivity => v1::JobKind::Sensitivity,
        JobKind::Optimize => v1::JobKind::Optimize,
    }
}

pub fn state_to_proto(state: JobState) -> v1::JobState {
    match state {
        JobState::Queued => v1::JobState::Queued,
        JobState::Running => v1::JobState::Running,
        JobState::Succeeded => v1::JobState::Succeeded,
        JobState::Failed => v1::JobState::Failed,
        JobState::Cancelled => v1::JobState::Cancelled,
    }
}

/// Milliseconds since the Unix epoch as a protobuf timestamp.
pub fn timestamp(ms: u64) -> pbjson_types::Timestamp {
    pbjson_types::Timestamp {
        seconds: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
        nanos: i32::try_from((ms % 1000) * 1_000_000).unwrap_or(0),
    }
}

/// Now, in milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}
