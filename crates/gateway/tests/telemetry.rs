//! What the gateway tells an operator (in-process dispatcher and results, memory backends,
//! real sockets): `SubmitJob` is a `submit_job` span with the job's kind, runs and id, whose
//! call to the dispatcher continues the trace; requests are counted by kind and failures by
//! reason; `Simulate` counts as kind `single` with its simulation time.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a failed setup step should just fail the test

mod support;

use std::time::Duration;

use opentelemetry::trace::SpanKind;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
use tanksim_proto::v1::{SimulateRequest, SubmitJobRequest};
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_test_util::telemetry::{Spans, attributes, sample};

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
async fn submissions_are_traced_into_the_dispatcher_and_requests_counted_by_kind_and_failure() {
    let spans = Spans::default();
    spans.install();
    let (prometheus, _) = tanksim_telemetry::metrics::install("tanksim-gateway", "test").expect("recorder");
    let stack = support::stack().await;
    let channel = stack.channel.clone();

    let mut jobs = JobServiceClient::new(channel.clone());
    let job = jobs
        .submit_job(SubmitJobRequest::from(&mc_tau_job(1_000, 1)))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let mut invalid = SubmitJobRequest::from(&mc_tau_job(10, 1));
    invalid.config.as_mut().unwrap().dt = 0.0;
    assert_eq!(jobs.submit_job(invalid).await.unwrap_err().code(), tonic::Code::InvalidArgument);
    let no_kind = SubmitJobRequest { job: None, ..SubmitJobRequest::from(&mc_tau_job(10, 1)) };
    assert!(jobs.submit_job(no_kind).await.is_err());
    let mut simulation = SimulationServiceClient::new(channel);
    let config = tanksim_sim_core::SimConfig::mc_tau(10.0);
    simulation.simulate(SimulateRequest { config: Some((&config).into()) }).await.unwrap();

    let text = prometheus.render();
    let requests = |kind| sample(&text, "simulation_requests_total", &[("kind", kind)]);
    assert_eq!(requests("monte_carlo"), Some(2.0), "the valid and the invalid one: {text}");
    assert_eq!((requests("single"), requests("sweep")), (Some(1.0), Some(0.0)), "{text}");
    let errors = |reason| sample(&text, "simulation_errors_total", &[("reason", reason)]);
    assert_eq!((errors("invalid_argument"), errors("unavailable")), (Some(2.0), Some(0.0)), "{text}");
    let single = [("kind", "single")];
    assert_eq!(sample(&text, "simulation_duration_seconds_count", &single), Some(1.0), "{text}");

    eventually("three submit_job spans", || spans.find("submit_job", SpanKind::Internal).len() == 3).await;
    let submitted = spans.find("submit_job", SpanKind::Internal);
    let accepted = submitted
        .iter()
        .find(|s| attributes(s).get("job.id") == Some(&job.id))
        .unwrap_or_else(|| panic!("no submit_job span with job.id {}", job.id));
    let a = attributes(accepted);
    assert_eq!((a["job.kind"].as_str(), a["job.runs"].as_str()), ("monte_carlo", "1000"));
    let server = spans.find("tanksim.v1.JobService/SubmitJob", SpanKind::Server);
    assert!(
        server.iter().any(|s| s.span_context.span_id() == accepted.parent_span_id),
        "under the call's span"
    );
    let dispatch = "tanksim.internal.v1.DispatcherService/DispatchJob";
    let client = spans.find(dispatch, SpanKind::Client);
    let client = client.iter().find(|s| s.parent_span_id == accepted.span_context.span_id()).unwrap();
    eventually("the dispatcher's server span", || {
        spans
            .find(dispatch, SpanKind::Server)
            .iter()
            .any(|s| s.parent_span_id == client.span_context.span_id())
    })
    .await;
    assert_eq!(client.span_context.trace_id(), accepted.span_context.trace_id());
    let no_kind = submitted.iter().filter(|s| !attributes(s).contains_key("job.kind")).count();
    assert_eq!(no_kind, 1, "a request without a kind has no job.kind");
    drop(stack);
}
