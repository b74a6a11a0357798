//! The files of `deploy/observability` as its kustomization lists them: the dashboards (the
//! configMapGenerator's JSON files; [`grafana`] reads their queries), the PrometheusRule and
//! PodMonitor objects (its resources). The static PromQL checks (`tests/platform/promql.rs`)
//! and the live scrape by a real Prometheus (`tests/e2e/prometheus.rs`) read them from here.

pub mod grafana;

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::manifests::repo;

/// `deploy/observability`.
pub fn dir() -> PathBuf {
    repo().join("deploy/observability")
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn yaml(path: &Path) -> Json {
    serde_norway::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(value: Option<&Json>) -> Vec<String> {
    value.and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str).map(str::to_owned).collect()
}

/// What the kustomization deploys.
#[derive(Debug)]
pub struct Observability {
    /// (file name, dashboard JSON) of every dashboard ConfigMap.
    pub dashboards: Vec<(String, Json)>,
    /// (file name, object) of every PrometheusRule.
    pub rules: Vec<(String, Json)>,
    /// (file name, object) of every PodMonitor.
    pub pod_monitors: Vec<(String, Json)>,
    /// Dashboard JSON files in the directory that no configMapGenerator lists.
    pub unlisted_dashboards: Vec<String>,
}

pub fn load() -> Observability {
    let dir = dir();
    let kustomization = yaml(&dir.join("kustomization.yaml"));
    let mut dashboards = Vec::new();
    for generator in kustomization.get("configMapGenerator").and_then(Json::as_array).into_iter().flatten() {
        for file in strings(generator.get("files")) {
            // `key=path` names the ConfigMap key differently from the file.
            let path = file.split_once('=').map_or(file.as_str(), |(_, p)| p);
            let text = read(&dir.join(path));
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
            dashboards.push((path.to_owned(), json));
        }
    }
    let (mut rules, mut pod_monitors) = (Vec::new(), Vec::new());
    for resource in strings(kustomization.get("resources")) {
        let object = yaml(&dir.join(&resource));
        match object.get("kind").and_then(Json::as_str) {
            Some("PrometheusRule") => rules.push((resource, object)),
            Some("PodMonitor") => pod_monitors.push((resource, object)),
            _ => {}
        }
    }
    let listed: Vec<&str> = dashboards.iter().map(|(path, _)| path.as_str()).collect();
    let mut unlisted_dashboards = Vec::new();
    for entry in std::fs::read_dir(dir.join("dashboards")).expect("deploy/observability/dashboards") {
        let name = format!("dashboards/{}", entry.expect("a directory entry").file_name().to_string_lossy());
        if name.ends_with(".json") && !listed.contains(&name.as_str()) {
            unlisted_dashboards.push(name);
        }
    }
    Observability { dashboards, rules, pod_monitors, unlisted_dashboards }
}

/// (file, object) of every Argo Rollouts AnalysisTemplate in `deploy/base`: the canary's
/// Prometheus queries.
pub fn analysis_templates() -> Vec<(String, Json)> {
    use serde::Deserialize;
    let base = repo().join("deploy/base");
    let mut found = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&base)
        .expect("deploy/base")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for path in files {
        let text = read(&path);
        for doc in serde_norway::Deserializer::from_str(&text) {
            let object = Json::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if object.get("kind").and_then(Json::as_str) == Some("AnalysisTemplate") {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                found.push((name, object));
            }
        }
    }
    found
}

/// The anchors GitHub gives the headings of a Markdown file (`## Finding a slow job` ->
/// `finding-a-slow-job`).
pub fn anchors(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut anchors = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let Some(heading) = line.strip_prefix('#').filter(|_| !in_code) else { continue };
        let text = heading.trim_start_matches('#').trim();
        let slug: String = text
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        anchors.push(slug);
    }
    anchors
}
