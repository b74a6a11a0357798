//! The files a test's Prometheus runs with, derived from the manifests rather than copied:
//!
//! - [`scrape_config`]: a `prometheus.yml` whose scrape job is what the prometheus-operator
//!   generates for the PodMonitor (the selector's and port's `keep` rules, the `namespace`,
//!   `pod`, `container`, `endpoint` and `job` labels from the `jobLabel`, the PodMonitor's path,
//!   scheme, timeout and own relabelings), over static targets that carry the meta labels
//!   Kubernetes service discovery would give the pods. Only the interval is the test's.
//! - [`rule_file`]: the PrometheusRule's groups as a rule file, with every `for:` shortened and
//!   named thresholds replaced, so a test sees in seconds what production sees in minutes.

use std::time::Duration;

use serde_json::{Value as Json, json};

/// One pod's admin endpoint, as the PodMonitor would find it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The pod's name (`worker-0`).
    pub pod: String,
    /// The container's name: the service (`tanksim-worker`).
    pub container: String,
    /// `127.0.0.1:PORT`.
    pub address: String,
}

/// What service discovery calls a pod label `name`: `__meta_kubernetes_pod_label_<name>`,
/// every character Prometheus does not allow in a label name replaced by `_`.
fn pod_label(name: &str) -> String {
    let sanitized: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("__meta_kubernetes_pod_label_{sanitized}")
}

fn pod_label_present(name: &str) -> String {
    pod_label(name).replacen("_pod_label_", "_pod_labelpresent_", 1)
}

/// A `prometheus.yml` scraping `targets` in `namespace` as the prometheus-operator scrapes the
/// pods of `pod_monitor`, every `interval`, evaluating `rule_files` every `interval`.
pub fn scrape_config(
    pod_monitor: &Json,
    namespace: &str,
    interval: Duration,
    rule_files: &[String],
    targets: &[Target],
) -> Result<String, String> {
    let spec = pod_monitor.get("spec").ok_or("a PodMonitor without spec")?;
    let name =
        pod_monitor.pointer("/metadata/name").and_then(Json::as_str).ok_or("a PodMonitor without name")?;
    let endpoints =
        spec.get("podMetricsEndpoints").and_then(Json::as_array).ok_or("no podMetricsEndpoints")?;
    let [endpoint] = endpoints.as_slice() else {
        return Err(format!("{} podMetricsEndpoints: the test scrapes exactly one", endpoints.len()));
    };
    let text = |value: &Json, key: &str| value.get(key).and_then(Json::as_str).map(str::to_owned);
    let port = text(endpoint, "port").ok_or("an endpoint without a port name")?;
    let match_labels =
        spec.pointer("/selector/matchLabels").and_then(Json::as_object).ok_or("no matchLabels")?;

    // The pods' labels as the manifests give them: at least the selector's.
    let mut meta = serde_json::Map::new();
    meta.insert("__meta_kubernetes_namespace".into(), json!(namespace));
    meta.insert("__meta_kubernetes_pod_container_port_name".into(), json!(port));
    for (key, value) in match_labels {
        meta.insert(pod_label(key), value.clone());
        meta.insert(pod_label_present(key), json!("true"));
    }
    let static_configs: Vec<Json> = targets
        .iter()
        .map(|t| {
            let mut labels = meta.clone();
            labels.insert("__meta_kubernetes_pod_name".into(), json!(t.pod));
            labels.insert("__meta_kubernetes_pod_container_name".into(), json!(t.container));
            json!({ "targets": [t.address], "labels": labels })
        })
        .collect();

    // What the operator generates for a PodMonitor endpoint (its `generatePodMonitorConfig`).
    let mut relabel = vec![json!({"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"})];
    for (key, value) in match_labels {
        relabel.push(json!({
            "action": "keep",
            "source_labels": [pod_label(key), pod_label_present(key)],
            "regex": format!("({});true", value.as_str().unwrap_or_default()),
        }));
    }
    relabel.push(json!({"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": port}));
    for (source, target) in [
        ("__meta_kubernetes_namespace", "namespace"),
        ("__meta_kubernetes_pod_container_name", "container"),
        ("__meta_kubernetes_pod_name", "pod"),
    ] {
        relabel.push(json!({"source_labels": [source], "target_label": target}));
    }
    let monitor_namespace =
        pod_monitor.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or(namespace);
    relabel.push(json!({"target_label": "job", "replacement": format!("{monitor_namespace}/{name}")}));
    if let Some(job_label) = text(spec, "jobLabel") {
        relabel.push(json!({
            "source_labels": [pod_label(&job_label)], "target_label": "job", "regex": "(.+)", "replacement": "${1}",
        }));
    }
    relabel.push(json!({"target_label": "endpoint", "replacement": port}));
    for r in endpoint.get("relabelings").and_then(Json::as_array).into_iter().flatten() {
        relabel.push(relabeling(r)?);
    }

    let seconds = format!("{}s", interval.as_secs().max(1));
    let mut job = json!({
        "job_name": format!("podMonitor/{monitor_namespace}/{name}/0"),
        "honor_labels": false,
        "scrape_interval": seconds,
        "metrics_path": text(endpoint, "path").unwrap_or_else(|| "/metrics".into()),
        "scheme": text(endpoint, "scheme").unwrap_or_else(|| "http".into()),
        "static_configs": static_configs,
        "relabel_configs": relabel,
    });
    if let Some(timeout) = text(endpoint, "scrapeTimeout") {
        // A timeout longer than the test's interval is cut to it, as Prometheus requires.
        let timeout = parse_duration(&timeout)?.min(interval.max(Duration::from_secs(1)));
        job["scrape_timeout"] = json!(format!("{}ms", timeout.as_millis()));
    }
    let config = json!({
        "global": {"scrape_interval": seconds, "evaluation_interval": seconds},
        "rule_files": rule_files,
        "scrape_configs": [job],
    });
    serde_norway::to_string(&config).map_err(|e| e.to_string())
}

/// A PodMonitor relabeling (camelCase) as a Prometheus `relabel_config` (snake_case).
fn relabeling(r: &Json) -> Result<Json, String> {
    let object = r.as_object().ok_or_else(|| format!("a relabeling that is not an object: {r}"))?;
    let mut out = serde_json::Map::new();
    for (key, value) in object {
        let key = match key.as_str() {
            "sourceLabels" => "source_labels",
            "targetLabel" => "target_label",
            "regex" | "replacement" | "action" | "separator" | "modulus" => key.as_str(),
            other => return Err(format!("relabeling field {other} is not translated")),
        };
        out.insert(key.into(), value.clone());
    }
    Ok(Json::Object(out))
}

/// `15s`, `1m`, `500ms` (the forms the manifests use).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("a duration the test does not read: {text}");
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(60 * n)),
        "h" => Ok(Duration::from_secs(3600 * n)),
        _ => Err(bad()),
    }
}

/// One change to an alert's expression for a test: `from` (which must occur in the alert's
/// expression) becomes `to`.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub alert: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// The groups of the PrometheusRule `rule` as a rule file, every `for:` set to `hold` (if
/// given) and the `changes` made. A change that matches no alert's expression is an error: the rule it was
/// written for has changed.
pub fn rule_file(rule: &Json, hold: Option<Duration>, changes: &[Change]) -> Result<String, String> {
    let mut groups = rule.pointer("/spec/groups").cloned().ok_or("a PrometheusRule without groups")?;
    let mut used = vec![false; changes.len()];
    for group in groups.as_array_mut().into_iter().flatten() {
        for r in group.get_mut("rules").and_then(Json::as_array_mut).into_iter().flatten() {
            if let Some(hold) = hold
                && r.get("for").is_some()
            {
                r["for"] = json!(format!("{}ms", hold.as_millis()));
            }
            let alert = r.get("alert").and_then(Json::as_str).unwrap_or_default().to_owned();
            for (change, used) in changes.iter().zip(&mut used) {
                let expr = r.get("expr").and_then(Json::as_str).unwrap_or_default();
                if change.alert == alert && expr.contains(change.from) {
                    r["expr"] = json!(expr.replace(change.from, change.to));
                    *used = true;
                }
            }
        }
    }
    if let Some((change, _)) = changes.iter().zip(&used).find(|(_, used)| !**used) {
        return Err(format!("{}: {:?} is not in its expression", change.alert, change.from));
    }
    serde_norway::to_string(&json!({ "groups": groups })).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_monitor() -> Json {
        json!({
            "metadata": {"name": "tanksim"},
            "spec": {
                "jobLabel": "app.kubernetes.io/part-of",
                "selector": {"matchLabels": {"app.kubernetes.io/part-of": "tanksim"}},
                "podMetricsEndpoints": [{
                    "port": "admin", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s",
                    "relabelings": [{"sourceLabels": ["__meta_x"], "targetLabel": "rollout_hash"}],
                }],
            },
        })
    }

    #[test]
    fn the_scrape_job_is_the_operators() {
        let target = Target {
            pod: "worker-0".into(),
            container: "tanksim-worker".into(),
            address: "127.0.0.1:1".into(),
        };
        let text = scrape_config(&pod_monitor(), "ns", Duration::from_secs(1), &["r.yml".into()], &[target])
            .unwrap();
        let config: Json = serde_norway::from_str(&text).unwrap();
        let job = &config["scrape_configs"][0];
        assert_eq!(job["job_name"], "podMonitor/ns/tanksim/0");
        assert_eq!(job["scrape_timeout"], "1000ms", "cut to the interval");
        let labels = &job["static_configs"][0]["labels"];
        assert_eq!(labels["__meta_kubernetes_pod_label_app_kubernetes_io_part_of"], "tanksim");
        assert_eq!(labels["__meta_kubernetes_pod_name"], "worker-0");
        let relabel = job["relabel_configs"].as_array().unwrap();
        assert!(relabel.contains(&json!({"source_labels": ["__meta_x"], "target_label": "rollout_hash"})));
        assert!(relabel.contains(&json!({
            "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_part_of"],
            "target_label": "job", "regex": "(.+)", "replacement": "${1}",
        })));
    }

    #[test]
    fn rules_are_held_shorter_and_changed_where_asked() {
        let rule = json!({"spec": {"groups": [{"name": "g", "rules": [
            {"record": "r", "expr": "sum(x)"},
            {"alert": "A", "expr": "y > 900", "for": "5m"},
        ]}]}});
        let change = Change { alert: "A", from: "> 900", to: "> 5" };
        let text = rule_file(&rule, Some(Duration::from_secs(2)), &[change]).unwrap();
        let file: Json = serde_norway::from_str(&text).unwrap();
        let rules = &file["groups"][0]["rules"];
        assert_eq!(rules[0].get("for"), None);
        assert_eq!((rules[1]["for"].as_str(), rules[1]["expr"].as_str()), (Some("2000ms"), Some("y > 5")));
        let stale = Change { alert: "A", from: "> 901", to: "> 5" };
        assert!(rule_file(&rule, Some(Duration::from_secs(2)), &[stale]).unwrap_err().contains("> 901"));
    }
}
