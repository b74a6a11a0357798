//! The read side of the public `tanksim.v1.JobService` (the gateway forwards these calls
//! here). `SubmitJob` and `CancelJob` belong to the dispatcher and answer UNIMPLEMENTED.

use std::sync::Arc;

use tanksim_broker::JobStore;
use tanksim_proto::v1::job_service_server::JobService;
use tanksim_proto::v1::{
    CancelJobRequest, CancelJobResponse, ExportRunsRequest, GetJobRequest, GetJobResponse,
    GetJobResultsRequest, GetJobResultsResponse, ListJobsRequest, ListJobsResponse, SubmitJobRequest,
    SubmitJobResponse, WatchJobRequest,
};
use tanksim_server::job::job_to_proto;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::export::{self, ExportStream};
use crate::shared::{Shared, check_job_id};
use crate::watch::{self, WatchStream};
use crate::{list, results};

/// The `JobService` handler.
#[derive(Debug)]
pub struct JobReader<S> {
    shared: Arc<Shared<S>>,
}

impl<S> JobReader<S> {
    pub(crate) fn new(shared: Arc<Shared<S>>) -> Self {
        JobReader { shared }
    }
}

#[tonic::async_trait]
impl<S: JobStore> JobService for JobReader<S> {
    type WatchJobStream = WatchStream;
    type ExportRunsStream = ExportStream;

    async fn submit_job(&self, _: Request<SubmitJobRequest>) -> Result<Response<SubmitJobResponse>, Status> {
        Err(Error::Unimplemented(
            "SubmitJob is served by the dispatcher (through the gateway), not the results service",
        )
        .into())
    }

    async fn cancel_job(&self, _: Request<CancelJobRequest>) -> Result<Response<CancelJobResponse>, Status> {
        Err(Error::Unimplemented(
            "CancelJob is served by the dispatcher (through the gateway), not the results service",
        )
        .into())
    }

    async fn get_job(&self, request: Request<GetJobRequest>) -> Result<Response<GetJobResponse>, Status> {
        let tenant = tanksim_server::tenant::from_request(&request)?;
        let id = request.into_inner().id;
        check_job_id("id", &id)?;
        let status = self.shared.load(&tenant, &id).await?;
        Ok(Response::new(GetJobResponse { job: Some(job_to_proto(&status)) }))
    }

    async fn watch_job(&self, request: Request<WatchJobRequest>) -> Result<Response<WatchStream>, Status> {
        let tenant = tanksim_server::tenant::from_request(&request)?;
        let stream = watch::watch_job(self.shared.clone(), &tenant, request.into_inner().id).await?;
        Ok(Response::new(stream))
    }

    async fn list_jobs(
        &self,
        request: Request<ListJobsRequest>,
    ) -> Result<Response<ListJobsResponse>, Status> {
        let tenant = tanksim_server::tenant::from_request(&request)?;
        Ok(Response::new(list::list_jobs(&self.shared, &tenant, request.into_inner()).await?))
    }

    async fn get_job_results(
        &self,
        request: Request<GetJobResultsRequest>,
    ) -> Result<Response<GetJobResultsResponse>, Status> {
        let tenant = tanksim_server::tenant::from_request(&request)?;
        Ok(Response::new(results::job_results(&self.shared, &tenant, request.into_inner()).await?))
    }

    async fn export_runs(
        &self,
        request: Request<ExportRunsRequest>,
    ) -> Result<Response<ExportStream>, Status> {
        let tenant = tanksim_server::tenant::from_request(&request)?;
        let stream = export::export_runs(self.shared.clone(), &tenant, request.into_inner().id).await?;
        Ok(Response::new(stream))
    }
}
