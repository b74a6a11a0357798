//! Log lines as a log agent ships them: every line every service wrote is one JSON object
//! with timestamp, level, service, target and message; a line inside a span carries the
//! trace and span ids, and inside a job's chunk span the trace id is the job's.

use serde_json::Value;
use tanksim_e2e::collector::Collector;
use tanksim_e2e::{logs, scenario};

use crate::LIMIT;
use crate::telemetry::{self, SPAN_LIMIT};

const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_are_json_and_carry_the_job_trace_inside_chunks() {
    scenario("log_lines_are_json_and_carry_the_job_trace_inside_chunks", LIMIT, async {
        // The collector only tells the job's trace id independently of the logs.
        let collector = Collector::start().await;
        let mut cluster = telemetry::start(Some(&collector), false, 2).await;
        let job = telemetry::run_job(&cluster).await;
        telemetry::stop(&mut cluster).await; // every process has written its last line
        let trace_id = collector.trace_id_of("submit_job", "job.id", &job.id, SPAN_LIMIT).await;

        let mut failures = Vec::new();
        let mut in_chunks = 0;
        let mut escapes = Vec::new();
        for process in cluster.processes() {
            let lines = logs::read(&process.log).unwrap_or_else(|e| panic!("{}: {e}", process.log.display()));
            assert!(!lines.is_empty(), "{} wrote no log line", process.name);
            for line in lines {
                let at = format!("{} line {}: {}", process.name, line.number, line.text);
                if line.text.contains('\u{1b}') || line.text.contains("\\u001b") {
                    escapes.push(at.clone());
                }
                let object = match &line.json {
                    Ok(object) => object,
                    Err(e) => {
                        failures.push(format!("{at}: {e}"));
                        continue;
                    }
                };
                let text = |key: &str| object.get(key).and_then(Value::as_str);
                if !text("timestamp").is_some_and(|t| t.contains('T') && t.ends_with('Z')) {
                    failures.push(format!("{at}: no RFC 3339 UTC timestamp"));
                }
                if !text("level").is_some_and(|l| LEVELS.contains(&l)) {
                    failures.push(format!("{at}: no level"));
                }
                if text("service") != Some(process.service) {
                    failures.push(format!("{at}: service is not {}", process.service));
                }
                if text("target").is_none_or(str::is_empty) {
                    failures.push(format!("{at}: no target"));
                }
                if text("message").is_none() {
                    failures.push(format!("{at}: no message"));
                }
                // Inside a span: both ids (every span is sampled).
                let ids = (text("trace_id"), text("span_id"));
                let in_span = object.contains_key("span") || object.contains_key("trace_id");
                if in_span && !matches!(ids, (Some(t), Some(s)) if is_hex(t, 32) && is_hex(s, 16)) {
                    failures.push(format!("{at}: inside a span without a trace_id and span_id"));
                }
                let in_chunk = text("span") == Some("chunk")
                    || object
                        .get("spans")
                        .and_then(Value::as_object)
                        .is_some_and(|s| s.contains_key("chunk"));
                if in_chunk {
                    in_chunks += 1;
                    if ids.0 != Some(trace_id.as_str()) {
                        failures
                            .push(format!("{at}: inside a chunk span, trace_id is not the job's {trace_id}"));
                    }
                }
            }
        }
        let shown: Vec<&str> = failures.iter().take(30).map(String::as_str).collect();
        assert!(
            failures.is_empty(),
            "{} log lines not as documented, the first ones:\n  {}",
            failures.len(),
            shown.join("\n  ")
        );
        assert!(in_chunks > 0, "no worker logged a line inside a chunk span");
        // CONTRACT CHECK: plain text for Loki, `"spans":{"chunk":"job.id=… chunk.index=3 …"}` as
        // docs/observability.md shows; terminal colour codes (ESC [3m ...) break LogQL filters
        // on the span fields.
        assert!(
            escapes.is_empty(),
            "CONTRACT GAP: {} log lines contain ANSI escape codes, e.g.\n  {}",
            escapes.len(),
            escapes.iter().take(3).map(String::as_str).collect::<Vec<_>>().join("\n  ")
        );
    })
    .await;
}
