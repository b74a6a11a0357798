//! The mesh and the edge over real sockets, with certificates from a test CA.

use std::time::Duration;

use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
use tanksim_proto::v1::simulation_service_server::{SimulationService, SimulationServiceServer};
use tanksim_proto::v1::{SimulateRequest, SimulateResponse};
use tanksim_test_util::pki::Pki;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use super::*;
use crate::Shell;

struct Answers;

#[tonic::async_trait]
impl SimulationService for Answers {
    async fn simulate(
        &self,
        _: tonic::Request<SimulateRequest>,
    ) -> Result<tonic::Response<SimulateResponse>, tonic::Status> {
        Ok(tonic::Response::new(SimulateResponse::default()))
    }
}

/// A shell serving `Answers` (for workers only) with `tls`, and a plaintext probe port.
struct Served {
    url: String,
    probe: String,
    _stop: oneshot::Sender<()>,
}

async fn serve(tls: ServerTls) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let probe = ProbePort::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let url = format!("https://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let probe_url = format!("http://127.0.0.1:{}", probe.local_addr().expect("addr").port());
    let (stop, stopped) = oneshot::channel::<()>();
    let shell = Shell::new(Duration::from_secs(1))
        .add_internal(SimulationServiceServer::new(Answers), &[Role::Worker]);
    let listener = crate::Listener::new(listener, Serving { tls: Some(tls), probe: Some(probe) });
    tokio::spawn(shell.serve(listener, || async { true }, async {
        let _ = stopped.await;
    }));
    Served { url, probe: probe_url, _stop: stop }
}

fn client(url: &str, tls: Option<&ClientTls>) -> SimulationServiceClient<Channel> {
    SimulationServiceClient::new(channel(url, tls).expect("a channel"))
}

async fn simulate(url: &str, tls: Option<&ClientTls>) -> Result<(), tonic::Status> {
    client(url, tls).simulate(SimulateRequest::default()).await.map(|_| ())
}

fn mesh(pki: &Pki, role: &str) -> ClientTls {
    let issued = pki.role(role);
    ClientTls::start(Some(pki.ca()), Some((issued.cert, issued.key))).expect("client TLS")
}

#[tokio::test]
async fn the_mesh_admits_only_the_roles_a_service_allows() {
    let pki = Pki::new();
    let own = pki.role("results");
    let served = serve(ServerTls::start(own.cert, own.key, Some(pki.ca())).expect("server TLS")).await;

    simulate(&served.url, Some(&mesh(&pki, "worker"))).await.expect("a worker may call");
    let gateway = mesh(&pki, "gateway");
    let refused = simulate(&served.url, Some(&gateway)).await.expect_err("a gateway may not");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert_eq!(
        refused.message(),
        "tanksim.v1.SimulationService is for worker only; this certificate is for gateway"
    );
    let nobody = pki.issue("nobody", &["localhost", "127.0.0.1"]);
    let nobody = ClientTls::start(Some(pki.ca()), Some((nobody.cert, nobody.key))).expect("client TLS");
    let refused = simulate(&served.url, Some(&nobody)).await.expect_err("a certificate without a role");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().ends_with("this certificate is for no tanksim role"), "{refused:?}");

    // Health is open to every peer of the mesh.
    let health = HealthClient::new(channel(&served.url, Some(&gateway)).expect("channel"))
        .check(HealthCheckRequest { service: String::new() })
        .await;
    assert!(health.is_ok(), "{health:?}");
}

#[tokio::test]
async fn no_certificate_a_foreign_ca_or_plaintext_never_reach_a_service() {
    let pki = Pki::new();
    let own = pki.role("results");
    let served = serve(ServerTls::start(own.cert, own.key, Some(pki.ca())).expect("server TLS")).await;

    let anonymous = ClientTls::start(Some(pki.ca()), None).expect("client TLS");
    let foreign = mesh(&Pki::new(), "worker"); // a worker's certificate from another CA
    for (what, result) in [
        ("no client certificate", simulate(&served.url, Some(&anonymous)).await),
        ("another CA's certificate", simulate(&served.url, Some(&foreign)).await),
        ("plaintext", simulate(&served.url.replace("https", "http"), None).await),
    ] {
        let refused = result.expect_err(what);
        assert!(
            matches!(refused.code(), Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal),
            "{what}: {refused:?}"
        );
    }
    // The refusals hurt no one: the right worker still gets through.
    simulate(&served.url, Some(&mesh(&pki, "worker"))).await.expect("a worker may call");

    // The probe port answers health in plaintext, and nothing else.
    let probe = Channel::from_shared(served.probe.clone()).expect("url").connect_lazy();
    let health = HealthClient::new(probe.clone()).check(HealthCheckRequest { service: String::new() }).await;
    assert!(health.is_ok(), "{health:?}");
    let other = SimulationServiceClient::new(probe).simulate(SimulateRequest::default()).await;
    assert_eq!(other.expect_err("only health").code(), Code::Unimplemented);
}

#[tokio::test]
async fn a_renewed_certificate_is_served_to_new_connections() {
    let pki = Pki::new();
    let edge = pki.issue("edge", &["127.0.0.1"]);
    let tls =
        ServerTls::start_every(edge.cert, edge.key, None, Duration::from_millis(50)).expect("server TLS");
    let served = serve(tls).await;
    let trusting = ClientTls::start(Some(pki.ca()), None).expect("client TLS");
    // The edge admits clients without certificates; the worker-only service still refuses them.
    let refused = simulate(&served.url, Some(&trusting)).await.expect_err("no role");
    assert_eq!(refused.code(), Code::Unauthenticated, "TLS made it; the service wants a certificate");

    // Renewed for another name: once re-read, a new connection to 127.0.0.1 fails its
    // name check; renewed back, it succeeds again.
    pki.issue("edge", &["elsewhere.example.test"]);
    let mut code = Code::Unauthenticated;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        code = simulate(&served.url, Some(&trusting)).await.expect_err("refused either way").code();
        if code != Code::Unauthenticated {
            break;
        }
    }
    assert!(matches!(code, Code::Unavailable | Code::Unknown), "the new certificate is served: {code:?}");
    pki.issue("edge", &["127.0.0.1"]);
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        code = simulate(&served.url, Some(&trusting)).await.expect_err("refused either way").code();
        if code == Code::Unauthenticated {
            break;
        }
    }
    assert_eq!(code, Code::Unauthenticated, "renewed back");
}

#[test]
fn a_url_must_match_the_tls_configuration() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _inside = runtime.enter();
    let pki = Pki::new();
    let tls = mesh(&pki, "gateway");
    assert!(channel("http://127.0.0.1:1", None).is_ok());
    assert!(channel("https://127.0.0.1:1", Some(&tls)).is_ok());
    let plaintext = channel("http://dispatcher:50052", Some(&tls)).expect_err("mTLS but http");
    assert!(plaintext.contains("plaintext"), "{plaintext}");
    assert!(channel("https://dispatcher:50052", None).is_err());
    assert!(channel("ftp://dispatcher:50052", None).is_err());
}

#[test]
fn a_missing_or_broken_file_is_a_configuration_error() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _inside = runtime.enter();
    let pki = Pki::new();
    let worker = pki.role("worker");
    let missing =
        ServerTls::start(worker.cert.clone(), "/nonexistent/key.pem".into(), None).expect_err("no key");
    assert!(missing.contains("/nonexistent/key.pem"), "{missing}");
    let swapped = ServerTls::start(worker.key.clone(), worker.cert.clone(), None).expect_err("swapped");
    assert!(swapped.contains("worker.key"), "names the file: {swapped}");
}

#[test]
fn a_certificate_names_its_role_and_no_other() {
    let pki = Pki::new();
    let worker = pki.role("worker");
    let cert = &config::certificates(&worker.cert).expect("read")[0];
    assert!(Role::Worker.named_by(cert));
    assert!(!Role::Gateway.named_by(cert));
    let mut policy = PeerPolicy::default();
    policy.allow("tanksim.internal.v1.ResultsService", &[Role::Worker]);
    let anonymous = policy.check("/tanksim.internal.v1.ResultsService/ReportChunk", None);
    assert_eq!(anonymous.expect_err("no certificate").code(), Code::Unauthenticated);
    assert!(policy.check("/grpc.health.v1.Health/Check", None).is_ok(), "health is open");
    assert!(
        policy
            .check("/tanksim.internal.v1.ResultsService/ReportChunk", Some(std::slice::from_ref(cert)))
            .is_ok()
    );
}
