//! Grafana dashboards as the checks see them: every query with the data source it goes to,
//! the template variables, and Grafana's variable syntax replaced by values PromQL parses.

use std::collections::BTreeSet;

use serde_json::Value as Json;

/// The kind of data source a query goes to (a template variable's plugin type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Prometheus,
    Loki,
    Tempo,
}

/// One query of a panel or a template variable.
#[derive(Debug, Clone)]
pub struct Query {
    /// Where it is: `tanksim-overview.json: panel 12 "Runs simulated / s", target A`.
    pub origin: String,
    pub source: Source,
    /// PromQL or LogQL (`expr`), TraceQL (`query`), or a variable query (`label_values(..)`).
    pub text: String,
    /// The legend template (`{{kind}}`) of a Prometheus target.
    pub legend: Option<String>,
    /// A template variable's query rather than a panel's.
    pub variable: bool,
}

/// A dashboard's queries, and every problem found while collecting them (panels whose data
/// source is not a template variable, targets without a query, ...).
pub fn queries(file: &str, dashboard: &Json) -> (Vec<Query>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let variables = variables(dashboard);
    let source_of = |ds: &Json, at: &str, errors: &mut Vec<String>| -> Option<Source> {
        let uid = ds.get("uid").and_then(Json::as_str).unwrap_or_default();
        let declared = ds.get("type").and_then(Json::as_str).unwrap_or_default();
        let Some(name) = uid.strip_prefix("${").and_then(|u| u.strip_suffix('}')) else {
            errors.push(format!(
                "{at}: data source uid {uid:?} is not a template variable like ${{datasource}}"
            ));
            return None;
        };
        let Some(plugin) = variables.iter().find(|v| v.name == name && v.kind == "datasource") else {
            errors.push(format!("{at}: no data source variable {name}"));
            return None;
        };
        if plugin.query != declared {
            errors.push(format!("{at}: type {declared} but ${{{name}}} is a {} data source", plugin.query));
        }
        match plugin.query.as_str() {
            "prometheus" => Some(Source::Prometheus),
            "loki" => Some(Source::Loki),
            "tempo" => Some(Source::Tempo),
            other => {
                errors.push(format!("{at}: the checks do not know data sources of type {other}"));
                None
            }
        }
    };

    for panel in panels(dashboard) {
        let title = panel.get("title").and_then(Json::as_str).unwrap_or_default();
        let id = panel.get("id").map(Json::to_string).unwrap_or_default();
        let at = format!("{file}: panel {id} {title:?}");
        let targets = panel.get("targets").and_then(Json::as_array).cloned().unwrap_or_default();
        if panel.get("type").and_then(Json::as_str) == Some("row") {
            continue;
        }
        if targets.is_empty() {
            errors.push(format!("{at}: no queries"));
        }
        for target in &targets {
            let at = format!("{at}, target {}", target.get("refId").and_then(Json::as_str).unwrap_or("?"));
            let Some(ds) = target.get("datasource").or_else(|| panel.get("datasource")) else {
                errors.push(format!("{at}: no data source"));
                continue;
            };
            let Some(source) = source_of(ds, &at, &mut errors) else { continue };
            let field = if source == Source::Tempo { "query" } else { "expr" };
            let text = target.get(field).and_then(Json::as_str).unwrap_or_default();
            if text.trim().is_empty() {
                errors.push(format!("{at}: empty {field}"));
                continue;
            }
            let legend = target.get("legendFormat").and_then(Json::as_str).map(str::to_owned);
            out.push(Query { origin: at, source, text: text.to_owned(), legend, variable: false });
        }
    }
    for v in variables.iter().filter(|v| v.kind == "query") {
        let at = format!("{file}: variable {}", v.name);
        let Some(source) = v.datasource.as_ref().and_then(|ds| source_of(ds, &at, &mut errors)) else {
            continue;
        };
        out.push(Query { origin: at, source, text: v.query.clone(), legend: None, variable: true });
    }
    (out, errors)
}

/// A template variable.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    /// `datasource`, `query`, `custom`, `textbox`, ...
    pub kind: String,
    /// The plugin type of a `datasource` variable; the query of a `query` variable.
    pub query: String,
    pub datasource: Option<Json>,
    /// Whether "All" is an option, and what it stands for when set (`None`: every value).
    pub include_all: bool,
    pub all_value: Option<String>,
    /// The saved selection (`$__all` for "All"); empty when the dashboard saves none.
    pub current: Vec<String>,
}

pub fn variables(dashboard: &Json) -> Vec<Variable> {
    let list = dashboard.pointer("/templating/list").and_then(Json::as_array).cloned().unwrap_or_default();
    list.iter()
        .map(|v| {
            let text = |key: &str| v.get(key).and_then(Json::as_str).unwrap_or_default().to_owned();
            let query = match v.get("query") {
                Some(Json::Object(q)) => q.get("query").and_then(Json::as_str).unwrap_or_default().to_owned(),
                _ => text("query"),
            };
            let current = match v.pointer("/current/value") {
                Some(Json::Array(values)) => {
                    values.iter().filter_map(Json::as_str).map(str::to_owned).collect()
                }
                Some(Json::String(value)) => vec![value.clone()],
                _ => Vec::new(),
            };
            Variable {
                name: text("name"),
                kind: text("type"),
                query,
                datasource: v.get("datasource").cloned(),
                include_all: v.get("includeAll").and_then(Json::as_bool).unwrap_or(false),
                all_value: v.get("allValue").and_then(Json::as_str).map(str::to_owned),
                current,
            }
        })
        .collect()
}

/// Every panel, rows' nested panels included.
pub fn panels(dashboard: &Json) -> Vec<&Json> {
    fn walk<'a>(list: &'a [Json], out: &mut Vec<&'a Json>) {
        for p in list {
            out.push(p);
            if let Some(nested) = p.get("panels").and_then(Json::as_array) {
                walk(nested, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dashboard.get("panels").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default(), &mut out);
    out
}

/// Grafana's global variables and what a query sees instead of them on a dashboard showing an
/// hour with a 1 m interval (what the static checks substitute).
pub const HOUR_GLOBALS: &[(&str, &str)] = &[
    ("__rate_interval_ms", "240000"),
    ("__rate_interval", "4m"),
    ("__interval_ms", "60000"),
    ("__interval", "1m"),
    ("__range_ms", "3600000"),
    ("__range_s", "3600"),
    ("__range", "1h"),
];

/// `text` with Grafana's variables replaced: globals (`$__rate_interval`) by their value in
/// `globals`, the dashboard's own (`$service`, `${service}`, `${service:regex}`) by what
/// `value_of` gives for the name (the format after `:` is not applied). Also returns the
/// dashboard variables used.
pub fn substitute(
    text: &str,
    globals: &[(&str, &str)],
    value_of: impl Fn(&str) -> String,
) -> Result<(String, BTreeSet<String>), String> {
    if text.contains("[[") {
        return Err("the deprecated [[variable]] syntax".into());
    }
    let mut out = String::with_capacity(text.len());
    let mut used = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').ok_or("an unclosed ${")?;
            let inner = &braced[..end];
            (inner.split(':').next().unwrap_or_default(), end + 2)
        } else {
            let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..len], len)
        };
        if name.is_empty() {
            // A regular expression's `$` anchor, not a variable.
            out.push('$');
        } else if name.starts_with("__") {
            let value = globals
                .iter()
                .find(|(global, _)| *global == name)
                .map(|(_, value)| *value)
                .ok_or_else(|| format!("unknown Grafana global variable ${name}"))?;
            out.push_str(value);
        } else {
            out.push_str(&value_of(name));
            used.insert(name.to_owned());
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Ok((out, used))
}

/// The labels a legend template names: `{{service}} {{grpc_method}}` -> service, grpc_method.
pub fn legend_labels(legend: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let mut rest = legend;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else { break };
        labels.push(rest[start + 2..start + end].trim().to_owned());
        rest = &rest[start + end + 2..];
    }
    labels
}

/// A template variable's Prometheus query, as (PromQL, label it lists): `label_values(m{..}, l)`
/// gives the selector and `l`, `query_result(expr)` the expression.
pub fn variable_query(query: &str) -> Result<(String, Option<String>), String> {
    let query = query.trim();
    if let Some(args) = query.strip_prefix("label_values(").and_then(|q| q.strip_suffix(')')) {
        let (selector, label) = args
            .rsplit_once(',')
            .ok_or("label_values(label) without a metric: name the metric so the label can be checked")?;
        return Ok((selector.trim().to_owned(), Some(label.trim().to_owned())));
    }
    if let Some(expr) = query.strip_prefix("query_result(").and_then(|q| q.strip_suffix(')')) {
        return Ok((expr.to_owned(), None));
    }
    Err(format!("a variable query the checks do not know: {query}"))
}
