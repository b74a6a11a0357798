//! The shell every tanksim service runs in: one router with health, reflection and the
//! telemetry layer, a readiness monitor, and a shutdown drain bounded by a grace period.
//!
//! A service builds a [`Shell`] with its grace period, adds its tonic services (each also
//! gets a readiness status under its name), and calls [`Shell::serve`] with its readiness
//! check and its shutdown future (SIGTERM in the binaries, a channel in tests and the embedded
//! mode). When the shutdown future resolves, the drain begins and [`Shell::stopping`] tells
//! the service's own background work:
//!
//! 1. readiness turns NOT_SERVING (the replica leaves the load balancer; liveness stays);
//! 2. open server streams end with UNAVAILABLE "server shutting down" ([`crate::drain`]),
//!    so a watcher re-watches elsewhere instead of holding the process for as long as its job;
//! 3. the service's own work ([`Shell::serve_until`]: the worker's chunk in flight) finishes,
//!    while the server still answers probes;
//! 4. the listener closes and unary calls in flight finish, until the grace period (counted
//!    from the start of the drain) is over; then `serve` returns anyway, so the process exits
//!    within its pod's `terminationGracePeriodSeconds` instead of being killed. Connections
//!    still busy then are not waited for: they end when the process does.
//!
//! A [`Listener`] with TLS speaks TLS only ([`crate::tls`]); with mTLS, the services added by
//! [`Shell::add_internal`] admit only the peer roles given, and its probe port answers health
//! in plaintext for the kubelet.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::server::NamedService;
use tonic_health::server::HealthReporter;

use crate::drain::{Stopping, stopped};
use crate::health;
use crate::serve::{add_reflection, base_routes, probe_routes, router};
use crate::tls::{PeerPolicy, ProbePort, Role, Serving};

/// How often readiness re-checks a service's dependencies.
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// However late the service's own work ended, idle connections get this long (or the grace,
/// if shorter) to close after it.
const CLOSE_AT_LEAST: Duration = Duration::from_secs(1);

/// Where a service serves: its bound port, and TLS on it with a probe port beside, or not.
#[derive(Debug)]
pub struct Listener {
    api: TcpListener,
    serving: Serving,
}

impl Listener {
    pub fn new(api: TcpListener, serving: Serving) -> Listener {
        Listener { api, serving }
    }

    /// The port's address.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.api.local_addr()
    }
}

/// Plaintext, no probe port.
impl From<TcpListener> for Listener {
    fn from(api: TcpListener) -> Listener {
        Listener { api, serving: Serving::default() }
    }
}

/// A service's gRPC server and its shutdown (see the module).
#[derive(Debug)]
pub struct Shell {
    routes: tonic::service::RoutesBuilder,
    /// Who may call the internal services (checked when clients present certificates).
    peers: PeerPolicy,
    health: HealthReporter,
    /// The health service names readiness reports on: "" (the whole server) and each added
    /// service.
    services: Vec<String>,
    grace: Duration,
    stop: watch::Sender<Option<Instant>>,
}

impl Shell {
    /// A shell with health and reflection, whose drain lasts at most `grace`.
    pub fn new(grace: Duration) -> Shell {
        let (stop, _) = watch::channel(None);
        let (health, routes) = base_routes();
        Shell { routes, peers: PeerPolicy::default(), health, services: vec![String::new()], grace, stop }
    }

    /// [`Shell::add_service`] for an internal service only `roles` may call: with mTLS, a peer
    /// whose certificate names another role gets PERMISSION_DENIED.
    #[must_use]
    pub fn add_internal<S>(mut self, service: S, roles: &[Role]) -> Shell
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.peers.allow(S::NAME, roles);
        self.add_service(service)
    }

    /// Serves `service` too, to every caller; readiness reports on its name like on the whole
    /// server's.
    #[must_use]
    pub fn add_service<S>(mut self, service: S) -> Shell
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.services.push(S::NAME.to_owned());
        self.routes.add_service(service);
        self
    }

    /// `None` while serving, the drain's deadline once the shutdown has begun: for the
    /// service's background work ([`crate::stopped`] waits for it).
    pub fn stopping(&self) -> Stopping {
        self.stop.subscribe()
    }

    /// Serves on `listener` until `shutdown` resolves, then drains (see the module). Readiness
    /// is SERVING while `ready` says so (checked every 2 s). Returns the server's error if it
    /// failed, `Ok` after a drain, also one the grace period cut short.
    pub async fn serve<F, Fut>(
        self,
        listener: impl Into<Listener>,
        ready: F,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        // No work of its own: it is over as soon as the drain begins.
        let work = stopped(self.stopping());
        self.serve_until(listener, ready, shutdown, work).await
    }

    /// [`Shell::serve`], with `work` running beside the server: the drain begins when
    /// `shutdown` resolves or `work` ends, and the server keeps answering (health probes)
    /// until `work` has ended. `work` learns of the drain from [`Shell::stopping`] and must end
    /// by its deadline by itself.
    pub async fn serve_until<F, Fut>(
        self,
        listener: impl Into<Listener>,
        ready: F,
        shutdown: impl Future<Output = ()>,
        work: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let Shell { routes, peers, health, services, grace, stop } = self;
        let Listener { api: listener, serving: Serving { tls, probe } } = listener.into();
        let (close, closed) = watch::channel(false);
        let closed = move || {
            let mut closed = closed.clone();
            async move {
                let _ = closed.wait_for(|c| *c).await;
            }
        };
        match probe.as_ref().map(ProbePort::listener) {
            None => {}
            Some(Err(error)) => tracing::error!(%error, "the probe port cannot serve"),
            Some(Ok(probe)) => {
                let probe = tonic::transport::Server::builder()
                    .add_routes(probe_routes(&health))
                    .serve_with_incoming_shutdown(TcpListenerStream::new(probe), closed());
                tokio::spawn(async move {
                    if let Err(error) = probe.await {
                        tracing::error!(%error, "the probe port failed");
                    }
                });
            }
        }
        let mut routes = routes;
        add_reflection(&mut routes, &services);
        let router = router(routes.routes(), stop.subscribe(), peers);
        let server: Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>> = match tls {
            Some(tls) => Box::pin(router.serve_with_incoming_shutdown(tls.incoming(listener), closed())),
            None => Box::pin(router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), closed())),
        };
        let monitor =
            tokio::spawn(health::monitor(health, services, HEALTH_EVERY, ready, stopped(stop.subscribe())));
        tokio::pin!(shutdown, work);
        let mut server = server;

        let (mut served, mut worked) = (None, false);
        tokio::select! {
            () = &mut shutdown => {}
            () = &mut work => worked = true,
            result = &mut server => served = Some(result),
        }
        let deadline = Instant::now() + grace;
        let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        match &served {
            Some(Err(e)) => tracing::error!(error = %e, grace_ms, "the gRPC server failed; draining"),
            _ => {
                tracing::info!(grace_ms, "draining: open streams end, calls in flight have the grace period")
            }
        }
        stop.send_replace(Some(deadline));

        if !worked {
            if served.is_none() {
                tokio::select! {
                    () = &mut work => {}
                    result = &mut server => {
                        served = Some(result);
                        work.await;
                    }
                }
            } else {
                work.await;
            }
        }
        let _ = close.send(true);
        let close_by = deadline.max(Instant::now() + CLOSE_AT_LEAST.min(grace));
        let served = match served {
            Some(result) => result,
            None => tokio::time::timeout_at(close_by, server).await.unwrap_or_else(|_| {
                tracing::warn!(grace_ms, "grace period over with calls in flight: not waiting for them");
                Ok(())
            }),
        };
        let _ = monitor.await;
        served
    }
}

#[cfg(test)]
mod tests {
    use tanksim_proto::v1::job_service_client::JobServiceClient;
    use tanksim_proto::v1::simulation_service_client::SimulationServiceClient;
    use tanksim_proto::v1::simulation_service_server::{SimulationService, SimulationServiceServer};
    use tanksim_proto::v1::{SimulateRequest, SimulateResponse};
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    use tokio::sync::oneshot;

    use super::*;

    /// A service whose one call never answers.
    struct Stuck;

    #[tonic::async_trait]
    impl SimulationService for Stuck {
        async fn simulate(
            &self,
            _: tonic::Request<SimulateRequest>,
        ) -> Result<tonic::Response<SimulateResponse>, tonic::Status> {
            std::future::pending().await
        }
    }

    async fn bound() -> (TcpListener, tonic::transport::Channel) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        (listener, tonic::transport::Endpoint::from_shared(url).expect("url").connect_lazy())
    }

    type Served = tokio::task::JoinHandle<Result<(), tonic::transport::Error>>;

    /// `shell` serving on `listener`, always ready, until the sender is used.
    fn spawn(shell: Shell, listener: TcpListener) -> (oneshot::Sender<()>, Served) {
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(shell.serve(listener, || async { true }, async {
            let _ = stopped.await;
        }));
        (stop, server)
    }

    #[tokio::test]
    async fn a_health_watch_ends_with_unavailable_and_serve_returns_at_once() {
        let (listener, channel) = bound().await;
        let shell = Shell::new(Duration::from_secs(60));
        let (stop, server) = spawn(shell, listener);
        let mut client = HealthClient::new(channel);
        let mut watch =
            client.watch(HealthCheckRequest { service: String::new() }).await.expect("watch").into_inner();
        // The first status is sent at once (SERVING after the first check, or the initial one).
        watch.message().await.expect("a status").expect("an update");
        let started = Instant::now();
        stop.send(()).expect("serving");
        let end = loop {
            match tokio::time::timeout(Duration::from_secs(10), watch.message()).await.expect("ends") {
                Ok(Some(_)) => {} // NOT_SERVING may come first
                Ok(None) => panic!("the stream ended without a status"),
                Err(status) => break status,
            }
        };
        assert_eq!(end.code(), tonic::Code::Unavailable, "{end:?}");
        assert_eq!(end.message(), crate::drain::SHUTTING_DOWN);
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("serve returns without waiting for the 60 s grace")
            .expect("the task")
            .expect("a clean drain");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn readiness_reports_on_every_added_service() {
        let (listener, channel) = bound().await;
        let shell = Shell::new(Duration::from_secs(1)).add_service(SimulationServiceServer::new(Stuck));
        let (stop, server) = spawn(shell, listener);
        let mut client = HealthClient::new(channel.clone());
        let name = <SimulationServiceServer<Stuck> as NamedService>::NAME;
        let mut status = None;
        for _ in 0..500 {
            let check = client.check(HealthCheckRequest { service: name.to_owned() }).await;
            status = check.ok().map(|r| r.into_inner().status());
            if status == Some(ServingStatus::Serving) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(status, Some(ServingStatus::Serving), "the added service is ready");
        // A service not added is UNIMPLEMENTED, and unknown to health.
        let absent = JobServiceClient::new(channel)
            .get_job(tanksim_proto::v1::GetJobRequest { id: "x".into() })
            .await
            .expect_err("not served");
        assert_eq!(absent.code(), tonic::Code::Unimplemented);
        let unknown = client.check(HealthCheckRequest { service: "tanksim.v1.JobService".into() }).await;
        assert_eq!(unknown.expect_err("not a service here").code(), tonic::Code::NotFound);
        stop.send(()).expect("serving");
        server.await.expect("the task").expect("a clean drain");
    }

    #[tokio::test]
    async fn reflection_lists_and_describes_only_what_is_served() {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

        let (listener, channel) = bound().await;
        let shell = Shell::new(Duration::from_secs(1)).add_service(SimulationServiceServer::new(Stuck));
        let (stop, server) = spawn(shell, listener);
        let mut client = ServerReflectionClient::new(channel);
        let mut ask = async |request: MessageRequest| {
            let question = ServerReflectionRequest { host: String::new(), message_request: Some(request) };
            let mut answers = client
                .server_reflection_info(tokio_stream::iter([question]))
                .await
                .expect("reflection")
                .into_inner();
            answers.message().await.map(|a| a.expect("one").message_response.expect("a response"))
        };
        let Ok(MessageResponse::ListServicesResponse(list)) =
            ask(MessageRequest::ListServices(String::new())).await
        else {
            panic!("not a list")
        };
        let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        names.sort();
        assert_eq!(
            names,
            ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "tanksim.v1.SimulationService"]
        );
        let served = ask(MessageRequest::FileContainingSymbol("tanksim.v1.SimulationService".into())).await;
        assert!(matches!(served, Ok(MessageResponse::FileDescriptorResponse(_))), "{served:?}");
        for hidden in ["tanksim.internal.v1.DispatcherService", "tanksim.internal.v1.ReportChunkRequest"] {
            let answer = ask(MessageRequest::FileContainingSymbol(hidden.into())).await;
            let status = answer.expect_err(hidden);
            assert_eq!(status.code(), tonic::Code::NotFound, "{hidden}: {status:?}");
        }
        stop.send(()).expect("serving");
        server.await.expect("the task").expect("a clean drain");
    }

    #[tokio::test]
    async fn work_is_told_to_stop_and_the_server_answers_until_it_has() {
        let (listener, channel) = bound().await;
        let (stop, stopped) = oneshot::channel::<()>();
        let shell = Shell::new(Duration::from_secs(5));
        let mut stopping = shell.stopping();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let (told_tx, told_rx) = oneshot::channel::<Instant>();
        let work = async move {
            let deadline = *stopping.wait_for(Option::is_some).await.expect("the shell is there");
            let _ = told_tx.send(deadline.expect("a deadline"));
            let _ = done_rx.await; // the work's own drain
        };
        let server = tokio::spawn(shell.serve_until(
            listener,
            || async { true },
            async {
                let _ = stopped.await;
            },
            work,
        ));
        stop.send(()).expect("serving");
        let deadline = told_rx.await.expect("the work is told");
        assert!(deadline > Instant::now(), "the deadline is ahead");
        // Still answering while the work drains (the kubelet's liveness probe).
        let mut client = HealthClient::new(channel);
        let live = client.check(HealthCheckRequest { service: crate::health::LIVENESS.to_owned() }).await;
        assert_eq!(live.expect("answered").into_inner().status(), ServingStatus::Serving);
        assert!(!server.is_finished(), "serve waits for the work");
        done_tx.send(()).expect("the work waits");
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("serve returns once the work is done")
            .expect("the task")
            .expect("a clean drain");
    }

    #[tokio::test]
    async fn the_grace_period_bounds_the_wait_for_calls_in_flight() {
        let (listener, channel) = bound().await;
        let grace = Duration::from_millis(300);
        let shell = Shell::new(grace).add_service(SimulationServiceServer::new(Stuck));
        let (stop, server) = spawn(shell, listener);
        let call = tokio::spawn(async move {
            SimulationServiceClient::new(channel).simulate(SimulateRequest::default()).await
        });
        // The call is in flight once the server has it; give it a moment to arrive.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        stop.send(()).expect("serving");
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("serve returns once the grace period is over")
            .expect("the task")
            .expect("Ok: a drain the grace period cut short is still a drain");
        assert!(started.elapsed() >= grace, "waited for the call in flight first");
        assert!(!call.is_finished(), "the stuck call was not answered");
        call.abort();
    }
}
