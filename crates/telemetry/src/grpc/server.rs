//! The server layer: a span per call (child of the caller's context from the metadata) and
//! the `grpc_server_*` metrics.

use std::sync::Arc;
use std::task::{Context, Poll};

use opentelemetry::propagation::Extractor;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::body::{Call, Observed, Side, UNKNOWN};
use super::future::ResponseFuture;
use super::method::Methods;

/// Traces and meters every call a server handles (`Server::builder().layer(..)`).
#[derive(Debug, Clone)]
pub struct GrpcServerLayer {
    methods: Arc<Methods>,
}

impl GrpcServerLayer {
    /// `methods`: the streaming types of the services served (for the `grpc_type` label).
    pub fn new(methods: Methods) -> Self {
        GrpcServerLayer { methods: Arc::new(methods) }
    }
}

impl<S> tower::Layer<S> for GrpcServerLayer {
    type Service = GrpcServerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcServerService { inner, methods: Arc::clone(&self.methods) }
    }
}

/// See [`GrpcServerLayer`].
#[derive(Debug, Clone)]
pub struct GrpcServerService<S> {
    inner: S,
    methods: Arc<Methods>,
}

/// Whether calls of `service` get a span: not the probes' health checks nor reflection.
fn traced(service: &str) -> bool {
    !service.starts_with("grpc.health.") && !service.starts_with("grpc.reflection.")
}

impl<S, B, ResB> tower::Service<http::Request<B>> for GrpcServerService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
{
    type Response = http::Response<Observed<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = self.methods.classify(req.uri().path());
        let span = if traced(&method.service) {
            let span = tracing::info_span!(
                "grpc.server",
                otel.name = format!("{}/{}", method.service, method.method),
                otel.kind = "server",
                otel.status_code = tracing::field::Empty,
                rpc.system = "grpc",
                rpc.service = %method.service,
                rpc.method = %method.method,
                rpc.grpc.status_code = tracing::field::Empty,
            );
            let parent = opentelemetry::global::get_text_map_propagator(|p| {
                p.extract(&HeaderExtractor(req.headers()))
            });
            use opentelemetry::trace::TraceContextExt;
            if parent.span().span_context().is_valid() {
                let _ = span.set_parent(parent);
            }
            span
        } else {
            tracing::Span::none()
        };
        let call = Call::start(Side::Server, method, span.clone());
        let future = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(future.instrument(span), call, UNKNOWN)
    }
}

/// Reads W3C fields from request metadata.
pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
