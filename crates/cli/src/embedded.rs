//! Every service in this process, talking gRPC over loopback: the same code as the deployed
//! services, wired to in-memory backends (`tanksim run`) or to Redis (`tanksim serve all`).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tanksim_broker::{JobStore, MemoryQueue, MemoryStore, RedisQueue, RedisStore, TaskQueue};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use tanksim_auth::AuthMode;

use crate::cli::ServeArgs;

/// How to size the embedded system.
#[derive(Debug, Clone)]
pub struct Options {
    pub workers: usize,
    pub chunk_size: u64,
    /// Where dataset and sweep rows go; `None`: a temporary directory removed at shutdown.
    pub data_dir: Option<PathBuf>,
}

/// A running system; [`System::shutdown`] stops it.
#[derive(Debug)]
pub struct System {
    pub gateway_url: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

impl System {
    /// Stops every service (workers finish or hand back their chunk) and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
        }
    }
}

/// Starts the system with in-memory queue and store.
pub async fn start(options: Options) -> anyhow::Result<System> {
    let (temp, data_dir) = match options.data_dir.clone() {
        Some(d) => (None, d),
        None => {
            let t = tempfile::Builder::new().prefix("tanksim-run").tempdir()?;
            let d = t.path().to_owned();
            (Some(t), d)
        }
    };
    let mut system = launch(
        MemoryQueue::new(),
        MemoryStore::new(),
        "127.0.0.1:0".parse()?,
        data_dir,
        &options,
        Bounds { limits: &Default::default(), quotas: Default::default() },
        tanksim_auth::Authenticator::disabled(),
    )
    .await?;
    system._temp = temp;
    Ok(system)
}

/// `tanksim serve all`: every service in this process against Redis, until SIGTERM.
pub async fn serve_all(args: ServeArgs) -> anyhow::Result<()> {
    let queue = RedisQueue::connect(&args.redis_url).await.context("connecting to Redis")?;
    let store = RedisStore::connect(&args.redis_url).await.context("connecting to Redis")?;
    let options =
        Options { workers: args.workers.max(1), chunk_size: 10_000, data_dir: Some(args.data_dir.clone()) };
    // Keys made with `tanksim keys create` live in the same Redis.
    let auth = tanksim_auth::Authenticator::from_args(&args.auth, AuthMode::Disabled, Some(&args.redis_url))
        .await
        .context("auth configuration")?;
    let described = auth.describe();
    let enabled = auth.is_enabled();
    let bounds = Bounds { limits: &args.limits, quotas: args.quotas.book() };
    let system = launch(queue, store, args.listen, args.data_dir, &options, bounds, auth).await?;
    eprintln!(
        "tanksim serving on {} (Redis {}), Ctrl-C to stop\nauth: {described}",
        system.gateway_url,
        tanksim_broker::url::redacted(&args.redis_url)
    );
    if !enabled {
        tracing::warn!(
            "authentication is DISABLED: anyone who reaches the gateway acts as tenant \"default\""
        );
        eprintln!(
            "WARNING: authentication is DISABLED. Anyone who can reach {} can submit, read and cancel \
             every job. Give --api-keys-file, --oidc-issuer or --auth required (keys from `tanksim keys \
             create`) before exposing it.",
            system.gateway_url
        );
    }
    tanksim_server::shutdown_signal().await;
    system.shutdown().await;
    Ok(())
}

/// What bounds every service of the system alike: one set of limits (so the dispatcher accepts
/// what the gateway accepts) and one of quotas (the gateway's request rate, the dispatcher's job
/// limits).
struct Bounds<'a> {
    limits: &'a tanksim_server::LimitsArgs,
    quotas: tanksim_server::QuotaBook,
}

async fn launch<Q: TaskQueue, S: JobStore>(
    queue: Q,
    store: S,
    gateway_addr: SocketAddr,
    data_dir: PathBuf,
    options: &Options,
    bounds: Bounds<'_>,
    auth: tanksim_auth::Authenticator,
) -> anyhow::Result<System> {
    let Bounds { limits, quotas } = bounds;
    let (stop, stop_rx) = watch::channel(false);
    let until_stop = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut tasks = Vec::new();
    let loopback = || TcpListener::bind("127.0.0.1:0");

    let results_listener = loopback().await?;
    let results_url = format!("http://{}", results_listener.local_addr()?);
    let results_settings = tanksim_results::ResultsSettings {
        max_message_bytes: limits.max_message_bytes,
        ..tanksim_results::ResultsSettings::new(data_dir, Duration::from_millis(500))?
    };
    tasks.push(spawn(
        "results",
        tanksim_results::run(results_settings, store.clone(), results_listener, until_stop()),
    ));

    let dispatcher_listener = loopback().await?;
    let dispatcher_url = format!("http://{}", dispatcher_listener.local_addr()?);
    let dispatcher_settings = tanksim_dispatcher::DispatcherSettings {
        chunk_size: options.chunk_size,
        limits: *limits,
        quotas: quotas.clone(),
        ..Default::default()
    };
    tasks.push(spawn(
        "dispatcher",
        tanksim_dispatcher::run(
            dispatcher_settings,
            queue.clone(),
            store.clone(),
            dispatcher_listener,
            until_stop(),
        ),
    ));

    let results_channel = tonic::transport::Endpoint::from_shared(results_url.clone())?.connect_lazy();
    for i in 0..options.workers {
        let settings = tanksim_worker::WorkerSettings {
            threads: 1,
            ..tanksim_worker::WorkerSettings::new(format!("embedded-{i}"))
        };
        let client = tanksim_worker::results_client_over(results_channel.clone());
        tasks.push(spawn(
            "worker",
            tanksim_worker::run(
                settings,
                queue.clone(),
                store.clone(),
                client,
                loopback().await?,
                until_stop(),
            ),
        ));
    }

    let gateway_listener =
        TcpListener::bind(gateway_addr).await.with_context(|| format!("binding {gateway_addr}"))?;
    let gateway_url = format!("http://{}", gateway_listener.local_addr()?);
    let settings = tanksim_gateway::GatewaySettings {
        auth,
        quotas,
        ..tanksim_gateway::GatewaySettings::with_limits(limits)
    };
    let peers =
        tanksim_gateway::Peers::connect_lazy(&dispatcher_url, &results_url, settings.max_message_bytes, None)
            .map_err(anyhow::Error::msg)?;
    tasks.push(spawn("gateway", tanksim_gateway::run(settings, peers, gateway_listener, until_stop())));

    let system = System { gateway_url, stop, tasks, _temp: None };
    wait_until_serving(&system.gateway_url).await?;
    Ok(system)
}

fn spawn<E: std::fmt::Display>(
    name: &'static str,
    service: impl Future<Output = Result<(), E>> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = service.await {
            tracing::error!(service = name, error = %e, "service stopped with an error");
        }
    })
}

/// Waits until the gateway reports SERVING (its peers answer), at most 20 s.
async fn wait_until_serving(url: &str) -> anyhow::Result<()> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?.connect_lazy();
    let mut client = HealthClient::new(channel);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let check = client.check(HealthCheckRequest { service: String::new() }).await;
        if matches!(&check, Ok(r) if r.get_ref().status() == ServingStatus::Serving) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("the embedded services did not become ready within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
