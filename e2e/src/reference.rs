//! The reference a deployment's output must equal bit for bit: the same spec run by the
//! embedded mode (`tanksim run`: every service in this process, in-memory queue and store),
//! with the same chunk size, since chunking decides the order summaries are merged in.

use std::time::Duration;

use tanksim_proto::v1::{GetJobResultsResponse, JobState, RunRow, SubmitJobRequest, submit_job_request};

use crate::api;

/// How long the embedded run may take.
const LIMIT: Duration = Duration::from_secs(120);

/// What the embedded run produced.
#[derive(Debug, Clone)]
pub struct Reference {
    pub results: GetJobResultsResponse,
    /// ExportRuns' parameter names and rows (every kind but Monte Carlo, which has none).
    pub params: Vec<String>,
    pub rows: Vec<RunRow>,
}

/// Runs `spec` in the embedded mode with `chunk_size` and returns its output.
pub async fn embedded(spec: SubmitJobRequest, chunk_size: u64) -> Reference {
    let has_rows = !matches!(spec.job, Some(submit_job_request::Job::MonteCarlo(_)));
    let options = tanksim_cli::embedded::Options { workers: 2, chunk_size, data_dir: None };
    let system = tanksim_cli::embedded::start(options).await.expect("the embedded system starts");
    let channel = tonic::transport::Endpoint::from_shared(system.gateway_url.clone())
        .expect("a valid URL")
        .connect_lazy();
    let bearer = tanksim_cli::client::Bearer::new(None).expect("no token");
    let mut client =
        tanksim_proto::v1::job_service_client::JobServiceClient::with_interceptor(channel, bearer);
    let job = api::submit(&mut client, spec).await;
    let job = api::wait_ended(&mut client, &job.id, LIMIT).await;
    assert_eq!(job.state(), JobState::Succeeded, "the embedded run failed: {job:?}");
    let results = api::results(&mut client, &job.id).await;
    let (params, rows) =
        if has_rows { api::export_runs(&mut client, &job.id).await } else { Default::default() };
    system.shutdown().await;
    Reference { results, params, rows }
}
