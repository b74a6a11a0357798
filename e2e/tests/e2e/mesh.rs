//! mTLS between the services, attacked from inside the network: with the mesh on, a chunk
//! report without a worker's certificate, a dispatch without the gateway's, a read of a job by
//! a worker, or a plaintext call never reach a handler, and the job under attack ends with the
//! embedded run's results, bit for bit.

use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::internal::v1::dispatcher_service_client::DispatcherServiceClient;
use tanksim_proto::internal::v1::results_service_client::ResultsServiceClient;
use tanksim_proto::internal::v1::{
    CancelJobRequest, DispatchJobRequest, ReportChunkFailureRequest, ReportChunkRequest, RunSummary,
};
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::{GetJobRequest, ListJobsRequest};
use tanksim_server::tls::{ClientTls, channel};
use tanksim_test_util::pki::Pki;
use tonic::Code;
use tonic::transport::Channel;

use crate::{CHUNK, LIMIT, RUNS, assert_complete_and_identical, mc_tau, mc_tau_reference, mid_job};

/// A channel to `url` presenting `role`'s certificate from `pki` (`None`: no certificate).
fn as_role(pki: &Pki, url: &str, role: Option<&str>) -> Channel {
    let identity = role.map(|r| {
        let issued = pki.issue(&format!("attacker-{r}"), &[&format!("{r}.identity.tanksim")]);
        (issued.cert, issued.key)
    });
    channel(url, Some(&ClientTls::start(Some(pki.ca()), identity).expect("client TLS"))).expect("channel")
}

fn plaintext(url: &str) -> Channel {
    channel(&url.replace("https://", "http://"), None).expect("channel")
}

fn code<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Code {
    result.err().map_or(Code::Ok, |s| s.code())
}

fn refused_at_handshake(code: Code) -> bool {
    // The connection fails, in whichever way the client's HTTP/2 stack reports it: TLS 1.3
    // lets the client send its first request before the server refuses its certificate (the
    // call is then cancelled under it); a plaintext HTTP/2 preface to a TLS port is a protocol
    // error (INTERNAL) or a closed connection (UNAVAILABLE).
    matches!(code, Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_services_admit_only_the_roles_they_serve() {
    scenario("internal_services_admit_only_the_roles_they_serve", LIMIT, async {
        mc_tau_reference().await;
        let cluster =
            Cluster::start(binaries!(), Options { chunk_size: CHUNK, mtls: true, ..Options::default() })
                .await;
        let pki = cluster.pki().expect("an mTLS cluster");
        let mut client = cluster.gateway_client();
        let job = api::submit(&mut client, mc_tau(RUNS)).await;
        mid_job(&mut client, &job, 1).await;

        // The attack of the original report: a forged summary for a chunk not yet reported.
        let forged = ReportChunkRequest {
            job_id: job.id.clone(),
            chunk: 39,
            run_start: 39 * CHUNK,
            run_end: 40 * CHUNK,
            summary: Some(RunSummary::default()),
            rows: Vec::new(),
            worker: "mallory".into(),
        };
        let failure = ReportChunkFailureRequest {
            job_id: job.id.clone(),
            chunk: 38,
            reason: "forged".into(),
            deliveries: 99,
        };
        let results = cluster.results_url();
        let report = |channel: Channel| {
            let forged = forged.clone();
            async move { code(ResultsServiceClient::new(channel).report_chunk(forged).await) }
        };
        for role in ["gateway", "dispatcher", "results"] {
            assert_eq!(report(as_role(pki, results, Some(role))).await, Code::PermissionDenied, "{role}");
        }
        let mut results_as_gateway = ResultsServiceClient::new(as_role(pki, results, Some("gateway")));
        assert_eq!(
            code(results_as_gateway.report_chunk_failure(failure.clone()).await),
            Code::PermissionDenied
        );
        let no_certificate = report(as_role(pki, results, None)).await;
        assert!(refused_at_handshake(no_certificate), "no client certificate: {no_certificate:?}");
        let clear = report(plaintext(results)).await;
        assert!(refused_at_handshake(clear), "plaintext: {clear:?}");
        let foreign = report(as_role(&Pki::new(), results, Some("worker"))).await;
        assert!(refused_at_handshake(foreign), "another CA's worker certificate: {foreign:?}");

        // Reading jobs from the results service is the gateway's; dispatching and cancelling
        // are the gateway's only.
        let get = GetJobRequest { id: job.id.clone() };
        let read = JobServiceClient::new(as_role(pki, results, Some("worker"))).get_job(get).await;
        assert_eq!(code(read), Code::PermissionDenied);
        let dispatcher = cluster.dispatcher_url();
        for role in ["worker", "results"] {
            let mut d = DispatcherServiceClient::new(as_role(pki, dispatcher, Some(role)));
            let dispatch = DispatchJobRequest { spec: Some(mc_tau(1_000)) };
            assert_eq!(code(d.dispatch_job(dispatch).await), Code::PermissionDenied, "{role} dispatches");
            let cancel = CancelJobRequest { id: job.id.clone() };
            assert_eq!(code(d.cancel_job(cancel).await), Code::PermissionDenied, "{role} cancels");
        }
        let cancel = CancelJobRequest { id: job.id.clone() };
        let clear = code(DispatcherServiceClient::new(plaintext(dispatcher)).cancel_job(cancel).await);
        assert!(refused_at_handshake(clear), "plaintext: {clear:?}");

        // The real pipeline ran over mTLS throughout, and nothing the attacker sent counted.
        assert_complete_and_identical(&cluster, &mut client, &job).await;
        let jobs = client.list_jobs(ListJobsRequest::default()).await.expect("listed").into_inner().jobs;
        assert_eq!(jobs.len(), 1, "no job was dispatched by the attacker: {jobs:?}");
    })
    .await;
}
