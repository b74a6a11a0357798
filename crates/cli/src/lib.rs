//! The tanksim command line.
//!
//! - [`cli`]: the commands and options; [`commands`]: what each does.
//! - [`embedded`]: every service in this process over loopback (in-memory queue and store for
//!   `tanksim run`; Redis for `tanksim serve all`).
//! - [`client`]: talking to a gateway (submit, watch with a progress bar, results, rows).
//! - [`keys`]: API keys in Redis (`tanksim keys create|list|revoke`).
//! - [`spec`]: job specs in proto3 JSON or YAML.
//! - [`report`], [`plot`], [`export`]: tables, SVG plots, CSV and Parquet.

pub mod cli;
pub mod client;
pub mod commands;
pub mod embedded;
pub mod export;
pub mod keys;
pub mod plot;
pub mod report;
pub mod spec;
