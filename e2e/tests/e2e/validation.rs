//! Malformed specs are refused by the gateway process with INVALID_ARGUMENT and a BadRequest
//! detail naming the offending field; the limits agree across the services (one set raised
//! for all, one message limit on every hop, RESOURCE_EXHAUSTED beyond it); hostile sizes and
//! strings (terabyte datasets, huge names, 100,000 violations, ids with glob and path
//! characters) are refused precisely.

use prost::Message;
use tanksim_broker::TaskQueue;
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{
    self, CancelJobRequest, ExportRunsRequest, GetJobRequest, GetJobResultsRequest, JobState,
    ListJobsRequest, SubmitJobRequest, WatchJobRequest, param_distribution, submit_job_request,
};
use tonic_types::StatusExt;

use crate::{JOB_LIMIT, LIMIT, mc_tau};

async fn refused_field(client: &mut api::Client, spec: SubmitJobRequest) -> Vec<String> {
    let status = client.submit_job(spec).await.expect_err("the spec is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let detail =
        status.get_details_bad_request().unwrap_or_else(|| panic!("no BadRequest detail: {status:?}"));
    assert!(detail.field_violations.iter().all(|v| !v.description.is_empty()), "{detail:?}");
    detail.field_violations.into_iter().map(|v| v.field).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_specs_get_invalid_argument_naming_the_field() {
    scenario("malformed_specs_get_invalid_argument_naming_the_field", LIMIT, async {
        let cluster = Cluster::start(binaries!(), Options { workers: 1, ..Options::default() }).await;
        let mut client = cluster.gateway_client();

        let mut spec = mc_tau(1_000);
        spec.config.as_mut().unwrap().dt = -1.0;
        let fields = refused_field(&mut client, spec).await;
        assert!(fields.iter().any(|f| f == "config.dt"), "{fields:?}");

        let mut spec = mc_tau(1_000);
        let Some(submit_job_request::Job::MonteCarlo(mc)) = &mut spec.job else { unreachable!() };
        mc.params[0].param = "plant.no_such_field".into();
        let fields = refused_field(&mut client, spec).await;
        assert!(fields.iter().any(|f| f == "monte_carlo.params[0].param"), "{fields:?}");

        let mut spec = mc_tau(1_000);
        spec.job = None;
        let fields = refused_field(&mut client, spec).await;
        assert!(fields.iter().any(|f| f == "job"), "{fields:?}");

        let mut spec = mc_tau(0);
        spec.name = "zero runs".into();
        let fields = refused_field(&mut client, spec).await;
        assert!(fields.iter().any(|f| f == "monte_carlo.runs"), "{fields:?}");

        // Nothing refused reached the queue.
        let stats = cluster.queue().await.stats().await.unwrap();
        assert_eq!(stats.length, 0, "{stats:?}");
    })
    .await;
}

/// `mc_tau(runs)` with `tau` drawn from a choice of `values` values: a valid job of any size.
fn mc_tau_with_choice(runs: u64, values: usize) -> SubmitJobRequest {
    let mut spec = mc_tau(runs);
    let Some(submit_job_request::Job::MonteCarlo(mc)) = &mut spec.job else { unreachable!() };
    let values = (0..values).map(|i| 5.0 + (i % 1000) as f64 * 0.01).collect();
    mc.params[0].distribution =
        Some(param_distribution::Distribution::Choice(v1::Choice { values, weights: Vec::new() }));
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_raised_for_the_system_are_raised_for_the_dispatcher_too() {
    scenario("limits_raised_for_the_system_are_raised_for_the_dispatcher_too", LIMIT, async {
        // As the shared `limits` ConfigMap does it: one variable, every service.
        let raised = vec![("TANKSIM_MAX_STEPS".to_owned(), "2000000".to_owned())];
        let options = Options { workers: 1, service_env: raised, ..Options::default() };
        let cluster = Cluster::start(binaries!(), options).await;
        let mut client = cluster.gateway_client();

        // 1,500,000 steps: over the default limit, under the raised one. The gateway accepts
        // it, and so does the dispatcher behind it (which used to re-validate with defaults).
        let mut spec = mc_tau(1);
        spec.config.as_mut().unwrap().horizon = 15_000.0;
        let job = api::submit(&mut client, spec).await;
        let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
        assert_eq!(job.state(), JobState::Succeeded, "{job:?}");

        // Beyond the raised limit: refused, naming the field.
        let mut spec = mc_tau(1);
        spec.config.as_mut().unwrap().horizon = 25_000.0;
        let fields = refused_field(&mut client, spec).await;
        assert_eq!(fields, ["config.horizon"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sizes_and_strings_are_refused_precisely() {
    scenario("hostile_sizes_and_strings_are_refused_precisely", LIMIT, async {
        let cluster = Cluster::start(binaries!(), Options { workers: 1, ..Options::default() }).await;
        let mut client = cluster.gateway_client();

        // The default limits refuse what a raised one accepts (see above).
        let mut spec = mc_tau(1);
        spec.config.as_mut().unwrap().horizon = 15_000.0;
        assert_eq!(refused_field(&mut client, spec).await, ["config.horizon"]);

        // ~1.9 TB of rows: each run within its limits, the job not.
        let mut spec = api::example("dataset-100k.yaml");
        let Some(submit_job_request::Job::Dataset(ds)) = &mut spec.job else { unreachable!() };
        (ds.runs, ds.record_every) = (10_000_000, 1);
        let status = client.submit_job(spec).await.expect_err("refused");
        let detail = status.get_details_bad_request().expect("a BadRequest detail");
        assert_eq!(detail.field_violations.len(), 1, "{detail:?}");
        let v = &detail.field_violations[0];
        assert_eq!(v.field, "dataset.record_every");
        assert!(v.description.contains("TiB") && v.description.contains("limit of 8.0 GiB"), "{v:?}");

        // A 3.9 MB name.
        let mut spec = mc_tau(1);
        spec.name = "n".repeat(3_900_000);
        assert_eq!(refused_field(&mut client, spec).await, ["name"]);

        // 100,000 violations: a small error (a client with an 8 KiB header limit receives it)
        // whose last violation counts the ones not listed.
        let values = vec![f64::NAN; 100_000];
        let axis = v1::Axis {
            param: "plant.tau".into(),
            values: Some(v1::axis::Values::List(v1::ValueList { values })),
        };
        let objective = v1::Objective { metric: v1::Metric::Iae as i32, goal: v1::Goal::Minimize as i32 };
        let sweep = v1::Sweep { axes: vec![axis], objective: Some(objective), seed: 0 };
        let spec = SubmitJobRequest { job: Some(submit_job_request::Job::Sweep(sweep)), ..mc_tau(1) };
        let status = client.submit_job(spec).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        let detail = status.get_details_bad_request().expect("a BadRequest detail");
        let last = detail.field_violations.last().unwrap();
        let listed = detail.field_violations.len() - 1;
        assert_eq!(last.description, format!("... and {} more violations, not listed", 100_000 - listed));
        assert!(
            status.details().len() + status.message().len() < 5 * 1024,
            "{} bytes",
            status.details().len()
        );

        // Ids with glob or path characters never reach Redis or the data directory.
        for id in ["", "*", "job?", "[a-z]*", "../../etc/passwd", "a/b", "..", &"x".repeat(65)] {
            let what = format!("{id:?}");
            let get = client.get_job(GetJobRequest { id: id.into() }).await.expect_err(&what);
            let watch = client.watch_job(WatchJobRequest { id: id.into() }).await.expect_err(&what);
            let cancel = client.cancel_job(CancelJobRequest { id: id.into() }).await.expect_err(&what);
            let results = client
                .get_job_results(GetJobResultsRequest { id: id.into(), ..Default::default() })
                .await
                .expect_err(&what);
            let export = client.export_runs(ExportRunsRequest { id: id.into() }).await.expect_err(&what);
            for (call, status) in [
                ("GetJob", get),
                ("WatchJob", watch),
                ("CancelJob", cancel),
                ("GetJobResults", results),
                ("ExportRuns", export),
            ] {
                assert_eq!(status.code(), tonic::Code::InvalidArgument, "{call} {what}: {status:?}");
                let detail = status.get_details_bad_request().expect("a BadRequest detail");
                assert_eq!(detail.field_violations[0].field, "id", "{call} {what}");
            }
        }
        let token = "ab".repeat(200);
        let status = client
            .list_jobs(ListJobsRequest { page_size: 10, page_token: token })
            .await
            .expect_err("an oversized page token");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.get_details_bad_request().unwrap().field_violations[0].field, "page_token");

        // Nothing refused reached the queue.
        let stats = cluster.queue().await.stats().await.unwrap();
        assert_eq!(stats.length, 0, "{stats:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_limit_holds_on_every_hop_and_more_is_resource_exhausted() {
    scenario("the_edge_limit_holds_on_every_hop_and_more_is_resource_exhausted", LIMIT, async {
        let cluster = Cluster::start(binaries!(), Options { workers: 1, ..Options::default() }).await;
        let mut client = cluster.gateway_client();

        // ~10 MB, under the gateway's 16 MiB: it reaches the dispatcher (whose hop used to
        // allow 4 MiB and answer OUT_OF_RANGE), which accepts it, and the job runs.
        let spec = mc_tau_with_choice(1, 1_300_000);
        let size = spec.encoded_len();
        assert!((10_000_000..16 << 20).contains(&size), "{size} bytes");
        let job = api::submit(&mut client, spec).await;
        let job = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
        assert_eq!(job.state(), JobState::Succeeded, "{job:?}");

        // ~20 MB, over it: RESOURCE_EXHAUSTED (not tonic's OUT_OF_RANGE), and nothing queued.
        let spec = mc_tau_with_choice(1, 2_600_000);
        assert!(spec.encoded_len() > 16 << 20);
        let status = client.submit_job(spec).await.expect_err("over the message limit");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");

        // The gateway serves on.
        api::submit(&mut client, mc_tau(10)).await;
        let stats = cluster.queue().await.stats().await.unwrap();
        assert_eq!(stats.dead_letters, 0, "{stats:?}");
    })
    .await;
}
