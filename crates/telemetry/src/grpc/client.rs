//! The client layer: a `grpc.client` span per call (child of the caller's span), its context
//! injected into the request metadata, and the `grpc_client_*` metrics.

use std::sync::Arc;
use std::task::{Context, Poll};

use opentelemetry::propagation::Injector;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::body::{Call, Observed, Side};
use super::future::ResponseFuture;
use super::method::Methods;

/// A tonic channel that traces and meters every call: what tanksim's clients are built on.
pub type TracedChannel = GrpcClientService<tonic::transport::Channel>;

/// Wraps `channel` in [`GrpcClientLayer`].
pub fn traced_channel(channel: tonic::transport::Channel, methods: &Arc<Methods>) -> TracedChannel {
    GrpcClientService { inner: channel, methods: Arc::clone(methods) }
}

/// Traces and meters every call made through a client channel.
#[derive(Debug, Clone)]
pub struct GrpcClientLayer {
    methods: Arc<Methods>,
}

impl GrpcClientLayer {
    /// `methods`: the streaming types of the services called (for the `grpc_type` label).
    pub fn new(methods: Arc<Methods>) -> Self {
        GrpcClientLayer { methods }
    }
}

impl<S> tower::Layer<S> for GrpcClientLayer {
    type Service = GrpcClientService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcClientService { inner, methods: Arc::clone(&self.methods) }
    }
}

/// See [`GrpcClientLayer`].
#[derive(Debug, Clone)]
pub struct GrpcClientService<S> {
    inner: S,
    methods: Arc<Methods>,
}

/// Status reported when the channel fails before any response (connection refused, reset).
const UNAVAILABLE: i32 = 14;

impl<S, B, ResB> tower::Service<http::Request<B>> for GrpcClientService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
{
    type Response = http::Response<Observed<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let method = self.methods.classify(req.uri().path());
        let span = tracing::info_span!(
            "grpc.client",
            otel.name = format!("{}/{}", method.service, method.method),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            rpc.system = "grpc",
            rpc.service = %method.service,
            rpc.method = %method.method,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        let cx = span.context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&cx, &mut HeaderInjector(req.headers_mut()));
        });
        let call = Call::start(Side::Client, method, span.clone());
        let future = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(future.instrument(span), call, UNAVAILABLE)
    }
}

/// Writes W3C fields into request metadata.
struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(key.as_bytes()), http::HeaderValue::from_str(&value))
        {
            self.0.insert(name, value);
        }
    }
}
