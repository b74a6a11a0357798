//! `GetJobResults`: the merged summary of the job's chunks so far, per metric with a
//! histogram, for sweeps the grid table with the best point (see [`crate::sweep`]), for
//! sensitivity jobs the Sobol' indices (see [`crate::sensitivity`]), for adaptive Monte Carlo
//! jobs the precision reached (see [`crate::waves`]), for optimisations the best point and
//! the path (see [`crate::optimize`]).

use tanksim_broker::{JobKind, JobStore};
use tanksim_proto::convert::metric_summaries;
use tanksim_proto::v1::{GetJobResultsRequest, GetJobResultsResponse};
use tanksim_server::job::job_to_proto;
use tanksim_sim_core::job::JobSpec;
use tanksim_sim_core::summary::RunSummary;

use crate::codec;
use crate::error::Error;
use crate::shared::{Shared, check_job_id};
use crate::{optimize, sensitivity, sweep, waves};

const DEFAULT_BINS: u32 = 20;
const MAX_BINS: u32 = 200;
const DEFAULT_POINTS: u32 = 10_000;
const MAX_POINTS: u32 = 100_000;

pub(crate) async fn job_results<S: JobStore>(
    shared: &Shared<S>,
    tenant: &str,
    req: GetJobResultsRequest,
) -> Result<GetJobResultsResponse, Error> {
    check_job_id("id", &req.id)?;
    let bins = bounded("histogram_bins", req.histogram_bins, DEFAULT_BINS, MAX_BINS)?;
    let max_points = bounded("max_points", req.max_points, DEFAULT_POINTS, MAX_POINTS)?;
    let status = shared.load(tenant, &req.id).await?;
    // The merged prefix: every chunk's runs once the job has succeeded, the contiguous
    // chunks reported so far before that.
    let merged = match shared.store.merged(&req.id).await? {
        Some((_, bytes)) => codec::decode_summary(&bytes, &format!("merged summary of job {}", req.id))?,
        None => RunSummary::new(),
    };
    let sweep = match status.kind {
        JobKind::Sweep => Some(sweep::sweep_result(shared, &status, max_points).await?),
        JobKind::MonteCarlo | JobKind::Dataset | JobKind::Sensitivity | JobKind::Optimize => None,
    };
    let sensitivity = match status.kind {
        JobKind::Sensitivity => Some(sensitivity::sensitivity_result(shared, &status).await?),
        JobKind::MonteCarlo | JobKind::Dataset | JobKind::Sweep | JobKind::Optimize => None,
    };
    let stop = match status.kind {
        JobKind::MonteCarlo => {
            let spec = codec::load_spec(&shared.store, &status.id).await?;
            spec.stop().map(|stop| waves::stop_result(stop, spec.runs(), &merged))
        }
        JobKind::Dataset | JobKind::Sweep | JobKind::Sensitivity | JobKind::Optimize => None,
    };
    let optimize = match status.kind {
        JobKind::Optimize => match codec::load_spec(&shared.store, &status.id).await? {
            JobSpec::Optimize(opt) => Some(optimize::optimize_result(shared, &status, &opt).await?),
            _ => {
                return Err(Error::corrupt(
                    format!("spec of job {}", status.id),
                    "an optimisation without a search",
                ));
            }
        },
        JobKind::MonteCarlo | JobKind::Dataset | JobKind::Sweep | JobKind::Sensitivity => None,
    };
    Ok(GetJobResultsResponse {
        job: Some(job_to_proto(&status)),
        metrics: metric_summaries(&merged, bins),
        sweep,
        sensitivity,
        stop,
        optimize,
    })
}

/// `value`, `default` for 0, refused above `max`.
fn bounded(field: &'static str, value: u32, default: u32, max: u32) -> Result<usize, Error> {
    match value {
        0 => Ok(default as usize),
        n if n <= max => Ok(n as usize),
        n => Err(Error::invalid(field, format!("{n} is more than the maximum {max}"))),
    }
}
