//! A PromQL checker that knows what tanksim exports: it parses an expression and follows the
//! labels of its series through selectors, functions, aggregations and binary operators, so
//! that a misspelled metric, label, label value or `by (...)` label fails, as does a binary
//! operation whose sides can never match.
//!
//! Series come from [`names::CATALOG`] (with the `service` label every tanksim series carries
//! and the target labels Prometheus adds), from `up` (made by Prometheus itself), or from the
//! recording rules registered with [`Checker::record`].

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr, LabelModifier, VectorMatchCardinality, VectorSelector};
use tanksim_telemetry::grpc::{GrpcType, code_name};
use tanksim_telemetry::metrics::names::{self, Kind};

/// Label names of a series set.
pub(crate) type LabelSet = BTreeSet<String>;

/// Labels Prometheus adds to every series of a PodMonitor target.
pub(crate) const TARGET_LABELS: &[&str] =
    &["job", "instance", "namespace", "pod", "container", "endpoint", "rollout_hash"];

/// Series Prometheus makes itself (labelled with the target labels only).
pub(crate) const PROMETHEUS_SERIES: &[&str] = &["up"];

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Scalar,
    String(String),
    /// An instant or range vector whose series carry these labels.
    Series(LabelSet),
    /// A vector of an unknown metric (already reported; nothing more to check on it).
    Unknown,
}

impl Value {
    /// The labels of a series value (`None` for scalars, strings and unknown series).
    pub(crate) fn labels(&self) -> Option<&LabelSet> {
        match self {
            Value::Series(labels) => Some(labels),
            _ => None,
        }
    }
}

/// Marks the values a Grafana variable was replaced by (see `grafana::substitute`): their
/// real values are only known at query time.
pub(crate) const VARIABLE_MARK: &str = "__grafana_var_";

/// Checks expressions against the catalog and the recording rules registered so far.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    recorded: BTreeMap<String, LabelSet>,
}

impl Checker {
    /// Makes the series of recording rule `name` known, with `labels`.
    pub(crate) fn record(&mut self, name: &str, labels: LabelSet) {
        self.recorded.insert(name.to_owned(), labels);
    }

    /// Parses `expr` and checks its metrics and labels: what it evaluates to, or every problem.
    pub(crate) fn check(&self, expr: &str) -> Result<Value, Vec<String>> {
        let ast = parser::parse(expr).map_err(|e| vec![format!("does not parse: {e}")])?;
        let mut analysis = Analysis { checker: self, errors: Vec::new() };
        let value = analysis.eval(&ast);
        if analysis.errors.is_empty() { Ok(value) } else { Err(analysis.errors) }
    }

    /// The labels of the series called `name`, or why there are none.
    fn series_labels(&self, name: &str) -> Result<LabelSet, String> {
        if let Some(metric) = names::lookup(name) {
            if metric.kind == Kind::Histogram && metric.name == name {
                return Err(format!("{name} is a histogram: query {name}_bucket, _sum or _count"));
            }
            let mut labels = set(metric.labels.iter().copied());
            labels.insert(names::LABEL_SERVICE.to_owned());
            labels.extend(TARGET_LABELS.iter().map(|l| (*l).to_owned()));
            if name.ends_with("_bucket") {
                labels.insert("le".to_owned());
            }
            return Ok(labels);
        }
        if PROMETHEUS_SERIES.contains(&name) {
            return Ok(set(TARGET_LABELS.iter().copied()));
        }
        self.recorded.get(name).cloned().ok_or_else(|| {
            format!("unknown metric {name}: not in tanksim_telemetry::metrics::names::CATALOG, not a recording rule")
        })
    }
}

/// The values a label can take, where the catalog fixes them.
fn known_values(label: &str) -> Option<Vec<&'static str>> {
    use names::reason;
    Some(match label {
        "service" => {
            vec!["tanksim-gateway", "tanksim-dispatcher", "tanksim-results", "tanksim-worker", "tanksim"]
        }
        "kind" => vec!["monte_carlo", "sweep", "dataset", "single"],
        "state" => vec!["succeeded", "failed", "cancelled"],
        "outcome" => vec!["succeeded", "failed", "handed_back", "skipped"],
        "reason" => vec![
            reason::INVALID_ARGUMENT,
            reason::UNAVAILABLE,
            reason::RESOURCE_EXHAUSTED,
            reason::INTERNAL,
            reason::CHUNK_FAILED,
            reason::DEAD_LETTERED,
        ],
        "limit" => names::limit::ALL.to_vec(),
        "grpc_code" => (0..=16).map(code_name).collect(),
        "grpc_type" => {
            [GrpcType::Unary, GrpcType::ServerStream, GrpcType::ClientStream, GrpcType::BidiStream]
                .map(GrpcType::as_str)
                .to_vec()
        }
        _ => return None,
    })
}

fn set<'a>(labels: impl IntoIterator<Item = &'a str>) -> LabelSet {
    labels.into_iter().map(str::to_owned).collect()
}

/// One expression's walk, collecting errors.
struct Analysis<'a> {
    checker: &'a Checker,
    errors: Vec<String>,
}

impl Analysis<'_> {
    fn eval(&mut self, expr: &Expr) -> Value {
        match expr {
            Expr::NumberLiteral(_) => Value::Scalar,
            Expr::StringLiteral(s) => Value::String(s.val.clone()),
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::Unary(u) => self.eval(&u.expr),
            Expr::Subquery(s) => self.eval(&s.expr),
            Expr::VectorSelector(vs) => self.selector(vs),
            Expr::MatrixSelector(ms) => self.selector(&ms.vs),
            Expr::Aggregate(agg) => self.aggregate(agg),
            Expr::Binary(bin) => self.binary(bin),
            Expr::Call(call) => self.call(call),
            Expr::Extension(_) => {
                self.errors.push("an extension expression (not produced by the parser)".into());
                Value::Unknown
            }
        }
    }

    fn selector(&mut self, vs: &VectorSelector) -> Value {
        let matchers: Vec<&Matcher> =
            vs.matchers.matchers.iter().chain(vs.matchers.or_matchers.iter().flatten()).collect();
        let name = vs.name.clone().or_else(|| {
            matchers.iter().find(|m| m.name == "__name__" && m.op == MatchOp::Equal).map(|m| m.value.clone())
        });
        let Some(name) = name else {
            self.errors.push(format!("a selector without a metric name: {vs}"));
            return Value::Unknown;
        };
        let labels = match self.checker.series_labels(&name) {
            Ok(labels) => labels,
            Err(e) => {
                self.errors.push(e);
                return Value::Unknown;
            }
        };
        for m in matchers.iter().filter(|m| m.name != "__name__") {
            if !labels.contains(&m.name) {
                self.errors.push(format!("{name} has no label {} (its labels: {})", m.name, join(&labels)));
            } else {
                self.check_value(&name, m);
            }
        }
        Value::Series(labels)
    }

    /// A matcher's value must be one the label can take (alternations of plain words are
    /// checked word by word; other regular expressions and Grafana variables are not).
    fn check_value(&mut self, metric: &str, m: &Matcher) {
        let Some(known) = known_values(&m.name) else { return };
        if m.value.contains(VARIABLE_MARK) {
            return;
        }
        let words: Vec<&str> = match &m.op {
            MatchOp::Equal | MatchOp::NotEqual => vec![m.value.as_str()],
            MatchOp::Re(_) | MatchOp::NotRe(_) => {
                let plain = |w: &str| {
                    !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
                };
                let words: Vec<&str> = m.value.split('|').collect();
                if !words.iter().all(|w| plain(w)) {
                    return;
                }
                words
            }
        };
        for w in words.into_iter().filter(|w| !w.is_empty() && !known.contains(w)) {
            self.errors.push(format!(
                "{metric}{{{}}}: {w:?} is not a value of {} (one of: {})",
                m.name,
                m.name,
                known.join(", ")
            ));
        }
    }

    fn aggregate(&mut self, agg: &parser::AggregateExpr) -> Value {
        let op = agg.op.to_string();
        let param = agg.param.as_deref().map(|p| self.eval(p));
        let inner = match self.eval(&agg.expr) {
            Value::Series(labels) => labels,
            Value::Unknown => return Value::Unknown,
            other => {
                self.errors.push(format!("{op} over a {other:?}"));
                return Value::Unknown;
            }
        };
        let grouping = agg.modifier.as_ref().map(|m| (m, m.labels().labels.iter().map(String::as_str)));
        if let Some((_, labels)) = &grouping {
            for l in labels.clone().filter(|l| !inner.contains(*l)) {
                self.errors.push(format!(
                    "{op} by/without ({l}): the aggregated series have no label {l} (they have: {})",
                    join(&inner)
                ));
            }
        }
        // topk and friends select series: they keep every label.
        if matches!(op.as_str(), "topk" | "bottomk" | "limitk" | "limit_ratio") {
            return Value::Series(inner);
        }
        let mut out = match grouping {
            None => LabelSet::new(),
            Some((LabelModifier::Include(_), labels)) => set(labels),
            Some((LabelModifier::Exclude(_), labels)) => {
                let dropped = set(labels);
                inner.difference(&dropped).cloned().collect()
            }
        };
        if op == "count_values" {
            match param {
                Some(Value::String(label)) => {
                    out.insert(label);
                }
                _ => self.errors.push("count_values without a label name".into()),
            }
        }
        Value::Series(out)
    }

    fn binary(&mut self, bin: &parser::BinaryExpr) -> Value {
        let op = bin.op.to_string();
        let (lhs, rhs) = (self.eval(&bin.lhs), self.eval(&bin.rhs));
        let (l, r) = match (&lhs, &rhs) {
            (Value::Unknown, _) | (_, Value::Unknown) => return Value::Unknown,
            (Value::Scalar, Value::Scalar) => return Value::Scalar,
            (Value::Scalar, series) | (series, Value::Scalar) => return series.clone(),
            (Value::Series(l), Value::Series(r)) => (l, r),
            _ => {
                self.errors.push(format!("{op} between {lhs:?} and {rhs:?}"));
                return Value::Unknown;
            }
        };
        let modifier = bin.modifier.as_ref();
        let set_op = bin.op.is_set_operator();
        let union = || l.union(r).cloned().collect::<LabelSet>();
        match modifier.and_then(|m| m.matching.as_ref()) {
            Some(LabelModifier::Include(on)) => {
                for label in &on.labels {
                    for (side, labels) in [("left", l), ("right", r)] {
                        if !labels.contains(label) {
                            self.errors.push(format!(
                                "{op} on ({label}): the {side} side has no label {label} (it has: {})",
                                join(labels)
                            ));
                        }
                    }
                }
            }
            Some(LabelModifier::Exclude(ignoring)) => {
                let all = union();
                for label in ignoring.labels.iter().filter(|label| !all.contains(*label)) {
                    self.errors.push(format!("{op} ignoring ({label}): neither side has label {label}"));
                }
                if op != "or" {
                    let ignored = set(ignoring.labels.iter().map(String::as_str));
                    self.same_labels(&op, &(l - &ignored), &(r - &ignored));
                }
            }
            None if op != "or" => self.same_labels(&op, l, r),
            None => {}
        }
        let card = modifier.map(|m| &m.card);
        let out = match card {
            _ if op == "or" => union(),
            _ if set_op => l.clone(),
            Some(VectorMatchCardinality::ManyToOne(extra)) => {
                self.include(&op, "group_left", l, r, &extra.labels)
            }
            Some(VectorMatchCardinality::OneToMany(extra)) => {
                self.include(&op, "group_right", r, l, &extra.labels)
            }
            _ => l.clone(),
        };
        Value::Series(out)
    }

    /// Vector matching without `on`: both sides must carry the same label names, or no
    /// series ever matches.
    fn same_labels(&mut self, op: &str, l: &LabelSet, r: &LabelSet) {
        if l != r {
            self.errors.push(format!(
                "{op}: the sides can never match: only left has [{}], only right has [{}] (use on/ignoring or aggregate)",
                join(&(l - r)),
                join(&(r - l))
            ));
        }
    }

    /// The labels of a many-to-one match: the many side's plus those copied from the one side.
    fn include(
        &mut self,
        op: &str,
        how: &str,
        many: &LabelSet,
        one: &LabelSet,
        extra: &[String],
    ) -> LabelSet {
        let mut out = many.clone();
        for label in extra {
            if !one.contains(label) {
                self.errors.push(format!("{op} {how} ({label}): the other side has no label {label}"));
            }
            out.insert(label.clone());
        }
        out
    }

    fn call(&mut self, call: &parser::Call) -> Value {
        let name = call.func.name;
        let args: Vec<Value> = call.args.args.iter().map(|a| self.eval(a)).collect();
        if args.contains(&Value::Unknown) {
            return Value::Unknown;
        }
        let series = || args.iter().find_map(Value::labels).cloned().unwrap_or_default();
        let string = |i: usize| match args.get(i) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        match name {
            "time" | "pi" | "scalar" => Value::Scalar,
            "vector" => Value::Series(LabelSet::new()),
            "absent" | "absent_over_time" => {
                // The labels come from the selector's equality matchers.
                let labels = match call.args.args.first().map(|a| a.as_ref()) {
                    Some(Expr::VectorSelector(vs)) => equality_labels(vs),
                    Some(Expr::MatrixSelector(ms)) => equality_labels(&ms.vs),
                    _ => LabelSet::new(),
                };
                Value::Series(labels)
            }
            "histogram_quantile" | "histogram_fraction" => {
                let mut labels = series();
                if !labels.remove("le") {
                    self.errors.push(format!("{name} over series without le (aggregate by (le, ...))"));
                }
                Value::Series(labels)
            }
            "label_replace" | "label_join" => {
                let mut labels = series();
                let sources: Vec<String> = if name == "label_replace" {
                    vec![string(3)]
                } else {
                    (3..args.len()).map(string).collect()
                };
                for src in sources.iter().filter(|s| !s.is_empty() && !labels.contains(*s)) {
                    self.errors.push(format!("{name}: the series have no label {src}"));
                }
                labels.insert(string(1));
                Value::Series(labels)
            }
            "rate" | "irate" | "increase" | "delta" | "idelta" | "deriv" | "predict_linear" | "resets"
            | "changes" | "abs" | "ceil" | "floor" | "round" | "exp" | "ln" | "log2" | "log10" | "sqrt"
            | "sgn" | "clamp" | "clamp_min" | "clamp_max" | "avg_over_time" | "min_over_time"
            | "max_over_time" | "sum_over_time" | "count_over_time" | "quantile_over_time"
            | "stddev_over_time" | "stdvar_over_time" | "last_over_time" | "present_over_time"
            | "timestamp" | "sort" | "sort_desc" => Value::Series(series()),
            other => {
                self.errors.push(format!("the checker does not know function {other}: teach it its labels"));
                Value::Unknown
            }
        }
    }
}

fn equality_labels(vs: &VectorSelector) -> LabelSet {
    vs.matchers
        .matchers
        .iter()
        .filter(|m| m.op == MatchOp::Equal && m.name != "__name__")
        .map(|m| m.name.clone())
        .collect()
}

fn join(labels: &LabelSet) -> String {
    labels.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}
