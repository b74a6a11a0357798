//! Every Redis name tanksim uses, in one place: the deployment manifests (KEDA's Redis Streams
//! scaler, dashboards) refer to these exact strings.

/// The stream of chunk tasks (dispatcher appends, workers consume).
pub const TASKS_STREAM: &str = "tanksim:tasks";
/// The workers' consumer group on [`TASKS_STREAM`].
pub const WORKERS_GROUP: &str = "tanksim-workers";
/// Tasks delivered more than the allowed number of times, with the reason.
pub const DEAD_LETTER_STREAM: &str = "tanksim:tasks:dead";
/// Sorted set of job ids scored by submission time (milliseconds): `ListJobs`.
pub const JOBS_INDEX: &str = "tanksim:jobs";
/// Prefix of a tenant's keys: `tanksim:tenant:{tenant}:jobs` indexes the tenant's job ids by
/// submission time (`ListJobs` for that tenant); `...:usage` and `...:runs:{day}` hold what
/// its quota counts ([`tenant_usage_key`], [`tenant_day_runs_key`]).
pub const TENANT_KEY_PREFIX: &str = "tanksim:tenant:";
/// Set of ids of jobs whose chunks are not all on the stream yet (a restarted dispatcher
/// resumes them).
pub const DISPATCHING_SET: &str = "tanksim:jobs:dispatching";
/// Sorted set of the ids of ended jobs (succeeded, failed, cancelled) scored by when they
/// ended (milliseconds): retention deletes the oldest ([`crate::JobStore::expire_ended`]).
pub const ENDED_INDEX: &str = "tanksim:jobs:ended";
/// Prefix of a job's keys: `tanksim:job:{id}` (hash: status), `...:spec` (the submitted
/// spec), `...:chunks` (hash: chunk -> summary), `...:done` (bitmap of recorded chunks),
/// `...:merged` (the merged prefix of chunk summaries).
pub const JOB_KEY_PREFIX: &str = "tanksim:job:";
/// Prefix of a job's change-notification channel: `tanksim:events:{id}`.
pub const EVENTS_CHANNEL_PREFIX: &str = "tanksim:events:";

/// Prefix of an API key's hash: `tanksim:apikey:{sha256 of the key}` (tenant, name, scopes,
/// times). Only the gateway reads these, `tanksim keys` writes them.
pub const API_KEY_PREFIX: &str = "tanksim:apikey:";
/// Hash: each API key's public id -> the SHA-256 naming its record (listing, revoking).
pub const API_KEYS_INDEX: &str = "tanksim:apikeys";

/// `tanksim:apikey:{sha256}`.
pub fn api_key_key(sha256: &str) -> String {
    format!("{API_KEY_PREFIX}{sha256}")
}

/// `tanksim:tenant:{tenant}:jobs`.
pub fn tenant_jobs_index(tenant: &str) -> String {
    format!("{TENANT_KEY_PREFIX}{tenant}:jobs")
}

/// `tanksim:tenant:{tenant}:usage`: a hash of the tenant's jobs that have not ended (`jobs`)
/// and their runs (`runs`), reserved when each job is created and given back when it ends. A
/// job's hash names the usage hash it reserved in (field `quota_key`) until it gives it back.
pub fn tenant_usage_key(tenant: &str) -> String {
    format!("{TENANT_KEY_PREFIX}{tenant}:usage")
}

/// `tanksim:tenant:{tenant}:runs:{YYYY-MM-DD}`: runs the tenant submitted on that UTC day;
/// expires two days after its last write.
pub fn tenant_day_runs_key(tenant: &str, utc_day: &str) -> String {
    format!("{TENANT_KEY_PREFIX}{tenant}:runs:{utc_day}")
}

/// `tanksim:job:{id}`.
pub fn job_key(id: &str) -> String {
    format!("{JOB_KEY_PREFIX}{id}")
}

/// `tanksim:job:{id}:{suffix}`.
pub fn job_subkey(id: &str, suffix: &str) -> String {
    format!("{JOB_KEY_PREFIX}{id}:{suffix}")
}

/// `tanksim:events:{id}`.
pub fn events_channel(id: &str) -> String {
    format!("{EVENTS_CHANNEL_PREFIX}{id}")
}
