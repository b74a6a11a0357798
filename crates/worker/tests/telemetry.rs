//! What a worker tells an operator about its chunks (memory backends, a fake results service,
//! real sockets): each chunk's span continues the trace carried in its task entry, with the
//! job and chunk as attributes; the simulation and the report are its children, and the
//! report carries the trace on to results; runs and chunks are counted.

mod harness;

use std::time::Duration;

use harness::{FakeResults, Worker, create_job, eventually, mc_tau, settings};
use opentelemetry::trace::SpanKind;
use tanksim_broker::{MemoryQueue, MemoryStore, TaskQueue};
use tanksim_test_util::telemetry::{Spans, attributes, sample};

const WAIT: Duration = Duration::from_secs(20);
/// The context the dispatcher's enqueue span would have put into the entries.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const ENQUEUE_SPAN_ID: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_spans_continue_the_trace_of_their_task_and_chunks_are_counted() {
    let spans = Spans::default();
    spans.install();
    let (metrics, _) = tanksim_telemetry::metrics::install("tanksim-worker", "test").expect("recorder");

    let (queue, store, results) = (MemoryQueue::new(), MemoryStore::new(), FakeResults::default());
    let url = results.start().await;
    let mut tasks = create_job(&store, "job-traced", &mc_tau(3_000, 5), 1_000).await;
    for task in &mut tasks {
        task.trace_context = vec![("traceparent".into(), format!("00-{TRACE_ID}-{ENQUEUE_SPAN_ID}-01"))];
    }
    queue.enqueue(&tasks).await.expect("enqueued");
    let worker = Worker::start(settings("w-traced"), queue.clone(), store, &url).await;
    eventually(WAIT, "three chunks reported and acknowledged", || async {
        results.reports().len() == 3 && queue.stats().await.expect("stats").length == 0
    })
    .await;
    worker.stop().await;
    eventually(WAIT, "three chunk spans ended", || async { spans.named("chunk").len() == 3 }).await;

    let chunks = spans.named("chunk");
    let mut indexes = Vec::new();
    for chunk in &chunks {
        assert_eq!(chunk.span_context.trace_id().to_string(), TRACE_ID, "the task's trace");
        assert_eq!(chunk.parent_span_id.to_string(), ENQUEUE_SPAN_ID, "the task's span is the parent");
        assert!(chunk.parent_span_is_remote);
        assert_eq!(chunk.span_kind, SpanKind::Internal);
        let a = attributes(chunk);
        assert_eq!(a.get("job.id").map(String::as_str), Some("job-traced"), "{a:?}");
        assert_eq!(a.get("job.kind").map(String::as_str), Some("monte_carlo"), "{a:?}");
        assert_eq!(a.get("chunk.runs").map(String::as_str), Some("1000"), "{a:?}");
        assert_eq!(a.get("chunk.delivery_attempt").map(String::as_str), Some("1"), "{a:?}");
        indexes.push(a.get("chunk.index").cloned().unwrap_or_default());
    }
    indexes.sort();
    assert_eq!(indexes, ["0", "1", "2"]);
    let chunk_ids: Vec<_> = chunks.iter().map(|c| c.span_context.span_id()).collect();

    let simulations = spans.named("simulate");
    assert_eq!(simulations.len(), 3);
    for simulate in &simulations {
        assert!(chunk_ids.contains(&simulate.parent_span_id), "simulate is a child of a chunk span");
        let a = attributes(simulate);
        assert_eq!((a["runs"].as_str(), a["threads"].as_str()), ("1000", "2"));
    }

    let reports = spans.named("tanksim.internal.v1.ResultsService/ReportChunk");
    assert_eq!(reports.len(), 3);
    let sent = results.traceparents.lock().expect("lock").clone();
    for report in &reports {
        assert_eq!(report.span_kind, SpanKind::Client);
        assert!(chunk_ids.contains(&report.parent_span_id), "the report is a child of a chunk span");
        // What results received: the trace goes on with the report's span as the parent.
        let expected = format!("00-{TRACE_ID}-{}-01", report.span_context.span_id());
        assert!(sent.contains(&expected), "{expected} not in {sent:?}");
    }

    let text = metrics.render();
    let mc = ("kind", "monte_carlo");
    assert_eq!(sample(&text, "simulation_runs_total", &[mc]), Some(3_000.0), "{text}");
    assert_eq!(sample(&text, "simulation_duration_seconds_count", &[mc]), Some(3.0), "{text}");
    let chunks = |outcome| sample(&text, "simulation_chunks_total", &[mc, ("outcome", outcome)]);
    assert_eq!(chunks("succeeded"), Some(3.0), "{text}");
    assert_eq!(chunks("failed"), Some(0.0), "zero, not missing: {text}");
    assert_eq!(sample(&text, "simulation_errors_total", &[("reason", "dead_lettered")]), Some(0.0));
    let reported = [("grpc_method", "ReportChunk"), ("grpc_code", "OK")];
    assert_eq!(sample(&text, "grpc_client_handled_total", &reported), Some(3.0), "{text}");
}
