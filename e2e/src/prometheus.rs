//! A real Prometheus (Debian's package, unpacked by `scripts/tools.sh`'s `ensure_prometheus`)
//! scraping a [`Cluster`](crate::Cluster) as the prometheus-operator would scrape the pods of
//! the PodMonitor in `deploy/observability`, evaluating the PrometheusRule's rules, and its
//! HTTP API as a test reads it: instant and range queries, series and alerts.
//!
//! [`config`] derives the scrape and rule files from the manifests.

pub mod config;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;
use tokio::time::Instant;

use crate::Cluster;
use crate::metrics::get;
use crate::observability::Observability;
use crate::process;
use config::{Change, Target, rule_file, scrape_config};

/// How long Prometheus may take to load its TSDB and rules and answer `/-/ready`.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// The Prometheus server binary: `$TANKSIM_PROMETHEUS` (set by the test command), else
/// `prometheus` on the PATH.
pub fn binary() -> PathBuf {
    std::env::var_os("TANKSIM_PROMETHEUS").map_or_else(|| PathBuf::from("prometheus"), PathBuf::from)
}

/// A running Prometheus on a loopback port; killed when dropped.
#[derive(Debug)]
pub struct Prometheus {
    child: Child,
    log: PathBuf,
    url: String,
    _dir: tempfile::TempDir,
}

/// How [`Prometheus::scraping`] scrapes and evaluates.
#[derive(Debug, Clone, Copy)]
pub struct Scraping<'a> {
    /// The `namespace` label of every target (the pods' namespace in a cluster).
    pub namespace: &'a str,
    /// Scrape and rule evaluation interval.
    pub interval: Duration,
    /// Every alert's `for:` (`None`: the manifest's).
    pub hold: Option<Duration>,
    /// Changes to alerts' expressions (thresholds production waits minutes for).
    pub changes: &'a [Change],
}

/// One series of an answer: its labels and its samples (one for an instant query).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    /// (unix seconds, value)
    pub samples: Vec<(f64, f64)>,
}

impl Series {
    /// The last sample's value.
    pub fn last(&self) -> Option<f64> {
        self.samples.last().map(|(_, v)| *v)
    }
}

/// An alert as `/api/v1/alerts` lists it.
#[derive(Debug, Clone)]
pub struct Alert {
    pub name: String,
    /// `pending` or `firing`.
    pub state: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl Prometheus {
    /// Starts Prometheus with `config` (a `prometheus.yml`) and the rule files `rules`
    /// (file name, contents), written beside it, and waits until it is ready.
    pub async fn start(config: &str, rules: &[(String, String)]) -> Prometheus {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for (name, text) in rules {
            std::fs::write(dir.path().join(name), text).expect("writing a rule file");
        }
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("writing prometheus.yml");
        let port = crate::ports::free_port();
        let url = format!("http://127.0.0.1:{port}");
        let log = dir.path().join("prometheus.log");
        let child = spawn(&log, &config_path, &dir.path().join("data"), port);
        let mut prometheus = Prometheus { child, log, url, _dir: dir };
        prometheus.wait_ready().await;
        prometheus
    }

    /// Prometheus scraping every process of `cluster` as the PodMonitor of `observability`
    /// says, evaluating its PrometheusRules, both as `how` tunes them.
    pub async fn scraping(
        cluster: &Cluster,
        observability: &Observability,
        how: &Scraping<'_>,
    ) -> Prometheus {
        let [(_, pod_monitor)] = observability.pod_monitors.as_slice() else {
            panic!(
                "deploy/observability has {} PodMonitors; the harness scrapes with one",
                observability.pod_monitors.len()
            )
        };
        let targets: Vec<Target> = cluster
            .processes()
            .into_iter()
            .map(|p| Target {
                pod: p.name.clone(),
                container: p.service.to_owned(),
                address: p.admin_url.trim_start_matches("http://").to_owned(),
            })
            .collect();
        let rules: Vec<(String, String)> = observability
            .rules
            .iter()
            .enumerate()
            .map(|(i, (file, rule))| {
                let text = rule_file(rule, how.hold, how.changes).unwrap_or_else(|e| panic!("{file}: {e}"));
                (format!("rules-{i}.yml"), text)
            })
            .collect();
        let files: Vec<String> = rules.iter().map(|(name, _)| name.clone()).collect();
        let config = scrape_config(pod_monitor, how.namespace, how.interval, &files, &targets)
            .unwrap_or_else(|e| panic!("a scrape config from the PodMonitor: {e}"));
        Prometheus::start(&config, &rules).await
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The tail of Prometheus's own log, for a failure message.
    pub fn log_tail(&self) -> String {
        process::tail(&self.log, 30)
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            if get(&self.url, "/-/ready").await.is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited ({status}):\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready within {READY_LIMIT:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `GET /api/v1/<endpoint>?<params>`: the answer's `data`, or Prometheus's error.
    pub async fn api(&self, endpoint: &str, params: &[(&str, String)]) -> Result<Json, String> {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        let path = format!("/api/v1/{endpoint}?{}", query.join("&"));
        let body = get(&self.url, &path).await?;
        let answer: Json = serde_json::from_str(&body).map_err(|e| format!("{endpoint}: {e}: {body}"))?;
        if answer.get("status").and_then(Json::as_str) != Some("success") {
            return Err(format!("{endpoint}: {body}"));
        }
        Ok(answer.get("data").cloned().unwrap_or(Json::Null))
    }

    /// The value of `expr` now.
    pub async fn query(&self, expr: &str) -> Result<Vec<Series>, String> {
        let data = self.api("query", &[("query", expr.to_owned())]).await?;
        series(&data).map_err(|e| format!("{expr}: {e}"))
    }

    /// `expr` evaluated every `step` from `start` to now.
    pub async fn query_range(
        &self,
        expr: &str,
        start: SystemTime,
        step: Duration,
    ) -> Result<Vec<Series>, String> {
        let [from, to] = until_now(start);
        let params = [("query", expr.to_owned()), from, to, ("step", format!("{}ms", step.as_millis()))];
        let data = self.api("query_range", &params).await?;
        series(&data).map_err(|e| format!("{expr}: {e}"))
    }

    /// The values label `label` takes on the series `selector` selects (what Grafana's
    /// `label_values(selector, label)` lists), sorted.
    pub async fn label_values(
        &self,
        selector: &str,
        label: &str,
        start: SystemTime,
    ) -> Result<Vec<String>, String> {
        let [from, to] = until_now(start);
        let params = [("match[]", selector.to_owned()), from, to];
        let data = self.api(&format!("label/{label}/values"), &params).await?;
        let values = data.as_array().ok_or_else(|| format!("label values of {label}: {data}"))?;
        Ok(values.iter().filter_map(Json::as_str).map(str::to_owned).collect())
    }

    /// Every pending and firing alert.
    pub async fn alerts(&self) -> Result<Vec<Alert>, String> {
        let data = self.api("alerts", &[]).await?;
        let list = data.get("alerts").and_then(Json::as_array).ok_or_else(|| format!("alerts: {data}"))?;
        Ok(list
            .iter()
            .map(|a| {
                let labels = strings(a.get("labels"));
                Alert {
                    name: labels.get("alertname").cloned().unwrap_or_default(),
                    state: a.get("state").and_then(Json::as_str).unwrap_or_default().to_owned(),
                    annotations: strings(a.get("annotations")),
                    labels,
                }
            })
            .collect())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        process::kill(&mut self.child);
        if std::thread::panicking() {
            eprintln!("--- prometheus log (tail):\n{}", self.log_tail());
        }
    }
}

fn spawn(log: &Path, config: &Path, data: &Path, port: u16) -> Child {
    let program = binary();
    let mut command = std::process::Command::new(&program);
    command.args([
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", data.display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        // Ask for nothing from outside: the TSDB's retention is the test's lifetime.
        "--storage.tsdb.retention.time=1d".into(),
        "--log.level=warn".into(),
    ]);
    let log = std::fs::File::create(log).expect("prometheus log file");
    command.stdin(std::process::Stdio::null()).stdout(log.try_clone().expect("log")).stderr(log);
    command.spawn().unwrap_or_else(|e| {
        panic!(
            "starting {}: {e}. The test command unpacks Debian's prometheus package into .tools/ \
             (scripts/tools.sh, ensure_prometheus) and sets TANKSIM_PROMETHEUS",
            program.display()
        )
    })
}

/// The `start` and `end` parameters of a range from `start` to now.
fn until_now(start: SystemTime) -> [(&'static str, String); 2] {
    [("start", format!("{:.3}", unix(start))), ("end", format!("{:.3}", unix(SystemTime::now())))]
}

/// Seconds since the epoch.
pub fn unix(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// Percent-encodes a query parameter's value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn strings(value: Option<&Json>) -> BTreeMap<String, String> {
    value
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The series of a `vector` or `matrix` answer (a `scalar` as one series without labels).
fn series(data: &Json) -> Result<Vec<Series>, String> {
    let sample = |pair: &Json| -> Option<(f64, f64)> {
        let at = pair.get(0)?.as_f64()?;
        let value = match pair.get(1)?.as_str()? {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().ok()?,
        };
        Some((at, value))
    };
    let kind = data.get("resultType").and_then(Json::as_str).unwrap_or_default();
    let result = data.get("result").ok_or_else(|| format!("no result in {data}"))?;
    if kind == "scalar" {
        let s = sample(result).ok_or_else(|| format!("a scalar: {result}"))?;
        return Ok(vec![Series { labels: BTreeMap::new(), samples: vec![s] }]);
    }
    let list = result.as_array().ok_or_else(|| format!("a {kind}: {result}"))?;
    list.iter()
        .map(|s| {
            let labels = strings(s.get("metric"));
            let samples: Option<Vec<_>> = match s.get("values").and_then(Json::as_array) {
                Some(values) => values.iter().map(sample).collect(),
                None => s.get("value").map(sample).map(|one| one.into_iter().collect()),
            };
            Ok(Series { labels, samples: samples.ok_or_else(|| format!("samples of {s}"))? })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_parameters() {
        assert_eq!(encode(r#"sum(x{a=~"b|c"}) [5m]"#), "sum%28x%7Ba%3D~%22b%7Cc%22%7D%29%20%5B5m%5D");
    }

    #[test]
    fn reads_vectors_matrices_and_scalars() {
        let vector = serde_json::json!({"resultType": "vector", "result": [
            {"metric": {"job": "tanksim"}, "value": [1700000000.5, "3"]}]});
        let got = series(&vector).unwrap();
        assert_eq!(got[0].labels["job"], "tanksim");
        assert_eq!(got[0].samples, vec![(1_700_000_000.5, 3.0)]);
        let matrix = serde_json::json!({"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1.0, "1"], [2.0, "NaN"]]}]});
        let got = series(&matrix).unwrap();
        assert_eq!(got[0].samples.len(), 2);
        assert!(got[0].last().unwrap().is_nan());
        let scalar = serde_json::json!({"resultType": "scalar", "result": [5.0, "2"]});
        assert_eq!(series(&scalar).unwrap()[0].last(), Some(2.0));
    }
}
