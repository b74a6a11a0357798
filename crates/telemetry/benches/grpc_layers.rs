//! What tracing and metering cost a gRPC call: unary calls over loopback TCP through plain
//! tonic and through `GrpcServerLayer` + `traced_channel`, side by side in one run, with the
//! metrics recorder installed and every span sampled (the production setting; export runs on
//! its own thread and is not part of the call).
//!
//! The method is one the server does not implement (`/tanksim.bench.v1.Bench/Call`): tonic's
//! router answers with an error status at once, so the call is pure transport, and the traced path
//! does all of its work — client span, context injection, server span with the extracted
//! parent, started/handled counters and latency histograms on both sides.
//!
//! `cargo bench -p tanksim-telemetry --bench grpc_layers`

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use http::uri::PathAndQuery;
use tanksim_telemetry::grpc::{GrpcServerLayer, Methods, traced_channel};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::client::{Grpc, GrpcService};
use tonic::transport::{Channel, Server};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tracing_subscriber::layer::SubscriberExt;

async fn start(layered: bool) -> Channel {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (_, health) = tonic_health::server::health_reporter();
    let incoming = TcpListenerStream::new(listener);
    if layered {
        let router = Server::builder().layer(GrpcServerLayer::new(Methods::default())).add_service(health);
        tokio::spawn(router.serve_with_incoming(incoming));
    } else {
        tokio::spawn(Server::builder().add_service(health).serve_with_incoming(incoming));
    }
    Channel::from_shared(format!("http://{addr}")).expect("url").connect().await.expect("connect")
}

async fn call<T>(channel: T)
where
    T: GrpcService<tonic::body::Body>,
    T::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut grpc = Grpc::new(channel);
    assert!(grpc.ready().await.is_ok(), "ready");
    let codec = tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default();
    let path = PathAndQuery::from_static("/tanksim.bench.v1.Bench/Call");
    let answer =
        grpc.unary(tonic::Request::new(HealthCheckRequest { service: String::new() }), path, codec).await;
    assert!(answer.is_err(), "the method is not implemented");
}

fn bench(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "bench");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(tracing_opentelemetry::layer().with_tracer(tracer));
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let (plain, layered) = runtime.block_on(async {
        tanksim_telemetry::metrics::install("bench", "0").expect("recorder");
        (start(false).await, start(true).await)
    });
    let traced = traced_channel(layered, &Arc::new(Methods::default()));

    let mut group = c.benchmark_group("unary_call");
    group.bench_function("plain", |b| b.to_async(&runtime).iter(|| call(plain.clone())));
    group.bench_function("traced_and_metered", |b| b.to_async(&runtime).iter(|| call(traced.clone())));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
