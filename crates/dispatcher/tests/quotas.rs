//! Per-tenant job quotas at the dispatcher over real sockets: a job over its tenant's limit is
//! refused with RESOURCE_EXHAUSTED naming the limit and the numbers, a retry hint when
//! waiting helps (RetryInfo and `retry-after`), nothing recorded or enqueued, and counted;
//! a job that ends gives its share back.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns: a failed setup step should just fail the test

#[path = "support/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{as_tenant, dispatch, start};
use tanksim_broker::quota::JOB_QUOTA_RETRY_AFTER;
use tanksim_broker::{JobStore, MemoryQueue, MemoryStore, TaskQueue};
use tanksim_dispatcher::DispatcherSettings;
use tanksim_proto::internal::v1::CancelJobRequest;
use tanksim_server::QuotaBook;
use tanksim_server::status::retry_hint;
use tanksim_test_util::telemetry::sample;
use tonic::Code;

/// Settings whose quotas are `yaml` (a quotas file) over no limits at all.
fn with_quotas(yaml: &str) -> DispatcherSettings {
    DispatcherSettings { quotas: QuotaBook::from_yaml(yaml).unwrap(), ..DispatcherSettings::default() }
}

// The recorder is thread-local: the test's single-threaded runtime runs the dispatcher on it.
#[tokio::test]
async fn a_job_over_the_concurrent_jobs_quota_is_resource_exhausted_and_not_recorded() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let settings = with_quotas("default: {concurrent_jobs: 1}\ntenants: {acme: {concurrent_jobs: 2}}");
    let d = start(queue.clone(), store.clone(), settings).await;
    let mut client = d.client.clone();
    let acme = || {
        sample(
            &handle.render(),
            "tanksim_quota_rejections_total",
            &[("limit", "concurrent_jobs"), ("tenant", "acme")],
        )
    };
    let others = || {
        sample(
            &handle.render(),
            "tanksim_quota_rejections_total",
            &[("limit", "concurrent_jobs"), ("tenant", "_other")],
        )
    };

    // beta has the default quota: one job.
    let first = client.dispatch_job(dispatch("beta", 100)).await.unwrap().into_inner().job.unwrap();
    assert_eq!(acme(), Some(0.0), "present at zero from the start");
    assert_eq!(others(), Some(0.0));
    let refused = client.dispatch_job(dispatch("beta", 100)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_eq!(refused.message(), "tenant beta: 1 concurrent jobs (limit 1); retry when one ends");
    assert_eq!(retry_hint(&refused), (Some(JOB_QUOTA_RETRY_AFTER), Some("10".to_owned())));
    assert_eq!(others(), Some(1.0), "beta has no entry: counted as _other");

    // Nothing was recorded or enqueued for the refused job.
    let listed = store.list_jobs("beta", None, 10).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [first.id.as_str()]);
    assert_eq!(store.quota_usage("beta", tanksim_server::job::now_ms()).await.unwrap().concurrent_jobs, 1);
    harness::wait_for(|| {
        let store = store.clone();
        let id = first.id.clone();
        async move { store.job(&id).await.unwrap().unwrap().chunks_enqueued == 1 }
    })
    .await;
    let tasks = queue.read_new("t", 10, Duration::from_millis(50)).await.unwrap();
    assert_eq!(tasks.iter().map(|t| t.task.job_id.as_str()).collect::<Vec<_>>(), [first.id.as_str()]);

    // acme's own entry allows two; each tenant's count is its own.
    client.dispatch_job(dispatch("acme", 100)).await.unwrap();
    client.dispatch_job(dispatch("acme", 100)).await.unwrap();
    let refused = client.dispatch_job(dispatch("acme", 100)).await.unwrap_err();
    assert_eq!(refused.message(), "tenant acme: 2 concurrent jobs (limit 2); retry when one ends");
    assert_eq!(acme(), Some(1.0));

    // A cancel gives beta's share back: the next job is accepted.
    client.cancel_job(as_tenant("beta", CancelJobRequest { id: first.id.clone() })).await.unwrap();
    client.dispatch_job(dispatch("beta", 100)).await.unwrap();
    assert_eq!(others(), Some(1.0));
    d.stop().await;
}

#[tokio::test]
async fn a_job_the_run_quotas_cannot_take_says_whether_waiting_helps() {
    let store = MemoryStore::new();
    let settings = with_quotas("default: {queued_runs: 1000, runs_per_day: 1500}");
    let d = start(MemoryQueue::new(), store.clone(), settings).await;
    let mut client = d.client.clone();

    // Larger than the queued-runs limit by itself: refused, with no hint (waiting cannot help).
    let alone = client.dispatch_job(dispatch("acme", 1001)).await.unwrap_err();
    assert_eq!(alone.code(), Code::ResourceExhausted);
    assert_eq!(
        alone.message(),
        "tenant acme: a job of 1001 runs exceeds the queued runs limit (1000) by itself"
    );
    assert_eq!(retry_hint(&alone), (None, None));

    client.dispatch_job(dispatch("acme", 800)).await.unwrap();
    let queued = client.dispatch_job(dispatch("acme", 300)).await.unwrap_err();
    assert_eq!(
        queued.message(),
        "tenant acme: 800 queued runs + 300 of this job (limit 1000); retry when a job ends"
    );
    assert_eq!(retry_hint(&queued).0, Some(JOB_QUOTA_RETRY_AFTER));

    // The day's runs stay counted after the job ends: retry after midnight UTC.
    let job = store.list_jobs("acme", None, 1).await.unwrap().remove(0);
    client.cancel_job(as_tenant("acme", CancelJobRequest { id: job.id })).await.unwrap();
    client.dispatch_job(dispatch("acme", 600)).await.unwrap();
    let daily = client.dispatch_job(dispatch("acme", 200)).await.unwrap_err();
    assert_eq!(daily.code(), Code::ResourceExhausted);
    assert!(
        daily
            .message()
            .starts_with("tenant acme: 1400 runs submitted today (UTC) + 200 of this job (limit 1500)")
    );
    let (delay, header) = retry_hint(&daily);
    let delay = delay.expect("a retry hint");
    assert!(delay > Duration::ZERO && delay <= Duration::from_secs(86_400), "{delay:?}");
    assert_eq!(header, Some(delay.as_millis().div_ceil(1000).to_string()));
    assert_eq!(store.list_jobs("acme", None, 10).await.unwrap().len(), 2, "refused jobs were not recorded");
    d.stop().await;
}

/// Load shedding: while the chunks waiting for the stream are at `--queue-high-water`, every
/// tenant's new job is refused (RESOURCE_EXHAUSTED, retry in 30 s, counted), nothing of it
/// recorded; once the workers bring the waiting chunks below the mark, jobs pass again.
#[tokio::test]
async fn jobs_are_shed_at_the_queue_high_water_mark_and_pass_below_it() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    // One chunk a run, one chunk on the stream: a job of 10 runs leaves 9 waiting.
    let settings = DispatcherSettings {
        chunk_size: 1,
        queue_backlog: 1,
        queue_high_water: 5,
        quotas: QuotaBook::from_yaml("{}").unwrap(),
        ..DispatcherSettings::default()
    };
    let d = start(queue.clone(), store.clone(), settings).await;
    let mut client = d.client.clone();
    let shed = || sample(&handle.render(), "tanksim_jobs_shed_total", &[]);
    let waiting = || sample(&handle.render(), "tanksim_scheduler_chunks_waiting", &[]);
    client.dispatch_job(dispatch("acme", 10)).await.unwrap();
    assert_eq!(shed(), Some(0.0), "present at zero from the start");
    harness::wait_for(|| std::future::ready(waiting() == Some(9.0))).await;
    for tenant in ["acme", "beta"] {
        let refused = client.dispatch_job(dispatch(tenant, 1)).await.unwrap_err();
        assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
        assert_eq!(
            refused.message(),
            "the queue is over its high-water mark: 9 chunks are waiting for the workers (mark 5); retry in 30 s"
        );
        assert_eq!(retry_hint(&refused), (Some(Duration::from_secs(30)), Some("30".to_owned())));
    }
    assert_eq!(shed(), Some(2.0));
    assert!(store.list_jobs("beta", None, 10).await.unwrap().is_empty(), "a shed job is not recorded");
    assert_eq!(store.list_jobs("acme", None, 10).await.unwrap().len(), 1);

    // A worker takes chunks: below the mark, jobs pass again.
    let mut taken = 0;
    while taken < 5 {
        let tasks = queue.read_new("w", 1, Duration::from_millis(50)).await.unwrap();
        let ids: Vec<String> = tasks.iter().map(|t| t.entry_id.clone()).collect();
        queue.ack(&ids).await.unwrap();
        taken += tasks.len();
    }
    harness::wait_for(|| std::future::ready(waiting().is_some_and(|w| w < 5.0))).await;
    client.dispatch_job(dispatch("beta", 1)).await.unwrap();
    assert_eq!(shed(), Some(2.0));
    d.stop().await;
}
