//! What the simulated controllers saw and decided, poll by poll, next to what the stream
//! really held and what the test did: the record the assertions read, printed as a table
//! (always, and so also when a test fails).

use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::model::{HpaStep, KedaAction};
use super::scaler::Read;

/// Which controller acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Keda { action: KedaAction, active: bool },
    Hpa(HpaStep),
}

/// One poll of KEDA's scale loop or one HPA reconciliation.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Since the start of the run (real time).
    pub(crate) at: Duration,
    /// Each trigger's value as KEDA read it.
    pub(crate) reads: Vec<Read>,
    /// What the stream really held then (the project's own queue stats): entries not yet
    /// delivered, and delivered but not acknowledged.
    pub(crate) queued: u64,
    pub(crate) pending: u64,
    pub(crate) decision: Decision,
    /// `spec.replicas` before and after.
    pub(crate) before: i32,
    pub(crate) replicas: i32,
    /// Worker processes (pods) running when the decision was taken.
    pub(crate) pods: i32,
}

impl Row {
    pub(crate) fn is_keda(&self) -> bool {
        matches!(self.decision, Decision::Keda { .. })
    }

    /// The value trigger `i` read (`None`: it errored).
    pub(crate) fn value(&self, i: usize) -> Option<i64> {
        self.reads.get(i).and_then(|r| r.reading.as_ref().ok().copied())
    }
}

/// The rows and the test's own events, shared by the controllers and the test body.
#[derive(Debug)]
pub(crate) struct Timeline {
    /// Real time is this many times faster than the cluster time the ScaledObject speaks of.
    factor: u32,
    inner: Mutex<Record>,
}

#[derive(Debug, Default)]
struct Record {
    rows: Vec<Row>,
    /// What the test did, and when.
    events: Vec<(Duration, String)>,
}

impl Timeline {
    pub(crate) fn new(factor: u32) -> Timeline {
        Timeline { factor, inner: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(&self, row: Row) {
        self.lock().rows.push(row);
    }

    /// Notes something the test did (shown between the rows).
    pub(crate) fn event(&self, at: Duration, what: impl Into<String>) {
        self.lock().events.push((at, what.into()));
    }

    pub(crate) fn rows(&self) -> Vec<Row> {
        self.lock().rows.clone()
    }

    /// The latest `spec.replicas`.
    pub(crate) fn replicas(&self) -> i32 {
        self.lock().rows.last().map_or(0, |r| r.replicas)
    }

    /// The table: real seconds, the cluster seconds they stand for, then each row.
    pub(crate) fn render(&self, trigger_names: &[String]) -> String {
        let record = self.lock();
        let (rows, events) = (&record.rows, &record.events);
        let mut out = format!(
            "{:>7} {:>7}  {:<4} {:>16}  {:>6} {:>7}  {:>4} {:>8}  {}\n",
            "t (s)",
            "x1 (s)",
            "who",
            trigger_names.join("/"),
            "queued",
            "pending",
            "pods",
            "replicas",
            "decision"
        );
        let mut events = events.iter().peekable();
        for row in rows {
            while let Some((at, what)) = events.next_if(|(at, _)| *at <= row.at) {
                let _ =
                    writeln!(out, "{:>7.2} {:>7.1}  ---- {what}", at.as_secs_f64(), self.cluster_secs(*at));
            }
            let values: Vec<String> = row.reads.iter().map(show).collect();
            let (who, decision) = match &row.decision {
                Decision::Keda { action, active } => ("KEDA", format!("{action:?} (active: {active})")),
                Decision::Hpa(step) => {
                    let proposals: Vec<String> = step
                        .proposals
                        .iter()
                        .map(|p| p.map_or("err".to_owned(), |p| p.to_string()))
                        .collect();
                    let desired = step.desired.map_or("-".to_owned(), |d| d.to_string());
                    ("HPA", format!("metrics ask [{}] → {desired}; {}", proposals.join(", "), step.reason))
                }
            };
            let _ = writeln!(
                out,
                "{:>7.2} {:>7.1}  {who:<4} {:>16}  {:>6} {:>7}  {:>4} {:>3} → {:<2}  {decision}",
                row.at.as_secs_f64(),
                self.cluster_secs(row.at),
                values.join("/"),
                row.queued,
                row.pending,
                row.pods,
                row.before,
                row.replicas,
            );
        }
        for (at, what) in events {
            let _ = writeln!(out, "{:>7.2} {:>7.1}  ---- {what}", at.as_secs_f64(), self.cluster_secs(*at));
        }
        out
    }

    fn cluster_secs(&self, at: Duration) -> f64 {
        at.as_secs_f64() * f64::from(self.factor)
    }
}

fn show(read: &Read) -> String {
    match (&read.reading, read.null_lag) {
        (Ok(_), true) => "null".to_owned(),
        (Ok(v), false) => v.to_string(),
        (Err(_), _) => "err".to_owned(),
    }
}
