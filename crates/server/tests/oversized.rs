//! A message over a service's size limit, over a real socket: the client gets
//! RESOURCE_EXHAUSTED, for an oversized request (refused by the codec before the handler
//! runs) and for an oversized response (refused while encoding, so in the trailers), and the
//! server's metrics count it under that code.

use std::time::Duration;

use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
use tanksim_proto::v1::simulation_service_server::{SimulationService, SimulationServiceServer};
use tanksim_proto::v1::{SimConfig, SimulateRequest, SimulateResponse};
use tanksim_server::Shell;
use tanksim_test_util::telemetry::sample;
use tokio::net::TcpListener;
use tonic::{Code, Request, Response, Status};

/// Messages over this many bytes are refused both ways.
const LIMIT: usize = 1024;

/// Answers with as many metric values as the request's `dt` says.
struct Sized;

#[tonic::async_trait]
impl SimulationService for Sized {
    async fn simulate(
        &self,
        request: Request<SimulateRequest>,
    ) -> Result<Response<SimulateResponse>, Status> {
        let n = request.get_ref().config.as_ref().map_or(0, |c| c.dt as usize);
        Ok(Response::new(SimulateResponse { metrics: vec![1.0; n], trajectory: None }))
    }
}

fn asking_for(values: usize) -> SimulateRequest {
    SimulateRequest { config: Some(SimConfig { dt: values as f64, ..Default::default() }) }
}

#[tokio::test]
async fn oversized_messages_answer_resource_exhausted() {
    let (metrics, _) = tanksim_telemetry::metrics::install("tanksim-test", "0.0.0").expect("recorder");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service =
        SimulationServiceServer::new(Sized).max_decoding_message_size(LIMIT).max_encoding_message_size(LIMIT);
    let shell = Shell::new(Duration::from_secs(5)).add_service(service);
    let server = tokio::spawn(shell.serve(listener, || async { true }, async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(url).expect("url").connect_lazy();
    let mut client = SimulationServiceClient::new(channel);

    // Within the limit both ways.
    let ok = client.simulate(asking_for(10)).await.expect("small messages pass");
    assert_eq!(ok.get_ref().metrics.len(), 10);

    // A request over the limit: refused by the codec, before the handler.
    let mut big = asking_for(1);
    big.config.as_mut().expect("config").input = Some(tanksim_proto::v1::Profile {
        points: vec![tanksim_proto::v1::SchedulePoint { at: 1.0, value: 1.0 }; 100],
        ..Default::default()
    });
    let status = client.simulate(big).await.expect_err("an oversized request");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("too large"), "{}", status.message());

    // A response over the limit: refused while encoding, after the handler answered.
    let status = client.simulate(asking_for(1000)).await.expect_err("an oversized response");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    // The server counts what the client got.
    let labels = [("grpc_method", "Simulate"), ("grpc_code", "ResourceExhausted")];
    for _ in 0..500 {
        if sample(&metrics.render(), "grpc_server_handled_total", &labels) == Some(2.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sample(&metrics.render(), "grpc_server_handled_total", &labels), Some(2.0));
    assert_eq!(sample(&metrics.render(), "grpc_server_handled_total", &[("grpc_code", "OutOfRange")]), None);

    let _ = stop.send(());
    server.await.expect("server task").expect("serves cleanly");
}
