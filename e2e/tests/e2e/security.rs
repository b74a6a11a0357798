//! The security boundary, attacked from outside through the public API: a gateway with auth
//! (bootstrap keys file, keys in Redis, OIDC JWTs against a JWKS file) in front of the real
//! services. Every refusal asserts its exact code, and that nothing changed.

use std::time::Duration;

use serde_json::json;
use tanksim_auth::Scopes;
use tanksim_auth::api_key::{generate, record, sha256_hex};
use tanksim_broker::{KeyStore, RedisKeys};
use tanksim_e2e::cluster::Options;
use tanksim_e2e::{Cluster, api, binaries};
use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
use tanksim_proto::v1::{
    CancelJobRequest, ExportRunsRequest, GetJobRequest, GetJobResultsRequest, JobState, ListJobsRequest,
    SimulateRequest, WatchJobRequest,
};
use tanksim_server::status::retry_hint;
use tanksim_test_util::oidc::{self, AUDIENCE, ISSUER, Signer};
use tonic::Code;

use crate::mc_tau;

/// API keys written to the bootstrap file, by what they may do.
struct Keys {
    /// Tenant `acme`, every job scope.
    acme: String,
    /// Tenant `beta`, every job scope.
    beta: String,
    /// Tenant `acme`, `jobs:read` only.
    acme_reader: String,
}

struct Secured {
    cluster: Cluster,
    keys: Keys,
    issuer: Signer,
    _dir: tempfile::TempDir,
}

async fn secured_cluster() -> Secured {
    secured_cluster_with(|_| Vec::new()).await
}

/// [`secured_cluster`] with extra environment for the gateway, the dispatcher and results,
/// made from the cluster's temporary directory.
async fn secured_cluster_with(
    service_env: impl FnOnce(&std::path::Path) -> Vec<(String, String)>,
) -> Secured {
    let dir = tempfile::tempdir().unwrap();
    let keys =
        Keys { acme: generate().unwrap(), beta: generate().unwrap(), acme_reader: generate().unwrap() };
    let line = |tenant: &str, key: &str, scopes: &[&str]| {
        json!({"tenant": tenant, "name": "bootstrap", "scopes": scopes, "sha256": sha256_hex(key)})
            .to_string()
    };
    let all = ["jobs:submit", "jobs:read", "jobs:cancel", "simulate"];
    let file = [
        line("acme", &keys.acme, &all),
        line("beta", &keys.beta, &all),
        line("acme", &keys.acme_reader, &["jobs:read"]),
    ]
    .join("\n");
    std::fs::write(dir.path().join("keys.jsonl"), file).unwrap();
    let issuer = Signer::es256("test-key");
    std::fs::write(dir.path().join("jwks.json"), oidc::jwks(&[&issuer])).unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let var = |k: &str, v: String| (k.to_owned(), v);
    let options = Options {
        gateway_env: vec![
            var("TANKSIM_AUTH", "required".into()),
            var("TANKSIM_API_KEYS_FILE", path("keys.jsonl")),
            var("TANKSIM_OIDC_ISSUER", ISSUER.into()),
            var("TANKSIM_OIDC_AUDIENCE", AUDIENCE.into()),
            var("TANKSIM_OIDC_JWKS", path("jwks.json")),
        ],
        keys_in_redis: true,
        chunk_size: crate::CHUNK,
        service_env: service_env(dir.path()),
        ..Options::default()
    };
    Secured { cluster: Cluster::start(binaries!(), options).await, keys, issuer, _dir: dir }
}

/// The code of every public method called with `token` (on job `id`).
async fn codes(cluster: &Cluster, token: Option<&str>, id: &str) -> Vec<(&'static str, Code)> {
    let mut c = cluster.gateway_client_as(token);
    let id = || id.to_owned();
    let mut out = vec![
        ("SubmitJob", code(c.submit_job(mc_tau(20_000)).await)),
        ("GetJob", code(c.get_job(GetJobRequest { id: id() }).await)),
        ("WatchJob", code(c.watch_job(WatchJobRequest { id: id() }).await)),
        ("ListJobs", code(c.list_jobs(ListJobsRequest::default()).await)),
        (
            "GetJobResults",
            code(c.get_job_results(GetJobResultsRequest { id: id(), ..Default::default() }).await),
        ),
        ("ExportRuns", code(c.export_runs(ExportRunsRequest { id: id() }).await)),
        ("CancelJob", code(c.cancel_job(CancelJobRequest { id: id() }).await)),
    ];
    let channel =
        tonic::transport::Endpoint::from_shared(cluster.gateway_url().to_owned()).unwrap().connect_lazy();
    let bearer = tanksim_cli::client::Bearer::new(token).unwrap();
    let mut sim = SimulationServiceClient::with_interceptor(channel, bearer);
    out.push(("Simulate", code(sim.simulate(SimulateRequest { config: mc_tau(1).config }).await)));
    out
}

fn code<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Code {
    result.err().map_or(Code::Ok, |s| s.code())
}

fn all(code: Code) -> Vec<(&'static str, Code)> {
    ["SubmitJob", "GetJob", "WatchJob", "ListJobs", "GetJobResults", "ExportRuns", "CancelJob", "Simulate"]
        .into_iter()
        .map(|m| (m, code))
        .collect()
}

#[tokio::test]
async fn every_public_call_needs_a_valid_credential() {
    let s = secured_cluster().await;
    let c = &s.cluster;
    let job = api::submit(&mut c.gateway_client_as(Some(&s.keys.acme)), mc_tau(40_000)).await;
    let expired = s.issuer.token("acme", "jobs:read jobs:submit", -3600);
    let wrong_audience = s.issuer.sign(&{
        let mut claims = oidc::claims("acme", "jobs:read", 300);
        claims["aud"] = json!("another-api");
        claims
    });
    let foreign = Signer::es256("test-key").token("acme", "jobs:read", 300);
    for (what, token) in [
        ("no token", None),
        ("an unknown API key", Some(generate().unwrap())),
        ("a malformed token", Some("not-a-token".to_owned())),
        ("an expired JWT", Some(expired)),
        ("a JWT for another audience", Some(wrong_audience)),
        ("a JWT signed by another key", Some(foreign)),
    ] {
        assert_eq!(codes(c, token.as_deref(), &job.id).await, all(Code::Unauthenticated), "{what}");
    }
    // Health needs no credentials (probes).
    tanksim_e2e::health::wait_serving(c.gateway_url(), Duration::from_secs(5), || None).await.unwrap();

    // A key made in Redis works until revoked, then is refused like an unknown one.
    let keys = RedisKeys::connect(&c.redis_url()).await.unwrap();
    let key = generate().unwrap();
    let stored = record(&key, "acme", "ci", Scopes::parse_strict(&["jobs:read"]).unwrap(), 1, None).unwrap();
    keys.put_key(&stored).await.unwrap();
    let mut client = c.gateway_client_as(Some(&key));
    assert_eq!(api::get_job(&mut client, &job.id).await.unwrap().id, job.id);
    keys.revoke_key(stored.id()).await.unwrap();
    assert_eq!(api::get_job(&mut client, &job.id).await.unwrap_err().code(), Code::Unauthenticated);

    // A valid JWT of the same tenant sees the same job.
    let mut jwt_client = c.gateway_client_as(Some(&s.issuer.token("acme", "openid jobs:read", 300)));
    assert_eq!(api::get_job(&mut jwt_client, &job.id).await.unwrap().tenant, "acme");
    // Nothing the refused calls did changed the job: it ends as it would have.
    let mut owner = c.gateway_client_as(Some(&s.keys.acme));
    assert_eq!(api::wait_ended(&mut owner, &job.id, crate::JOB_LIMIT).await.state(), JobState::Succeeded);
}

#[tokio::test]
async fn a_credential_may_do_only_what_its_scopes_allow() {
    let s = secured_cluster().await;
    let c = &s.cluster;
    let job = api::submit(&mut c.gateway_client_as(Some(&s.keys.acme)), mc_tau(40_000)).await;
    let mut expected = all(Code::PermissionDenied);
    for read in ["GetJob", "WatchJob", "ListJobs", "GetJobResults"] {
        expected.iter_mut().find(|(m, _)| *m == read).unwrap().1 = Code::Ok;
    }
    // Export of a Monte Carlo job is a precondition failure, after authorisation passed.
    expected.iter_mut().find(|(m, _)| *m == "ExportRuns").unwrap().1 = Code::FailedPrecondition;
    assert_eq!(codes(c, Some(&s.keys.acme_reader), &job.id).await, expected);
    let jwt = s.issuer.token("acme", "jobs:read", 300);
    assert_eq!(codes(c, Some(&jwt), &job.id).await, expected, "the same scopes from a JWT");

    // The refused submit and cancel changed nothing: one job, and it succeeds.
    let mut owner = c.gateway_client_as(Some(&s.keys.acme));
    assert_eq!(api::wait_ended(&mut owner, &job.id, crate::JOB_LIMIT).await.state(), JobState::Succeeded);
    let listed = owner.list_jobs(ListJobsRequest::default()).await.unwrap().into_inner().jobs;
    assert_eq!(listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [job.id.as_str()]);
}

#[tokio::test]
async fn tenants_never_see_or_touch_each_others_jobs() {
    let s = secured_cluster().await;
    let c = &s.cluster;
    let mut acme = c.gateway_client_as(Some(&s.keys.acme));
    let mut beta = c.gateway_client_as(Some(&s.keys.beta));
    let job = api::submit(&mut acme, mc_tau(200_000)).await;
    assert_eq!(job.tenant, "acme");
    let beta_job = api::submit(&mut beta, mc_tau(20_000)).await;

    // Every call on acme's job from beta answers exactly as for an id that does not exist.
    let unknown = "0199b8a2-7c41-7e0a-9d5e-3f1f2b8c9d10";
    let on_acme = codes(c, Some(&s.keys.beta), &job.id).await;
    let on_nothing = codes(c, Some(&s.keys.beta), unknown).await;
    let without_list_and_submit = |v: Vec<(&'static str, Code)>| {
        v.into_iter()
            .filter(|(m, _)| !matches!(*m, "SubmitJob" | "ListJobs" | "Simulate"))
            .collect::<Vec<_>>()
    };
    assert_eq!(without_list_and_submit(on_acme.clone()), without_list_and_submit(all(Code::NotFound)));
    assert_eq!(on_acme, on_nothing, "no existence leak");
    let message = |id: &str| {
        let mut beta = beta.clone();
        let id = id.to_owned();
        async move {
            beta.get_job(GetJobRequest { id: id.clone() }).await.unwrap_err().message().replace(&id, "ID")
        }
    };
    assert_eq!(message(&job.id).await, message(unknown).await, "the same words, too");

    // Each tenant lists its own jobs only (beta's codes() submitted more).
    let ids = |jobs: Vec<tanksim_proto::v1::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let acme_list = ids(acme.list_jobs(ListJobsRequest::default()).await.unwrap().into_inner().jobs);
    assert_eq!(acme_list, std::slice::from_ref(&job.id));
    let beta_list = ids(beta.list_jobs(ListJobsRequest::default()).await.unwrap().into_inner().jobs);
    assert!(beta_list.contains(&beta_job.id) && !beta_list.contains(&job.id), "{beta_list:?}");

    // beta's cancel did nothing: acme's job runs to the end; acme can still cancel its own.
    let done = api::wait_ended(&mut acme, &job.id, crate::JOB_LIMIT).await;
    assert_eq!(done.state(), JobState::Succeeded, "{done:?}");
    let results = api::results(&mut acme, &job.id).await;
    assert!(results.metrics.iter().all(|m| m.count + m.absent + m.non_finite == 200_000));
}

/// `tanksim_quota_rejections_total` of `limit` and `tenant` on process `name`.
async fn rejections(c: &Cluster, name: &str, limit: &str, tenant: &str) -> f64 {
    let samples = tanksim_e2e::metrics::scrape(&c.admin_url(name)).await.unwrap();
    let labels = [("limit", limit), ("tenant", tenant)];
    samples
        .value("tanksim_quota_rejections_total", &labels)
        .unwrap_or_else(|| panic!("{name}: {}", samples.describe("tanksim_quota_rejections_total")))
}

/// Quota hits through the public API, the quotas file read by the gateway and the dispatcher
/// processes: acme may hold one job and submit 2,100,000 runs a UTC day; beta may make three
/// calls at once and one a second. Every refusal is RESOURCE_EXHAUSTED with the limit, the
/// numbers and a retry hint, and leaves no job behind; a job's end (a cancel in the
/// dispatcher, a finish in results) gives its share back.
#[tokio::test]
async fn rate_limit_and_quota_hits_are_resource_exhausted_and_change_nothing() {
    let quotas = "default: {requests_per_second: 0}\ntenants:\n  acme: {concurrent_jobs: 1, runs_per_day: 2100000, concurrent_streams: 1}\n  beta: {requests_per_second: 1, burst: 3}\n";
    let s = secured_cluster_with(|dir| {
        let path = dir.join("quotas.yaml");
        std::fs::write(&path, quotas).unwrap();
        vec![("TANKSIM_QUOTAS_FILE".to_owned(), path.display().to_string())]
    })
    .await;
    let c = &s.cluster;
    let day = tanksim_broker::quota::utc_day(tanksim_server::job::now_ms());
    let mut acme = c.gateway_client_as(Some(&s.keys.acme));

    // One job at a time: the second is refused while the first runs, and is not created.
    let big = api::submit(&mut acme, mc_tau(2_000_000)).await;
    let refused = acme.submit_job(mc_tau(20_000)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_eq!(refused.message(), "tenant acme: 1 concurrent jobs (limit 1); retry when one ends");
    assert_eq!(retry_hint(&refused), (Some(Duration::from_secs(10)), Some("10".to_owned())));
    let listed =
        |jobs: tanksim_proto::v1::ListJobsResponse| jobs.jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let ids = listed(acme.list_jobs(ListJobsRequest::default()).await.unwrap().into_inner());
    assert_eq!(ids, std::slice::from_ref(&big.id), "the refused job does not exist");
    assert_eq!(rejections(c, "dispatcher", "concurrent_jobs", "acme").await, 1.0);

    // One open stream at a time: a second WatchJob or an ExportRuns is refused while the first
    // watch is open, and the slot comes back when that client goes away.
    let mut watching = acme.watch_job(WatchJobRequest { id: big.id.clone() }).await.unwrap().into_inner();
    watching.message().await.unwrap().expect("the first event");
    let one_stream = "tenant acme: 1 WatchJob and ExportRuns streams open at this gateway, the most allowed \
                      (concurrent_streams 1); retry once one has ended";
    let refused = acme.watch_job(WatchJobRequest { id: big.id.clone() }).await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), (Code::ResourceExhausted, one_stream), "{refused:?}");
    assert_eq!(retry_hint(&refused), (Some(Duration::from_secs(5)), Some("5".to_owned())));
    let export = ExportRunsRequest { id: big.id.clone() };
    let refused = acme.export_runs(export).await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), (Code::ResourceExhausted, one_stream), "{refused:?}");
    assert_eq!(rejections(c, "gateway", "concurrent_streams", "acme").await, 2.0);
    drop(watching);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match acme.watch_job(WatchJobRequest { id: big.id.clone() }).await {
            Ok(_) => break,
            Err(status)
                if status.code() == Code::ResourceExhausted && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("the dropped watch's slot did not come back: {status:?}"),
        }
    }

    // The dispatcher's cancel gives the share back; so does results' finish.
    acme.cancel_job(CancelJobRequest { id: big.id.clone() }).await.unwrap();
    let second = api::submit(&mut acme, mc_tau(20_000)).await;
    assert_eq!(api::wait_ended(&mut acme, &second.id, crate::JOB_LIMIT).await.state(), JobState::Succeeded);
    let third = api::submit(&mut acme, mc_tau(20_000)).await;
    assert_eq!(api::wait_ended(&mut acme, &third.id, crate::JOB_LIMIT).await.state(), JobState::Succeeded);

    // Runs of the day stay counted after their jobs end: 2,040,000 of 2,100,000 are used.
    let refused = acme.submit_job(mc_tau(100_000)).await.unwrap_err();
    let same_day = day == tanksim_broker::quota::utc_day(tanksim_server::job::now_ms());
    if same_day {
        assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
        assert!(
            refused.message().starts_with(
                "tenant acme: 2040000 runs submitted today (UTC) + 100000 of this job (limit 2100000)"
            ),
            "{}",
            refused.message()
        );
        let (delay, header) = retry_hint(&refused);
        let delay = delay.expect("retry after midnight UTC");
        assert!(delay > Duration::ZERO && delay <= Duration::from_secs(86_400), "{delay:?}");
        assert_eq!(header, Some(delay.as_millis().div_ceil(1000).to_string()));
        assert_eq!(rejections(c, "dispatcher", "runs_per_day", "acme").await, 1.0);
    }
    let ids = listed(acme.list_jobs(ListJobsRequest::default()).await.unwrap().into_inner());
    assert_eq!(ids.len(), 3, "cancelled, succeeded, succeeded; no refused job: {ids:?}");

    // beta: three calls at once, then one a second; a refused submit creates nothing.
    let mut beta = c.gateway_client_as(Some(&s.keys.beta));
    for _ in 0..3 {
        beta.list_jobs(ListJobsRequest::default()).await.unwrap();
    }
    let refused = beta.submit_job(mc_tau(20_000)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().starts_with("tenant beta: more than 1 requests per second (burst 3)"),
        "{}",
        refused.message()
    );
    let (delay, header) = retry_hint(&refused);
    let delay = delay.expect("the bucket's wait");
    assert!(delay > Duration::ZERO && delay <= Duration::from_secs(1), "{delay:?}");
    assert_eq!(header.as_deref(), Some("1"));
    assert_eq!(
        beta.get_job(GetJobRequest { id: big.id.clone() }).await.unwrap_err().code(),
        Code::ResourceExhausted
    );
    assert_eq!(rejections(c, "gateway", "requests_per_second", "beta").await, 2.0);
    // acme's calls never touched beta's bucket, and after the wait beta passes: no job of its own.
    tokio::time::sleep(delay + Duration::from_millis(100)).await;
    let ids = listed(beta.list_jobs(ListJobsRequest::default()).await.unwrap().into_inner());
    assert!(ids.is_empty(), "the refused submit created nothing: {ids:?}");
}
