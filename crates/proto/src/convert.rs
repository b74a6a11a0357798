//! The one place where generated protobuf types and sim-core's domain types meet.
//!
//! - requests in: [`job_spec_from_request`] (a `SubmitJobRequest`, converted and validated,
//!   into a [`ValidJob`]), [`simulate_config`] / [`valid_sim_config`] (a `SimConfig`), and the
//!   structural-only `TryFrom` impls; every rejection is a list of [`FieldViolation`]s named
//!   by request paths (`config.plant.tau`, `sweep.axes[1].linspace.stop`), which
//!   [`bad_request_status`] turns into `INVALID_ARGUMENT` with a `BadRequest` detail;
//! - the way back: `From<&SimConfig>` and `From<&JobSpec>` build requests (see `to_proto`
//!   for what a round trip normalises), and [`decode_stored_spec`] reads a job's stored
//!   request back as its spec;
//! - kinds: [`job_kind`] (a request's `job` member as sim-core's `JobKind`);
//! - names: [`Metric`](tanksim_sim_core::Metric) <-> `v1::Metric`, [`param_path`];
//! - results: summaries ([`metric_summaries`], the internal `RunSummary` both ways) and
//!   per-run rows ([`run_row`], [`metrics_from_row`]).
//!
//! - bounds: every string of a public request ([`MAX_NAME_BYTES`], [`check_job_id`], ...).
//!
//! Proto3 defaults are applied in `config` and `params` and documented there.

mod bounds;
mod config;
mod job;
mod metric;
mod params;
mod row;
mod stored;
mod summary;
mod to_proto;
mod violation;

pub use bounds::{
    MAX_JOB_ID_BYTES, MAX_NAME_BYTES, MAX_PAGE_TOKEN_BYTES, MAX_PARAM_PATH_BYTES, check_job_id,
};
pub use config::{sim_config_from_proto, simulate_config, valid_sim_config};
pub use job::{ValidJob, job_kind, job_spec_from_request};
pub use metric::{UnknownMetric, metric_from_i32, metric_to_i32};
pub use params::{param_from_path, param_path};
pub use row::{metric_values, metrics_from_row, metrics_from_values, run_row};
pub use stored::{StoredSpecError, decode_stored_spec};
pub use summary::{SummaryError, metric_summaries, metric_summary};
pub use to_proto::objective_to_proto;
pub use violation::{FieldViolation, MAX_VIOLATIONS, bad_request_status};
