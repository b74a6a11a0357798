//! Talking to a gateway: connect, submit, watch with a progress bar, read results and rows.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::{
    ExportRunsRequest, ExportRunsResponse, GetJobRequest, GetJobResultsRequest, GetJobResultsResponse, Job,
    JobState, SubmitJobRequest, WatchJobRequest,
};
use tanksim_server::tls::{self, ClientTls};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::cli::GatewayArg;

/// Largest message the CLI accepts (a chunk of dataset rows with trajectories).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// A connected gateway client; every call carries the bearer token, if any.
pub type Client = JobServiceClient<InterceptedService<Channel, Bearer>>;

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Debug, Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// Calls carry `token` (none: no `authorization` header).
    pub fn new(token: Option<&str>) -> anyhow::Result<Bearer> {
        let value = match token {
            Some(t) => Some(
                MetadataValue::try_from(format!("Bearer {}", t.trim()))
                    .context("the token has characters a header cannot carry")?,
            ),
            None => None,
        };
        Ok(Bearer(value))
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// Connects to the gateway `gateway` names, with its token.
pub async fn connect_to(gateway: &GatewayArg) -> anyhow::Result<Client> {
    connect_tls(&gateway.gateway, gateway.token.as_deref(), gateway.tls_ca.as_deref()).await
}

/// Connects to the gateway at `url` (e.g. `http://127.0.0.1:50051`); calls carry `token`.
pub async fn connect(url: &str, token: Option<&str>) -> anyhow::Result<Client> {
    connect_tls(url, token, None).await
}

/// [`connect`]; an `https://` gateway's certificate is checked against `ca` (the system's
/// roots without one).
pub async fn connect_tls(url: &str, token: Option<&str>, ca: Option<&Path>) -> anyhow::Result<Client> {
    let bearer = Bearer::new(token)?;
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid gateway address {url:?}"))?
        .connect_timeout(Duration::from_secs(5));
    let tls = match endpoint.uri().scheme_str() {
        Some("https") => Some(ClientTls::start(ca.map(Path::to_path_buf), None).map_err(anyhow::Error::msg)?),
        _ => None,
    };
    let channel = tls::connect(endpoint, tls.as_ref()).await.map_err(anyhow::Error::msg)?;
    Ok(JobServiceClient::with_interceptor(channel, bearer)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE))
}

/// Submits a job; a rejected spec comes back as an error listing every bad field.
pub async fn submit(client: &mut Client, spec: SubmitJobRequest) -> anyhow::Result<Job> {
    let response = client.submit_job(spec).await.map_err(describe_status)?;
    response.into_inner().job.context("gateway answered without a job")
}

/// Follows a job with a progress bar until it ends; returns its final status.
pub async fn watch(client: &mut Client, id: &str, show_bar: bool) -> anyhow::Result<Job> {
    let mut stream =
        client.watch_job(WatchJobRequest { id: id.to_owned() }).await.map_err(describe_status)?.into_inner();
    let bar = if show_bar { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40.cyan/blue} {pos}/{len} runs ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut last = None;
    while let Some(event) = stream.next().await {
        let job = event.map_err(describe_status)?.job.context("watch event without a job")?;
        let mut message = state_name(job.state()).to_owned();
        if let Some(p) = &job.progress {
            // An adaptive job runs in waves: the bar fills to the current wave's end.
            let in_waves = p.runs_released != 0 && p.runs_released < p.runs_total;
            bar.set_length(if in_waves { p.runs_released } else { p.runs_total });
            bar.set_position(p.runs_done);
            if in_waves {
                message =
                    format!("{message}: this wave ends at run {}, at most {}", p.runs_released, p.runs_total);
            }
        }
        bar.set_message(message);
        let done = is_terminal(job.state());
        last = Some(job);
        if done {
            break;
        }
    }
    bar.finish();
    match last {
        Some(job) if is_terminal(job.state()) => Ok(job),
        // The stream ended early (gateway restarted): read the status once more.
        _ => status(client, id).await,
    }
}

/// A job's status.
pub async fn status(client: &mut Client, id: &str) -> anyhow::Result<Job> {
    let r = client.get_job(GetJobRequest { id: id.to_owned() }).await.map_err(describe_status)?;
    r.into_inner().job.context("gateway answered without a job")
}

/// A job's results.
pub async fn results(client: &mut Client, id: &str, bins: u32) -> anyhow::Result<GetJobResultsResponse> {
    let request = GetJobResultsRequest { id: id.to_owned(), histogram_bins: bins, max_points: 100_000 };
    Ok(client.get_job_results(request).await.map_err(describe_status)?.into_inner())
}

/// Streams a job's rows to `sink`, batch by batch; returns the number of rows.
pub async fn export(
    client: &mut Client,
    id: &str,
    mut sink: impl FnMut(&ExportRunsResponse) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut stream = client
        .export_runs(ExportRunsRequest { id: id.to_owned() })
        .await
        .map_err(describe_status)?
        .into_inner();
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(describe_status)?;
        rows += batch.rows.len() as u64;
        sink(&batch)?;
    }
    Ok(rows)
}

pub fn is_terminal(state: JobState) -> bool {
    matches!(state, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
}

pub fn state_name(state: JobState) -> &'static str {
    match state {
        JobState::Unspecified => "unknown",
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Succeeded => "succeeded",
        JobState::Failed => "failed",
        JobState::Cancelled => "cancelled",
    }
}

/// A gRPC error as a readable message, with every field violation of an INVALID_ARGUMENT.
pub fn describe_status(status: tonic::Status) -> anyhow::Error {
    use tonic_types::StatusExt;
    let mut message = format!("{:?}: {}", status.code(), status.message());
    if let Some(bad) = status.get_details_bad_request() {
        for v in bad.field_violations {
            message.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    anyhow::anyhow!(message)
}
