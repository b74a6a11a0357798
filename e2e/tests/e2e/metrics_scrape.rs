//! Every process serves `/metrics` on its own admin port, and after one job (and one refused
//! request) the documented metrics are there with the right counts: runs simulated equal the
//! job's runs, one chunk outcome per chunk, one request and one finished job, the refusal
//! counted by reason and gRPC code, a drained queue, process and build info everywhere, and
//! every metric of the catalog exported by some process.

use std::time::Duration;

use tanksim_e2e::metrics::{Samples, scrape};
use tanksim_e2e::{Cluster, ProcessInfo, scenario};
use tanksim_telemetry::metrics::names::{self, CATALOG, Kind};
use tokio::time::Instant;

use crate::telemetry::{self, CHUNKS, DISPATCHER, GATEWAY, RESULTS, RUNS, WORKER};
use crate::{LIMIT, mc_tau};

/// How long the counters may take to settle after the job is seen succeeded (a worker counts
/// a chunk after reporting it; the queue gauges are sampled every 200 ms).
const SETTLE: Duration = Duration::from_secs(10);
const WORKERS: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_exports_the_documented_metrics() {
    scenario("every_service_exports_the_documented_metrics", LIMIT, async {
        let cluster = telemetry::start(None, true, WORKERS).await;
        let mut client = cluster.gateway_client();
        // A request with no job at all: refused, and not counted as a request of any kind.
        let mut refused = mc_tau(RUNS);
        refused.job = None;
        let status = client.submit_job(refused).await.expect_err("a spec without a job is refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        telemetry::run_job(&cluster).await;

        let deadline = Instant::now() + SETTLE;
        let failures = loop {
            let scrapes = scrape_all(&cluster).await;
            let failures = check(&scrapes);
            if failures.is_empty() || Instant::now() >= deadline {
                break failures;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(failures.is_empty(), "metrics not as documented:\n  {}", failures.join("\n  "));
    })
    .await;
}

async fn scrape_all(cluster: &Cluster) -> Vec<(ProcessInfo, Samples)> {
    let mut out = Vec::new();
    for process in cluster.processes() {
        let samples = scrape(&process.admin_url)
            .await
            .unwrap_or_else(|e| panic!("scraping {} ({}): {e}", process.name, process.admin_url));
        out.push((process, samples));
    }
    out
}

/// Every unmet expectation, described.
fn check(scrapes: &[(ProcessInfo, Samples)]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut expect = |what: &str, got: f64, want: f64, context: String| {
        if got != want {
            failures.push(format!("{what}: {got} (want {want}); {context}"));
        }
    };
    let of =
        |service: &'static str| scrapes.iter().filter(move |(p, _)| p.service == service).map(|(_, s)| s);
    let sum = |service: &'static str, name: &str, labels: &[(&str, &str)]| -> f64 {
        of(service).map(|s| s.sum(name, labels)).sum()
    };
    let one = |service: &'static str| of(service).next().expect("one process of each service");
    let (runs, chunks) = (RUNS as f64, CHUNKS as f64);
    let mc = ("kind", "monte_carlo");
    let method = |m: &'static str| ("grpc_method", m);
    let code = |c: &'static str| ("grpc_code", c);

    // Workers.
    let describe = |name: &str| of(WORKER).map(|s| s.describe(name)).collect::<Vec<_>>().join(" | ");
    expect(
        "workers' simulation_runs_total",
        sum(WORKER, names::SIMULATION_RUNS_TOTAL, &[mc]),
        runs,
        describe(names::SIMULATION_RUNS_TOTAL),
    );
    let succeeded = sum(WORKER, names::SIMULATION_CHUNKS_TOTAL, &[mc, ("outcome", "succeeded")]);
    expect(
        "workers' simulation_chunks_total{outcome=succeeded}",
        succeeded,
        chunks,
        describe(names::SIMULATION_CHUNKS_TOTAL),
    );
    let all_chunks = sum(WORKER, names::SIMULATION_CHUNKS_TOTAL, &[]);
    expect(
        "workers' simulation_chunks_total (any outcome)",
        all_chunks,
        chunks,
        describe(names::SIMULATION_CHUNKS_TOTAL),
    );
    let simulated = sum(WORKER, &format!("{}_count", names::SIMULATION_DURATION_SECONDS), &[mc]);
    expect(
        "workers' simulation_duration_seconds_count",
        simulated,
        chunks,
        describe(names::SIMULATION_DURATION_SECONDS),
    );
    let reported = sum(WORKER, names::GRPC_CLIENT_HANDLED_TOTAL, &[method("ReportChunk"), code("OK")]);
    expect(
        "workers' grpc_client_handled_total{ReportChunk,OK}",
        reported,
        chunks,
        describe(names::GRPC_CLIENT_HANDLED_TOTAL),
    );

    // Gateway.
    let gateway = one(GATEWAY);
    let requests = gateway.sum(names::SIMULATION_REQUESTS_TOTAL, &[mc]);
    expect(
        "gateway simulation_requests_total{monte_carlo}",
        requests,
        1.0,
        gateway.describe(names::SIMULATION_REQUESTS_TOTAL),
    );
    let any_kind = gateway.sum(names::SIMULATION_REQUESTS_TOTAL, &[]);
    expect(
        "gateway simulation_requests_total (any kind)",
        any_kind,
        1.0,
        gateway.describe(names::SIMULATION_REQUESTS_TOTAL),
    );
    let invalid = gateway.sum(names::SIMULATION_ERRORS_TOTAL, &[("reason", "invalid_argument")]);
    expect(
        "gateway simulation_errors_total{invalid_argument}",
        invalid,
        1.0,
        gateway.describe(names::SIMULATION_ERRORS_TOTAL),
    );
    let submit = |c| {
        gateway.sum(
            names::GRPC_SERVER_HANDLED_TOTAL,
            &[("grpc_service", "tanksim.v1.JobService"), method("SubmitJob"), code(c)],
        )
    };
    let context = gateway.describe(names::GRPC_SERVER_HANDLED_TOTAL);
    expect("gateway grpc_server_handled_total{SubmitJob,OK}", submit("OK"), 1.0, context.clone());
    expect(
        "gateway grpc_server_handled_total{SubmitJob,InvalidArgument}",
        submit("InvalidArgument"),
        1.0,
        context,
    );
    let started = gateway.sum(names::GRPC_SERVER_STARTED_TOTAL, &[method("SubmitJob")]);
    expect(
        "gateway grpc_server_started_total{SubmitJob}",
        started,
        2.0,
        gateway.describe(names::GRPC_SERVER_STARTED_TOTAL),
    );
    let dispatched = gateway.sum(names::GRPC_CLIENT_HANDLED_TOTAL, &[method("DispatchJob"), code("OK")]);
    expect(
        "gateway grpc_client_handled_total{DispatchJob,OK}",
        dispatched,
        1.0,
        gateway.describe(names::GRPC_CLIENT_HANDLED_TOTAL),
    );

    // Results.
    let results = one(RESULTS);
    let finished = results.sum(names::SIMULATION_JOBS_FINISHED_TOTAL, &[mc, ("state", "succeeded")]);
    expect(
        "results simulation_jobs_finished_total{succeeded}",
        finished,
        1.0,
        results.describe(names::SIMULATION_JOBS_FINISHED_TOTAL),
    );
    let durations = results
        .sum(&format!("{}_count", names::SIMULATION_JOB_DURATION_SECONDS), &[mc, ("state", "succeeded")]);
    expect(
        "results simulation_job_duration_seconds_count{succeeded}",
        durations,
        1.0,
        results.describe(names::SIMULATION_JOB_DURATION_SECONDS),
    );
    let handled = results.sum(names::GRPC_SERVER_HANDLED_TOTAL, &[method("ReportChunk"), code("OK")]);
    expect(
        "results grpc_server_handled_total{ReportChunk,OK}",
        handled,
        chunks,
        results.describe(names::GRPC_SERVER_HANDLED_TOTAL),
    );

    // Dispatcher: the queue gauges, drained.
    let dispatcher = one(DISPATCHER);
    let queue = [
        names::QUEUE_STREAM_LENGTH,
        names::QUEUE_LAG,
        names::QUEUE_PENDING,
        names::QUEUE_OLDEST_PENDING_AGE_SECONDS,
        names::QUEUE_CONSUMERS,
        names::QUEUE_DEAD_LETTERS,
    ];
    for name in queue.into_iter().filter(|n| !dispatcher.has(n)) {
        failures.push(format!("dispatcher: no {name}"));
    }
    let gauge = |name| dispatcher.value(name, &[]).unwrap_or(f64::NAN);
    let mut expect = |what: &str, got: f64, want: f64| {
        if got != want {
            failures.push(format!("dispatcher {what}: {got} (want {want})"));
        }
    };
    expect(names::QUEUE_LAG, gauge(names::QUEUE_LAG), 0.0);
    expect(names::QUEUE_PENDING, gauge(names::QUEUE_PENDING), 0.0);
    expect(names::QUEUE_OLDEST_PENDING_AGE_SECONDS, gauge(names::QUEUE_OLDEST_PENDING_AGE_SECONDS), 0.0);
    expect(names::QUEUE_DEAD_LETTERS, gauge(names::QUEUE_DEAD_LETTERS), 0.0);
    expect(names::QUEUE_CONSUMERS, gauge(names::QUEUE_CONSUMERS), WORKERS as f64);

    // Every process: its own service label on every series, process and build info.
    for (process, samples) in scrapes {
        let other: Vec<_> = samples
            .0
            .iter()
            .filter(|s| s.labels.get(names::LABEL_SERVICE).map(String::as_str) != Some(process.service))
            .map(|s| s.name.as_str())
            .collect();
        if !other.is_empty() {
            failures
                .push(format!("{}: series without service=\"{}\": {other:?}", process.name, process.service));
        }
        if !samples.value(names::PROCESS_RESIDENT_MEMORY_BYTES, &[]).is_some_and(|v| v > 0.0) {
            failures.push(format!(
                "{}: {}",
                process.name,
                samples.describe(names::PROCESS_RESIDENT_MEMORY_BYTES)
            ));
        }
        let build = samples.matching(names::BUILD_INFO, &[]).collect::<Vec<_>>();
        if !matches!(build.as_slice(), [b] if b.value == 1.0 && b.labels.get("version").is_some_and(|v| !v.is_empty()))
        {
            failures.push(format!("{}: {}", process.name, samples.describe(names::BUILD_INFO)));
        }
    }

    // The catalog: every metric exported by at least one process.
    for metric in CATALOG {
        let series = match metric.kind {
            Kind::Histogram => format!("{}_bucket", metric.name),
            Kind::Counter | Kind::Gauge => metric.name.to_owned(),
        };
        if !scrapes.iter().any(|(_, s)| s.has(&series)) {
            failures.push(format!("catalog metric {} ({series}) exported by no process", metric.name));
        }
    }
    failures
}
