//! What the worker's integration tests share: a fake results service on 127.0.0.1:0 that
//! records reports (and can refuse them), jobs and chunks put into a queue and store, the
//! worker started in-process on real sockets, and the summary a chunk must have.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use tanksim_broker::{JobStore, NewJob, Task, TaskQueue};
use tanksim_proto::internal::v1 as internal;
use tanksim_proto::internal::v1::results_service_server::{ResultsService, ResultsServiceServer};
use tanksim_proto::v1;
use tanksim_sim_core::batch::simulate_batch;
use tanksim_sim_core::job::{JobSpec, RunMap};
use tanksim_sim_core::summary::RunSummary;
use tanksim_worker::WorkerSettings;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// A results service that records what workers report.
#[derive(Debug, Clone, Default)]
pub struct FakeResults {
    pub reports: Arc<Mutex<Vec<internal::ReportChunkRequest>>>,
    pub failures: Arc<Mutex<Vec<internal::ReportChunkFailureRequest>>>,
    /// Reports refused with UNAVAILABLE before the next one is accepted.
    pub refuse: Arc<AtomicU32>,
    /// Report attempts, refused ones included.
    pub attempts: Arc<AtomicU32>,
    /// The `traceparent` metadata of each report attempt (empty when there was none).
    pub traceparents: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl ResultsService for FakeResults {
    async fn report_chunk(
        &self,
        request: Request<internal::ReportChunkRequest>,
    ) -> Result<Response<internal::ReportChunkResponse>, Status> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let traceparent = request.metadata().get("traceparent").and_then(|v| v.to_str().ok());
        self.traceparents.lock().expect("lock").push(traceparent.unwrap_or_default().to_owned());
        let refuse = self.refuse.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if refuse.is_ok() {
            return Err(Status::unavailable("results is restarting"));
        }
        let request = request.into_inner();
        let mut reports = self.reports.lock().expect("lock");
        let recorded = !reports.iter().any(|r| r.job_id == request.job_id && r.chunk == request.chunk);
        reports.push(request);
        Ok(Response::new(internal::ReportChunkResponse { recorded }))
    }

    async fn report_chunk_failure(
        &self,
        request: Request<internal::ReportChunkFailureRequest>,
    ) -> Result<Response<internal::ReportChunkFailureResponse>, Status> {
        self.failures.lock().expect("lock").push(request.into_inner());
        Ok(Response::new(internal::ReportChunkFailureResponse {}))
    }
}

impl FakeResults {
    /// Serves on 127.0.0.1:0; returns the URL.
    pub async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let service = ResultsServiceServer::new(self.clone())
            .max_decoding_message_size(tanksim_proto::MAX_CHUNK_REPORT_BYTES);
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        format!("http://{addr}")
    }

    pub fn reports(&self) -> Vec<internal::ReportChunkRequest> {
        self.reports.lock().expect("lock").clone()
    }

    pub fn failures(&self) -> Vec<internal::ReportChunkFailureRequest> {
        self.failures.lock().expect("lock").clone()
    }
}

/// A worker running in-process, stopped by [`Worker::stop`].
pub struct Worker {
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<Result<(), tanksim_worker::Error>>,
    pub addr: std::net::SocketAddr,
}

impl Worker {
    pub async fn start<Q: TaskQueue, S: JobStore>(
        settings: WorkerSettings,
        queue: Q,
        store: S,
        results_url: &str,
    ) -> Worker {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let results = tanksim_worker::results_client(results_url, None).expect("client");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let handle = tokio::spawn(tanksim_worker::run(settings, queue, store, results, listener, shutdown));
        Worker { stop: Some(stop), handle, addr }
    }

    /// Requests shutdown and waits for `run` to return; returns how long that took.
    pub async fn stop(mut self) -> Duration {
        let start = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = tokio::time::timeout(Duration::from_secs(30), &mut self.handle).await;
        result.expect("run returns").expect("no panic").expect("run returns Ok");
        start.elapsed()
    }
}

/// Test settings: short reads so tests stop fast; claims effectively off unless a test sets
/// a short visibility timeout.
pub fn settings(name: &str) -> WorkerSettings {
    WorkerSettings {
        threads: 2,
        block: Duration::from_millis(100),
        shutdown_grace: Duration::from_secs(10),
        ..WorkerSettings::new(name)
    }
}

/// The MC-tau job: `tau ~ N(10, 2)` truncated at 1.
pub fn mc_tau(runs: u64, seed: u64) -> JobSpec {
    tanksim_sim_core::canonical::mc_tau_job(runs, seed)
}

/// Records `spec` as job `id` (chunks of `chunk_size` runs) and returns its chunk tasks.
pub async fn create_job<S: JobStore>(store: &S, id: &str, spec: &JobSpec, chunk_size: u64) -> Vec<Task> {
    let runs = spec.runs();
    let chunks = runs.div_ceil(chunk_size);
    let job = NewJob {
        id: id.to_owned(),
        tenant: tanksim_broker::DEFAULT_TENANT.into(),
        name: format!("test {id}"),
        kind: spec.kind(),
        spec: v1::SubmitJobRequest::from(spec).encode_to_vec(),
        runs_total: runs,
        chunk_size,
        chunks_total: u32::try_from(chunks).expect("chunks fit"),
        chunks_released: u32::try_from(chunks).expect("chunks fit"),
        submitted_at_ms: 1,
        trace_context: Vec::new(),
    };
    store.create_job(&job).await.expect("job created");
    (0..chunks)
        .map(|c| Task {
            job_id: id.to_owned(),
            chunk: u32::try_from(c).expect("chunk fits"),
            run_start: c * chunk_size,
            run_end: ((c + 1) * chunk_size).min(runs),
            trace_context: Vec::new(),
        })
        .collect()
}

/// The summary of runs `task.run_start..task.run_end` straight from the batch kernel, for the
/// spec as the worker sees it (decoded from the stored request), its sketch shrunk for the
/// report as sim-core's `shrink_report` says for the job's chunk count.
pub fn expected_summary(spec: &JobSpec, task: &Task) -> RunSummary {
    let spec = JobSpec::try_from(&v1::SubmitJobRequest::from(spec)).expect("round trip");
    let (mut configs, mut metrics) = (Vec::new(), Vec::new());
    spec.configs(task.run_start..task.run_end, &mut configs);
    simulate_batch(&configs, &mut metrics);
    let mut summary = spec.summary();
    metrics.iter().for_each(|m| summary.add(m));
    spec.shrink_report(&mut summary, task.run_end - task.run_start);
    summary
}

/// Every bit of a summary, per metric: counts, moments, min/max and the sketch (its levels
/// with their lengths, floats as bits).
pub fn summary_bits(summary: &RunSummary) -> Vec<Vec<u64>> {
    summary
        .metrics()
        .iter()
        .map(|m| {
            let p = m.to_parts();
            let mut bits = vec![p.count, p.absent, p.non_finite];
            bits.extend([p.mean, p.m2, p.min, p.max, p.sketch.error_variance].map(f64::to_bits));
            bits.push(p.sketch.coins);
            for level in &p.sketch.levels {
                bits.push(level.len() as u64);
                bits.extend(level.iter().map(|x| x.to_bits()));
            }
            bits
        })
        .collect()
}

/// A report's summary, rebuilt.
pub fn reported_summary(report: &internal::ReportChunkRequest) -> RunSummary {
    RunSummary::try_from(report.summary.as_ref().expect("a summary")).expect("valid summary")
}

/// Polls `check` every 10 ms until it is true; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
