//! The job store's size, bounded: ended jobs expire after the results service's retention
//! (status, results and rows, then NOT_FOUND everywhere; a running job is never touched), and
//! a Redis at `maxmemory` refuses submissions with RESOURCE_EXHAUSTED while the job in flight
//! waits and then finishes with the embedded run's results.

use std::time::Duration;

use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{
    CancelJobRequest, ExportRunsRequest, GetJobRequest, JobState, ListJobsRequest, submit_job_request,
};
use tanksim_server::status::retry_hint;
use tonic::Code;

use crate::{
    CHUNK, JOB_LIMIT, LIMIT, RUNS, assert_complete_and_identical, mc_tau, mc_tau_reference, mid_job,
};

/// `CONFIG SET name value` on the cluster's Redis.
async fn config_set(cluster: &Cluster, name: &str, value: &str) {
    let client = redis::Client::open(cluster.redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query_async(&mut conn).await.unwrap();
}

/// The ids `ListJobs` shows.
async fn listed(client: &mut api::Client) -> Vec<String> {
    let page = client.list_jobs(ListJobsRequest { page_size: 100, page_token: String::new() }).await.unwrap();
    page.into_inner().jobs.into_iter().map(|j| j.id).collect()
}

/// Waits until job `id` is unknown (NOT_FOUND), at most `limit`; how long that took.
async fn wait_gone(client: &mut api::Client, id: &str, limit: Duration) -> Duration {
    let started = tokio::time::Instant::now();
    loop {
        match client.get_job(GetJobRequest { id: id.into() }).await {
            Err(status) if status.code() == Code::NotFound => return started.elapsed(),
            Ok(_) if started.elapsed() < limit => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("job {id} still there after {:?}: {other:?}", started.elapsed()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_jobs_expire_after_the_retention_and_running_ones_stay() {
    scenario("ended_jobs_expire_after_the_retention_and_running_ones_stay", LIMIT, async {
        let retention = Duration::from_secs(2);
        let env = vec![("TANKSIM_JOB_RETENTION_SECONDS".to_owned(), retention.as_secs().to_string())];
        let cluster =
            Cluster::start(binaries!(), Options { workers: 1, service_env: env, ..Options::default() }).await;
        let mut client = cluster.gateway_client();

        // A job that runs far longer than the retention, and a small dataset job that ends.
        let giant = api::submit(&mut client, mc_tau(100_000_000)).await;
        let mut spec = api::example("dataset-100k.yaml");
        let Some(submit_job_request::Job::Dataset(ds)) = &mut spec.job else { unreachable!() };
        ds.runs = 200;
        let small = api::submit(&mut client, spec).await;
        let ended = api::wait_ended(&mut client, &small.id, JOB_LIMIT).await;
        assert_eq!(ended.state(), JobState::Succeeded, "{ended:?}");
        let (_, rows) = api::export_runs(&mut client, &small.id).await;
        assert_eq!(rows.len(), 200);

        // Gone within the retention and a sweep period (a quarter of it) of its end, whole.
        let took = wait_gone(&mut client, &small.id, retention * 3).await;
        assert!(took <= retention * 2, "{took:?}");
        let export = client.export_runs(ExportRunsRequest { id: small.id.clone() }).await;
        assert_eq!(export.map(drop).unwrap_err().code(), Code::NotFound);
        assert_eq!(listed(&mut client).await, std::slice::from_ref(&giant.id));

        // The giant job has outlived the retention running, and is still there.
        let running = api::get_job(&mut client, &giant.id).await.unwrap();
        assert_eq!(running.state(), JobState::Running, "{running:?}");

        // Cancelled, it has ended: it expires too.
        client.cancel_job(CancelJobRequest { id: giant.id.clone() }).await.unwrap();
        wait_gone(&mut client, &giant.id, retention * 3).await;
        assert!(listed(&mut client).await.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_job_store_refuses_submissions_and_the_running_job_loses_nothing() {
    scenario("a_full_job_store_refuses_submissions_and_the_running_job_loses_nothing", LIMIT, async {
        mc_tau_reference().await;
        // Reports refused for a few seconds stay within the worker's retries (3/4 of this).
        let options =
            Options { chunk_size: CHUNK, visibility_timeout: Duration::from_secs(10), ..Options::default() };
        let cluster = Cluster::start(binaries!(), options).await;
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;
        mid_job(&mut client, &job, 4).await;

        // Full: Redis refuses every write (as at maxmemory with noeviction).
        config_set(&cluster, "maxmemory-policy", "noeviction").await;
        config_set(&cluster, "maxmemory", "1").await;
        let refused = client.submit_job(mc_tau(10)).await.expect_err("the store is full");
        assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
        assert!(refused.message().contains("job store is full"), "{refused:?}");
        let (delay, header) = retry_hint(&refused);
        assert_eq!((delay, header.as_deref()), (Some(Duration::from_secs(30)), Some("30")));
        // Reads go on.
        assert_eq!(
            listed(&mut client).await,
            std::slice::from_ref(&job.id),
            "the refused job was not created"
        );
        let during = api::get_job(&mut client, &job.id).await.unwrap();
        assert!(!api::is_terminal(&during), "{during:?}");
        tokio::time::sleep(Duration::from_secs(3)).await;

        // Room again: the job finishes with the embedded run's results, and submissions work.
        config_set(&cluster, "maxmemory", "0").await;
        assert_complete_and_identical(&cluster, &mut client, &job).await;
        let after = api::submit(&mut client, mc_tau(10)).await;
        let after = api::wait_ended(&mut client, &after.id, JOB_LIMIT).await;
        assert_eq!(after.state(), JobState::Succeeded, "{after:?}");
        cluster.assert_no_worker_crashes();
    })
    .await;
}
