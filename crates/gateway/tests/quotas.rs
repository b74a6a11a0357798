//! Quotas through the public API (gateway, dispatcher and results in-process over real
//! sockets, memory backends): a tenant over its request rate is refused before any handler
//! with RESOURCE_EXHAUSTED and the bucket's wait, and creates nothing; the dispatcher's quota
//! refusal reaches the caller unchanged (code, message, RetryInfo, `retry-after`).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a failed setup step should just fail the test

mod support;

use std::time::Duration;

use support::{Stack, quotas};
use tanksim_auth::api_key::{generate, record};
use tanksim_auth::{AuthArgs, AuthMode, Authenticator, Scopes, StoredKeys};
use tanksim_broker::{JobStore, KeyStore, MemoryKeys};
use tanksim_gateway::GatewaySettings;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
use tanksim_proto::v1::{ListJobsRequest, SimulateRequest, SubmitJobRequest};
use tanksim_server::QuotaBook;
use tanksim_server::status::retry_hint;
use tanksim_sim_core::canonical::mc_tau_job;
use tanksim_test_util::telemetry::sample;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The stack with `quotas` at the gateway and the dispatcher, and `auth`.
async fn stack(quotas: QuotaBook, auth: Authenticator) -> Stack {
    support::stack_with(GatewaySettings { auth, quotas, ..GatewaySettings::default() }).await
}

/// Auth by API keys, one per tenant with every scope; the keys in the tenants' order.
async fn keys_for(tenants: &[&str]) -> (Authenticator, Vec<String>) {
    let keys = MemoryKeys::new();
    let mut tokens = Vec::new();
    for tenant in tenants {
        let key = generate().unwrap();
        keys.put_key(&record(&key, tenant, "test", Scopes::all(), 1, None).unwrap()).await.unwrap();
        tokens.push(key);
    }
    let auth = Authenticator::start(&AuthArgs::default(), AuthMode::Required, StoredKeys::Memory(keys)).await;
    (auth.unwrap(), tokens)
}

#[derive(Clone)]
struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

fn jobs_as(
    s: &Stack,
    key: &str,
) -> JobServiceClient<tonic::service::interceptor::InterceptedService<Channel, Bearer>> {
    let bearer = Bearer(format!("Bearer {key}").parse().unwrap());
    JobServiceClient::with_interceptor(s.channel.clone(), bearer)
}

fn mc_tau(runs: u64) -> SubmitJobRequest {
    SubmitJobRequest::from(&mc_tau_job(runs, 1))
}

// The recorder is thread-local: the test's single-threaded runtime runs the services on it.
#[tokio::test]
async fn a_tenant_over_its_request_rate_is_refused_with_the_wait_and_creates_nothing() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let (auth, tokens) = keys_for(&["acme", "beta"]).await;
    let s = stack(quotas("default: {requests_per_second: 1, burst: 3}"), auth).await;
    let (mut acme, mut beta) = (jobs_as(&s, &tokens[0]), jobs_as(&s, &tokens[1]));

    // The burst passes (each call costs a token, whichever method)...
    acme.list_jobs(ListJobsRequest::default()).await.unwrap();
    acme.list_jobs(ListJobsRequest::default()).await.unwrap();
    let job = acme.submit_job(mc_tau(100)).await.unwrap().into_inner().job.unwrap();
    // ...then the next call is refused before any handler runs: this submit creates nothing.
    let refused = acme.submit_job(mc_tau(100)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("tenant acme: more than 1 requests per second (burst 3) at this gateway"),
        "{}",
        refused.message()
    );
    let (delay, header) = retry_hint(&refused);
    let delay = delay.expect("a RetryInfo detail");
    assert!(delay > Duration::ZERO && delay <= Duration::from_secs(1), "{delay:?}");
    assert_eq!(header.as_deref(), Some("1"));
    let stored = s.store.list_jobs("acme", None, 10).await.unwrap();
    assert_eq!(stored.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [job.id.as_str()]);
    assert_eq!(
        sample(
            &handle.render(),
            "tanksim_quota_rejections_total",
            &[("limit", "requests_per_second"), ("tenant", "_other")]
        ),
        Some(1.0)
    );

    // One bucket for all of the tenant's calls: Simulate is refused too.
    let bearer = Bearer(format!("Bearer {}", tokens[0]).parse().unwrap());
    let mut simulation = SimulationServiceClient::with_interceptor(s.channel.clone(), bearer);
    let config = mc_tau(1).config;
    let refused = simulation.simulate(SimulateRequest { config: config.clone() }).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    // Another tenant has a bucket of its own.
    beta.list_jobs(ListJobsRequest::default()).await.unwrap();

    // The hint is true: after it, a call passes again.
    tokio::time::sleep(delay + Duration::from_millis(50)).await;
    simulation.simulate(SimulateRequest { config }).await.unwrap();
}

#[tokio::test]
async fn the_dispatchers_quota_refusal_reaches_the_caller_unchanged() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let s = stack(quotas("default: {concurrent_jobs: 1}"), Authenticator::disabled()).await;
    let mut jobs = JobServiceClient::new(s.channel.clone());
    let job = jobs.submit_job(mc_tau(100)).await.unwrap().into_inner().job.unwrap();
    let refused = jobs.submit_job(mc_tau(100)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_eq!(refused.message(), "tenant default: 1 concurrent jobs (limit 1); retry when one ends");
    assert_eq!(retry_hint(&refused), (Some(Duration::from_secs(10)), Some("10".to_owned())));
    let stored = s.store.list_jobs("default", None, 10).await.unwrap();
    assert_eq!(stored.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [job.id.as_str()]);
    // Counted as a refusal, not as a server fault.
    assert_eq!(
        sample(&handle.render(), "simulation_errors_total", &[("reason", "resource_exhausted")]),
        Some(1.0)
    );
    assert_eq!(sample(&handle.render(), "simulation_errors_total", &[("reason", "internal")]), Some(0.0));
}
