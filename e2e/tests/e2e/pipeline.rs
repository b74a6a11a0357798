//! The happy path: results through the deployment equal the embedded run's, bit for bit.

use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::JobState;

use crate::{CHUNK, LIMIT, RUNS, mc_tau, mc_tau_reference};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mc_tau_results_equal_the_embedded_run_bit_for_bit() {
    scenario("mc_tau_results_equal_the_embedded_run_bit_for_bit", LIMIT, async {
        let t = std::time::Instant::now();
        let reference = mc_tau_reference().await;
        eprintln!("reference {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let cluster = Cluster::start(binaries!(), Options { chunk_size: CHUNK, ..Options::default() }).await;
        eprintln!("cluster start {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;
        let job = api::wait_ended(&mut client, &job.id, LIMIT).await;
        eprintln!("job {:?}", t.elapsed());
        assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
        let results = api::results(&mut client, &job.id).await;
        api::assert_same_results(&results, reference);
        cluster.assert_no_worker_crashes();
    })
    .await;
}
