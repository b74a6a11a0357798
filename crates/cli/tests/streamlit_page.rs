//! The Streamlit app (clients/streamlit) in a real browser against a running `tanksim serve
//! all`: its test script (clients/streamlit/tests/test_app.py) starts `streamlit run`, drives
//! Debian's headless Chromium through Playwright to submit the MC-tau example with 2000 runs,
//! waits for "succeeded" and a drawn histogram, and saves a screenshot; then the same for the
//! optimize-k-tau example and its path chart. The screenshots are kept in
//! `target/test-artifacts/streamlit/`.
//!
//! Needs `$TANKSIM_STREAMLIT_PYTHON`, an interpreter with clients/streamlit/requirements.txt
//! (scripts/tools.sh's `ensure_streamlit_tools` makes it and installs /usr/bin/chromium);
//! without it the test prints SKIPPED and passes.

mod served;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tanksim_proto::v1::{JobKind, JobState, ListJobsRequest};

use served::{Kill, Served, create_key, repo};

/// The runs the script sets in the page (clients/streamlit/tests/test_app.py's RUNS).
const RUNS: u64 = 2000;

#[tokio::test]
async fn the_page_submits_mc_tau_watches_it_and_draws_its_histograms() {
    let Some(python) = python() else { return };
    let served = Served::start().await;
    // With jobs:cancel too, the scopes the app uses.
    let token = create_key(&served.redis, "streamlit", "browser-test", "jobs:submit,jobs:read,jobs:cancel");
    let shots = artifacts_dir();
    std::fs::create_dir_all(&shots).unwrap_or_else(|e| panic!("creating {}: {e}", shots.display()));
    let screenshot = shots.join("streamlit-mc-tau.png");
    let optimize_shot = shots.join("streamlit-optimize.png");
    // A picture from an earlier run must not pass for this one's.
    let _ = std::fs::remove_file(&screenshot);
    let _ = std::fs::remove_file(&optimize_shot);

    let mut cmd = Command::new(&python);
    cmd.arg(repo().join("clients/streamlit/tests/test_app.py"))
        .args(["--gateway", &served.addr, "--token", &token])
        .arg("--screenshot-dir")
        .arg(&shots)
        .env("PYTHONPATH", repo().join("clients/python/src"))
        .current_dir(repo());
    let started = Instant::now();
    // In a process group of its own, killed whole (the script, its streamlit and the browser)
    // if it outlives its limit.
    let (status, stdout, stderr) =
        served::run_blocking(cmd, Duration::from_secs(300), "the browser test", Kill::Group).await;
    let context = served.context(&stdout, &stderr);
    assert!(status.success(), "test_app.py exited with {status}\n{context}");
    assert!(stdout.contains("PASSED:"), "no PASSED line\n{context}");
    println!("{}", stdout.trim_end());
    println!(
        "the browser test took {:.1} s; screenshot: {}",
        started.elapsed().as_secs_f64(),
        screenshot.display()
    );

    for shot in [&screenshot, &optimize_shot] {
        let png =
            std::fs::read(shot).unwrap_or_else(|e| panic!("reading {}: {e}\n{context}", shot.display()));
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG ({} bytes)",
            shot.display(),
            png.len()
        );
        assert!(png.len() > 10_000, "{} is suspiciously small ({} bytes)", shot.display(), png.len());
    }

    // The page's job is what the gateway holds: one MC-tau job of RUNS runs, succeeded.
    let mut client = tanksim_cli::client::connect(&served.url(), Some(&token)).await.expect("connect");
    let jobs = client
        .list_jobs(ListJobsRequest { page_size: 10, page_token: String::new() })
        .await
        .expect("ListJobs")
        .into_inner()
        .jobs;
    // Newest first: the optimisation, the adaptive job, then MC-tau.
    assert_eq!(jobs.len(), 3, "the page submitted three jobs: {jobs:?}");
    let kinds: Vec<_> = jobs.iter().map(|j| (j.name.as_str(), j.kind(), j.state())).collect();
    assert_eq!(
        kinds,
        [
            ("optimize-k-tau", JobKind::Optimize, JobState::Succeeded),
            ("mc-tau-adaptive-p95", JobKind::MonteCarlo, JobState::Succeeded),
            ("mc-tau", JobKind::MonteCarlo, JobState::Succeeded)
        ]
    );
    let job = &jobs[2];
    assert_eq!(job.progress.as_ref().map(|p| (p.runs_done, p.runs_total)), Some((RUNS, RUNS)), "{job:?}");
}

/// `$TANKSIM_STREAMLIT_PYTHON`, or None after printing SKIPPED.
fn python() -> Option<PathBuf> {
    served::interpreter("TANKSIM_STREAMLIT_PYTHON", "scripts/tools.sh's ensure_streamlit_tools")
}

/// `<target>/test-artifacts/streamlit`, beside the profile directory the tanksim binary is in
/// (so it follows `CARGO_TARGET_DIR`).
fn artifacts_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_tanksim"));
    let target = bin.parent().and_then(Path::parent).map_or_else(|| repo().join("target"), Path::to_path_buf);
    target.join("test-artifacts/streamlit")
}
