//! The public API over real sockets: validation errors name the field (INVALID_ARGUMENT with
//! a BadRequest detail), Simulate answers with metrics and trajectory, and job calls reach
//! the dispatcher and the results service (in-process, in-memory backends).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a failed setup step should just fail the test

mod support;

use std::time::Duration;

use support::stack;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
use tanksim_proto::v1::{GetJobRequest, JobState, SimulateRequest, SubmitJobRequest};
use tanksim_sim_core::SimConfig;
use tanksim_sim_core::canonical::mc_tau_job;
use tonic_types::StatusExt;

fn mc_tau(runs: u64) -> SubmitJobRequest {
    SubmitJobRequest::from(&mc_tau_job(runs, 1))
}

#[tokio::test]
async fn invalid_jobs_get_invalid_argument_naming_each_field() {
    let s = stack().await;
    let mut spec = mc_tau(10);
    let config = spec.config.as_mut().unwrap();
    config.dt = 0.0;
    config.plant.as_mut().unwrap().tau = f64::NAN;
    let status = JobServiceClient::new(s.channel.clone()).submit_job(spec).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> =
        status.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert!(fields.contains(&"config.dt".to_owned()), "{fields:?}");
    // tau is varied by the job, so its base value is not what is wrong; dt is.
    let mut spec = mc_tau(0);
    spec.config = None;
    let status = JobServiceClient::new(s.channel.clone()).submit_job(spec).await.unwrap_err();
    let fields: Vec<String> =
        status.get_details_bad_request().unwrap().field_violations.into_iter().map(|v| v.field).collect();
    assert!(fields.contains(&"config".to_owned()), "{fields:?}");
}

#[tokio::test]
async fn submit_answers_with_a_job_id_that_get_job_finds() {
    let s = stack().await;
    let mut jobs = JobServiceClient::new(s.channel.clone());
    let job = jobs.submit_job(mc_tau(1_000)).await.unwrap().into_inner().job.unwrap();
    assert!(!job.id.is_empty());
    assert_eq!(job.state(), JobState::Queued);
    let got = jobs.get_job(GetJobRequest { id: job.id.clone() }).await.unwrap().into_inner().job.unwrap();
    assert_eq!(got.id, job.id);
    let missing = jobs.get_job(GetJobRequest { id: "no-such-job".into() }).await.unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn simulate_returns_the_one_run_kernels_metrics_and_trajectory() {
    let s = stack().await;
    let mut config = SimConfig::mc_tau(10.0);
    config.record = tanksim_sim_core::config::Recording::Every(100);
    let request = SimulateRequest { config: Some((&config).into()) };
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        SimulationServiceClient::new(s.channel.clone()).simulate(request),
    )
    .await
    .unwrap()
    .unwrap()
    .into_inner();
    let expected = tanksim_sim_core::simulate::simulate(&config);
    assert_eq!(response.metrics, tanksim_proto::convert::metric_values(&expected.metrics));
    assert_eq!(response.trajectory.unwrap().h, expected.trajectory.unwrap().h);
    let bad = SimulateRequest { config: None };
    let status = SimulationServiceClient::new(s.channel.clone()).simulate(bad).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

/// Peers that serve nothing but health: every call the gateway forwards answers UNIMPLEMENTED.
#[tokio::test]
async fn a_peer_answering_unimplemented_is_an_internal_error_not_the_callers() {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    let empty = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let empty_url = format!("http://{}", empty.local_addr().unwrap());
    let shell = tanksim_server::Shell::new(Duration::from_secs(1));
    tokio::spawn(shell.serve(empty, || async { true }, until()));
    let gateway = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", gateway.local_addr().unwrap());
    let peers = tanksim_gateway::Peers::connect_lazy(&empty_url, &empty_url, 1 << 24, None).unwrap();
    tokio::spawn(tanksim_gateway::run(Default::default(), peers, gateway, until()));
    let mut client =
        JobServiceClient::new(tonic::transport::Endpoint::from_shared(url).unwrap().connect_lazy());

    let submitted = client.submit_job(mc_tau(100)).await.expect_err("no dispatcher behind");
    let read = client.get_job(GetJobRequest { id: "j".into() }).await.expect_err("no results service behind");
    for status in [submitted, read] {
        assert_eq!(status.code(), tonic::Code::Internal, "{status:?}");
        assert!(status.message().contains("an internal service refused the call"), "{status:?}");
    }
    stop.send_replace(true);
}
