//! The verification: every ended job against the embedded run of the same spec with the same
//! chunk size (`tanksim_e2e::reference`), bit for bit: its aggregates, and for sweeps and
//! datasets every exported row.

use tanksim_e2e::api::{self, Client};
use tanksim_e2e::reference;
use tanksim_proto::v1::{ExportRunsRequest, GetJobResultsRequest, GetJobResultsResponse, JobState, RunRow};
use tonic::Status;

use crate::CHUNK_SIZE;
use crate::drive::{Ended, with_retries};

/// How often the verification logs its progress, in jobs.
const VERIFY_PROGRESS_EVERY: usize = 25;

async fn fetch_results(client: &Client, id: &str) -> Result<GetJobResultsResponse, String> {
    with_retries(&format!("GetJobResults({id})"), || {
        let mut client = client.clone();
        let request = GetJobResultsRequest { id: id.to_owned(), ..Default::default() };
        async move { client.get_job_results(request).await.map(tonic::Response::into_inner) }
    })
    .await
}

async fn fetch_rows(client: &Client, id: &str) -> Result<(Vec<String>, Vec<RunRow>), String> {
    with_retries(&format!("ExportRuns({id})"), || export_runs(client.clone(), id.to_owned())).await
}

/// Every row ExportRuns streams, with the parameter names of its first message (like
/// `api::export_runs`, but an error is returned instead of panicking).
async fn export_runs(mut client: Client, id: String) -> Result<(Vec<String>, Vec<RunRow>), Status> {
    let mut stream = client.export_runs(ExportRunsRequest { id }).await?.into_inner();
    let (mut params, mut rows) = (None, Vec::new());
    while let Some(message) = stream.message().await? {
        params.get_or_insert(message.params);
        rows.extend(message.rows);
    }
    Ok((params.unwrap_or_default(), rows))
}

/// Whether `ended` succeeded with its aggregates (and rows) identical to the embedded run's;
/// `Err` says how not. Reads the cluster's output first, then runs the reference.
async fn verify(client: &Client, ended: &Ended) -> Result<(), String> {
    let job = ended.outcome.as_ref().map_err(Clone::clone)?;
    let generated = &ended.submitted.generated;
    if job.state() != JobState::Succeeded {
        return Err(format!("ended {:?}: {}", job.state(), job.error));
    }
    let done = job.progress.as_ref().map(|p| (p.runs_done, p.runs_total)).unwrap_or_default();
    if done != (generated.runs, generated.runs) {
        return Err(format!("runs done / total {done:?}, the job has {} runs", generated.runs));
    }
    let results = fetch_results(client, &job.id).await?;
    let rows = if generated.kind.has_rows() { Some(fetch_rows(client, &job.id).await?) } else { None };
    let reference = reference::embedded(generated.spec.clone(), CHUNK_SIZE).await;
    api::same_results(&results, &reference.results)?;
    if let Some((params, rows)) = rows {
        if params != reference.params {
            return Err(format!("exported parameters {params:?}, the reference's {:?}", reference.params));
        }
        api::same_rows(&rows, &reference.rows)?;
    }
    Ok(())
}

/// Each ended job's verdict, in order, one reference run at a time (they are CPU-heavy).
pub(crate) async fn verify_all(client: &Client, ended: &[Ended]) -> Vec<Result<(), String>> {
    let mut verdicts = Vec::with_capacity(ended.len());
    for (i, job) in ended.iter().enumerate() {
        let verdict = verify(client, job).await;
        if let Err(reason) = &verdict {
            log!("job {} ({}): {reason}", job.submitted.id, job.submitted.generated.spec.name);
        }
        if (i + 1).is_multiple_of(VERIFY_PROGRESS_EVERY) {
            log!("verified {} of {} jobs", i + 1, ended.len());
        }
        verdicts.push(verdict);
    }
    verdicts
}
