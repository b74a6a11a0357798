//! tanksim's simulation core: the tank model every worker runs millions of times.
//!
//! Pure and synchronous: no I/O, no async, no clocks. Everything here is a deterministic
//! function of its inputs, so a job gives bit-identical results however it is split.
//!
//! - what one run is: [`config`] (plants, controllers, profiles), [`profile`], [`plant`],
//!   [`controller`];
//! - running it: [`simulate`] (one run, with its trajectory) and [`batch`] (many runs at once,
//!   bit-identical to [`simulate`]), producing [`metric::RunMetrics`];
//! - many runs: [`param`] (field paths), [`rng`], [`sampling`] (random, scrambled Sobol',
//!   Latin hypercube) and [`distribution`] (reproducible sampling),
//!   [`sweep`] (grids), [`job`] (run index -> configuration, and the job kinds), [`sensitivity`] (its design), [`chunks`]
//!   (which runs each chunk of a job holds), [`adaptive`] (when a Monte Carlo job with a
//!   precision target stops), [`optimize`] (CMA-ES over bounded parameters, a generation per
//!   wave);
//! - their outcome: [`summary`] (mergeable per-metric summaries with quantile sketches),
//!   [`sensitivity`] (Sobol' indices of a Saltelli design);
//! - checking input first: [`validate`].

pub mod adaptive;
pub mod batch;
pub mod canonical;
pub mod chunks;
pub mod config;
pub mod controller;
pub mod distribution;
mod fast;
pub mod isa;
pub mod job;
pub mod metric;
pub mod optimize;
pub mod param;
pub mod plant;
pub mod profile;
pub mod response;
pub mod rng;
pub mod sampling;
pub mod sensitivity;
pub mod simulate;
pub mod special;
pub mod summary;
pub mod sweep;
pub mod validate;

pub use chunks::ChunkLayout;
pub use config::SimConfig;
pub use job::JobKind;
pub use metric::{Metric, RunMetrics};
pub use param::Param;
