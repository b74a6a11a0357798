//! What the client tests (python_client, typescript_client, streamlit_page) share: a
//! `tanksim serve all` on a free port against a private Redis ([`Served`]), an API key made
//! by `tanksim keys create` ([`create_key`]), the interpreter a test needs from the
//! environment ([`interpreter`]), running a client's command with a time limit
//! ([`run_blocking`]), comparing generated code with the committed code
//! ([`generated_files`], [`assert_same_files`]), and checking an MC-tau example's output
//! against what the gateway holds ([`assert_mc_tau_matches_gateway`]).
//!
//! Each test file declares `mod served;`; Cargo makes no test binary of its own from a folder
//! under tests/ without a main.rs.

// Each test binary compiles this whole module but uses a subset of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_proto::v1::{GetJobRequest, GetJobResultsRequest, JobState, Metric};
use tanksim_test_util::{RedisServer, free_port};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The repository's root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The path in `$var` (an interpreter the test command provides), or None after printing
/// SKIPPED: `var` is not set (`set_by` sets it).
pub(crate) fn interpreter(var: &str, set_by: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var).map(PathBuf::from);
    if path.is_none() {
        println!("SKIPPED: {var} is not set ({set_by} sets it)");
    }
    path
}

/// Every file under `dir` by relative path, with its contents; directories named in
/// `skip_dirs` (caches such as `__pycache__`) are left out.
pub(crate) fn files(dir: &Path, skip_dirs: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| !skip_dirs.iter().any(|skip| n == *skip)) {
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

/// Runs `generate` (a client's generate.sh) with a fresh directory to write into as its last
/// argument, panicking with its stderr if it fails; then the files it wrote, as [`files`]
/// lists them.
pub(crate) fn generated_files(mut generate: Command, skip_dirs: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let fresh = tempfile::tempdir().expect("temp dir");
    let output = generate.arg(fresh.path()).output().expect("running generate.sh");
    assert!(
        output.status.success(),
        "generate.sh failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    files(fresh.path(), skip_dirs)
}

/// Checks that `generated` holds the same files as `committed`, with the same contents;
/// `stale` says how to bring the committed ones up to date.
pub(crate) fn assert_same_files(
    committed: &BTreeMap<String, Vec<u8>>,
    generated: &BTreeMap<String, Vec<u8>>,
    stale: &str,
) {
    assert_eq!(committed.keys().collect::<Vec<_>>(), generated.keys().collect::<Vec<_>>(), "{stale}");
    for (name, text) in generated {
        assert!(committed[name] == *text, "{name} differs; {stale}");
    }
}

/// What [`run_blocking`] kills when a command outlives its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kill {
    /// The command's process alone.
    Process,
    /// Everything the command started too: it runs in a process group of its own, killed
    /// whole.
    Group,
}

/// Runs `cmd` on a blocking thread with its output in files in a temporary directory (no
/// pipe to fill), killing it (see [`Kill`]) after `limit`; `what` names it in panics.
pub(crate) async fn run_blocking(
    cmd: Command,
    limit: Duration,
    what: &'static str,
    kill: Kill,
) -> (ExitStatus, String, String) {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("temp dir");
        run(cmd, dir.path(), limit, what, kill)
    })
    .await
    .unwrap_or_else(|e| panic!("{what}'s runner: {e}"))
}

/// Runs `cmd` with its output in files under `dir`, killing it (see [`Kill`]) after `limit`.
fn run(
    mut cmd: Command,
    dir: &Path,
    limit: Duration,
    what: &str,
    kill: Kill,
) -> (ExitStatus, String, String) {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    cmd.stdout(File::create(&out).expect("stdout file")).stderr(File::create(&err).expect("stderr file"));
    if kill == Kill::Group {
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {what}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("waiting for {what}: {e}")) {
            break status;
        }
        if Instant::now() > deadline {
            if kill == Kill::Group {
                // The group's id is the command's pid (process_group(0)).
                let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            }
            let _ = child.kill();
            break child.wait().unwrap_or_else(|e| panic!("reaping {what}: {e}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (status, read(&out), read(&err))
}

/// A key of `tenant` named `name` with `scopes` (comma-separated) made by `tanksim keys
/// create` in `redis`: what it prints on stdout.
pub(crate) fn create_key(redis: &RedisServer, tenant: &str, name: &str, scopes: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tanksim"))
        .args(["keys", "create", "--tenant", tenant, "--name", name, "--scopes", scopes])
        .args(["--redis-url", &redis.url()])
        .output()
        .expect("running tanksim keys create");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "tanksim keys create: {}", String::from_utf8_lossy(&output.stderr));
    let key = stdout.trim().to_owned();
    assert!(key.starts_with("tsk_") && !key.contains('\n'), "the key alone on stdout: {stdout:?}");
    key
}

/// The id in a client's `submitted job <id>` line on `stdout`; panics with `context` if there
/// is none.
pub(crate) fn submitted_job_id(stdout: &str, context: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("submitted job "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `submitted job <id>` line\n{context}"))
        .to_owned()
}

/// Checks what an MC-tau example printed on `stdout` for job `job_id` against what the gateway
/// holds: a `job <id> succeeded` line; the job, which needs `token` to be seen, succeeded with
/// `runs` runs; and its `overshoot_pct <count> <mean> …` row matches the job's results.
pub(crate) async fn assert_mc_tau_matches_gateway(
    served: &Served,
    token: &str,
    job_id: &str,
    stdout: &str,
    context: &str,
    runs: u64,
) {
    assert!(stdout.contains(&format!("job {job_id} succeeded")), "no final state line\n{context}");

    // What the example printed is what the gateway holds (for this key's tenant; without
    // a key, nothing).
    let url = served.url();
    let mut anonymous = JobServiceClient::connect(url.clone()).await.expect("connect");
    let refused = anonymous.get_job(GetJobRequest { id: job_id.to_owned() }).await.expect_err("needs a key");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    let mut client = tanksim_cli::client::connect(&url, Some(token)).await.expect("connect");
    let job = client.get_job(GetJobRequest { id: job_id.to_owned() }).await.expect("GetJob").into_inner().job;
    let job = job.expect("GetJob answers with the job");
    assert_eq!(job.state(), JobState::Succeeded, "{context}");
    assert_eq!(job.progress.map(|p| p.runs_done), Some(runs), "{context}");
    let results = client
        .get_job_results(GetJobResultsRequest { id: job_id.to_owned(), ..Default::default() })
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
    assert_eq!(overshoot.count, runs);
    let mean: f64 = row[2].parse().expect("the mean column is a number");
    // Printed with 6 significant digits.
    assert!((mean - overshoot.mean).abs() <= 1e-5 * overshoot.mean.abs(), "{mean} vs {}", overshoot.mean);
}

/// `tanksim serve all` on a free port against a private Redis; killed on drop.
pub(crate) struct Served {
    child: Child,
    /// The gateway's `host:port`.
    pub(crate) addr: String,
    dir: tempfile::TempDir,
    /// The Redis the server uses (and keys are made in).
    pub(crate) redis: RedisServer,
}

impl Served {
    /// Starts the server and waits until its gateway reports SERVING (on another port if the
    /// first one was taken meanwhile); panics with its log if it never does.
    pub(crate) async fn start() -> Self {
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

    /// The gateway's URL.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Whether the gateway reports SERVING before `limit`; false as soon as the process exits.
    async fn wait_until_serving(&mut self, limit: Duration) -> bool {
        let endpoint = tonic::transport::Endpoint::from_shared(self.url()).expect("gateway url");
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
    pub(crate) fn log(&self) -> String {
        ["serve.out", "serve.err"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect()
    }

    /// A client command's `stdout` and `stderr` with the server's log, for assertion messages.
    pub(crate) fn context(&self, stdout: &str, stderr: &str) -> String {
        format!("stdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}", self.log())
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
