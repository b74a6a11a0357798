//! `tanksim.v1.JobService`: validate and submit, forward everything else, each call acting
//! for the caller's tenant (see [`crate::auth`]); WatchJob and ExportRuns streams count against
//! the tenant's open streams ([`crate::streams`]).
//!
//! `SubmitJob` runs in a `submit_job` span (`job.kind`, `job.runs`, and `job.id` once the
//! dispatcher answered) under the call's `grpc.server` span; the call to the dispatcher is its
//! child, so the dispatcher's spans join the same trace. Each request is counted by job kind,
//! each failure by reason.

use tanksim_proto::internal::v1::{CancelJobRequest as DispatcherCancel, DispatchJobRequest};
use tanksim_proto::v1::job_service_server::JobService;
use tanksim_proto::v1::{
    CancelJobRequest, CancelJobResponse, ExportRunsRequest, ExportRunsResponse, GetJobRequest,
    GetJobResponse, GetJobResultsRequest, GetJobResultsResponse, ListJobsRequest, ListJobsResponse,
    SubmitJobRequest, SubmitJobResponse, WatchJobRequest, WatchJobResponse,
};
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;
use tracing::field::Empty;

use tanksim_auth::Principal;

use crate::auth::{for_tenant, forwarded, principal};
use crate::config::GatewaySettings;
use crate::error::Error;
use crate::metrics;
use crate::peers::Peers;
use crate::streams::{Held, Slot, StreamSlots};

/// The public job API.
#[derive(Debug, Clone)]
pub struct Jobs {
    settings: GatewaySettings,
    peers: Peers,
    streams: StreamSlots,
}

impl Jobs {
    pub fn new(settings: GatewaySettings, peers: Peers) -> Self {
        let streams = StreamSlots::new(settings.quotas.clone());
        Self { settings, peers, streams }
    }

    async fn submit(
        &self,
        principal: &Principal,
        spec: SubmitJobRequest,
    ) -> Result<SubmitJobResponse, Error> {
        // Validate here, at the edge: a bad job never reaches the dispatcher.
        let valid = tanksim_proto::convert::job_spec_from_request(&spec, &self.settings.limits)
            .map_err(Error::Invalid)?;
        let span = tracing::Span::current();
        span.record("job.runs", valid.spec().runs() as i64);
        let request = for_tenant(principal, DispatchJobRequest { spec: Some(spec) })?;
        let response = self.peers.dispatcher.clone().dispatch_job(request).await?;
        let job = response.into_inner().job;
        if let Some(job) = &job {
            span.record("job.id", job.id.as_str());
        }
        Ok(SubmitJobResponse { job })
    }

    /// A stream call of `method` to forward for the caller's tenant, with the tenant's slot
    /// for it (refused when the tenant has its quota's worth of streams open).
    fn open_stream<T>(&self, request: Request<T>, method: &str) -> Result<(Request<T>, Slot), Status> {
        let principal = principal(&request)?;
        let slot = self.streams.open(&principal.tenant, method)?;
        Ok((for_tenant(&principal, request.into_inner())?, slot))
    }
}

#[tonic::async_trait]
impl JobService for Jobs {
    async fn submit_job(
        &self,
        request: Request<SubmitJobRequest>,
    ) -> Result<Response<SubmitJobResponse>, Status> {
        let principal = principal(&request)?;
        let spec = request.into_inner();
        let kind = metrics::job_kind(&spec);
        let span = tracing::info_span!(
            "submit_job",
            job.id = Empty,
            job.kind = kind,
            job.runs = Empty,
            tenant = principal.tenant.as_str()
        );
        if let Some(kind) = kind {
            metrics::requested(kind);
        }
        let result =
            self.submit(&principal, spec).instrument(span).await.map(Response::new).map_err(Status::from);
        metrics::count_failure(&result);
        result
    }

    async fn get_job(&self, request: Request<GetJobRequest>) -> Result<Response<GetJobResponse>, Status> {
        let call = forwarded(request)?;
        self.peers.results.clone().get_job(call).await
    }

    type WatchJobStream = Held<Streaming<WatchJobResponse>>;

    async fn watch_job(
        &self,
        request: Request<WatchJobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        let (call, slot) = self.open_stream(request, "WatchJob")?;
        let stream = self.peers.results.clone().watch_job(call).await?.into_inner();
        Ok(Response::new(Held::new(stream, slot)))
    }

    async fn cancel_job(
        &self,
        request: Request<CancelJobRequest>,
    ) -> Result<Response<CancelJobResponse>, Status> {
        let principal = principal(&request)?;
        let call = for_tenant(&principal, DispatcherCancel { id: request.into_inner().id })?;
        let job = self.peers.dispatcher.clone().cancel_job(call).await?.into_inner().job;
        Ok(Response::new(CancelJobResponse { job }))
    }

    async fn list_jobs(
        &self,
        request: Request<ListJobsRequest>,
    ) -> Result<Response<ListJobsResponse>, Status> {
        let call = forwarded(request)?;
        self.peers.results.clone().list_jobs(call).await
    }

    async fn get_job_results(
        &self,
        request: Request<GetJobResultsRequest>,
    ) -> Result<Response<GetJobResultsResponse>, Status> {
        let call = forwarded(request)?;
        self.peers.results.clone().get_job_results(call).await
    }

    type ExportRunsStream = Held<Streaming<ExportRunsResponse>>;

    async fn export_runs(
        &self,
        request: Request<ExportRunsRequest>,
    ) -> Result<Response<Self::ExportRunsStream>, Status> {
        let (call, slot) = self.open_stream(request, "ExportRuns")?;
        let stream = self.peers.results.clone().export_runs(call).await?.into_inner();
        Ok(Response::new(Held::new(stream, slot)))
    }
}
