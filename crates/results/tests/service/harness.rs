//! Starting results instances, creating jobs through the store, and deterministic chunk
//! reports (synthetic metrics: the merge, not the simulation, is under test here).

use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use prost::Message;
use tanksim_broker::{JobStore, NewJob};
use tanksim_proto::convert::{job_kind, run_row};
use tanksim_proto::internal::v1 as internal;
use tanksim_proto::internal::v1::results_service_client::ResultsServiceClient;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::{self, param_distribution as pd, submit_job_request::Job};
use tanksim_results::{ResultsSettings, run};
use tanksim_sim_core::param::Param;
use tanksim_sim_core::simulate::Trajectory;
use tanksim_sim_core::summary::RunSummary;
use tanksim_sim_core::{RunMetrics, SimConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// One results service, serving until stopped.
pub(crate) struct Instance {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<Result<(), tanksim_results::Error>>,
}

impl Instance {
    pub(crate) async fn start<S: JobStore>(store: S, data_dir: &Path, watch_poll: Duration) -> Instance {
        let settings = ResultsSettings::new(data_dir, watch_poll).expect("writable data dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(run(settings, store, listener, async {
            let _ = stopped.await;
        }));
        Instance { addr, stop: Some(stop), handle }
    }

    pub(crate) async fn jobs(&self) -> JobServiceClient<Channel> {
        JobServiceClient::connect(format!("http://{}", self.addr)).await.expect("connect")
    }

    pub(crate) async fn results(&self) -> ResultsServiceClient<Channel> {
        ResultsServiceClient::connect(format!("http://{}", self.addr)).await.expect("connect")
    }

    /// Shuts down gracefully and waits (bounded) for `run` to return.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.handle)
            .await
            .expect("run returns after shutdown")
            .expect("run task")
            .expect("run ends cleanly");
    }
}

/// How a job is cut into chunks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub runs: u64,
    pub chunk_size: u64,
}

impl Layout {
    pub(crate) fn chunks(self) -> u32 {
        u32::try_from(self.runs.div_ceil(self.chunk_size)).expect("few chunks")
    }

    pub(crate) fn range(self, chunk: u32) -> Range<u64> {
        let start = u64::from(chunk) * self.chunk_size;
        start..(start + self.chunk_size).min(self.runs)
    }
}

fn base_config() -> Option<v1::SimConfig> {
    Some(v1::SimConfig::from(&SimConfig::mc_tau(10.0)))
}

fn uniform(param: &str, lo: f64, hi: f64) -> v1::ParamDistribution {
    v1::ParamDistribution {
        param: param.to_owned(),
        distribution: Some(pd::Distribution::Uniform(v1::Uniform { lo, hi })),
    }
}

pub(crate) fn monte_carlo_spec(runs: u64) -> v1::SubmitJobRequest {
    let job = Job::MonteCarlo(v1::MonteCarlo {
        runs,
        seed: 7,
        params: vec![uniform("plant.tau", 5.0, 15.0)],
        ..Default::default()
    });
    v1::SubmitJobRequest { name: "mc".into(), config: base_config(), job: Some(job) }
}

pub(crate) fn dataset_spec(runs: u64) -> v1::SubmitJobRequest {
    let params = vec![uniform("plant.tau", 5.0, 15.0), uniform("controller.kp", 1.0, 3.0)];
    let job = Job::Dataset(v1::Dataset { runs, seed: 11, params, record_every: 100, ..Default::default() });
    v1::SubmitJobRequest { name: "dataset".into(), config: base_config(), job: Some(job) }
}

/// A 3 x 4 grid over `plant.tau` (list) and `controller.kp` (linspace), maximising ISE.
pub(crate) fn sweep_spec() -> v1::SubmitJobRequest {
    let tau = v1::Axis {
        param: "plant.tau".into(),
        values: Some(v1::axis::Values::List(v1::ValueList { values: vec![5.0, 10.0, 20.0] })),
    };
    let kp = v1::Axis {
        param: "controller.kp".into(),
        values: Some(v1::axis::Values::Linspace(v1::Linspace { start: 1.0, stop: 4.0, num: 4 })),
    };
    let objective = v1::Objective { metric: v1::Metric::Ise as i32, goal: v1::Goal::Maximize as i32 };
    let job = Job::Sweep(v1::Sweep { axes: vec![tau, kp], objective: Some(objective), seed: 3 });
    v1::SubmitJobRequest { name: "sweep".into(), config: base_config(), job: Some(job) }
}

/// Sobol' indices of ISE over `plant.tau` and `controller.kp`: 16 base samples, 64 runs.
pub(crate) fn sensitivity_spec() -> v1::SubmitJobRequest {
    let params = vec![uniform("plant.tau", 5.0, 15.0), uniform("controller.kp", 1.0, 3.0)];
    let job = Job::Sensitivity(v1::Sensitivity {
        samples: 16,
        seed: 5,
        params,
        metrics: vec![v1::Metric::Ise as i32],
        bootstrap_resamples: 99,
        confidence_level: 0.9,
    });
    v1::SubmitJobRequest { name: "sensitivity".into(), config: base_config(), job: Some(job) }
}

/// Records a job the way the dispatcher does; returns its id.
pub(crate) async fn create_job<S: JobStore>(
    store: &S,
    spec: &v1::SubmitJobRequest,
    layout: Layout,
) -> String {
    create_job_at(store, spec, layout, tanksim_server::job::now_ms()).await
}

pub(crate) async fn create_job_at<S: JobStore>(
    store: &S,
    spec: &v1::SubmitJobRequest,
    layout: Layout,
    at_ms: u64,
) -> String {
    let kind = job_kind(spec.job.as_ref().expect("spec with a job"));
    let id = uuid::Uuid::now_v7().to_string();
    let job = NewJob {
        id: id.clone(),
        tenant: tanksim_broker::DEFAULT_TENANT.into(),
        name: spec.name.clone(),
        kind,
        spec: spec.encode_to_vec(),
        runs_total: layout.runs,
        chunk_size: layout.chunk_size,
        chunks_total: layout.chunks(),
        chunks_released: layout.chunks(),
        submitted_at_ms: at_ms,
        trace_context: Vec::new(),
    };
    store.create_job(&job).await.expect("create job");
    id
}

/// A deterministic value in [0, 1) per (run, stream) (splitmix64).
pub(crate) fn unit(run: u64, stream: u64) -> f64 {
    let mut z = run.wrapping_mul(16).wrapping_add(stream).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Synthetic metrics of a run: values over several magnitudes, some absent.
pub(crate) fn metrics(run: u64) -> RunMetrics {
    RunMetrics {
        overshoot_pct: (!run.is_multiple_of(7)).then(|| 20.0 * unit(run, 1)),
        rise_time: (run % 11 != 3).then(|| 1.0 + 3.0 * unit(run, 2)),
        settling_time: Some(5.0 + 10.0 * unit(run, 3)),
        peak: 1.0 + 0.2 * unit(run, 1),
        peak_time: 2.0 + unit(run, 4),
        steady_state_error: (unit(run, 5) - 0.5) * 1e-3,
        iae: 1e2 * unit(run, 6),
        ise: 1e-3 + 1e4 * unit(run, 7).powi(3),
        itae: 3.3 * unit(run, 8),
        control_effort: 10.0 + unit(run, 9),
        saturated_fraction: 0.1 * unit(run, 10),
        final_level: 1.0 - 1e-6 * unit(run, 11),
        overflow: 0.0,
    }
}

/// The sampled parameters a dataset row carries (synthetic: two per run).
pub(crate) fn dataset_params(run: u64) -> Vec<(Param, f64)> {
    vec![(Param::Tau, 5.0 + 10.0 * unit(run, 20)), (Param::Kp, 1.0 + 2.0 * unit(run, 21))]
}

pub(crate) fn dataset_row(run: u64) -> v1::RunRow {
    let n = 3 + (run % 4) as usize;
    let trajectory = Trajectory {
        t: (0..n).map(|i| i as f64).collect(),
        h: (0..n).map(|i| unit(run, 30 + i as u64)).collect(),
        u: vec![0.5; n],
        r: vec![1.0; n],
    };
    run_row(run, &dataset_params(run), &metrics(run), Some(&trajectory))
}

pub(crate) fn chunk_summary(runs: Range<u64>, metrics_of: impl Fn(u64) -> RunMetrics) -> RunSummary {
    let mut summary = RunSummary::new();
    runs.for_each(|run| summary.add(&metrics_of(run)));
    summary
}

/// The report of `chunk` with synthetic metrics, and rows from `row` when given.
pub(crate) fn report(
    job: &str,
    layout: Layout,
    chunk: u32,
    metrics_of: impl Fn(u64) -> RunMetrics,
    row: Option<&dyn Fn(u64) -> v1::RunRow>,
) -> internal::ReportChunkRequest {
    let range = layout.range(chunk);
    internal::ReportChunkRequest {
        job_id: job.to_owned(),
        chunk,
        run_start: range.start,
        run_end: range.end,
        summary: Some(internal::RunSummary::from(&chunk_summary(range.clone(), metrics_of))),
        rows: row.map(|row| range.map(row).collect()).unwrap_or_default(),
        worker: "test-worker".into(),
    }
}

/// Merging the chunks directly, in chunk order: what the service must reproduce bit for bit.
pub(crate) fn merged_in_order(layout: Layout) -> RunSummary {
    let mut all = RunSummary::new();
    for chunk in 0..layout.chunks() {
        all.merge(&chunk_summary(layout.range(chunk), metrics));
    }
    all
}

/// A fixed permutation of `0..n` (deterministic shuffle).
pub(crate) fn shuffled(n: u32) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n).collect();
    for i in (1..order.len()).rev() {
        let j = (unit(i as u64, 99) * (i + 1) as f64) as usize;
        order.swap(i, j);
    }
    order
}

pub(crate) async fn get_job(client: &mut JobServiceClient<Channel>, id: &str) -> v1::Job {
    client
        .get_job(v1::GetJobRequest { id: id.to_owned() })
        .await
        .expect("get job")
        .into_inner()
        .job
        .expect("job")
}

pub(crate) fn state(job: &v1::Job) -> v1::JobState {
    v1::JobState::try_from(job.state).expect("known state")
}

/// The field named by an INVALID_ARGUMENT status's first violation.
pub(crate) fn violated_field(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let detail = status.get_details_bad_request().expect("BadRequest detail");
    detail.field_violations.first().expect("a violation").field.clone()
}
