//! Driving the public API (tanksim.v1 JobService) the way a user does: submit, poll a job
//! until a condition holds (tolerating a peer that is briefly down), read results and rows;
//! and comparing results bit for bit.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use prost::Message;
use tanksim_proto::v1::{
    ExportRunsRequest, GetJobRequest, GetJobResultsRequest, GetJobResultsResponse, Job, JobState, RunRow,
    SubmitJobRequest, WatchJobRequest,
};
use tokio::time::Instant;

/// The JobService client the harness hands out (the CLI's: calls carry its bearer token, if
/// any).
pub type Client = tanksim_cli::client::Client;

/// How long one API call may take before the poll counts it as failed and tries again.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);

/// An example spec from `examples/`, parsed as the CLI parses it.
pub fn example(name: &str) -> SubmitJobRequest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name);
    tanksim_cli::spec::load(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
}

/// Submits `spec`; panics if the gateway refuses it.
pub async fn submit(client: &mut Client, spec: SubmitJobRequest) -> Job {
    let response = client.submit_job(spec).await.unwrap_or_else(|s| panic!("SubmitJob refused: {s:?}"));
    response.into_inner().job.expect("SubmitJob answers with the job")
}

/// The job's status now.
pub async fn get_job(client: &mut Client, id: &str) -> Result<Job, tonic::Status> {
    let call = client.get_job(GetJobRequest { id: id.to_owned() });
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(response) => Ok(response?.into_inner().job.expect("GetJob answers with the job")),
        Err(_) => Err(tonic::Status::deadline_exceeded("GetJob took too long")),
    }
}

/// Polls GetJob until `until` holds, for at most `limit`. Errors a deployment shows while a
/// process restarts (UNAVAILABLE, a timeout) are retried; any other error fails the test.
pub async fn wait_job(
    client: &mut Client,
    id: &str,
    limit: Duration,
    what: &str,
    until: impl Fn(&Job) -> bool,
) -> Job {
    let deadline = Instant::now() + limit;
    let mut last: Option<Job> = None;
    let mut last_error = None;
    loop {
        match get_job(client, id).await {
            Ok(job) if until(&job) => return job,
            Ok(job) => last = Some(job),
            Err(status) if retryable(&status) => last_error = Some(status),
            Err(status) => panic!("GetJob({id}) failed: {status:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "waiting for {what} on job {id}: not within {limit:?}; last seen {last:#?}, last error {last_error:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the job has ended (succeeded, failed or cancelled).
pub async fn wait_ended(client: &mut Client, id: &str, limit: Duration) -> Job {
    wait_job(client, id, limit, "the end of the job", is_terminal).await
}

pub fn is_terminal(job: &Job) -> bool {
    matches!(job.state(), JobState::Succeeded | JobState::Failed | JobState::Cancelled)
}

fn retryable(status: &tonic::Status) -> bool {
    matches!(status.code(), tonic::Code::Unavailable | tonic::Code::DeadlineExceeded)
}

/// GetJobResults with the default histogram bins.
pub async fn results(client: &mut Client, id: &str) -> GetJobResultsResponse {
    let request = GetJobResultsRequest { id: id.to_owned(), ..Default::default() };
    client
        .get_job_results(request)
        .await
        .unwrap_or_else(|s| panic!("GetJobResults({id}): {s:?}"))
        .into_inner()
}

/// Every row ExportRuns streams, with the parameter names of its first message.
pub async fn export_runs(client: &mut Client, id: &str) -> (Vec<String>, Vec<RunRow>) {
    let mut stream = client
        .export_runs(ExportRunsRequest { id: id.to_owned() })
        .await
        .unwrap_or_else(|s| panic!("ExportRuns({id}): {s:?}"))
        .into_inner();
    let (mut params, mut rows) = (None, Vec::new());
    while let Some(message) = stream.next().await {
        let message = message.unwrap_or_else(|s| panic!("ExportRuns({id}) stream: {s:?}"));
        params.get_or_insert(message.params);
        rows.extend(message.rows);
    }
    (params.unwrap_or_default(), rows)
}

/// Whether two results are the same bit for bit: every metric summary, the sweep result and
/// the sensitivity result encode to the same bytes (doubles as their raw bits).
pub fn same_results(got: &GetJobResultsResponse, want: &GetJobResultsResponse) -> Result<(), String> {
    if got.metrics.len() != want.metrics.len() {
        return Err(format!(
            "{} metric summaries, the reference has {}",
            got.metrics.len(),
            want.metrics.len()
        ));
    }
    if let Some((g, w)) =
        got.metrics.iter().zip(&want.metrics).find(|(g, w)| g.encode_to_vec() != w.encode_to_vec())
    {
        return Err(format!("metric {:?} differs:\n got {g:?}\nwant {w:?}", w.metric()));
    }
    let sweep = |r: &GetJobResultsResponse| r.sweep.as_ref().map(Message::encode_to_vec);
    if sweep(got) != sweep(want) {
        let best = |r: &GetJobResultsResponse| r.sweep.as_ref().and_then(|s| s.best.clone());
        return Err(format!(
            "sweep results differ; best point {:?}, the reference's {:?}",
            best(got),
            best(want)
        ));
    }
    let sensitivity = |r: &GetJobResultsResponse| r.sensitivity.as_ref().map(Message::encode_to_vec);
    if sensitivity(got) != sensitivity(want) {
        return Err(format!(
            "sensitivity results differ:\n got {:?}\nwant {:?}",
            got.sensitivity, want.sensitivity
        ));
    }
    let stop = |r: &GetJobResultsResponse| r.stop.as_ref().map(Message::encode_to_vec);
    if stop(got) != stop(want) {
        return Err(format!("adaptive results differ:\n got {:?}\nwant {:?}", got.stop, want.stop));
    }
    let optimize = |r: &GetJobResultsResponse| r.optimize.as_ref().map(Message::encode_to_vec);
    if optimize(got) != optimize(want) {
        let best = |r: &GetJobResultsResponse| r.optimize.as_ref().and_then(|o| o.best.clone());
        return Err(format!(
            "optimisation results differ; best {:?}, the reference's {:?}",
            best(got),
            best(want)
        ));
    }
    Ok(())
}

/// Whether two row sets are the same bit for bit: the same rows bit for bit, NaN metrics included.
pub fn same_rows(got: &[RunRow], want: &[RunRow]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} rows, the reference has {}", got.len(), want.len()));
    }
    match got.iter().zip(want).find(|(g, w)| g.encode_to_vec() != w.encode_to_vec()) {
        Some((g, w)) => Err(format!("run {} differs:\n got {g:?}\nwant {w:?}", w.run)),
        None => Ok(()),
    }
}

/// Asserts [`same_results`].
pub fn assert_same_results(got: &GetJobResultsResponse, want: &GetJobResultsResponse) {
    if let Err(difference) = same_results(got, want) {
        panic!("{difference}");
    }
}

/// Asserts [`same_rows`].
pub fn assert_same_rows(got: &[RunRow], want: &[RunRow]) {
    if let Err(difference) = same_rows(got, want) {
        panic!("{difference}");
    }
}

/// Every event WatchJob streams for job `id`, until the server ends the stream.
pub async fn watch(mut client: Client, id: String) -> Vec<Job> {
    let mut stream = client
        .watch_job(WatchJobRequest { id: id.clone() })
        .await
        .unwrap_or_else(|s| panic!("WatchJob({id}): {s:?}"))
        .into_inner();
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap_or_else(|s| panic!("WatchJob({id}) stream: {s:?}"));
        events.push(event.job.expect("a WatchJob event carries the job"));
    }
    events
}
