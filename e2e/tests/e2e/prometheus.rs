//! A real Prometheus scrapes the deployment as the PodMonitor says (labels relabelled as the
//! prometheus-operator would) and evaluates the PrometheusRule's rules, generated from the
//! manifest with `for:` shortened to seconds. The test refuses a request, runs a Monte Carlo job
//! (watched to its end), a poison job, kills every worker with chunks pending and cancels a
//! job while no worker runs. Then, through Prometheus's HTTP API:
//!
//! - the key series carry the right numbers: runs simulated are the job's runs, errors by
//!   reason, gRPC codes, chunks by outcome, jobs by state;
//! - the faults fire their alerts: dead letters (present and increasing), backlog without
//!   workers, stale pending entries, the killed workers' targets down; and no service is
//!   reported down;
//! - every recording rule has produced samples;
//! - every PromQL query of every dashboard (panels and template variables), with Grafana's
//!   variables resolved as Grafana would for the saved selection, returns at least one series.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use serde_json::Value as Json;
use tanksim_e2e::observability::{self, Observability, grafana};
use tanksim_e2e::prometheus::config::Change;
use tanksim_e2e::prometheus::{Prometheus, Scraping, Series};
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::{CancelJobRequest, JobState};
use tokio::time::Instant;

use crate::{mc_tau, worker_busy};

/// The namespace label the scrape gives every series (as the pods' namespace would).
const NAMESPACE: &str = "tanksim-e2e";
/// Scrape and rule evaluation interval.
const INTERVAL: Duration = Duration::from_secs(1);
/// Every alert's `for:` in the test.
const HOLD: Duration = Duration::from_secs(3);
/// Thresholds that production waits minutes for.
const CHANGES: &[Change] = &[Change { alert: "TanksimPendingEntriesStale", from: "> 900", to: "> 5" }];
/// Runs per chunk: ~40 ms of work, so a busy worker always holds a pending chunk.
const CHUNK: u64 = 20_000;
/// The chunk index every worker aborts on (the workers' test-only fault hook): only the
/// poison job has that many chunks.
const POISON_CHUNK: u64 = 30;
/// Runs of the Monte Carlo job that succeeds.
const RUNS: u64 = 4 * CHUNK;
/// Grafana's global variables for a dashboard of the test's last minutes at a 1 s interval:
/// `$__rate_interval` is max(interval + scrape interval, 4 x scrape interval).
const GLOBALS: &[(&str, &str)] = &[
    ("__rate_interval_ms", "4000"),
    ("__rate_interval", "4s"),
    ("__interval_ms", "1000"),
    ("__interval", "1s"),
];
/// How long a series or an alert may take to show (a few scrapes and evaluations).
const SHOW_LIMIT: Duration = Duration::from_secs(30);
const LIMIT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_services_and_fires_the_alerts() {
    scenario("prometheus_scrapes_the_services_and_fires_the_alerts", LIMIT, async {
        let observability = observability::load();
        let options = Options {
            workers: 2,
            chunk_size: CHUNK,
            metrics: true,
            worker_env: vec![("TANKSIM_FAULT_ABORT_ON_CHUNK".into(), POISON_CHUNK.to_string())],
            ..Options::default()
        };
        let cluster = Cluster::start(binaries!(), options).await;
        let scraping =
            Scraping { namespace: NAMESPACE, interval: INTERVAL, hold: Some(HOLD), changes: CHANGES };
        let prometheus = Prometheus::scraping(&cluster, &observability, &scraping).await;
        let started = SystemTime::now();
        let mut client = cluster.gateway_client();

        // A refused request, and a job watched to its end.
        let mut refused = mc_tau(RUNS);
        refused.job = None;
        let status = client.submit_job(refused).await.expect_err("a spec without a job is refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        let job = api::submit(&mut client, mc_tau(RUNS)).await;
        let events = api::watch(cluster.gateway_client(), job.id.clone()).await;
        assert_eq!(events.last().map(|j| j.state()), Some(JobState::Succeeded), "{events:?}");

        let ns = format!("namespace=\"{NAMESPACE}\"");
        let expected = [
            (format!("sum(simulation_runs_total{{{ns}, kind=\"monte_carlo\"}})"), RUNS as f64),
            (format!("sum(simulation_chunks_total{{{ns}, outcome=\"succeeded\"}})"), (RUNS / CHUNK) as f64),
            (format!("sum(simulation_jobs_finished_total{{{ns}, state=\"succeeded\"}})"), 1.0),
            (format!("sum(simulation_errors_total{{{ns}, reason=\"invalid_argument\"}})"), 1.0),
            (
                format!(
                    "sum(grpc_server_handled_total{{{ns}, service=\"tanksim-gateway\", \
                     grpc_method=\"SubmitJob\", grpc_code=\"InvalidArgument\"}})"
                ),
                1.0,
            ),
            (
                format!(
                    "sum(grpc_server_handled_total{{{ns}, service=\"tanksim-gateway\", \
                     grpc_method=\"SubmitJob\", grpc_code=\"OK\"}})"
                ),
                1.0,
            ),
            (format!("count(up{{{ns}, job=\"tanksim\"}} == 1)"), 5.0),
        ];
        for (expr, want) in &expected {
            wait_value(&prometheus, expr, *want).await;
        }

        // A poison chunk: every delivery kills its worker, until it is dead-lettered.
        let poison = api::submit(&mut client, mc_tau((POISON_CHUNK + 1) * CHUNK)).await;
        let poison = api::wait_ended(&mut client, &poison.id, Duration::from_secs(60)).await;
        assert_eq!(poison.state(), JobState::Failed, "{poison:?}");

        // Every worker killed while it holds a chunk: pending entries stranded, work waiting
        // and no worker; then a job cancelled while nothing can run it.
        let stranded = api::submit(&mut client, mc_tau((POISON_CHUNK - 1) * CHUNK)).await;
        for i in 0..2 {
            worker_busy(&cluster, i).await;
            cluster.kill_worker(i);
        }
        let job = api::get_job(&mut client, &stranded.id).await.expect("GetJob");
        assert!(!api::is_terminal(&job), "the job ended before the workers were killed: {job:?}");
        let cancelled = api::submit(&mut client, mc_tau(10 * CHUNK)).await;
        let answer =
            client.cancel_job(CancelJobRequest { id: cancelled.id.clone() }).await.expect("CancelJob");
        assert_eq!(answer.into_inner().job.map(|j| j.state()), Some(JobState::Cancelled));

        let firing = wait_alerts(
            &prometheus,
            &[
                ("TanksimDeadLettersPresent", None),
                ("TanksimDeadLettersIncreasing", None),
                ("TanksimBacklogWithoutWorkers", None),
                ("TanksimPendingEntriesStale", None),
                ("TanksimTargetDown", Some("worker-0")),
                ("TanksimTargetDown", Some("worker-1")),
            ],
        )
        .await;
        for quiet in ["TanksimServiceDown", "TanksimErrorBudgetBurn"] {
            assert!(!firing.contains(quiet), "{quiet} fired:\n{}", prometheus.log_tail());
        }

        let mut failures = recording_rules_without_samples(&prometheus, &observability, started).await;
        failures.extend(empty_dashboard_queries(&prometheus, &observability, started).await);
        assert!(failures.is_empty(), "{} problems:\n  {}", failures.len(), failures.join("\n  "));
    })
    .await;
}

/// Waits until `expr` evaluates to one sample equal to `want`.
async fn wait_value(prometheus: &Prometheus, expr: &str, want: f64) {
    let deadline = Instant::now() + SHOW_LIMIT;
    loop {
        let got = prometheus.query(expr).await.unwrap_or_else(|e| panic!("{e}"));
        let values: Vec<f64> = got.iter().filter_map(Series::last).collect();
        if values == [want] {
            return;
        }
        assert!(Instant::now() < deadline, "{expr}: {values:?}, want {want}");
        tokio::time::sleep(INTERVAL / 2).await;
    }
}

/// Waits until every `(alert, pod)` fires at once (`pod`: an alert of that pod's target);
/// returns the names of every alert firing then.
async fn wait_alerts(prometheus: &Prometheus, wanted: &[(&str, Option<&str>)]) -> BTreeSet<String> {
    let deadline = Instant::now() + SHOW_LIMIT;
    loop {
        let alerts = prometheus.alerts().await.unwrap_or_else(|e| panic!("{e}"));
        let firing: Vec<_> = alerts.iter().filter(|a| a.state == "firing").collect();
        let missing: Vec<_> = wanted
            .iter()
            .filter(|(name, pod)| {
                !firing.iter().any(|a| {
                    a.name == *name && pod.is_none_or(|p| a.labels.get("pod").map(String::as_str) == Some(p))
                })
            })
            .collect();
        if missing.is_empty() {
            for alert in &firing {
                let summary = alert.annotations.get("summary").map(String::as_str).unwrap_or_default();
                assert!(
                    !summary.is_empty() && !summary.contains("{{"),
                    "{}: summary {summary:?}",
                    alert.name
                );
            }
            return firing.iter().map(|a| a.name.clone()).collect();
        }
        assert!(
            Instant::now() < deadline,
            "alerts not firing: {missing:?}; alerts: {:#?}",
            alerts.iter().map(|a| (&a.name, &a.state, &a.labels)).collect::<Vec<_>>()
        );
        tokio::time::sleep(INTERVAL / 2).await;
    }
}

/// Recording rules with no sample since `start`.
async fn recording_rules_without_samples(
    prometheus: &Prometheus,
    observability: &Observability,
    start: SystemTime,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut records = 0;
    for (file, rule) in &observability.rules {
        let groups = rule.pointer("/spec/groups").and_then(Json::as_array).cloned().unwrap_or_default();
        for record in groups.iter().flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default()) {
            let Some(name) = record.get("record").and_then(Json::as_str) else { continue };
            records += 1;
            match prometheus.query_range(name, start, INTERVAL).await {
                Ok(series) if series.iter().any(|s| !s.samples.is_empty()) => {}
                Ok(_) => failures.push(format!("{file}: recording rule {name}: no samples")),
                Err(e) => failures.push(format!("{file}: recording rule {name}: {e}")),
            }
        }
    }
    assert!(records > 0, "no recording rules found");
    failures
}

/// Dashboard queries (PromQL) that return no series over the test, with the variables
/// resolved as Grafana resolves them for each variable's saved selection.
async fn empty_dashboard_queries(
    prometheus: &Prometheus,
    observability: &Observability,
    start: SystemTime,
) -> Vec<String> {
    let range = SystemTime::now().duration_since(start).unwrap_or_default().as_secs().max(1);
    let mut globals: Vec<(&str, String)> = GLOBALS.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    globals.extend([
        ("__range_ms", format!("{}", range * 1000)),
        ("__range_s", format!("{range}")),
        ("__range", format!("{range}s")),
    ]);
    let globals: Vec<(&str, &str)> = globals.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, dashboard) in &observability.dashboards {
        let values = match resolve_variables(prometheus, dashboard, &globals, start).await {
            Ok(values) => values,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let (queries, problems) = grafana::queries(file, dashboard);
        failures.extend(problems);
        for query in queries.iter().filter(|q| q.source == grafana::Source::Prometheus && !q.variable) {
            checked += 1;
            let substituted = grafana::substitute(&query.text, &globals, |name| {
                values.get(name).cloned().unwrap_or_default()
            });
            let expr = match substituted {
                Ok((expr, _)) => expr,
                Err(e) => {
                    failures.push(format!("{}: {e}", query.origin));
                    continue;
                }
            };
            match prometheus.query_range(&expr, start, INTERVAL).await {
                Ok(series) if series.iter().any(|s| !s.samples.is_empty()) => {}
                Ok(_) => failures.push(format!("{}: no series\n      {expr}", query.origin)),
                Err(e) => failures.push(format!("{}: {e}", query.origin)),
            }
        }
    }
    assert!(checked > 40, "only {checked} dashboard queries checked: are the dashboards read?");
    failures
}

/// Each template variable's value as Grafana substitutes it into a Prometheus query: the saved
/// selection, "All" as every value the variable's query lists (a regex alternation), the first
/// value when nothing is saved.
async fn resolve_variables(
    prometheus: &Prometheus,
    dashboard: &Json,
    globals: &[(&str, &str)],
    start: SystemTime,
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for variable in grafana::variables(dashboard) {
        let options: Vec<String> = match variable.kind.as_str() {
            "query" => {
                let (text, _) = grafana::substitute(&variable.query, globals, |name| {
                    values.get(name).cloned().unwrap_or_default()
                })?;
                let (selector, label) = grafana::variable_query(&text)?;
                let label = label.ok_or_else(|| format!("variable {}: not label_values()", variable.name))?;
                prometheus.label_values(&selector, &label, start).await?
            }
            "custom" => variable.query.split(',').map(|o| o.trim().to_owned()).collect(),
            "textbox" => vec![variable.current.first().cloned().unwrap_or_default()],
            _ => continue, // data sources
        };
        if options.is_empty() {
            return Err(format!("variable {} has no values", variable.name));
        }
        let chosen: Vec<String> = if variable.current == ["$__all"] {
            if let Some(all) = &variable.all_value {
                values.insert(variable.name.clone(), all.clone());
                continue;
            }
            options
        } else if variable.current.is_empty() {
            options.into_iter().take(1).collect()
        } else {
            variable.current.clone()
        };
        let escaped: Vec<String> = chosen.iter().map(|v| regex_escape(v)).collect();
        let value = if escaped.len() == 1 { escaped[0].clone() } else { format!("({})", escaped.join("|")) };
        values.insert(variable.name.clone(), value);
    }
    Ok(values)
}

/// A value escaped for a PromQL regex matcher, as Grafana escapes it.
fn regex_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}
