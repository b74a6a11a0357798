//! End-to-end tests: every service as its own process against a private Redis (see the
//! `tanksim_e2e` harness), driven through the public API.

#![allow(clippy::unwrap_used)]

mod pipeline;

use std::time::Duration;

use tanksim_e2e::api;
use tanksim_proto::v1::{GetJobResultsResponse, SubmitJobRequest, submit_job_request};
use tokio::sync::OnceCell;

/// Runs per chunk in every cluster and reference run.
const CHUNK: u64 = 2_000;
/// Runs of the MC-tau job most tests run.
const RUNS: u64 = 50_000;
/// The limit of one scenario.
const LIMIT: Duration = Duration::from_secs(120);

/// The MC-tau example with `runs` runs.
fn mc_tau(runs: u64) -> SubmitJobRequest {
    let mut spec = api::example("mc-tau.yaml");
    match &mut spec.job {
        Some(submit_job_request::Job::MonteCarlo(mc)) => mc.runs = runs,
        other => panic!("mc-tau.yaml is not a Monte Carlo job: {other:?}"),
    }
    spec
}

/// The embedded mode's results for `mc_tau(RUNS)`, computed once per test process.
async fn mc_tau_reference() -> &'static GetJobResultsResponse {
    static REFERENCE: OnceCell<GetJobResultsResponse> = OnceCell::const_new();
    REFERENCE.get_or_init(|| tanksim_e2e::reference::embedded_results(mc_tau(RUNS), CHUNK)).await
}
