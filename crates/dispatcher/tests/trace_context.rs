//! The job's trace crosses the stream: the dispatcher stores the `dispatch_job` span's context
//! with the job, and every task carries the context of an `enqueue` span that is its child,
//! also when a restarted dispatcher resumes a job. Spans are collected in memory from a real
//! `tracing` + OpenTelemetry pipeline (a global subscriber: this binary's tests share it).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

#[path = "support/harness.rs"]
mod harness;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use harness::{mc_tau_spec, settings, start, wait_for};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use tanksim_broker::{JobKind, JobStore, MemoryQueue, MemoryStore, NewJob, Task, TaskQueue};
use tanksim_proto::internal::v1::DispatchJobRequest;
use tracing_subscriber::layer::SubscriberExt;

/// Keeps every ended span.
#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanProcessor for Collected {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        self.0.lock().unwrap().push(span);
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

/// Installs the subscriber and W3C propagation once for this binary; returns the collector.
fn collected() -> &'static Collected {
    static INSTALLED: OnceLock<(Collected, SdkTracerProvider)> = OnceLock::new();
    let (spans, _) = INSTALLED.get_or_init(|| {
        let spans = Collected::default();
        let provider = SdkTracerProvider::builder().with_span_processor(spans.clone()).build();
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_global_default(subscriber).unwrap();
        (spans, provider)
    });
    spans
}

/// The ended span named `name` whose `job.id` is `job`; waits for it to end.
async fn span(name: &str, job: &str) -> SpanData {
    let find = || {
        let spans = collected().0.lock().unwrap();
        spans.iter().find(|s| s.name == name && attr(s, "job.id").as_deref() == Some(job)).cloned()
    };
    wait_for(|| std::future::ready(find().is_some())).await;
    find().unwrap()
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
}

/// `(trace id, span id)` of the `traceparent` in `fields`.
fn traceparent(fields: &[(String, String)]) -> (String, String) {
    let value = &fields.iter().find(|(k, _)| k == "traceparent").expect("a traceparent").1;
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    (parts[1].to_owned(), parts[2].to_owned())
}

fn ids(span: &SpanData) -> (String, String) {
    (span.span_context.trace_id().to_string(), span.span_context.span_id().to_string())
}

async fn read_all(queue: &MemoryQueue) -> Vec<Task> {
    let read = queue.read_new("t", 100, Duration::from_millis(10)).await.unwrap();
    read.into_iter().map(|d| d.task).collect()
}

#[tokio::test]
async fn tasks_carry_a_child_of_the_stored_job_context() {
    collected();
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let d = start(queue.clone(), store.clone(), settings(10_000, 2)).await;
    let job = d.client.clone().dispatch_job(DispatchJobRequest { spec: Some(mc_tau_spec(25_001)) }).await;
    let id = job.unwrap().into_inner().job.unwrap().id;
    wait_for(|| {
        let (store, id) = (store.clone(), id.clone());
        async move { store.job(&id).await.unwrap().unwrap().chunks_enqueued == 3 }
    })
    .await;

    // The stored job context is the dispatch_job span, with the job's attributes.
    let stored = store.job(&id).await.unwrap().unwrap().trace_context;
    let (trace, job_span) = traceparent(&stored);
    let dispatch = span("dispatch_job", &id).await;
    assert_eq!(ids(&dispatch), (trace.clone(), job_span.clone()));
    assert_eq!(attr(&dispatch, "job.kind").as_deref(), Some("monte_carlo"));
    assert_eq!(attr(&dispatch, "job.runs").as_deref(), Some("25001"));
    assert_eq!(attr(&dispatch, "job.chunks").as_deref(), Some("3"));

    // Every task (two batches) carries the one enqueue span: same trace, the job's child.
    let tasks = read_all(&queue).await;
    assert_eq!(tasks.len(), 3);
    let carried: Vec<_> = tasks.iter().map(|t| traceparent(&t.trace_context)).collect();
    let enqueue = span("enqueue", &id).await;
    assert!(
        carried.iter().all(|c| *c == ids(&enqueue)),
        "{carried:?} vs the enqueue span {:?}",
        ids(&enqueue)
    );
    assert_eq!(ids(&enqueue).0, trace, "one trace");
    assert_eq!(enqueue.parent_span_id.to_string(), job_span, "enqueue is a child of the job context");
    assert_ne!(ids(&enqueue).1, job_span);
    let range = ["job.chunks", "chunk.first", "chunk.end"].map(|k| attr(&enqueue, k));
    assert_eq!(range, [Some("3".into()), Some("0".into()), Some("3".into())]);
    d.stop().await;
}

#[tokio::test]
async fn a_resumed_job_continues_its_stored_trace() {
    collected();
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    // Left by a previous dispatcher: one of four chunks enqueued, the job context stored.
    let (trace, job_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let job = NewJob {
        id: "resumed".into(),
        tenant: tanksim_broker::DEFAULT_TENANT.into(),
        name: "left over".into(),
        kind: JobKind::MonteCarlo,
        spec: prost::Message::encode_to_vec(&mc_tau_spec(40)),
        runs_total: 40,
        chunk_size: 10,
        chunks_total: 4,
        chunks_released: 4,
        submitted_at_ms: 1,
        trace_context: vec![("traceparent".into(), format!("00-{trace}-{job_span}-01"))],
    };
    store.create_job(&job).await.unwrap();
    store.mark_enqueued("resumed", 1).await.unwrap();
    let d = start(queue.clone(), store.clone(), settings(10, 10)).await;
    wait_for(|| {
        let store = store.clone();
        async move { store.job("resumed").await.unwrap().unwrap().chunks_enqueued == 4 }
    })
    .await;

    let enqueue = span("enqueue", "resumed").await;
    assert_eq!(ids(&enqueue).0, trace, "the stored trace goes on");
    assert_eq!(enqueue.parent_span_id.to_string(), job_span);
    let range = ["chunk.first", "chunk.end"].map(|k| attr(&enqueue, k));
    assert_eq!(range, [Some("1".into()), Some("4".into())]);
    let tasks = read_all(&queue).await;
    assert_eq!(tasks.iter().map(|t| t.chunk).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(tasks.iter().all(|t| traceparent(&t.trace_context) == ids(&enqueue)));
    d.stop().await;
}
