//! The telemetry layer every tanksim server runs in, over a real socket: a traced client's call
//! is one trace (the server's span a child of the client's), and both sides count calls by
//! status code under the grpc-ecosystem names, also for a method the server does not have.

use std::time::Duration;

use opentelemetry::trace::{SpanKind, TraceContextExt};
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
use tanksim_proto::v1::simulation_service_server::{SimulationService, SimulationServiceServer};
use tanksim_proto::v1::{GetJobRequest, SimulateRequest, SimulateResponse};
use tanksim_server::{Shell, grpc_methods};
use tanksim_telemetry::grpc::traced_channel;
use tanksim_test_util::telemetry::{Spans, sample};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Answers OK with a config, NOT_FOUND without one.
struct Trivial;

#[tonic::async_trait]
impl SimulationService for Trivial {
    async fn simulate(
        &self,
        request: Request<SimulateRequest>,
    ) -> Result<Response<SimulateResponse>, Status> {
        if request.get_ref().config.is_none() {
            return Err(Status::not_found("no config"));
        }
        Ok(Response::new(SimulateResponse::default()))
    }
}

/// Polls `check` for up to 5 s (the server side finishes a call as its response body ends,
/// which may be just after the client has the response).
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
async fn a_traced_call_is_one_trace_and_counted_by_code_on_both_sides() {
    let spans = Spans::default();
    spans.install();
    let (metrics, _) = tanksim_telemetry::metrics::install("tanksim-test", "0.0.0").expect("recorder");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shell = Shell::new(Duration::from_secs(5)).add_service(SimulationServiceServer::new(Trivial));
    let server = tokio::spawn(shell.serve(listener, || async { true }, async {
        let _ = stopped.await;
    }));

    let channel = tonic::transport::Endpoint::from_shared(url).expect("url").connect_lazy();
    let traced = traced_channel(channel, &grpc_methods());
    let mut client = SimulationServiceClient::new(traced.clone());
    let root = tracing::info_span!("test.root");
    let root_cx = root.context().span().span_context().clone();
    async {
        // The trivial service only looks at whether there is a config.
        let ok = SimulateRequest { config: Some(Default::default()) };
        client.simulate(ok).await.expect("OK");
        let missing = client.simulate(SimulateRequest { config: None }).await.expect_err("NOT_FOUND");
        assert_eq!(missing.code(), tonic::Code::NotFound);
        // A service this server does not carry.
        let absent = JobServiceClient::new(traced.clone()).get_job(GetJobRequest { id: "x".into() }).await;
        assert_eq!(absent.expect_err("not served").code(), tonic::Code::Unimplemented);
    }
    .instrument(root.clone())
    .await;
    drop(root);

    let simulate = [("grpc_service", "tanksim.v1.SimulationService"), ("grpc_method", "Simulate")];
    let unary = ("grpc_type", "unary");
    for side in ["server", "client"] {
        let handled = format!("grpc_{side}_handled_total");
        let count = |code: &'static str| {
            let mut labels = simulate.to_vec();
            labels.extend([unary, ("grpc_code", code)]);
            sample(&metrics.render(), &handled, &labels)
        };
        eventually(&format!("{handled} OK and NotFound"), || {
            count("OK") == Some(1.0) && count("NotFound") == Some(1.0)
        })
        .await;
        let started = format!("grpc_{side}_started_total");
        assert_eq!(sample(&metrics.render(), &started, &simulate), Some(2.0), "{side}");
        let absent = [("grpc_service", "tanksim.v1.JobService"), ("grpc_code", "Unimplemented")];
        eventually(&format!("{handled} Unimplemented"), || {
            sample(&metrics.render(), &handled, &absent) == Some(1.0)
        })
        .await;
        let latency = format!("grpc_{side}_handling_seconds_count");
        assert_eq!(sample(&metrics.render(), &latency, &simulate), Some(2.0), "{side}");
    }
    assert!(metrics.render().contains("service=\"tanksim-test\""), "every series carries the service label");

    let name = "tanksim.v1.SimulationService/Simulate";
    eventually("two server spans", || spans.find(name, SpanKind::Server).len() == 2).await;
    let (clients, servers) = (spans.find(name, SpanKind::Client), spans.find(name, SpanKind::Server));
    assert_eq!(clients.len(), 2);
    for client in &clients {
        assert_eq!(
            client.span_context.trace_id(),
            root_cx.trace_id(),
            "the client span is in the caller's trace"
        );
        assert_eq!(client.parent_span_id, root_cx.span_id(), "the client span is a child of the caller's");
        let server =
            servers.iter().find(|s| s.parent_span_id == client.span_context.span_id()).unwrap_or_else(|| {
                panic!("no server span under client span {:?}", client.span_context.span_id())
            });
        assert_eq!(server.span_context.trace_id(), root_cx.trace_id(), "one trace across the call");
        assert!(server.parent_span_is_remote);
        let attribute = |key: &str| {
            server.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
        };
        assert_eq!(attribute("rpc.system").as_deref(), Some("grpc"));
        assert_eq!(attribute("rpc.method").as_deref(), Some("Simulate"));
        assert!(matches!(attribute("rpc.grpc.status_code").as_deref(), Some("0" | "5")));
    }

    let _ = stop.send(());
    server.await.expect("no panic").expect("served");
}
