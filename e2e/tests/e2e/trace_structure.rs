//! One trace per job across the separate processes, as `docs/observability.md` documents it:
//! the services export over OTLP/gRPC to a collector inside the test, and the spans of
//! gateway, dispatcher, workers and results arrive in one trace with the documented parents
//! and attributes; watching the job is its own trace, linked to the job's.

use std::collections::BTreeSet;

use tanksim_e2e::collector::{AttrValue, Collector, Span, SpanKind, Trace};
use tanksim_e2e::{api, scenario};
use tanksim_proto::v1::Job;

use crate::LIMIT;
use crate::telemetry::{self, CHUNKS, DISPATCHER, GATEWAY, RESULTS, RUNS, SERVICES, SPAN_LIMIT, WORKER};

const SUBMIT_JOB: &str = "tanksim.v1.JobService/SubmitJob";
const WATCH_JOB: &str = "tanksim.v1.JobService/WatchJob";
const DISPATCH_JOB: &str = "tanksim.internal.v1.DispatcherService/DispatchJob";
const REPORT_CHUNK: &str = "tanksim.internal.v1.ResultsService/ReportChunk";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_one_trace_across_every_service() {
    scenario("a_job_is_one_trace_across_every_service", LIMIT, async {
        let collector = Collector::start().await;
        let mut cluster = telemetry::start(Some(&collector), false, 2).await;
        let job = telemetry::run_job(&cluster).await;
        let watched = api::watch(cluster.gateway_client(), job.id.clone()).await;
        telemetry::stop(&mut cluster).await;

        let trace_id = collector.trace_id_of("submit_job", "job.id", &job.id, SPAN_LIMIT).await;
        let trace = collector.wait_trace(&trace_id, &SERVICES, SPAN_LIMIT, |_| true).await;
        let dispatch = submit_path(&trace, &job);
        let enqueues = enqueues(&trace, &job, dispatch);
        chunks(&trace, &job, &enqueues);
        reports(&trace, &job);
        grpc_attributes(&trace);
        watch(&collector, &job, &trace_id, dispatch, watched.len()).await;
        numbers_are_integers(&trace);
    })
    .await;
}

fn int(n: u64) -> Option<i64> {
    i64::try_from(n).ok()
}

#[track_caller]
fn assert_parent(trace: &Trace, child: &Span, parent: &Span) {
    assert_eq!(
        child.parent_span_id.as_deref(),
        Some(parent.span_id.as_str()),
        "parent of\n  {}\nshould be\n  {}\nbut is\n  {}\ntrace:\n{}",
        child.describe(),
        parent.describe(),
        trace.parent(child).map_or_else(|| "(none received)".to_owned(), Span::describe),
        trace.describe()
    );
}

/// grpc.server SubmitJob -> submit_job -> grpc.client DispatchJob -> grpc.server DispatchJob
/// -> dispatch_job, with their attributes; returns dispatch_job (the job context).
fn submit_path<'t>(trace: &'t Trace, job: &Job) -> &'t Span {
    let server = trace.one(GATEWAY, SUBMIT_JOB, Some(SpanKind::Server));
    assert_eq!(server.parent_span_id, None, "the test sent no context: SubmitJob starts the trace");
    let submit = trace.one(GATEWAY, "submit_job", None);
    assert_parent(trace, submit, server);
    assert_eq!(submit.str_attr("job.id"), Some(job.id.as_str()), "{}", submit.describe());
    assert_eq!(submit.str_attr("job.kind"), Some("monte_carlo"), "{}", submit.describe());
    assert_eq!(submit.num_attr("job.runs"), int(RUNS), "{}", submit.describe());

    let client = trace.one(GATEWAY, DISPATCH_JOB, Some(SpanKind::Client));
    assert_parent(trace, client, submit);
    let dispatcher = trace.one(DISPATCHER, DISPATCH_JOB, Some(SpanKind::Server));
    assert_parent(trace, dispatcher, client);
    let dispatch = trace.one(DISPATCHER, "dispatch_job", None);
    assert_parent(trace, dispatch, dispatcher);
    assert_eq!(dispatch.str_attr("job.id"), Some(job.id.as_str()), "{}", dispatch.describe());
    assert_eq!(dispatch.str_attr("job.kind"), Some("monte_carlo"), "{}", dispatch.describe());
    assert_eq!(dispatch.num_attr("job.runs"), int(RUNS), "{}", dispatch.describe());
    assert_eq!(dispatch.num_attr("job.chunks"), int(CHUNKS), "{}", dispatch.describe());
    dispatch
}

/// The enqueue spans: children of the job context, their `[chunk.first, chunk.end)` ranges
/// covering every chunk once. Returns `(span, first, end)`.
fn enqueues<'t>(trace: &'t Trace, job: &Job, dispatch: &Span) -> Vec<(&'t Span, i64, i64)> {
    let spans = trace.find(DISPATCHER, "enqueue", None);
    assert!(!spans.is_empty(), "no enqueue span in the job's trace:\n{}", trace.describe());
    let mut covered = Vec::new();
    let mut out = Vec::new();
    for span in spans {
        assert_parent(trace, span, dispatch);
        assert_eq!(span.str_attr("job.id"), Some(job.id.as_str()), "{}", span.describe());
        assert_eq!(span.num_attr("job.chunks"), int(CHUNKS), "{}", span.describe());
        let (Some(first), Some(end)) = (span.num_attr("chunk.first"), span.num_attr("chunk.end")) else {
            panic!("enqueue without numeric chunk.first / chunk.end: {}", span.describe());
        };
        assert!(first < end, "{}", span.describe());
        covered.extend(first..end);
        out.push((span, first, end));
    }
    covered.sort_unstable();
    assert_eq!(
        covered,
        (0..int(CHUNKS).unwrap_or(0)).collect::<Vec<_>>(),
        "enqueue ranges cover each chunk once"
    );
    out
}

/// One chunk span per chunk index (first delivery), a child of the enqueue span whose range
/// holds its index, with a `simulate` child.
fn chunks(trace: &Trace, job: &Job, enqueues: &[(&Span, i64, i64)]) {
    let spans = trace.find(WORKER, "chunk", None);
    let mut runs = 0;
    for index in 0..int(CHUNKS).unwrap_or(0) {
        let of_index: Vec<&&Span> =
            spans.iter().filter(|s| s.num_attr("chunk.index") == Some(index)).collect();
        let [span] = of_index.as_slice() else {
            panic!(
                "expected one chunk span with chunk.index = {index}, found {}:\n{}",
                of_index.len(),
                trace.describe()
            );
        };
        let parent = enqueues.iter().find(|(e, _, _)| span.parent_span_id.as_deref() == Some(&e.span_id));
        let Some((_, first, end)) = parent else {
            panic!("the parent of {} is no enqueue span:\n{}", span.describe(), trace.describe());
        };
        assert!((*first..*end).contains(&index), "chunk {index} under the enqueue of {first}..{end}");
        assert_eq!(span.str_attr("job.id"), Some(job.id.as_str()), "{}", span.describe());
        assert_eq!(span.str_attr("job.kind"), Some("monte_carlo"), "{}", span.describe());
        assert_eq!(span.num_attr("chunk.delivery_attempt"), Some(1), "{}", span.describe());
        let chunk_runs = span.num_attr("chunk.runs");
        assert!(chunk_runs.is_some_and(|r| r > 0), "chunk.runs: {}", span.describe());
        runs += chunk_runs.unwrap_or(0);
        let simulate = trace.children(span).into_iter().find(|c| c.name == "simulate");
        let simulate = simulate.unwrap_or_else(|| panic!("no simulate span under {}", span.describe()));
        assert_eq!(simulate.num_attr("runs"), chunk_runs, "{}", simulate.describe());
        assert!(simulate.num_attr("threads").is_some_and(|t| t > 0), "{}", simulate.describe());
    }
    assert_eq!(spans.len(), usize::try_from(CHUNKS).unwrap_or(0), "one chunk span per chunk (no redelivery)");
    assert_eq!(Some(runs), int(RUNS), "chunk.runs add up to the job's runs");
}

/// ReportChunk: worker client span -> results server span -> report_chunk, each under a
/// chunk span, one per chunk.
fn reports(trace: &Trace, job: &Job) {
    let servers = trace.find(RESULTS, REPORT_CHUNK, Some(SpanKind::Server));
    assert_eq!(
        servers.len(),
        usize::try_from(CHUNKS).unwrap_or(0),
        "ReportChunk server spans:\n{}",
        trace.describe()
    );
    let mut indices = BTreeSet::new();
    for server in servers {
        let client = trace.parent(server).unwrap_or_else(|| panic!("no parent of {}", server.describe()));
        assert_eq!(
            (client.service.as_str(), client.name.as_str(), client.kind),
            (WORKER, REPORT_CHUNK, SpanKind::Client)
        );
        let chunk = trace.ancestor_where(server, |a| a.name == "chunk" && a.service == WORKER);
        let chunk = chunk.unwrap_or_else(|| panic!("no chunk span above {}", server.describe()));
        let report = trace.children(server).into_iter().find(|c| c.name == "report_chunk");
        let report = report.unwrap_or_else(|| panic!("no report_chunk span under {}", server.describe()));
        assert_eq!(report.service, RESULTS);
        assert_eq!(report.str_attr("job.id"), Some(job.id.as_str()), "{}", report.describe());
        assert_eq!(report.num_attr("chunk.index"), chunk.num_attr("chunk.index"), "{}", report.describe());
        assert!(report.attr("chunk.recorded").is_some(), "chunk.recorded: {}", report.describe());
        assert!(report.attr("job.state").is_some(), "job.state: {}", report.describe());
        indices.extend(report.num_attr("chunk.index"));
    }
    assert_eq!(indices.len(), usize::try_from(CHUNKS).unwrap_or(0), "a report per chunk: {indices:?}");
}

/// Every gRPC span (named `service/Method`) carries the RPC attributes and status OK.
fn grpc_attributes(trace: &Trace) {
    let grpc: Vec<&Span> =
        trace.spans.iter().filter(|s| matches!(s.kind, SpanKind::Server | SpanKind::Client)).collect();
    // SubmitJob, DispatchJob (client and server), ReportChunk (client and server) per chunk.
    let expected = 3 + 2 * usize::try_from(CHUNKS).unwrap_or(0);
    assert_eq!(grpc.len(), expected, "gRPC spans in the job's trace:\n{}", trace.describe());
    for span in grpc {
        let (service, method) = span.name.rsplit_once('/').unwrap_or_else(|| panic!("{}", span.describe()));
        assert_eq!(span.str_attr("rpc.system"), Some("grpc"), "{}", span.describe());
        assert_eq!(span.str_attr("rpc.service"), Some(service), "{}", span.describe());
        assert_eq!(span.str_attr("rpc.method"), Some(method), "{}", span.describe());
        assert_eq!(span.attr("rpc.grpc.status_code"), Some(&AttrValue::Int(0)), "{}", span.describe());
        assert_ne!(span.status_code, 2, "an OK call is no error: {}", span.describe());
    }
}

/// The watch_job span is in the watcher's own trace, under the results WatchJob server span,
/// linked to the job context (dispatch_job), with an event per message sent.
async fn watch(collector: &Collector, job: &Job, job_trace: &str, dispatch: &Span, messages: usize) {
    let watch_trace = collector.trace_id_of("watch_job", "job.id", &job.id, SPAN_LIMIT).await;
    assert_ne!(watch_trace, job_trace, "watching is the watcher's trace, not the job's");
    let trace = collector.trace(&watch_trace);
    let span = trace.one(RESULTS, "watch_job", None);
    let server = trace.one(RESULTS, WATCH_JOB, Some(SpanKind::Server));
    assert_parent(&trace, span, server);
    assert!(
        span.links.iter().any(|l| l.trace_id == job_trace && l.span_id == dispatch.span_id),
        "watch_job should link to the job context ({job_trace} / {}): links {:?}",
        dispatch.span_id,
        span.links
    );
    // The job had ended: one message, the final status.
    assert!(messages >= 1, "WatchJob sent nothing");
    assert_eq!(span.events.len(), messages, "an event per progress message sent: {:?}", span.events);
}

/// The numeric attributes an operator compares (`{ span.chunk.delivery_attempt > 1 }` in
/// TraceQL, as docs/observability.md shows) are exported as integers, not decimal strings.
///
/// CONTRACT CHECK: `tracing-opentelemetry` exports an unsigned field (`u64`, `u32`, `usize`)
/// through its Debug form, i.e. as a string; only `i64` (and smaller signed) fields become
/// integer attributes. This fails while services record unsigned values.
fn numbers_are_integers(trace: &Trace) {
    const NUMERIC: [(&str, &[&str]); 6] = [
        ("submit_job", &["job.runs"]),
        ("dispatch_job", &["job.runs", "job.chunks"]),
        ("enqueue", &["job.chunks", "chunk.first", "chunk.end"]),
        ("chunk", &["chunk.index", "chunk.runs", "chunk.delivery_attempt"]),
        ("simulate", &["runs", "threads"]),
        ("report_chunk", &["chunk.index"]),
    ];
    let mut strings = std::collections::BTreeMap::new();
    for span in &trace.spans {
        for (name, keys) in NUMERIC.iter().filter(|(n, _)| *n == span.name) {
            for key in keys.iter().filter(|k| !matches!(span.attr(k), Some(AttrValue::Int(_)))) {
                strings
                    .entry(format!("{} {name}: {key}", span.service))
                    .or_insert_with(|| span.attr(key).cloned());
            }
        }
    }
    assert!(
        strings.is_empty(),
        "CONTRACT GAP: numeric span attributes exported as non-integers (TraceQL cannot compare them):\n  {}",
        strings.iter().map(|(k, v)| format!("{k} = {v:?}")).collect::<Vec<_>>().join("\n  ")
    );
}
