//! The Python client (clients/python) against a running `tanksim serve all`: its MC-tau
//! example submits, watches and reads results, its sensitivity, adaptive and optimisation
//! examples print the indices, the precision and the best point the gateway holds; and its
//! committed stubs match the protos.
//!
//! Needs `$TANKSIM_PYTHON`, an interpreter with grpcio, grpcio-tools, protobuf and PyYAML
//! (the test command's venv); without it every test prints SKIPPED and passes.

mod served;

use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use tanksim_proto::v1::{GetJobResultsRequest, GetJobResultsResponse};

use served::{
    Kill, Served, assert_mc_tau_matches_gateway, assert_same_files, create_key, files, generated_files, repo,
    submitted_job_id,
};

const RUNS: u64 = 5000;

/// Bytecode caches, which are no part of the stubs.
const PYCACHE: &[&str] = &["__pycache__"];

#[tokio::test]
async fn mc_tau_example_submits_watches_and_reads_results() {
    let Some(python) = python() else { return };
    let served = Served::start().await;
    let token = key(&served);
    let example = repo().join("clients/python/examples/mc_tau.py");
    let mut cmd = Command::new(&python);
    cmd.arg(example)
        .args(["--target", &served.addr, "--runs", &RUNS.to_string()])
        .env("PYTHONPATH", repo().join("clients/python/src"))
        .env("TANKSIM_TOKEN", &token);
    let (status, stdout, stderr) = run_example(cmd).await;
    let context = served.context(&stdout, &stderr);
    assert!(status.success(), "mc_tau.py exited with {status}\n{context}");

    let job_id = submitted_job_id(&stdout, &context);
    assert_mc_tau_matches_gateway(&served, &token, &job_id, &stdout, &context, RUNS).await;
}

#[tokio::test]
async fn sensitivity_example_prints_the_indices_the_gateway_holds() {
    let Some((stdout, context, results)) = example_results("sensitivity.py", &["--samples", "256"]).await
    else {
        return;
    };
    let sensitivity = results.sensitivity.expect("a sensitivity result");
    assert_eq!(sensitivity.samples, 256);
    // Each metric x parameter line carries S1 and ST with their bounds, to 4 decimals.
    let mut lines = 0;
    for m in &sensitivity.metrics {
        let name = tanksim_cli::report::metric_name(m.metric());
        for (i, param) in sensitivity.params.iter().enumerate() {
            let line = stdout
                .lines()
                .find(|l| l.split_whitespace().take(2).eq([name, param.as_str()]))
                .unwrap_or_else(|| panic!("no line for {name} {param}\n{context}"));
            let cells: Vec<f64> =
                line.split_whitespace().skip(2).map(|c| c.parse().expect("a number")).collect();
            let (s1, st) = (&m.first_order[i], &m.total_order[i]);
            for (printed, served) in cells.iter().zip([s1.value, s1.lo, s1.hi, st.value, st.lo, st.hi]) {
                assert!((printed - served).abs() <= 5e-5, "{name} {param}: {printed} vs {served}\n{context}");
            }
            lines += 1;
        }
    }
    assert_eq!(lines, 3 * 4);
}

#[tokio::test]
async fn adaptive_example_prints_the_precision_the_gateway_holds() {
    let Some((stdout, context, results)) =
        example_results("adaptive.py", &["--relative", "0.02", "--quantile", "0.9"]).await
    else {
        return;
    };
    let stop = results.stop.expect("an adaptive result");
    assert!(stop.target_reached && stop.runs < stop.max_runs && stop.quantile == 0.9, "{stop:?}\n{context}");
    let value = |name: &str| -> String {
        let line = stdout.lines().find(|l| l.split_whitespace().next() == Some(name));
        let line = line.unwrap_or_else(|| panic!("no {name} line\n{context}"));
        line.split_whitespace().nth(1).expect("a value").to_owned()
    };
    assert_eq!(value("runs"), stop.runs.to_string(), "{context}");
    let printed: f64 = value("half_width").parse().expect("a number");
    assert!((printed - stop.half_width).abs() <= 1e-5 * stop.half_width, "{printed} vs {stop:?}\n{context}");
    let printed: f64 = value("p90").parse().expect("a number");
    assert!((printed - stop.estimate).abs() <= 1e-5 * stop.estimate, "{printed} vs {stop:?}\n{context}");
    assert!(stdout.contains("target reached"), "{context}");
}

#[tokio::test]
async fn optimize_example_prints_the_best_point_the_gateway_holds() {
    let Some((stdout, context, results)) = example_results("optimize.py", &["--generations", "40"]).await
    else {
        return;
    };
    let search = results.optimize.expect("an optimisation's result");
    let best = search.best.expect("a best point");
    let line =
        stdout.lines().find(|l| l.starts_with("best ")).unwrap_or_else(|| panic!("no best line\n{context}"));
    let printed: f64 = line.split_whitespace().nth(3).and_then(|v| v.parse().ok()).expect("an objective");
    assert!(
        (printed - best.objective).abs() <= 1e-8 * best.objective.abs(),
        "{printed} vs {best:?}\n{context}"
    );
    assert!(line.contains("plant.gain = ") && line.contains("plant.tau = "), "{context}");
    let runs = stdout.lines().find(|l| l.starts_with("runs ")).expect("a runs line");
    assert_eq!(runs.split_whitespace().nth(1), Some(search.runs.to_string().as_str()), "{context}");
    // One path row per generation.
    let rows = stdout
        .lines()
        .filter(|l| l.split_whitespace().next().is_some_and(|w| w.parse::<u32>().is_ok()))
        .count();
    assert_eq!(rows, search.path.len(), "{context}");
}

#[test]
fn committed_stubs_match_the_protos() {
    let Some(python) = python() else { return };
    let mut generate = Command::new("bash");
    generate.arg(repo().join("clients/python/generate.sh")).env("PYTHON", &python);
    let generated = generated_files(generate, PYCACHE);
    let committed = files(&repo().join("clients/python/src/tanksim_client/_gen"), PYCACHE);
    let stale = "clients/python/src/tanksim_client/_gen is stale: run clients/python/generate.sh \
                 (with the grpcio-tools version pinned in clients/python/pyproject.toml)";
    assert_same_files(&committed, &generated, stale);
}

/// `$TANKSIM_PYTHON`, or None after printing SKIPPED.
fn python() -> Option<PathBuf> {
    served::interpreter("TANKSIM_PYTHON", "the test command")
}

/// A key of tenant `python` that submits and reads jobs.
fn key(served: &Served) -> String {
    create_key(&served.redis, "python", "example", "jobs:submit,jobs:read")
}

/// Runs example `name` with `args` against a fresh `tanksim serve all` and reads the results of
/// the job it submitted: its stdout, the context for failure messages, and the results; `None`
/// (SKIPPED) without a Python.
async fn example_results(name: &str, args: &[&str]) -> Option<(String, String, GetJobResultsResponse)> {
    let python = python()?;
    let served = Served::start().await;
    let token = key(&served);
    let mut cmd = Command::new(&python);
    cmd.arg(repo().join("clients/python/examples").join(name))
        .args(["--target", &served.addr])
        .args(args)
        .env("PYTHONPATH", repo().join("clients/python/src"))
        .env("TANKSIM_TOKEN", &token);
    let (status, stdout, stderr) = run_example(cmd).await;
    let context = served.context(&stdout, &stderr);
    assert!(status.success(), "{name} exited with {status}\n{context}");
    let job_id = submitted_job_id(&stdout, &context);
    let mut client = tanksim_cli::client::connect(&served.url(), Some(&token)).await.expect("connect");
    let results = client
        .get_job_results(GetJobResultsRequest { id: job_id, ..Default::default() })
        .await
        .expect("GetJobResults")
        .into_inner();
    Some((stdout, context, results))
}

/// Runs a Python example (`cmd`) for 120 s at most.
async fn run_example(cmd: Command) -> (ExitStatus, String, String) {
    served::run_blocking(cmd, Duration::from_secs(120), "the Python example", Kill::Process).await
}
