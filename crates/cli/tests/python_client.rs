//! The Python client (clients/python) against a running `tanksim serve all`: its MC-tau
//! example submits, watches and reads results; and its committed stubs match the protos.
//!
//! Needs `$TANKSIM_PYTHON`, an interpreter with grpcio, grpcio-tools, protobuf and PyYAML
//! (the test command's venv); without it both tests print SKIPPED and pass.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::{GetJobRequest, GetJobResultsRequest, JobState, Metric};
use tanksim_test_util::{RedisServer, free_port};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const RUNS: u64 = 5000;

#[tokio::test]
async fn mc_tau_example_submits_watches_and_reads_results() {
    let Some(python) = python() else { return };
    let served = Served::start().await;
    let token = create_key(&served.redis);
    let dir = tempfile::tempdir().expect("temp dir");
    let example = repo().join("clients/python/examples/mc_tau.py");
    let mut cmd = Command::new(&python);
    cmd.arg(example)
        .args(["--target", &served.addr, "--runs", &RUNS.to_string()])
        .env("PYTHONPATH", repo().join("clients/python/src"))
        .env("TANKSIM_TOKEN", &token);
    let (status, stdout, stderr) =
        tokio::task::spawn_blocking(move || run(cmd, dir.path(), Duration::from_secs(120)))
            .await
            .expect("the example's runner");
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}", served.log());
    assert!(status.success(), "mc_tau.py exited with {status}\n{context}");

    let job_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("submitted job "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `submitted job <id>` line\n{context}"))
        .to_owned();
    assert!(stdout.contains(&format!("job {job_id} succeeded")), "no final state line\n{context}");

    // What the example printed is what the gateway holds (for this key's tenant; without
    // a key, nothing).
    let url = format!("http://{}", served.addr);
    let mut anonymous = JobServiceClient::connect(url.clone()).await.expect("connect");
    let refused = anonymous.get_job(GetJobRequest { id: job_id.clone() }).await.expect_err("needs a key");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    let mut client = tanksim_cli::client::connect(&url, Some(&token)).await.expect("connect");
    let job = client.get_job(GetJobRequest { id: job_id.clone() }).await.expect("GetJob").into_inner().job;
    let job = job.expect("GetJob answers with the job");
    assert_eq!(job.state(), JobState::Succeeded, "{context}");
    assert_eq!(job.progress.map(|p| p.runs_done), Some(RUNS), "{context}");
    let results = client
        .get_job_results(GetJobResultsRequest { id: job_id, ..Default::default() })
        .await
        .expect("GetJobResults")
        .into_inner();
    let overshoot =
        results.metrics.iter().find(|m| m.metric() == Metric::OvershootPct).expect("results have overshoot");
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("overshoot_pct "))
        .unwrap_or_else(|| panic!("no overshoot_pct row\n{context}"))
        .split_whitespace()
        .collect();
    assert_eq!(row[1], overshoot.count.to_string(), "{context}");
    assert_eq!(overshoot.count, RUNS);
    let mean: f64 = row[2].parse().expect("the mean column is a number");
    // Printed with 6 significant digits.
    assert!((mean - overshoot.mean).abs() <= 1e-5 * overshoot.mean.abs(), "{mean} vs {}", overshoot.mean);
}

#[test]
fn committed_stubs_match_the_protos() {
    let Some(python) = python() else { return };
    let fresh = tempfile::tempdir().expect("temp dir");
    let output = Command::new("bash")
        .arg(repo().join("clients/python/generate.sh"))
        .arg(fresh.path())
        .env("PYTHON", &python)
        .output()
        .expect("running generate.sh");
    assert!(
        output.status.success(),
        "generate.sh failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = files(&repo().join("clients/python/src/tanksim_client/_gen"));
    let generated = files(fresh.path());
    let stale = "clients/python/src/tanksim_client/_gen is stale: run clients/python/generate.sh \
                 (with the grpcio-tools version pinned in clients/python/pyproject.toml)";
    assert_eq!(committed.keys().collect::<Vec<_>>(), generated.keys().collect::<Vec<_>>(), "{stale}");
    for (name, text) in &generated {
        assert!(committed[name] == *text, "{name} differs; {stale}");
    }
}

/// `$TANKSIM_PYTHON`, or None after printing SKIPPED.
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("TANKSIM_PYTHON").map(PathBuf::from);
    if python.is_none() {
        println!("SKIPPED: TANKSIM_PYTHON is not set (the test command sets it)");
    }
    python
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` (skipping bytecode caches) by relative path, with its contents.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "__pycache__") {
                    pending.push(path);
                }
            } else {
                let name = path.strip_prefix(dir).expect("under dir").to_string_lossy().into_owned();
                out.insert(name, std::fs::read(&path).expect("reading a generated file"));
            }
        }
    }
    out
}

/// Runs `cmd` with its output in files under `dir` (no pipe to fill), killing it after `limit`.
fn run(mut cmd: Command, dir: &Path, limit: Duration) -> (ExitStatus, String, String) {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    cmd.stdout(File::create(&out).expect("stdout file")).stderr(File::create(&err).expect("stderr file"));
    let mut child = cmd.spawn().expect("spawning the Python example");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the example") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().expect("reaping the example");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (status, read(&out), read(&err))
}

/// A key of tenant `python` made by `tanksim keys create` in `redis`: what it prints on stdout.
fn create_key(redis: &RedisServer) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tanksim"))
        .args([
            "keys",
            "create",
            "--tenant",
            "python",
            "--name",
            "example",
            "--scopes",
            "jobs:submit,jobs:read",
        ])
        .args(["--redis-url", &redis.url()])
        .output()
        .expect("running tanksim keys create");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "tanksim keys create: {}", String::from_utf8_lossy(&output.stderr));
    let key = stdout.trim().to_owned();
    assert!(key.starts_with("tsk_") && !key.contains('\n'), "the key alone on stdout: {stdout:?}");
    key
}

/// `tanksim serve all` on a free port against a private Redis; killed on drop.
struct Served {
    child: Child,
    addr: String,
    dir: tempfile::TempDir,
    redis: RedisServer,
}

impl Served {
    async fn start() -> Self {
        let redis = RedisServer::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = format!("127.0.0.1:{}", free_port());
        let child = spawn_serve(&redis, &addr, dir.path());
        let mut served = Served { child, addr, dir, redis };
        // The port was free a moment ago; if another process took it meanwhile, try another.
        for attempt in 0.. {
            if served.wait_until_serving(Duration::from_secs(60)).await {
                break;
            }
            assert!(attempt < 2, "tanksim serve all did not become SERVING:\n{}", served.log());
            served.kill();
            served.addr = format!("127.0.0.1:{}", free_port());
            served.child = spawn_serve(&served.redis, &served.addr, served.dir.path());
        }
        served
    }

    /// Whether the gateway reports SERVING before `limit`; false as soon as the process exits.
    async fn wait_until_serving(&mut self, limit: Duration) -> bool {
        let url = format!("http://{}", self.addr);
        let endpoint = tonic::transport::Endpoint::from_shared(url).expect("gateway url");
        let mut health = HealthClient::new(endpoint.connect_lazy());
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!("tanksim serve all exited with {status}");
                return false;
            }
            let check = health.check(HealthCheckRequest { service: String::new() }).await;
            if matches!(&check, Ok(r) if r.get_ref().status() == ServingStatus::Serving) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's stdout and stderr so far.
    fn log(&self) -> String {
        ["serve.out", "serve.err"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_serve(redis: &RedisServer, addr: &str, dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tanksim"))
        .args(["serve", "all", "--redis-url", &redis.url(), "--listen", addr, "--workers", "2"])
        // Keys made with `tanksim keys create` in the same Redis.
        .args(["--auth", "required"])
        // Any free port for metrics: tests run in parallel, and the default port may be taken.
        .args(["--admin-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("RUST_LOG", "info")
        .stdout(File::create(dir.join("serve.out")).expect("log file"))
        .stderr(File::create(dir.join("serve.err")).expect("log file"))
        .spawn()
        .expect("spawning tanksim serve all")
}
