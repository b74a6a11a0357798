//! A small OpenTelemetry collector inside the test: an OTLP/gRPC trace receiver (the
//! `TraceService` of the OTLP protobuf definitions, served by tonic on `127.0.0.1:0`) that
//! keeps every span it receives, with the `service.name` of the resource it came with.
//!
//! The services export to it like to a real collector (`OTEL_EXPORTER_OTLP_ENDPOINT`, see
//! [`crate::Options::otlp`]); the test then waits until the spans it expects arrived and
//! queries a trace's structure with [`Trace`].

mod span;

pub use span::{AttrValue, Event, Link, Span, SpanKind, Trace};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often a wait looks at the spans received so far.
const POLL: Duration = Duration::from_millis(50);
/// Largest export request accepted (the SDK batches at most 512 spans; be generous).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// The running receiver; dropping it stops the server.
#[derive(Debug)]
pub struct Collector {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<Span>>>,
    server: JoinHandle<()>,
}

/// The `TraceService` implementation: appends every span of every request.
#[derive(Debug)]
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let received = span::from_request(request.into_inner());
        self.spans.lock().unwrap_or_else(PoisonError::into_inner).extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

impl Collector {
    /// Binds `127.0.0.1:0` and serves OTLP/gRPC traces on it.
    pub async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding the collector");
        let addr = listener.local_addr().expect("the collector's address");
        let spans = Arc::new(Mutex::new(Vec::new()));
        let service = TraceServiceServer::new(Receiver { spans: Arc::clone(&spans) })
            .max_decoding_message_size(MAX_MESSAGE);
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let server = tokio::spawn(async move {
            let served =
                tonic::transport::Server::builder().add_service(service).serve_with_incoming(incoming).await;
            if let Err(e) = served {
                eprintln!("e2e collector stopped: {e}");
            }
        });
        Collector { addr, spans, server }
    }

    /// `http://127.0.0.1:PORT`: the value of `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The spans of trace `trace_id` received so far.
    pub fn trace(&self, trace_id: &str) -> Trace {
        Trace::new(self.spans().into_iter().filter(|s| s.trace_id == trace_id).collect())
    }

    /// Waits up to `limit` until `until` holds for the spans received; returns them. Panics
    /// (naming `what` and summarising what did arrive) at the limit.
    pub async fn wait(&self, limit: Duration, what: &str, until: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = Instant::now() + limit;
        loop {
            let spans = self.spans();
            if until(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "collector: {what}: not within {limit:?}; received {}",
                span::summary(&spans)
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for a span named `name` with attribute `key` = `value` (a string) and returns
    /// its trace id: how a test finds the trace of a job it submitted (by `job.id`).
    pub async fn trace_id_of(&self, name: &str, key: &str, value: &str, limit: Duration) -> String {
        let matches = |s: &Span| s.name == name && s.str_attr(key) == Some(value);
        let what = format!("a span {name:?} with {key} = {value:?}");
        let spans = self.wait(limit, &what, |spans| spans.iter().any(matches)).await;
        spans.into_iter().find(matches).map(|s| s.trace_id).expect("found by the wait")
    }

    /// Waits until trace `trace_id` holds spans of every service in `services` and `until`
    /// holds for it; returns the trace as received then.
    pub async fn wait_trace(
        &self,
        trace_id: &str,
        services: &[&str],
        limit: Duration,
        until: impl Fn(&Trace) -> bool,
    ) -> Trace {
        let what = format!("trace {trace_id} with spans of {services:?}");
        let spans = self
            .wait(limit, &what, |spans| {
                let trace = Trace::new(spans.iter().filter(|s| s.trace_id == trace_id).cloned().collect());
                services.iter().all(|s| trace.services().contains(*s)) && until(&trace)
            })
            .await;
        Trace::new(spans.into_iter().filter(|s| s.trace_id == trace_id).collect())
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.server.abort();
    }
}
