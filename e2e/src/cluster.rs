//! A whole deployment on this machine: a private `redis-server` and the four services as
//! separate OS processes (gateway, dispatcher, results, N workers), configured through their
//! environment like in Kubernetes, each on a free port, with logs in a temporary directory.
//! Dropping the cluster kills everything; if the test is failing, it first prints each
//! process's log tail and keeps the directory.

mod faults;
mod observe;
mod options;

pub use observe::ProcessInfo;
pub use options::{Binaries, Options, QUEUE_METRICS_INTERVAL, SPAN_EXPORT_DELAY};

use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::Duration;

use tanksim_broker::RedisQueue;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_test_util::RedisServer;
use tanksim_test_util::pki::Pki;
use tokio::time::Instant;

use crate::api;
use crate::health::wait_serving;
use crate::ports::free_port;
use crate::process::{self, ProcessSpec};
use crate::workers::{Slot, Workers};

/// How long a process may take to report SERVING after it starts.
const START_LIMIT: Duration = Duration::from_secs(30);
/// Set (to anything) to keep every cluster's logs, not only a failed test's.
pub const KEEP_LOGS: &str = "TANKSIM_E2E_KEEP_LOGS";
/// Log lines shown per process when a test fails.
const TAIL_LINES: usize = 25;

/// A process the test does not restart on its own (gateway, dispatcher, results).
#[derive(Debug)]
struct Service {
    spec: ProcessSpec,
    url: String,
    /// Where its health is checked: `url`, or its plaintext probe port when it serves TLS.
    health_url: String,
    /// Where it serves `/metrics`.
    admin_port: u16,
    child: Option<Child>,
}

impl Service {
    fn new(dir: &Path, name: &str, program: &Path, env: Vec<(String, String)>, port: u16) -> Self {
        let admin_port = admin_port_of(&env);
        let probe = env.iter().find(|(k, _)| k == PROBE_LISTEN).map(|(_, v)| format!("http://{v}"));
        let scheme = if probe.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        let spec = ProcessSpec {
            name: name.to_owned(),
            program: program.to_owned(),
            env,
            log: dir.join(format!("{name}.log")),
        };
        Service { spec, health_url: probe.unwrap_or_else(|| url.clone()), url, admin_port, child: None }
    }

    async fn start(&mut self) {
        let child = self.spec.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", self.spec.name));
        let child = self.child.insert(child);
        if let Err(e) = wait_serving(&self.health_url, START_LIMIT, || child.try_wait().ok().flatten()).await
        {
            panic!("{} did not start: {e}\n{}", self.spec.name, self.spec.tail(TAIL_LINES));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = process::kill(&mut child);
            self.spec.note(&format!("killed by the test (SIGKILL): {status:?}"));
        }
    }

    /// SIGTERM, then waits up to `limit` for the process to exit: its exit status (`None`:
    /// still running at the limit, and then killed) and how long it took.
    async fn terminate(&mut self, limit: Duration) -> (Option<ExitStatus>, Duration) {
        let mut child = self.child.take().unwrap_or_else(|| panic!("{} is not running", self.spec.name));
        self.spec.note("SIGTERM from the test");
        let started = Instant::now();
        process::terminate(&child).expect("kill -TERM");
        let status = process::wait_exit(&mut child, limit).await;
        let took = started.elapsed();
        match status {
            Some(status) => self.spec.note(&format!("exited after the SIGTERM: {status}")),
            None => {
                process::kill(&mut child);
                self.spec.note(&format!("still running {limit:?} after the SIGTERM: killed"));
            }
        }
        (status, took)
    }
}

/// The running deployment.
#[derive(Debug)]
pub struct Cluster {
    options: Options,
    // Field order is drop order: processes before Redis, the directory last.
    workers: Workers,
    gateway: Service,
    dispatcher: Service,
    results: Service,
    redis: RedisServer,
    pki: Option<Pki>,
    dir: Option<tempfile::TempDir>,
}

fn var(key: &str, value: impl ToString) -> (String, String) {
    (key.to_owned(), value.to_string())
}

const ADMIN_LISTEN: &str = "TANKSIM_ADMIN_LISTEN";
const PROBE_LISTEN: &str = "TANKSIM_PROBE_LISTEN";

/// A service's mesh identity (its role's certificate from `pki`), with a probe port if it
/// serves TLS.
fn mesh(pki: Option<&Pki>, role: &str, serves: bool) -> Vec<(String, String)> {
    let Some(pki) = pki else { return Vec::new() };
    let issued = pki.role(role);
    let mut env = vec![
        var("TANKSIM_MTLS_CERT", issued.cert.display()),
        var("TANKSIM_MTLS_KEY", issued.key.display()),
        var("TANKSIM_MTLS_CA", pki.ca().display()),
    ];
    if serves {
        env.push(var(PROBE_LISTEN, format!("127.0.0.1:{}", free_port())));
    }
    env
}

/// The admin port set in a process's environment by [`Cluster::start`].
fn admin_port_of(env: &[(String, String)]) -> u16 {
    env.iter()
        .find(|(k, _)| k == ADMIN_LISTEN)
        .and_then(|(_, v)| v.rsplit_once(':'))
        .and_then(|(_, port)| port.parse().ok())
        .expect("every process gets an admin port")
}

impl Cluster {
    /// Starts Redis, then results, dispatcher, gateway and the workers, each once it is
    /// SERVING. Panics (with the logs) if a process does not come up.
    pub async fn start(binaries: Binaries, options: Options) -> Cluster {
        let dir = tempfile::Builder::new().prefix("tanksim-e2e-").tempdir().expect("a temporary directory");
        let path = dir.path().to_owned();
        let redis = RedisServer::start_with(options.persistence);
        // Every process: Redis, JSON logs, its own admin port (the default 0.0.0.0:9464 would
        // be shared), and span export when asked for.
        let common = || {
            let mut env = vec![
                var("TANKSIM_REDIS_URL", redis.url()),
                var("TANKSIM_LOG_FORMAT", "json"),
                var("RUST_LOG", "info"),
                var(ADMIN_LISTEN, format!("127.0.0.1:{}", free_port())),
            ];
            if let Some(endpoint) = &options.otlp {
                env.extend([
                    var("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                    var("OTEL_BSP_SCHEDULE_DELAY", SPAN_EXPORT_DELAY.as_millis()),
                ]);
            }
            env
        };
        let [results_port, dispatcher_port, gateway_port] = [free_port(), free_port(), free_port()];
        let pki = options.mtls.then(Pki::new);
        let scheme = if options.mtls { "https" } else { "http" };
        let results_url = format!("{scheme}://127.0.0.1:{results_port}");

        let mut env = common();
        env.extend([
            var("TANKSIM_RESULTS_LISTEN", format!("127.0.0.1:{results_port}")),
            var("TANKSIM_DATA_DIR", path.join("data").display()),
            var("TANKSIM_WATCH_POLL_MS", 200),
        ]);
        env.extend(mesh(pki.as_ref(), "results", true));
        env.extend(options.service_env.iter().cloned());
        let results = Service::new(&path, "results", &binaries.results, env, results_port);

        let mut env = common();
        env.extend([
            var("TANKSIM_DISPATCHER_LISTEN", format!("127.0.0.1:{dispatcher_port}")),
            var("TANKSIM_CHUNK_SIZE", options.chunk_size),
        ]);
        env.extend(mesh(pki.as_ref(), "dispatcher", true));
        env.extend(options.service_env.iter().cloned());
        if options.metrics {
            env.push(var("TANKSIM_QUEUE_METRICS_INTERVAL_MS", QUEUE_METRICS_INTERVAL.as_millis()));
        }
        let dispatcher = Service::new(&path, "dispatcher", &binaries.dispatcher, env, dispatcher_port);

        let mut env = common();
        env.extend([
            var("TANKSIM_GATEWAY_LISTEN", format!("127.0.0.1:{gateway_port}")),
            var("TANKSIM_DISPATCHER_URL", &dispatcher.url),
            var("TANKSIM_RESULTS_URL", &results_url),
            // Off unless the test configures it (`gateway_env` comes later and wins).
            var("TANKSIM_AUTH", "disabled"),
        ]);
        env.extend(mesh(pki.as_ref(), "gateway", false));
        env.extend(options.service_env.iter().cloned());
        if options.keys_in_redis {
            env.push(var("TANKSIM_API_KEYS_REDIS_URL", redis.url()));
        }
        env.extend(options.gateway_env.iter().cloned());
        let gateway = Service::new(&path, "gateway", &binaries.gateway, env, gateway_port);

        let slots = (0..options.workers)
            .map(|i| {
                let (name, port) = (format!("worker-{i}"), free_port());
                let mut env = common();
                env.extend([
                    var("TANKSIM_RESULTS_URL", &results_url),
                    var("TANKSIM_WORKER_NAME", &name),
                    var("TANKSIM_WORKER_LISTEN", format!("127.0.0.1:{port}")),
                    // Two workers share two cores: one simulation thread each.
                    var("TANKSIM_WORKER_THREADS", 1),
                    var("TANKSIM_VISIBILITY_TIMEOUT_MS", options.visibility_timeout.as_millis()),
                    var("TANKSIM_CLAIM_INTERVAL_MS", options.claim_interval.as_millis()),
                    var("TANKSIM_MAX_DELIVERIES", options.max_deliveries),
                    var("TANKSIM_SHUTDOWN_GRACE_MS", options.shutdown_grace.as_millis()),
                ]);
                env.extend(mesh(pki.as_ref(), "worker", false));
                env.extend(options.worker_env.iter().cloned());
                let admin_port = admin_port_of(&env);
                let log = path.join(format!("{name}.log"));
                let spec = ProcessSpec { name, program: binaries.worker.clone(), env, log };
                Slot { spec, port, admin_port, child: None, wanted: false, crashes: Vec::new() }
            })
            .collect();

        // Workers start last (below); an empty set until then keeps Drop simple.
        let mut cluster = Cluster {
            options,
            workers: Workers::start(Vec::new()).expect("the supervisor starts"),
            gateway,
            dispatcher,
            results,
            redis,
            pki,
            dir: Some(dir),
        };
        cluster.results.start().await;
        cluster.dispatcher.start().await;
        cluster.gateway.start().await;
        cluster.workers = Workers::start(slots).expect("the workers start");
        for i in 0..cluster.options.workers {
            cluster.wait_worker_serving(i).await;
        }
        cluster
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// `http://127.0.0.1:PORT` of the public API.
    pub fn gateway_url(&self) -> &str {
        &self.gateway.url
    }

    /// A JobService client on the gateway, without credentials.
    pub fn gateway_client(&self) -> api::Client {
        self.gateway_client_as(None)
    }

    /// A JobService client on the gateway whose calls carry `token`.
    pub fn gateway_client_as(&self, token: Option<&str>) -> api::Client {
        let endpoint = tonic::transport::Endpoint::from_shared(self.gateway.url.clone())
            .expect("a valid URL")
            .connect_timeout(Duration::from_secs(2));
        let bearer = tanksim_cli::client::Bearer::new(token).expect("a token a header can carry");
        JobServiceClient::with_interceptor(endpoint.connect_lazy(), bearer)
    }

    /// The test CA of an [`Options::mtls`] cluster (to make certificates for attackers).
    pub fn pki(&self) -> Option<&Pki> {
        self.pki.as_ref()
    }

    /// `http(s)://127.0.0.1:PORT` of the results service.
    pub fn results_url(&self) -> &str {
        &self.results.url
    }

    /// `http(s)://127.0.0.1:PORT` of the dispatcher.
    pub fn dispatcher_url(&self) -> &str {
        &self.dispatcher.url
    }

    pub fn redis_url(&self) -> String {
        self.redis.url()
    }

    /// The task queue as the services see it (stats, dead letters).
    pub async fn queue(&self) -> RedisQueue {
        RedisQueue::connect(&self.redis.url()).await.expect("connecting to the cluster's Redis")
    }

    /// Entries delivered to worker `i`'s consumer name and not acknowledged.
    pub async fn pending_of_worker(&self, i: usize) -> usize {
        let client = redis::Client::open(self.redis.url()).expect("a valid Redis URL");
        let mut conn = client.get_multiplexed_async_connection().await.expect("connecting to Redis");
        let entries: Vec<redis::Value> = redis::cmd("XPENDING")
            .arg(tanksim_broker::names::TASKS_STREAM)
            .arg(tanksim_broker::names::WORKERS_GROUP)
            .arg("-")
            .arg("+")
            .arg(10_000)
            .arg(self.worker_name(i))
            .query_async(&mut conn)
            .await
            .expect("XPENDING");
        entries.len()
    }

    /// Worker `i`'s consumer name (stable across its restarts).
    pub fn worker_name(&self, i: usize) -> String {
        format!("worker-{i}")
    }

    /// `(name, pid)` of every running service process (gateway, dispatcher, results, workers):
    /// what a benchmark samples resident memory from.
    pub fn process_ids(&self) -> Vec<(String, u32)> {
        let mut out: Vec<(String, u32)> = [&self.gateway, &self.dispatcher, &self.results]
            .into_iter()
            .filter_map(|s| s.child.as_ref().map(|c| (s.spec.name.clone(), c.id())))
            .collect();
        let workers = self.workers.lock();
        out.extend(workers.iter().filter_map(|w| w.child.as_ref().map(|c| (w.spec.name.clone(), c.id()))));
        out
    }

    /// Every process's log tail, for a failure message.
    pub fn report(&self) -> String {
        let mut specs = vec![&self.gateway.spec, &self.dispatcher.spec, &self.results.spec];
        let workers = self.workers.lock();
        specs.extend(workers.iter().map(|s| &s.spec));
        let mut out = String::new();
        for spec in specs {
            out.push_str(&format!(
                "\n----- {} ({}) -----\n{}\n",
                spec.name,
                spec.log.display(),
                spec.tail(TAIL_LINES)
            ));
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.workers.shutdown();
        for service in [&mut self.gateway, &mut self.dispatcher, &mut self.results] {
            if let Some(child) = &mut service.child
                && let Ok(Some(status)) = child.try_wait()
            {
                service.spec.note(&format!("had exited on its own ({status})"));
            }
            service.kill();
        }
        self.redis.kill();
        let failed = std::thread::panicking();
        if failed {
            eprintln!("===== e2e: the test failed; process logs (tails):{}", self.report());
        }
        if (failed || std::env::var_os(KEEP_LOGS).is_some())
            && let Some(dir) = self.dir.take()
        {
            eprintln!("===== e2e: full logs kept in {}", dir.keep().display());
        }
    }
}
