//! What the results service tells an operator (in-process, real sockets, memory store): a
//! traced report continues the worker's trace in a `report_chunk` span with the job and chunk
//! as attributes; a watch is a `watch_job` span linked to the job's trace, an event per
//! message; a job is counted once when it ends.

#[path = "service/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::Duration;

use harness::{Instance, Layout, metrics, monte_carlo_spec, report};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry_sdk::trace::SpanData;
use prost::Message;
use tanksim_broker::{JobKind, JobStore, MemoryStore, NewJob};
use tanksim_proto::internal::v1::ReportChunkFailureRequest;
use tanksim_proto::internal::v1::results_service_client::ResultsServiceClient;
use tanksim_proto::v1::{JobState, WatchJobRequest};
use tanksim_telemetry::grpc::traced_channel;
use tanksim_test_util::telemetry::{Spans, attributes, sample};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The job context the dispatcher stored with the job.
const JOB_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const JOB_SPAN_ID: &str = "b7ad6b7169203331";

async fn create_traced_job(store: &MemoryStore, id: &str, layout: Layout) {
    let job = NewJob {
        id: id.to_owned(),
        tenant: tanksim_broker::DEFAULT_TENANT.into(),
        name: id.to_owned(),
        kind: JobKind::MonteCarlo,
        spec: monte_carlo_spec(layout.runs).encode_to_vec(),
        runs_total: layout.runs,
        chunk_size: layout.chunk_size,
        chunks_total: layout.chunks(),
        chunks_released: layout.chunks(),
        submitted_at_ms: tanksim_server::job::now_ms(),
        trace_context: vec![("traceparent".into(), format!("00-{JOB_TRACE_ID}-{JOB_SPAN_ID}-01"))],
    };
    store.create_job(&job).await.expect("created");
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn reports_continue_the_workers_trace_watches_link_to_the_job_and_jobs_count_once() {
    let spans = Spans::default();
    spans.install();
    let (prometheus, _) = tanksim_telemetry::metrics::install("tanksim-results", "test").expect("recorder");
    let store = MemoryStore::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let instance = Instance::start(store.clone(), dir.path(), Duration::from_secs(60)).await;
    let layout = Layout { runs: 20, chunk_size: 10 };
    create_traced_job(&store, "job-ok", layout).await;
    create_traced_job(&store, "job-bad", layout).await;

    let mut watch = instance
        .jobs()
        .await
        .watch_job(WatchJobRequest { id: "job-ok".into() })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("stream ok").expect("the current status");
    assert_eq!(first.job.expect("job").state(), JobState::Queued);

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", instance.addr))
        .expect("url")
        .connect_lazy();
    let mut results = ResultsServiceClient::new(traced_channel(channel, &tanksim_server::grpc_methods()));
    let worker = tracing::info_span!("worker.chunk");
    let worker_trace = worker.context().span().span_context().trace_id();
    async {
        for chunk in [1, 0, 0] {
            results.report_chunk(report("job-ok", layout, chunk, metrics, None)).await.expect("report");
        }
        let failure = ReportChunkFailureRequest {
            job_id: "job-bad".into(),
            chunk: 1,
            reason: "boom".into(),
            deliveries: 3,
        };
        results.report_chunk_failure(failure.clone()).await.expect("failure report");
        results.report_chunk_failure(failure).await.expect("a repeated failure report");
    }
    .instrument(worker)
    .await;
    let mut states = Vec::new();
    while let Some(message) = watch.message().await.expect("stream ok") {
        states.push(message.job.expect("job").state());
    }
    assert_eq!(states, [JobState::Running, JobState::Succeeded]);

    eventually("five report spans", || spans.named("report_chunk").len() == 5).await;
    let servers: Vec<SpanData> = spans
        .all()
        .into_iter()
        .filter(|s| {
            s.span_kind == SpanKind::Server && s.name.starts_with("tanksim.internal.v1.ResultsService/")
        })
        .collect();
    let mut seen = Vec::new();
    for span in spans.named("report_chunk") {
        assert_eq!(span.span_context.trace_id(), worker_trace, "the worker's trace goes on");
        assert!(
            servers.iter().any(|s| s.span_context.span_id() == span.parent_span_id),
            "report_chunk is a child of the call's server span"
        );
        let a = attributes(&span);
        let get = |k: &str| a.get(k).cloned().unwrap_or_default();
        seen.push((
            get("job.id"),
            get("chunk.index"),
            get("chunk.recorded"),
            get("chunk.failed"),
            get("job.state"),
        ));
    }
    let row = |job: &str, chunk: &str, recorded: &str, failed: &str, state: &str| {
        (job.to_owned(), chunk.to_owned(), recorded.to_owned(), failed.to_owned(), state.to_owned())
    };
    assert_eq!(
        seen,
        [
            row("job-ok", "1", "true", "", "running"),
            row("job-ok", "0", "true", "", "succeeded"),
            row("job-ok", "0", "false", "", "succeeded"),
            row("job-bad", "1", "", "true", "failed"),
            row("job-bad", "1", "", "true", "failed"),
        ]
    );

    eventually("the watch span", || spans.named("watch_job").len() == 1).await;
    let watch_span = &spans.named("watch_job")[0];
    assert_eq!(attributes(watch_span).get("job.id").map(String::as_str), Some("job-ok"));
    assert_ne!(watch_span.span_context.trace_id().to_string(), JOB_TRACE_ID, "the watcher's own trace");
    let links: Vec<(String, String)> = watch_span
        .links
        .iter()
        .map(|l| (l.span_context.trace_id().to_string(), l.span_context.span_id().to_string()))
        .collect();
    assert_eq!(links, [(JOB_TRACE_ID.to_owned(), JOB_SPAN_ID.to_owned())], "a link to the job's trace");
    let events = watch_span.events.iter().filter(|e| e.name == "progress sent").count();
    assert_eq!(events, 3, "one event per message sent");

    let text = prometheus.render();
    let finished =
        |state| sample(&text, "simulation_jobs_finished_total", &[("kind", "monte_carlo"), ("state", state)]);
    assert_eq!((finished("succeeded"), finished("failed")), (Some(1.0), Some(1.0)), "{text}");
    let durations = [("kind", "monte_carlo"), ("state", "succeeded")];
    assert_eq!(sample(&text, "simulation_job_duration_seconds_count", &durations), Some(1.0), "{text}");
    assert_eq!(sample(&text, "simulation_jobs_finished_total", &[("kind", "sweep")]), Some(0.0));
    instance.stop().await;
}
