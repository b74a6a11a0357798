//! Every metric tanksim exports: its name, kind, labels and help text, in one table
//! ([`CATALOG`]), described to the recorder once at start. Services record with the name
//! constants; dashboards, alerts and their tests check against [`CATALOG`].
//!
//! Business metrics follow the names in the platform's brief (`simulation_*`); gRPC metrics
//! use the grpc-ecosystem names and labels that community dashboards query; process metrics
//! the Prometheus client conventions.

/// What kind of metric, as Prometheus exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// Exposed as `_bucket`, `_sum` and `_count` series.
    Histogram,
}

/// One exported metric.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    /// Labels the service sets (Prometheus adds `job`, `instance`, `pod`, ...; every series
    /// also carries the `service` label).
    pub labels: &'static [&'static str],
    pub help: &'static str,
    /// Histogram bucket upper bounds (empty for counters and gauges).
    pub buckets: &'static [f64],
}

// Labels.
/// Job kind: `monte_carlo`, `sweep`, `dataset`, or `single` (one `Simulate` call).
pub const LABEL_KIND: &str = "kind";
/// Final job state: `succeeded`, `failed`, `cancelled`.
pub const LABEL_STATE: &str = "state";
/// Why a simulation request failed (see [`SIMULATION_ERRORS_TOTAL`]).
pub const LABEL_REASON: &str = "reason";
/// What became of a chunk: `succeeded`, `failed`, `handed_back`, `skipped`.
pub const LABEL_OUTCOME: &str = "outcome";
/// The service label every series carries (a global label of the recorder).
pub const LABEL_SERVICE: &str = "service";
/// Which quota refused a call or a job (see [`QUOTA_REJECTIONS_TOTAL`] and [`limit`]).
pub const LABEL_LIMIT: &str = "limit";
/// The tenant of a quota refusal: only tenants the quotas file names, all others as
/// [`OTHER_TENANTS`] (tenants are an open set: a series each would grow without bound).
pub const LABEL_TENANT: &str = "tenant";
/// The [`LABEL_TENANT`] of tenants without quotas of their own.
pub const OTHER_TENANTS: &str = "_other";

// Business.
pub const SIMULATION_REQUESTS_TOTAL: &str = "simulation_requests_total";
pub const SIMULATION_ERRORS_TOTAL: &str = "simulation_errors_total";
pub const SIMULATION_DURATION_SECONDS: &str = "simulation_duration_seconds";
pub const SIMULATION_RUNS_TOTAL: &str = "simulation_runs_total";
pub const SIMULATION_CHUNKS_TOTAL: &str = "simulation_chunks_total";
pub const SIMULATION_JOBS_FINISHED_TOTAL: &str = "simulation_jobs_finished_total";
pub const SIMULATION_JOB_DURATION_SECONDS: &str = "simulation_job_duration_seconds";

/// Reasons of [`SIMULATION_ERRORS_TOTAL`], each initialised to zero where it can occur.
pub mod reason {
    /// A request rejected by validation (gateway).
    pub const INVALID_ARGUMENT: &str = "invalid_argument";
    /// A peer or Redis could not be reached (gateway, dispatcher).
    pub const UNAVAILABLE: &str = "unavailable";
    /// Any other server-side failure of a request.
    pub const INTERNAL: &str = "internal";
    /// A job refused by its tenant's quota (gateway, passing on the dispatcher's refusal).
    pub const RESOURCE_EXHAUSTED: &str = "resource_exhausted";
    /// A chunk whose simulation or report failed (worker).
    pub const CHUNK_FAILED: &str = "chunk_failed";
    /// A chunk moved to the dead-letter stream after too many deliveries (worker).
    pub const DEAD_LETTERED: &str = "dead_lettered";
}

// Security (gateway).
/// Calls refused before reaching a handler, by `reason`: `unauthenticated` (no, unknown,
/// revoked or expired credential), `permission_denied` (a scope or tenant the credential
/// lacks), `unavailable` (the key store did not answer).
pub const AUTH_FAILURES_TOTAL: &str = "tanksim_auth_failures_total";
/// Calls and jobs refused by a tenant's quota, by `limit` ([`limit`]) and `tenant`
/// ([`LABEL_TENANT`]): the request rate at the gateway, the job limits at the dispatcher.
pub const QUOTA_REJECTIONS_TOTAL: &str = "tanksim_quota_rejections_total";

/// Values of [`LABEL_LIMIT`]: the quota options' names.
pub mod limit {
    /// The tenant's token bucket at a gateway replica.
    pub const REQUESTS_PER_SECOND: &str = "requests_per_second";
    /// Jobs not yet ended.
    pub const CONCURRENT_JOBS: &str = "concurrent_jobs";
    /// Runs of the jobs not yet ended.
    pub const QUEUED_RUNS: &str = "queued_runs";
    /// Runs submitted in the UTC day.
    pub const RUNS_PER_DAY: &str = "runs_per_day";
    /// The tenant's open WatchJob and ExportRuns streams at a gateway replica.
    pub const CONCURRENT_STREAMS: &str = "concurrent_streams";
    /// Every value.
    pub const ALL: [&str; 5] =
        [REQUESTS_PER_SECOND, CONCURRENT_JOBS, QUEUED_RUNS, RUNS_PER_DAY, CONCURRENT_STREAMS];
}

/// WatchJob and ExportRuns streams open at a gateway replica (every tenant's).
pub const OPEN_STREAMS: &str = "tanksim_open_streams";
/// Jobs the dispatcher refused because the queue was over its high-water mark
/// (`--shed-queued-chunks`): load shed, whatever the tenant's quota.
pub const JOBS_SHED_TOTAL: &str = "tanksim_jobs_shed_total";

// Scheduling (dispatcher).
/// Chunks the scheduler put on the task stream, by `tenant` ([`LABEL_TENANT`]): each tenant's
/// share of the workers.
pub const CHUNKS_SCHEDULED_TOTAL: &str = "tanksim_chunks_scheduled_total";
/// Jobs with chunks not yet on the stream (the scheduler's rotation).
pub const SCHEDULER_JOBS: &str = "tanksim_scheduler_jobs";
/// Chunks of those jobs not yet on the stream: what load shedding compares with its mark.
pub const SCHEDULER_CHUNKS_WAITING: &str = "tanksim_scheduler_chunks_waiting";

// Retention (results).
/// Ended jobs deleted because they outlived the retention (`--job-retention`).
pub const JOBS_EXPIRED_TOTAL: &str = "tanksim_jobs_expired_total";

// Queue (exported by the dispatcher, sampled from Redis; what KEDA scales on).
pub const QUEUE_STREAM_LENGTH: &str = "tanksim_queue_stream_length";
pub const QUEUE_LAG: &str = "tanksim_queue_consumer_group_lag";
pub const QUEUE_PENDING: &str = "tanksim_queue_pending_entries";
pub const QUEUE_OLDEST_PENDING_AGE_SECONDS: &str = "tanksim_queue_oldest_pending_age_seconds";
pub const QUEUE_CONSUMERS: &str = "tanksim_queue_consumers";
pub const QUEUE_DEAD_LETTERS: &str = "tanksim_queue_dead_letters";

// gRPC (grpc-ecosystem/go-grpc-prometheus names; in flight = started - handled).
/// Labels `grpc_type` (`unary`, `server_stream`, `client_stream`, `bidi_stream`),
/// `grpc_service` (`tanksim.v1.JobService`), `grpc_method` (`SubmitJob`).
pub const LABEL_GRPC_TYPE: &str = "grpc_type";
pub const LABEL_GRPC_SERVICE: &str = "grpc_service";
pub const LABEL_GRPC_METHOD: &str = "grpc_method";
/// The status code name as Go prints it: `OK`, `InvalidArgument`, `Unavailable`, ...
pub const LABEL_GRPC_CODE: &str = "grpc_code";
pub const GRPC_SERVER_STARTED_TOTAL: &str = "grpc_server_started_total";
pub const GRPC_SERVER_HANDLED_TOTAL: &str = "grpc_server_handled_total";
pub const GRPC_SERVER_HANDLING_SECONDS: &str = "grpc_server_handling_seconds";
pub const GRPC_CLIENT_STARTED_TOTAL: &str = "grpc_client_started_total";
pub const GRPC_CLIENT_HANDLED_TOTAL: &str = "grpc_client_handled_total";
pub const GRPC_CLIENT_HANDLING_SECONDS: &str = "grpc_client_handling_seconds";

// Process and build.
pub const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
pub const PROCESS_VIRTUAL_MEMORY_BYTES: &str = "process_virtual_memory_bytes";
pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
pub const PROCESS_MAX_FDS: &str = "process_max_fds";
pub const PROCESS_THREADS: &str = "process_threads";
pub const PROCESS_START_TIME_SECONDS: &str = "process_start_time_seconds";
/// Always 1, labelled `version` (and `service`): one series per running process.
pub const BUILD_INFO: &str = "tanksim_build_info";

/// Latency buckets (seconds) for gRPC calls and simulations: 1 ms .. 60 s.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Job duration buckets (seconds): 0.1 s .. 6 h.
pub const JOB_BUCKETS: &[f64] =
    &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0];

const GRPC_LABELS: &[&str] = &[LABEL_GRPC_TYPE, LABEL_GRPC_SERVICE, LABEL_GRPC_METHOD];
const GRPC_CODE_LABELS: &[&str] = &[LABEL_GRPC_TYPE, LABEL_GRPC_SERVICE, LABEL_GRPC_METHOD, LABEL_GRPC_CODE];

const fn counter(name: &'static str, labels: &'static [&'static str], help: &'static str) -> Metric {
    Metric { name, kind: Kind::Counter, labels, help, buckets: &[] }
}
const fn gauge(name: &'static str, labels: &'static [&'static str], help: &'static str) -> Metric {
    Metric { name, kind: Kind::Gauge, labels, help, buckets: &[] }
}
const fn histogram(
    name: &'static str,
    labels: &'static [&'static str],
    help: &'static str,
    buckets: &'static [f64],
) -> Metric {
    Metric { name, kind: Kind::Histogram, labels, help, buckets }
}

/// Every metric tanksim exports.
pub const CATALOG: &[Metric] = &[
    counter(
        AUTH_FAILURES_TOTAL,
        &[LABEL_REASON],
        "Public API calls refused by authentication or authorisation, by reason (unauthenticated, permission_denied, unavailable).",
    ),
    counter(
        QUOTA_REJECTIONS_TOTAL,
        &[LABEL_LIMIT, LABEL_TENANT],
        "Calls and jobs refused with RESOURCE_EXHAUSTED by a tenant's quota, by limit (requests_per_second and concurrent_streams at the gateway; concurrent_jobs, queued_runs, runs_per_day at the dispatcher) and tenant (those the quotas file names, else _other).",
    ),
    gauge(OPEN_STREAMS, &[], "WatchJob and ExportRuns streams open at this gateway replica."),
    counter(
        JOBS_SHED_TOTAL,
        &[],
        "Jobs the dispatcher refused with RESOURCE_EXHAUSTED because the chunks waiting for the stream were over the high-water mark (load shedding).",
    ),
    counter(
        SIMULATION_REQUESTS_TOTAL,
        &[LABEL_KIND],
        "Simulation requests received by the gateway (SubmitJob by job kind, Simulate as kind=single).",
    ),
    counter(
        SIMULATION_ERRORS_TOTAL,
        &[LABEL_REASON],
        "Simulation requests or chunks that failed, by reason (invalid_argument, unavailable, resource_exhausted, internal, chunk_failed, dead_lettered).",
    ),
    histogram(
        SIMULATION_DURATION_SECONDS,
        &[LABEL_KIND],
        "Wall time simulating one unit of work: a chunk in a worker, or one Simulate call (kind=single).",
        LATENCY_BUCKETS,
    ),
    counter(SIMULATION_RUNS_TOTAL, &[LABEL_KIND], "Simulation runs computed by workers."),
    counter(
        SIMULATION_CHUNKS_TOTAL,
        &[LABEL_KIND, LABEL_OUTCOME],
        "Chunks a worker finished with, by outcome (succeeded, failed, handed_back, skipped).",
    ),
    counter(
        SIMULATION_JOBS_FINISHED_TOTAL,
        &[LABEL_KIND, LABEL_STATE],
        "Jobs that reached a final state (succeeded, failed, cancelled).",
    ),
    histogram(
        SIMULATION_JOB_DURATION_SECONDS,
        &[LABEL_KIND, LABEL_STATE],
        "Time from a job's submission to its final state.",
        JOB_BUCKETS,
    ),
    counter(
        CHUNKS_SCHEDULED_TOTAL,
        &[LABEL_TENANT],
        "Chunks the dispatcher's scheduler put on the task stream, by tenant (those the quotas file names, else _other): each tenant's share of the workers.",
    ),
    gauge(SCHEDULER_JOBS, &[], "Jobs with chunks not yet on the task stream, in the scheduler's rotation."),
    gauge(
        SCHEDULER_CHUNKS_WAITING,
        &[],
        "Chunks of the jobs in the scheduler's rotation not yet on the task stream (new jobs are shed at --queue-high-water).",
    ),
    counter(
        JOBS_EXPIRED_TOTAL,
        &[],
        "Ended jobs deleted with their results and rows because they outlived the retention.",
    ),
    gauge(QUEUE_STREAM_LENGTH, &[], "Entries in the task stream (XLEN)."),
    gauge(
        QUEUE_LAG,
        &[],
        "Entries in the task stream not yet delivered to the workers' consumer group (XINFO GROUPS lag).",
    ),
    gauge(QUEUE_PENDING, &[], "Entries delivered to a worker and not yet acknowledged (XPENDING)."),
    gauge(
        QUEUE_OLDEST_PENDING_AGE_SECONDS,
        &[],
        "Time since the oldest unacknowledged entry was added to the stream (0 when none).",
    ),
    gauge(QUEUE_CONSUMERS, &[], "Consumers (worker names) known to the workers' group."),
    gauge(QUEUE_DEAD_LETTERS, &[], "Entries in the dead-letter stream."),
    counter(GRPC_SERVER_STARTED_TOTAL, GRPC_LABELS, "RPCs started on the server."),
    counter(
        GRPC_SERVER_HANDLED_TOTAL,
        GRPC_CODE_LABELS,
        "RPCs completed on the server, regardless of success or failure.",
    ),
    histogram(
        GRPC_SERVER_HANDLING_SECONDS,
        GRPC_LABELS,
        "Response latency of RPCs handled by the server (to the end of the response stream).",
        LATENCY_BUCKETS,
    ),
    counter(GRPC_CLIENT_STARTED_TOTAL, GRPC_LABELS, "RPCs started on the client."),
    counter(GRPC_CLIENT_HANDLED_TOTAL, GRPC_CODE_LABELS, "RPCs completed by the client."),
    histogram(
        GRPC_CLIENT_HANDLING_SECONDS,
        GRPC_LABELS,
        "Latency of RPCs made by the client, until the response stream ended.",
        LATENCY_BUCKETS,
    ),
    counter(PROCESS_CPU_SECONDS_TOTAL, &[], "User and system CPU time spent, in seconds."),
    gauge(PROCESS_RESIDENT_MEMORY_BYTES, &[], "Resident memory size in bytes."),
    gauge(PROCESS_VIRTUAL_MEMORY_BYTES, &[], "Virtual memory size in bytes."),
    gauge(PROCESS_OPEN_FDS, &[], "Open file descriptors."),
    gauge(PROCESS_MAX_FDS, &[], "Maximum open file descriptors (soft limit)."),
    gauge(PROCESS_THREADS, &[], "OS threads in the process."),
    gauge(PROCESS_START_TIME_SECONDS, &[], "Start time of the process since the Unix epoch, in seconds."),
    gauge(BUILD_INFO, &["version"], "Always 1: the running build's version (one series per process)."),
];

/// The catalog entry of `name`, also for a histogram's `_bucket` / `_sum` / `_count` series.
pub fn lookup(name: &str) -> Option<&'static Metric> {
    CATALOG.iter().find(|m| m.name == name).or_else(|| {
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s))?;
        CATALOG.iter().find(|m| m.name == base && m.kind == Kind::Histogram)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for m in CATALOG {
            assert!(seen.insert(m.name), "{} twice", m.name);
            assert!(m.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
            assert_eq!(m.kind == Kind::Counter, m.name.ends_with("_total"), "{}", m.name);
            assert_eq!(m.kind == Kind::Histogram, !m.buckets.is_empty(), "{}", m.name);
            assert!(m.buckets.windows(2).all(|w| w[0] < w[1]), "{}", m.name);
        }
    }

    #[test]
    fn histogram_series_resolve_to_their_metric() {
        assert_eq!(
            lookup("grpc_server_handling_seconds_bucket").map(|m| m.name),
            Some(GRPC_SERVER_HANDLING_SECONDS)
        );
        assert!(lookup("simulation_runs_total_count").is_none());
        assert!(lookup("nonexistent").is_none());
    }
}
