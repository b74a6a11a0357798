//! Every PromQL expression tanksim ships — the Grafana dashboards' queries and template
//! variables, the PrometheusRule's alerts and recording rules, all under
//! `deploy/observability` — parses (Grafana variables substituted) and names only metrics,
//! labels and label values the services export (`tanksim_telemetry::metrics::names::CATALOG`),
//! the series Prometheus makes (`up`) and the recording rules of the rules file. Legends and
//! alert annotations may only use labels their expression's series carry, and every alert's
//! runbook is a section of docs/observability.md. The gateway canary's analysis queries
//! (`deploy/base/gateway-rollout.yaml`) are held to the same catalog.
//!
//! The Kubernetes side of the same files (schemas, unknown fields) is checked by
//! scripts/check-deploy.sh.

mod checker;

use std::collections::BTreeSet;

use checker::{Checker, LabelSet, VARIABLE_MARK, Value};
use serde_json::Value as Json;
use tanksim_e2e::observability::grafana::{self, HOUR_GLOBALS, Source};
use tanksim_e2e::observability::{self as manifests};

/// Fails with every problem, one per line.
fn assert_none(what: &str, errors: &[String]) {
    assert!(errors.is_empty(), "{what}:\n  {}", errors.join("\n  "));
}

/// A checker that knows the recording rules, and the problems of every rule.
fn check_rules(rules: &[(String, Json)]) -> (Checker, Vec<String>) {
    let mut checker = Checker::default();
    let mut errors = Vec::new();
    for (file, object) in rules {
        let groups = object.pointer("/spec/groups").and_then(Json::as_array).cloned().unwrap_or_default();
        for group in &groups {
            let group_name = group.get("name").and_then(Json::as_str).unwrap_or("?");
            for rule in group.get("rules").and_then(Json::as_array).into_iter().flatten() {
                let name =
                    rule.get("alert").or_else(|| rule.get("record")).and_then(Json::as_str).unwrap_or("?");
                let at = format!("{file}: {group_name}/{name}");
                let expr = rule.get("expr").and_then(Json::as_str).unwrap_or_default();
                let value = match checker.check(expr) {
                    Ok(value) => value,
                    Err(problems) => {
                        errors.extend(problems.into_iter().map(|p| format!("{at}: {p}")));
                        continue;
                    }
                };
                let Some(mut labels) = value.labels().cloned() else {
                    errors.push(format!("{at}: evaluates to {value:?}, not series"));
                    continue;
                };
                if let Some(extra) = rule.get("labels").and_then(Json::as_object) {
                    labels.extend(extra.keys().cloned());
                }
                if let Some(record) = rule.get("record").and_then(Json::as_str) {
                    checker.record(record, labels);
                } else {
                    errors.extend(annotation_labels(rule, &labels).into_iter().map(|p| format!("{at}: {p}")));
                }
            }
        }
    }
    (checker, errors)
}

/// Every `$labels.x` an alert's annotations use must be a label of its series.
fn annotation_labels(rule: &Json, labels: &LabelSet) -> Vec<String> {
    let mut errors = Vec::new();
    for (key, text) in rule.get("annotations").and_then(Json::as_object).into_iter().flatten() {
        let text = text.as_str().unwrap_or_default();
        for (at, _) in text.match_indices("$labels.") {
            let label: String =
                text[at + 8..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !labels.contains(&label) {
                errors.push(format!(
                    "annotation {key} uses $labels.{label}, not a label of the alert (it has: {})",
                    labels.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    errors
}

/// `text` with Grafana's variables substituted for a static check: globals as on a dashboard
/// showing an hour, the dashboard's own variables by a marked word (their real values are
/// only known at query time).
fn marked(text: &str) -> Result<(String, BTreeSet<String>), String> {
    grafana::substitute(text, HOUR_GLOBALS, |name| format!("{VARIABLE_MARK}{name}__"))
}

/// The problems of one dashboard query: PromQL checked against the catalog, variables
/// defined, legend labels present.
fn check_query(checker: &Checker, query: &grafana::Query, defined: &BTreeSet<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let (text, used) = match marked(&query.text) {
        Ok(substituted) => substituted,
        Err(e) => return vec![e],
    };
    for name in used.difference(defined) {
        errors.push(format!("uses ${name}, which is not a template variable of the dashboard"));
    }
    if query.source != Source::Prometheus {
        return errors; // LogQL and TraceQL: variables only
    }
    let (expr, listed_label) = if query.variable {
        match grafana::variable_query(&text) {
            Ok(parts) => parts,
            Err(e) => return vec![e],
        }
    } else {
        (text, None)
    };
    match checker.check(&expr) {
        Err(problems) => errors.extend(problems),
        Ok(value) => {
            let wanted = query.legend.as_deref().map(grafana::legend_labels).unwrap_or_default();
            for label in wanted.iter().chain(&listed_label) {
                match &value {
                    Value::Series(labels) if labels.contains(label) => {}
                    _ => errors.push(format!(
                        "uses label {label}, which the query's series do not carry: {value:?}"
                    )),
                }
            }
        }
    }
    errors
}

#[test]
fn rules_use_only_exported_series_and_labels() {
    let observability = manifests::load();
    assert!(!observability.rules.is_empty(), "no PrometheusRule in deploy/observability/kustomization.yaml");
    let (_, errors) = check_rules(&observability.rules);
    assert_none("PrometheusRule expressions", &errors);
}

#[test]
fn dashboard_queries_use_only_exported_series_and_labels() {
    let observability = manifests::load();
    let (checker, _) = check_rules(&observability.rules);
    let mut errors = Vec::new();
    let mut promql = 0;
    for (file, dashboard) in &observability.dashboards {
        let (queries, problems) = grafana::queries(file, dashboard);
        errors.extend(problems);
        let defined: BTreeSet<String> = grafana::variables(dashboard).into_iter().map(|v| v.name).collect();
        for query in &queries {
            promql += usize::from(query.source == Source::Prometheus);
            let problems = check_query(&checker, query, &defined);
            errors
                .extend(problems.into_iter().map(|p| format!("{}: {p}\n      {}", query.origin, query.text)));
        }
    }
    assert_none("dashboard queries", &errors);
    assert!(promql > 20, "only {promql} PromQL queries found: are the dashboards read?");
}

#[test]
fn canary_analysis_queries_use_only_exported_series_and_labels() {
    let templates = manifests::analysis_templates();
    assert!(!templates.is_empty(), "no AnalysisTemplate in deploy/base");
    let (checker, _) = check_rules(&manifests::load().rules);
    let mut errors = Vec::new();
    let mut queries = 0;
    for (file, template) in &templates {
        let args: BTreeSet<&str> = template
            .pointer("/spec/args")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("name").and_then(Json::as_str))
            .collect();
        for metric in template.pointer("/spec/metrics").and_then(Json::as_array).into_iter().flatten() {
            let name = metric.get("name").and_then(Json::as_str).unwrap_or("?");
            let Some(query) = metric.pointer("/provider/prometheus/query").and_then(Json::as_str) else {
                continue;
            };
            queries += 1;
            // Argo Rollouts fills in `{{args.NAME}}` before sending the query.
            let mut expr = String::new();
            let mut rest = query;
            while let Some((before, after)) = rest.split_once("{{args.") {
                let (arg, tail) = after.split_once("}}").unwrap_or((after, ""));
                if !args.contains(arg) {
                    errors.push(format!(
                        "{file}: {name}: uses {{{{args.{arg}}}}}, not an argument of the template"
                    ));
                }
                expr.push_str(before);
                expr.push_str("0123456789");
                rest = tail;
            }
            expr.push_str(rest);
            if let Err(problems) = checker.check(&expr) {
                errors.extend(problems.into_iter().map(|p| format!("{file}: {name}: {p}")));
            }
        }
    }
    assert_none("canary analysis queries", &errors);
    assert!(queries >= 2, "only {queries} analysis queries found");
}

#[test]
fn dashboards_are_well_formed() {
    let observability = manifests::load();
    let mut errors: Vec<String> = observability
        .unlisted_dashboards
        .iter()
        .map(|f| format!("{f} is in no configMapGenerator of the kustomization"))
        .collect();
    let mut uids = BTreeSet::new();
    for (file, d) in &observability.dashboards {
        let uid = d.get("uid").and_then(Json::as_str).unwrap_or_default();
        if uid.is_empty() || uid.len() > 40 || !uids.insert(uid.to_owned()) {
            errors.push(format!("{file}: uid {uid:?} empty, over 40 characters, or not unique"));
        }
        if d.get("schemaVersion").and_then(Json::as_u64).unwrap_or(0) < 36 {
            errors.push(format!("{file}: schemaVersion below 36"));
        }
        let mut ids = BTreeSet::new();
        for panel in grafana::panels(d) {
            let id = panel.get("id").and_then(Json::as_u64);
            if !id.is_some_and(|id| ids.insert(id)) {
                errors.push(format!("{file}: panel id {id:?} missing or not unique"));
            }
            if panel.get("title").and_then(Json::as_str).is_none_or(str::is_empty) {
                errors.push(format!("{file}: panel {id:?} has no title"));
            }
            let grid =
                ["h", "w", "x", "y"].map(|k| panel.pointer(&format!("/gridPos/{k}")).and_then(Json::as_u64));
            if grid.iter().any(Option::is_none) || grid[1].unwrap_or(0) + grid[2].unwrap_or(0) > 24 {
                errors.push(format!("{file}: panel {id:?} has no gridPos inside the 24 columns"));
            }
        }
        let variables = grafana::variables(d);
        let names: BTreeSet<&str> = variables.iter().map(|v| v.name.as_str()).collect();
        if names.len() != variables.len() {
            errors.push(format!("{file}: a template variable is defined twice"));
        }
        let (queries, _) = grafana::queries(file, d);
        for q in queries.iter().filter(|q| q.source == Source::Prometheus && !q.variable) {
            // Rates over Grafana's window, never a hard-coded one that the scrape interval or
            // the zoom level can make too short.
            for window in q.text.split('[').skip(1).filter_map(|w| w.split(']').next()) {
                if !matches!(window, "$__rate_interval" | "$__range") && !window.contains(':') {
                    errors.push(format!(
                        "{}: range [{window}]: use [$__rate_interval] (or [$__range])",
                        q.origin
                    ));
                }
            }
        }
    }
    let overview = observability.dashboards.iter().find(|(_, d)| d["uid"] == "tanksim-overview");
    match overview {
        None => errors.push("no dashboard with uid tanksim-overview".into()),
        Some((file, d)) => {
            let (queries, _) = grafana::queries(file, d);
            for source in [Source::Loki, Source::Tempo] {
                if !queries.iter().any(|q| q.source == source) {
                    errors.push(format!(
                        "{file}: no {source:?} panel (logs and trace links belong on the overview)"
                    ));
                }
            }
        }
    }
    assert_none("dashboards", &errors);
}

#[test]
fn every_alert_has_a_documented_runbook() {
    let observability = manifests::load();
    let docs = manifests::read(&tanksim_e2e::manifests::repo().join("docs/observability.md"));
    let anchors = manifests::anchors(&docs);
    let mut errors = Vec::new();
    for (file, object) in &observability.rules {
        let groups = object.pointer("/spec/groups").and_then(Json::as_array).cloned().unwrap_or_default();
        for rule in groups.iter().flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default()) {
            let Some(alert) = rule.get("alert").and_then(Json::as_str) else { continue };
            let url = rule.pointer("/annotations/runbook_url").and_then(Json::as_str).unwrap_or_default();
            match url.split_once("docs/observability.md#") {
                Some((_, anchor)) if anchors.iter().any(|a| a == anchor) => {}
                Some((_, anchor)) => errors.push(format!(
                    "{file}: {alert}: runbook_url points at #{anchor}, which is no heading of docs/observability.md"
                )),
                None => errors.push(format!("{file}: {alert}: runbook_url {url:?} is not docs/observability.md#...")),
            }
        }
    }
    assert_none("runbooks", &errors);
}

/// The checker itself: good expressions pass, each kind of mistake fails.
mod checker_catches {
    use super::*;

    fn errors(expr: &str) -> Vec<String> {
        let mut checker = Checker::default();
        checker.record("namespace:tanksim_workers:count", ["namespace"].map(String::from).into());
        checker.check(expr).err().unwrap_or_default()
    }

    fn fails(expr: &str, needle: &str) {
        let errors = errors(expr);
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{expr}: expected an error with {needle:?}, got {errors:?}"
        );
    }

    #[test]
    fn correct_expressions_pass() {
        for expr in [
            r#"sum by (kind) (rate(simulation_runs_total{namespace="x"}[5m]))"#,
            r#"histogram_quantile(0.99, sum by (service, grpc_method, le) (rate(grpc_server_handling_seconds_bucket{grpc_type="unary"}[5m])))"#,
            r#"sum by (grpc_code) (rate(grpc_server_handled_total{grpc_code!="OK"}[5m])) / ignoring (grpc_code) group_left sum(rate(grpc_server_handled_total[5m]))"#,
            r#"sum by (service) (grpc_server_started_total) - sum by (service) (grpc_server_handled_total)"#,
            r#"count(tanksim_build_info{service="tanksim-worker"}) or vector(0)"#,
            r#"max by (namespace) (tanksim_queue_pending_entries) > 0 unless on (namespace) namespace:tanksim_workers:count > 0"#,
            r#"absent(tanksim_build_info{service="tanksim-gateway"})"#,
            r#"up{job="tanksim"} == 0"#,
            r#"sum(rate(simulation_errors_total{reason=~"chunk_failed|dead_lettered"}[5m]))"#,
            r#"time() - max by (pod) (process_start_time_seconds)"#,
        ] {
            assert_eq!(errors(expr), Vec::<String>::new(), "{expr}");
        }
    }

    #[test]
    fn a_syntax_error() {
        fails("sum(rate(simulation_runs_total[5m])", "does not parse");
    }

    #[test]
    fn a_misspelled_metric() {
        fails("rate(simulation_run_total[5m])", "unknown metric simulation_run_total");
        fails("namespace:tanksim_worker:count", "unknown metric");
    }

    #[test]
    fn a_histogram_by_its_base_name() {
        fails("grpc_server_handling_seconds", "is a histogram");
    }

    #[test]
    fn a_label_the_metric_does_not_have() {
        fails(r#"simulation_runs_total{state="failed"}"#, "has no label state");
        fails(r#"rate(grpc_server_handled_total{grpc_cod="OK"}[5m])"#, "has no label grpc_cod");
        fails(r#"simulation_duration_seconds_sum{le="1"}"#, "has no label le");
    }

    #[test]
    fn a_label_value_that_is_never_exported() {
        fails(r#"simulation_jobs_finished_total{state="succeded"}"#, "\"succeded\" is not a value of state");
        fails(r#"grpc_server_handled_total{grpc_code=~"Internal|Unavailabel"}"#, "\"Unavailabel\"");
        fails(r#"tanksim_build_info{service="worker"}"#, "\"worker\" is not a value of service");
    }

    #[test]
    fn grouping_by_a_label_that_is_gone() {
        fails("sum by (grpc_method) (rate(simulation_runs_total[5m]))", "by/without (grpc_method)");
        fails(
            "histogram_quantile(0.9, sum by (service) (rate(grpc_server_handling_seconds_bucket[5m])))",
            "without le",
        );
        fails("sum by (kind) (sum by (service) (simulation_runs_total))", "by/without (kind)");
    }

    #[test]
    fn sides_that_never_match() {
        fails("grpc_server_started_total - grpc_server_handled_total", "can never match");
        fails("sum by (service) (simulation_runs_total) / sum(simulation_runs_total)", "can never match");
        fails("tanksim_queue_dead_letters > 0 and on (kind) tanksim_queue_pending_entries", "on (kind)");
    }

    #[test]
    fn grafana_variables_are_substituted_and_must_exist() {
        let (text, used) = marked(
            r#"sum by (le) (rate(simulation_duration_seconds_bucket{namespace=~"$namespace", service=~"${service:regex}"}[$__rate_interval]))"#,
        )
        .expect("substitutes");
        assert_eq!(errors(&text), Vec::<String>::new(), "{text}");
        assert_eq!(used, ["namespace", "service"].map(String::from).into());
        assert!(marked("rate(x[$__rate_intervl])").is_err());
        let query = grafana::Query {
            origin: "test".into(),
            source: Source::Prometheus,
            text: r#"sum by (kind) (simulation_runs_total{namespace=~"$namespce"})"#.into(),
            legend: Some("{{kind}} {{knd}}".into()),
            variable: false,
        };
        let defined = ["namespace".to_owned()].into();
        let problems = check_query(&Checker::default(), &query, &defined);
        assert!(problems.iter().any(|p| p.contains("$namespce")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("label knd")), "{problems:?}");
    }

    #[test]
    fn annotations_with_labels_the_alert_lacks() {
        let rule =
            serde_json::json!({"annotations": {"summary": "{{ $labels.namespace }} {{ $labels.servce }}"}});
        let labels: LabelSet = ["namespace", "service"].map(String::from).into();
        let problems = annotation_labels(&rule, &labels);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("$labels.servce"));
    }

    #[test]
    fn github_heading_anchors() {
        let anchors = manifests::anchors(
            "# Observability\n```\n# not a heading\n```\n### TanksimJobNoProgress\n## Finding a slow job\n",
        );
        assert_eq!(anchors, ["observability", "tanksimjobnoprogress", "finding-a-slow-job"]);
    }
}
