//! Fair scheduling's benchmark: how long a small job waits behind a giant one, in the embedded
//! default (`tanksim run`'s in-process system, memory queue) and in the multi-process Redis
//! deployment, and how two tenants share the workers when one has three giant jobs and the
//! other one. Prints a table to stderr and one JSON line to stdout.
//!
//! Time to start: a 100,000,000-run job (the largest allowed, ~4 minutes of both workers) is
//! running; then, `--rounds` times, a 100-run job is submitted and its state polled every
//! 20 ms: "start" is when it is first seen out of QUEUED, "done" when SUCCEEDED. Shares: after
//! a warm-up, each tenant's runs done over `--share-seconds`.
//!
//! ```text
//! cargo build --release -p tanksim-e2e --bins
//! target/release/bench-fairness [--rounds 10] [--share-seconds 20]
//! ```

use std::time::{Duration, Instant};

use serde_json::json;
use tanksim_auth::api_key::{generate, sha256_hex};
use tanksim_e2e::api::{self, Client};
use tanksim_e2e::bench::{binaries_beside_exe, mc_tau_spec, median, numeric_flags};
use tanksim_e2e::{Cluster, Options};
use tanksim_proto::v1::{CancelJobRequest, JobState};

/// The giant job: the most runs a job may have.
const GIANT_RUNS: u64 = 100_000_000;
/// The small job.
const SMALL_RUNS: u64 = 100;
const POLL: Duration = Duration::from_millis(20);

struct Args {
    rounds: usize,
    share_seconds: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { rounds: 10, share_seconds: 20 };
    for (flag, n) in numeric_flags()? {
        match flag.as_str() {
            "--rounds" => a.rounds = usize::try_from(n).map_err(|e| e.to_string())?.max(1),
            "--share-seconds" => a.share_seconds = n.max(1),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

/// Seconds from each small job's submission to its start and to its end, behind a running
/// giant job (cancelled at the end).
async fn time_to_start(client: &mut Client, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let giant = api::submit(client, mc_tau_spec(GIANT_RUNS)).await;
    api::wait_job(client, &giant.id, Duration::from_secs(60), "the giant job running", |j| {
        j.progress.as_ref().is_some_and(|p| p.chunks_done >= 1)
    })
    .await;
    let (mut started, mut done) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let submitted = Instant::now();
        let small = api::submit(client, mc_tau_spec(SMALL_RUNS)).await;
        let mut start = None;
        let end = loop {
            let job = api::get_job(client, &small.id).await.expect("GetJob");
            if start.is_none() && job.state() != JobState::Queued {
                start = Some(submitted.elapsed());
            }
            if api::is_terminal(&job) {
                assert_eq!(job.state(), JobState::Succeeded, "{job:?}");
                break submitted.elapsed();
            }
            assert!(submitted.elapsed() < Duration::from_secs(120), "the small job never ended: {job:?}");
            tokio::time::sleep(POLL).await;
        };
        let start = start.unwrap_or(end);
        eprintln!(
            "  round {}: started after {:.3} s, done after {:.3} s",
            round + 1,
            start.as_secs_f64(),
            end.as_secs_f64()
        );
        started.push(start.as_secs_f64());
        done.push(end.as_secs_f64());
    }
    let still = api::get_job(client, &giant.id).await.expect("GetJob");
    assert_eq!(still.state(), JobState::Running, "the giant job ran all along: {still:?}");
    client.cancel_job(CancelJobRequest { id: giant.id }).await.expect("CancelJob");
    (started, done)
}

/// Each tenant's share of the runs done over `seconds`: `alpha` with three giant jobs, `beta`
/// with one.
async fn shares(alpha: &mut Client, beta: &mut Client, seconds: u64) -> (f64, f64) {
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(("alpha", api::submit(alpha, mc_tau_spec(GIANT_RUNS)).await.id));
    }
    jobs.push(("beta", api::submit(beta, mc_tau_spec(GIANT_RUNS)).await.id));
    // Warm-up: the backlog placed before the last job arrived is not a share.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let runs = async |alpha: &mut Client, beta: &mut Client| {
        let mut by_tenant = [0_u64; 2];
        for (tenant, id) in &jobs {
            let (client, i) = if *tenant == "alpha" { (&mut *alpha, 0) } else { (&mut *beta, 1) };
            let job = api::get_job(client, id).await.expect("GetJob");
            by_tenant[i] += job.progress.unwrap_or_default().runs_done;
        }
        by_tenant
    };
    let before = runs(alpha, beta).await;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let after = runs(alpha, beta).await;
    for (tenant, id) in jobs {
        let client = if tenant == "alpha" { &mut *alpha } else { &mut *beta };
        client.cancel_job(CancelJobRequest { id }).await.expect("CancelJob");
    }
    let (a, b) = ((after[0] - before[0]) as f64, (after[1] - before[1]) as f64);
    (a / (a + b), b / (a + b))
}

#[tokio::main]
async fn main() {
    let args = tanksim_e2e::bench::or_exit_usage("bench-fairness", parse());

    // The embedded default: `tanksim run`'s system, 2 workers, chunks of 10,000 runs.
    let options = tanksim_cli::embedded::Options { workers: 2, chunk_size: 10_000, data_dir: None };
    let system = tanksim_cli::embedded::start(options).await.expect("the embedded system starts");
    let mut client = tanksim_cli::client::connect(&system.gateway_url, None).await.expect("a client");
    eprintln!("embedded: a {SMALL_RUNS}-run job behind a {GIANT_RUNS}-run job");
    let (embedded_start, embedded_done) = time_to_start(&mut client, args.rounds).await;
    system.shutdown().await;

    // The Redis deployment with two tenants (API keys in a bootstrap keys file).
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (alpha, beta) = (generate().expect("a key"), generate().expect("a key"));
    let line = |tenant: &str, key: &str| {
        json!({"tenant": tenant, "name": "bench", "scopes": ["jobs:submit", "jobs:read", "jobs:cancel"], "sha256": sha256_hex(key)})
            .to_string()
    };
    let keys = dir.path().join("keys.jsonl");
    std::fs::write(&keys, [line("alpha", &alpha), line("beta", &beta)].join("\n")).expect("the keys file");
    let options = Options {
        workers: 2,
        chunk_size: 10_000,
        visibility_timeout: Duration::from_secs(30),
        claim_interval: Duration::from_secs(5),
        gateway_env: vec![
            ("TANKSIM_AUTH".to_owned(), "required".to_owned()),
            ("TANKSIM_API_KEYS_FILE".to_owned(), keys.display().to_string()),
        ],
        ..Options::default()
    };
    let cluster = Cluster::start(binaries_beside_exe(), options).await;
    let (mut alpha, mut beta) =
        (cluster.gateway_client_as(Some(&alpha)), cluster.gateway_client_as(Some(&beta)));
    eprintln!("redis: a {SMALL_RUNS}-run job behind a {GIANT_RUNS}-run job");
    let (redis_start, redis_done) = time_to_start(&mut alpha, args.rounds).await;
    eprintln!("redis: tenant alpha with 3 giant jobs, beta with 1, for {} s", args.share_seconds);
    let (alpha_share, beta_share) = shares(&mut alpha, &mut beta, args.share_seconds).await;

    let summary = json!({
        "rounds": args.rounds,
        "embedded_time_to_start_s_median": median(embedded_start.clone()),
        "embedded_time_to_start_s_max": embedded_start.iter().copied().fold(0.0, f64::max),
        "embedded_time_to_done_s_median": median(embedded_done),
        "redis_time_to_start_s_median": median(redis_start.clone()),
        "redis_time_to_start_s_max": redis_start.iter().copied().fold(0.0, f64::max),
        "redis_time_to_done_s_median": median(redis_done),
        "share_seconds": args.share_seconds,
        "share_alpha_3_jobs": alpha_share,
        "share_beta_1_job": beta_share,
    });
    eprintln!(
        "time to start (median / max of {} rounds): embedded {:.3} / {:.3} s, redis {:.3} / {:.3} s",
        args.rounds,
        summary["embedded_time_to_start_s_median"].as_f64().unwrap_or(f64::NAN),
        summary["embedded_time_to_start_s_max"].as_f64().unwrap_or(f64::NAN),
        summary["redis_time_to_start_s_median"].as_f64().unwrap_or(f64::NAN),
        summary["redis_time_to_start_s_max"].as_f64().unwrap_or(f64::NAN),
    );
    eprintln!("shares of the workers: alpha (3 jobs) {alpha_share:.3}, beta (1 job) {beta_share:.3}");
    println!("{summary}");
}
