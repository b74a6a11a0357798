//! The deployment and a Prometheus watching it, on this machine, to look at: a private
//! redis-server, gateway, dispatcher, results and `--workers` workers as processes (the
//! e2e harness's [`Cluster`]), and a real Prometheus scraping them as the PodMonitor in
//! `deploy/observability` says and evaluating its rules unchanged. Prints the addresses, then
//! submits a Monte Carlo job of `--runs` runs every `--every-s` seconds (0: none) so the
//! dashboards' queries have data, until Ctrl-C. Run by `scripts/observe.sh`.
//!
//! ```text
//! target/debug/observe --workers 2 --runs 200000 --every-s 30 --scrape-s 5
//! ```

use std::time::Duration;

use tanksim_e2e::bench::{binaries_beside_exe, mc_tau_spec, numeric_flags, or_exit_usage};
use tanksim_e2e::observability;
use tanksim_e2e::prometheus::{Prometheus, Scraping};
use tanksim_e2e::{Cluster, Options};

const USAGE: &str = "usage: observe [--workers N] [--runs N] [--every-s SECONDS] [--scrape-s SECONDS]";

struct Args {
    workers: usize,
    runs: u64,
    every: Duration,
    scrape: Duration,
}

fn args() -> Result<Args, String> {
    let mut args =
        Args { workers: 2, runs: 200_000, every: Duration::from_secs(30), scrape: Duration::from_secs(5) };
    for (flag, n) in numeric_flags()? {
        match flag.as_str() {
            "--workers" => args.workers = usize::try_from(n).map_err(|e| e.to_string())?,
            "--runs" => args.runs = n,
            "--every-s" => args.every = Duration::from_secs(n),
            "--scrape-s" => args.scrape = Duration::from_secs(n.max(1)),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = or_exit_usage("observe", args().map_err(|e| format!("{e}\n{USAGE}")));
    let options = Options { workers: args.workers, metrics: true, ..Options::default() };
    let cluster = Cluster::start(binaries_beside_exe(), options).await;
    let observability = observability::load();
    let scraping = Scraping { namespace: "tanksim", interval: args.scrape, hold: None, changes: &[] };
    let prometheus = Prometheus::scraping(&cluster, &observability, &scraping).await;

    println!("tanksim is running; Ctrl-C stops everything.\n");
    println!("  gateway (gRPC, no auth)  {}", cluster.gateway_url());
    for process in cluster.processes() {
        println!("  {:<24} {}/metrics", process.name, process.admin_url);
    }
    let url = prometheus.url();
    println!("  prometheus API           {url}/api/v1/query?query=up");
    println!("  prometheus targets       {url}/api/v1/targets");
    println!("  prometheus alerts        {url}/api/v1/alerts");
    println!(
        "\n  submit a job:  tanksim submit --gateway {} --watch examples/mc-tau.yaml",
        cluster.gateway_url()
    );
    println!(
        "  in Grafana:    add {url} as a Prometheus data source, import deploy/observability/dashboards/*.json"
    );

    let mut client = cluster.gateway_client();
    let mut tick = tokio::time::interval(if args.every.is_zero() { Duration::MAX / 4 } else { args.every });
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick(), if !args.every.is_zero() => {
                match client.submit_job(mc_tau_spec(args.runs)).await {
                    Ok(answer) => println!("submitted job {} ({} runs)", answer.into_inner().job.map(|j| j.id).unwrap_or_default(), args.runs),
                    Err(status) => eprintln!("SubmitJob: {status:?}"),
                }
            }
        }
    }
    println!("stopping");
}
