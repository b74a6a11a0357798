//! A whole deployment on this machine: a private `redis-server` and the four services as
//! separate OS processes (gateway, dispatcher, results, N workers), configured through their
//! environment like in Kubernetes, each on a free port, with logs in a temporary directory.
//! Dropping the cluster kills everything; if the test is failing, it first prints each
//! process's log tail and keeps the directory.

mod faults;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use tanksim_broker::RedisQueue;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_test_util::{Persistence, RedisServer, free_port};
use tonic::transport::Channel;

use crate::health::wait_serving;
use crate::process::{self, ProcessSpec};
use crate::workers::{Slot, Workers};

/// How long a process may take to report SERVING after it starts.
const START_LIMIT: Duration = Duration::from_secs(30);
/// Log lines shown per process when a test fails.
const TAIL_LINES: usize = 25;

/// The service executables. Cargo tells only integration tests where it built them: get
/// this with [`crate::binaries!`] in the test.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub gateway: PathBuf,
    pub dispatcher: PathBuf,
    pub results: PathBuf,
    pub worker: PathBuf,
}

/// [`Binaries`] as this package builds them (`e2e-*`); use in integration tests only.
#[macro_export]
macro_rules! binaries {
    () => {
        $crate::cluster::Binaries {
            gateway: env!("CARGO_BIN_EXE_e2e-gateway").into(),
            dispatcher: env!("CARGO_BIN_EXE_e2e-dispatcher").into(),
            results: env!("CARGO_BIN_EXE_e2e-results").into(),
            worker: env!("CARGO_BIN_EXE_e2e-worker").into(),
        }
    };
}

/// How to size and tune the cluster.
#[derive(Debug, Clone)]
pub struct Options {
    pub workers: usize,
    /// Runs per chunk (`TANKSIM_CHUNK_SIZE` on the dispatcher).
    pub chunk_size: u64,
    /// [`Persistence::AppendOnly`] when the test restarts Redis and expects its data back.
    pub persistence: Persistence,
    /// Short, so a killed worker's chunk is claimed by another one quickly.
    pub visibility_timeout: Duration,
    pub claim_interval: Duration,
    pub max_deliveries: u64,
    pub shutdown_grace: Duration,
    /// Extra environment for every worker (e.g. the fault hook).
    pub worker_env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 2,
            chunk_size: 2_000,
            persistence: Persistence::None,
            visibility_timeout: Duration::from_millis(2_000),
            claim_interval: Duration::from_millis(500),
            max_deliveries: 3,
            shutdown_grace: Duration::from_secs(10),
            worker_env: Vec::new(),
        }
    }
}

/// A process the test does not restart on its own (gateway, dispatcher, results).
#[derive(Debug)]
struct Service {
    spec: ProcessSpec,
    url: String,
    child: Option<Child>,
}

impl Service {
    fn new(dir: &Path, name: &str, program: &Path, env: Vec<(String, String)>, port: u16) -> Self {
        let spec = ProcessSpec {
            name: name.to_owned(),
            program: program.to_owned(),
            env,
            log: dir.join(format!("{name}.log")),
        };
        Service { spec, url: format!("http://127.0.0.1:{port}"), child: None }
    }

    async fn start(&mut self) {
        let child = self.spec.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", self.spec.name));
        let child = self.child.insert(child);
        if let Err(e) = wait_serving(&self.url, START_LIMIT, || child.try_wait().ok().flatten()).await {
            panic!("{} did not start: {e}\n{}", self.spec.name, self.spec.tail(TAIL_LINES));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = process::kill(&mut child);
            self.spec.note(&format!("killed by the test (SIGKILL): {status:?}"));
        }
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
    dir: Option<tempfile::TempDir>,
}

fn var(key: &str, value: impl ToString) -> (String, String) {
    (key.to_owned(), value.to_string())
}

impl Cluster {
    /// Starts Redis, then results, dispatcher, gateway and the workers, each once it is
    /// SERVING. Panics (with the logs) if a process does not come up.
    pub async fn start(binaries: Binaries, options: Options) -> Cluster {
        let dir = tempfile::Builder::new().prefix("tanksim-e2e-").tempdir().expect("a temporary directory");
        let path = dir.path().to_owned();
        let redis = RedisServer::start_with(options.persistence);
        let common = || {
            vec![
                var("TANKSIM_REDIS_URL", redis.url()),
                var("TANKSIM_LOG_FORMAT", "json"),
                var("RUST_LOG", "info"),
            ]
        };
        let [results_port, dispatcher_port, gateway_port] = [free_port(), free_port(), free_port()];
        let results_url = format!("http://127.0.0.1:{results_port}");

        let mut env = common();
        env.extend([
            var("TANKSIM_RESULTS_LISTEN", format!("127.0.0.1:{results_port}")),
            var("TANKSIM_DATA_DIR", path.join("data").display()),
            var("TANKSIM_WATCH_POLL_MS", 200),
        ]);
        let results = Service::new(&path, "results", &binaries.results, env, results_port);

        let mut env = common();
        env.extend([
            var("TANKSIM_DISPATCHER_LISTEN", format!("127.0.0.1:{dispatcher_port}")),
            var("TANKSIM_CHUNK_SIZE", options.chunk_size),
        ]);
        let dispatcher = Service::new(&path, "dispatcher", &binaries.dispatcher, env, dispatcher_port);

        let mut env = common();
        env.extend([
            var("TANKSIM_GATEWAY_LISTEN", format!("127.0.0.1:{gateway_port}")),
            var("TANKSIM_DISPATCHER_URL", &dispatcher.url),
            var("TANKSIM_RESULTS_URL", &results_url),
        ]);
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
                env.extend(options.worker_env.iter().cloned());
                let log = path.join(format!("{name}.log"));
                let spec = ProcessSpec { name, program: binaries.worker.clone(), env, log };
                Slot { spec, port, child: None, wanted: false, crashes: Vec::new() }
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

    /// A JobService client on the gateway.
    pub fn gateway_client(&self) -> JobServiceClient<Channel> {
        let endpoint = tonic::transport::Endpoint::from_shared(self.gateway.url.clone())
            .expect("a valid URL")
            .connect_timeout(Duration::from_secs(2));
        JobServiceClient::new(endpoint.connect_lazy())
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
        if std::thread::panicking() {
            eprintln!("===== e2e: the test failed; process logs (tails):{}", self.report());
            if let Some(dir) = self.dir.take() {
                eprintln!("===== e2e: full logs kept in {}", dir.keep().display());
            }
        }
    }
}
