//! Malformed specs are refused by the gateway process with INVALID_ARGUMENT and a BadRequest
//! detail naming the offending field.

use tanksim_broker::TaskQueue;
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{SubmitJobRequest, submit_job_request};
use tonic_types::StatusExt;

use crate::{LIMIT, mc_tau};

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
