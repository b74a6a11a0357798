//! The tanksim worker: a member of the workers' consumer group on the task stream. It runs
//! each chunk with the sim-core batch kernel, reports the chunk's summary (and rows, for
//! sweeps and datasets) to the results service over gRPC, and acknowledges the entry only
//! after results confirmed it.
//!
//! - [`config`]: command-line options and the plain [`WorkerSettings`] [`run`] takes.
//! - `consume`: the loop (own pending entries first, then new ones, claiming idle entries of
//!   dead workers, shutdown within a grace period).
//! - `chunk`: one delivery, from the checks (delivered too often: dead letter; job ended:
//!   acknowledged without work) through the simulation to the report and acknowledgement.
//! - [`report`]: the results client (traced) and retries.
//! - `metrics`: runs simulated, chunks by outcome, simulation time, failed and dead-lettered
//!   chunks.
//! - `service`: [`run`], health and the consume loop together until shutdown.
//! - [`error`]: the crate's error type and exit codes.
//!
//! Generic over the queue and store backends, so the embedded mode (`tanksim run`: memory
//! backends, gRPC over loopback) runs the same worker as a deployment on Redis.

#![forbid(unsafe_code)]

mod chunk;
pub mod config;
mod consume;
pub mod error;
mod metrics;
pub mod report;
mod service;

pub use config::{Config, WorkerArgs, WorkerSettings};
pub use error::Error;
pub use report::{ResultsClient, results_client, results_client_over};
pub use service::run;
