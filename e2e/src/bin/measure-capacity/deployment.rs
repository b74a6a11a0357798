//! The deployment under measurement: e2e's [`Cluster`] (a private redis-server, gateway,
//! dispatcher, results as processes) with ONE worker sized like a pod of
//! deploy/base/worker.yaml (one CPU, `TANKSIM_WORKER_THREADS=1`, the worker ConfigMap's
//! timeouts), and everything else kept off the worker's CPU, as in a cluster where those run on
//! other cores or nodes.
//!
//! The worker is either the release binary pinned to one CPU with `taskset` (`process`), or the
//! released image under `podman run --network host --cpus 1` (`podman`: a CFS quota of one
//! CPU, which is what `limits.cpu: 1` gives a pod under K3s's default CPU manager).
//!
//! [`Deployment::run_job`] submits a job through the gateway and reads what it cost: the job's
//! own timestamps from Redis (server-side, so polling slowly loses no precision), CPU seconds
//! per process from `/proc`, Redis's main-thread CPU and its command counts.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tanksim_broker::names;
use tanksim_e2e::{Cluster, Options, api};
use tanksim_proto::v1::SubmitJobRequest;

use crate::probe::{self, Calls, Snapshot};

/// How often a running job's state is read (its duration comes from its own timestamps).
const POLL: Duration = Duration::from_millis(200);
/// The longest job measured.
const JOB_LIMIT: Duration = Duration::from_secs(1200);

/// How the worker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WorkerMode {
    /// The release binary, every thread pinned to the worker CPU.
    Process,
    /// `podman run --network host --cpus 1 IMAGE`.
    Podman { image: String },
}

/// Which CPU the worker gets and where everything else goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement {
    pub(crate) worker_cpu: usize,
    pub(crate) services_cpu: usize,
}

/// What one job cost.
#[derive(Debug, Clone)]
pub(crate) struct JobRun {
    pub(crate) id: String,
    pub(crate) runs: u64,
    pub(crate) chunks: u64,
    pub(crate) chunk_size: u64,
    /// From `SubmitJob` to the job's end (`finished_at_ms - submitted_at_ms`).
    pub(crate) wall_s: f64,
    /// From the first chunk recorded to the end: `chunks - 1` chunks of steady work.
    pub(crate) steady_s: f64,
    pub(crate) before: Snapshot,
    pub(crate) after: Snapshot,
    /// Redis commands in between (the probe's own `INFO` and polls taken out).
    pub(crate) calls: Calls,
}

impl JobRun {
    pub(crate) fn per_wall_s(&self) -> f64 {
        self.runs as f64 / self.wall_s
    }

    /// Runs/s once the pipeline is full (the first chunk's runs are before the window).
    pub(crate) fn per_steady_s(&self) -> f64 {
        self.runs.saturating_sub(self.chunk_size.min(self.runs)) as f64 / self.steady_s
    }

    pub(crate) fn cpu_of(&self, process: &str) -> f64 {
        self.before.cpu_of(&self.after, process)
    }

    pub(crate) fn redis_cpu(&self) -> f64 {
        self.after.redis_cpu - self.before.redis_cpu
    }
}

/// The running deployment.
pub(crate) struct Deployment {
    pub(crate) cluster: Cluster,
    pub(crate) redis: probe::Redis,
    /// `(name, pid)`: gateway, dispatcher, results, worker-0, redis.
    pub(crate) pids: Vec<(String, u32)>,
    /// Where the results service keeps rows.
    pub(crate) data_dir: PathBuf,
    _podman: Option<PodmanWorker>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment").field("pids", &self.pids).finish_non_exhaustive()
    }
}

impl Deployment {
    /// Starts the deployment with `workers` workers (0: none, for queue measurements) and
    /// chunks of `chunk_size` runs, placed as `placement` says.
    pub(crate) async fn start(
        workers: usize,
        chunk_size: u64,
        mode: &WorkerMode,
        placement: Placement,
    ) -> Deployment {
        let podman = matches!(mode, WorkerMode::Podman { .. });
        // The worker ConfigMap of deploy/base/kustomization.yaml.
        let options = Options {
            workers: if podman { 0 } else { workers },
            chunk_size,
            visibility_timeout: Duration::from_secs(30),
            claim_interval: Duration::from_secs(5),
            max_deliveries: 3,
            shutdown_grace: Duration::from_secs(45),
            ..Options::default()
        };
        let cluster = Cluster::start(tanksim_e2e::bench::binaries_beside_exe(), options).await;
        let redis =
            probe::Redis::connect(&cluster.redis_url()).await.expect("connecting to the cluster's Redis");
        redis.persist_like_deployed().await.expect("turning on the AOF");
        let mut pids = cluster.process_ids();
        pids.push(("redis".to_owned(), redis.pid().await.expect("INFO server")));
        let results_pid = pids.iter().find(|(n, _)| n == "results").map(|(_, p)| *p).expect("results runs");
        let data_dir = cluster.log_file("results").parent().expect("the cluster directory").join("data");

        let mut worker = None;
        if let (WorkerMode::Podman { image }, true) = (mode, workers > 0) {
            let results =
                probe::environ(results_pid, "TANKSIM_RESULTS_LISTEN").expect("results' listen address");
            let started = PodmanWorker::start(image, &cluster.redis_url(), &results, &data_dir).await;
            pids.push(("worker-0".to_owned(), started.pid));
            worker = Some(started);
        }
        for (name, pid) in &pids {
            // A podman worker is limited by its CPU quota, like a pod: not pinned.
            let cpu = if name.starts_with("worker") { placement.worker_cpu } else { placement.services_cpu };
            if !(podman && name.starts_with("worker")) {
                probe::pin(*pid, cpu).unwrap_or_else(|e| panic!("pinning {name}: {e}"));
            }
        }
        Deployment { cluster, redis, pids, data_dir, _podman: worker }
    }

    /// Submits `spec` through the gateway and waits for the job to succeed.
    pub(crate) async fn run_job(&self, spec: SubmitJobRequest) -> JobRun {
        let mut client = self.cluster.gateway_client();
        let before = Snapshot::take(&self.redis, &self.pids).await.expect("reading counters");
        let job = api::submit(&mut client, spec).await;
        let key = names::job_key(&job.id);
        let deadline = tokio::time::Instant::now() + JOB_LIMIT;
        let mut polls = 0;
        let fields = loop {
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(&key).arg(&[
                "state",
                "submitted_at_ms",
                "started_at_ms",
                "finished_at_ms",
                "chunks_total",
                "chunk_size",
                "runs_total",
            ]);
            let fields: Vec<Option<String>> = self.redis.query(&cmd).await.expect("HMGET job");
            polls += 1;
            match fields[0].as_deref() {
                Some("succeeded") => break fields,
                Some(state @ ("failed" | "cancelled")) => panic!("job {} ended {state}", job.id),
                _ => {}
            }
            assert!(tokio::time::Instant::now() < deadline, "job {} not done within {JOB_LIMIT:?}", job.id);
            tokio::time::sleep(POLL).await;
        };
        let after = Snapshot::take(&self.redis, &self.pids).await.expect("reading counters");
        let number =
            |i: usize| -> u64 { fields[i].as_deref().and_then(|v| v.parse().ok()).expect("job field") };
        let (submitted, started, finished) = (number(1), number(2), number(3));
        let mut calls = probe::without_probe(probe::calls_between(&before.calls, &after.calls));
        if let Some(n) = calls.get_mut("hmget") {
            *n = n.saturating_sub(polls);
        }
        JobRun {
            id: job.id,
            chunks: number(4),
            chunk_size: number(5),
            runs: number(6),
            wall_s: finished.saturating_sub(submitted) as f64 / 1000.0,
            steady_s: finished.saturating_sub(started) as f64 / 1000.0,
            before,
            after,
            calls,
        }
    }

    /// Disk bytes of job `id`'s rows, then deletes them (a dataset round writes hundreds of MB).
    pub(crate) fn take_rows(&self, id: &str) -> u64 {
        let dir = self.data_dir.join(id);
        let bytes = probe::disk_bytes(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    }
}

/// The worker image running under podman, removed on drop.
struct PodmanWorker {
    name: String,
    pid: u32,
    _child: Child,
}

impl PodmanWorker {
    async fn start(
        image: &str,
        redis_url: &str,
        results_listen: &str,
        dir: &std::path::Path,
    ) -> PodmanWorker {
        let name = format!("tanksim-capacity-worker-{}", std::process::id());
        let (port, admin) = (tanksim_e2e::ports::free_port(), tanksim_e2e::ports::free_port());
        let log = std::fs::File::create(dir.with_file_name("worker-podman.log")).expect("a log file");
        let env = [
            ("TANKSIM_REDIS_URL", redis_url.to_owned()),
            ("TANKSIM_RESULTS_URL", format!("http://{results_listen}")),
            ("TANKSIM_WORKER_NAME", "worker-0".to_owned()),
            ("TANKSIM_WORKER_LISTEN", format!("127.0.0.1:{port}")),
            ("TANKSIM_ADMIN_LISTEN", format!("127.0.0.1:{admin}")),
            // What deploy/base/worker.yaml derives from limits.cpu = 1, and its ConfigMap.
            ("TANKSIM_WORKER_THREADS", "1".to_owned()),
            ("TANKSIM_VISIBILITY_TIMEOUT_MS", "30000".to_owned()),
            ("TANKSIM_CLAIM_INTERVAL_MS", "5000".to_owned()),
            ("TANKSIM_MAX_DELIVERIES", "3".to_owned()),
            ("TANKSIM_SHUTDOWN_GRACE_MS", "45000".to_owned()),
            ("TANKSIM_LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ];
        let mut command = Command::new("podman");
        // Host network on loopback only (podman's bridge network is never used here).
        command.args([
            "run",
            "--rm",
            "--name",
            &name,
            "--network",
            "host",
            "--cpus",
            "1",
            "--memory",
            "512m",
        ]);
        for (key, value) in &env {
            command.arg("--env").arg(format!("{key}={value}"));
        }
        command.arg(image);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("starting podman");
        let url = format!("http://127.0.0.1:{port}");
        let serving = tanksim_e2e::health::wait_serving(&url, Duration::from_secs(60), || {
            child.try_wait().ok().flatten()
        })
        .await;
        if let Err(e) = serving {
            let _ = Command::new("podman").args(["rm", "-f", &name]).output();
            panic!("the podman worker did not start: {e}");
        }
        let inspect = Command::new("podman")
            .args(["inspect", "--format", "{{.State.Pid}}", &name])
            .output()
            .expect("podman inspect");
        let pid = String::from_utf8_lossy(&inspect.stdout).trim().parse().expect("the container's pid");
        PodmanWorker { name, pid, _child: child }
    }
}

impl Drop for PodmanWorker {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rm", "-f", "-t", "5", &self.name]).output();
    }
}
