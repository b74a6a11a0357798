//! A hostile-input suite through the public API, table-driven: every case is a request (or raw
//! bytes) an attacker or a broken client could send, with the exact answer it must get.
//!
//! What it attacks:
//! - SubmitJob: NaN, infinities, huge and negative numbers in every numeric field of the
//!   configuration, of Monte Carlo distributions, of sweep axes and of datasets; step counts,
//!   grids and run counts past every limit; memory and disk bombs through recording and dataset
//!   rows; violation bombs (hundreds of thousands of bad entries in one request); unknown
//!   parameter paths, 10,000-character paths, names of 200 / 201 bytes and names with NUL and
//!   bidi characters; unknown enum values; a message over the size limit; and hand-built
//!   protobuf bodies that do not decode (wire-type mismatches, truncated varints, lengths past
//!   the end, invalid UTF-8, nested-group stack bombs).
//! - The calls that take a job id (GetJob, WatchJob, CancelJob, GetJobResults, ExportRuns)
//!   with ids holding `%`, NUL, non-ASCII, CRLF, SQL and shell text, 10 KB ids (the cases
//!   `validation` already covers are not repeated); GetJobResults' bounds; ListJobs with forged
//!   and tampered page tokens.
//! - The gateway's gRPC port and the admin ports (`/metrics`) with random bytes, HTTP/1 on
//!   HTTP/2, truncated and corrupt HTTP/2 prefaces and frames, and malformed or oversized
//!   HTTP/1 requests.
//! - Hundreds of concurrent WatchJob streams and GetJob calls, on one connection and on many.
//!
//! What it asserts: each case's exact gRPC code and, for INVALID_ARGUMENT, the exact field
//! paths of the `BadRequest` detail (in order); raw connections answered or closed within
//! seconds, never left hanging; concurrent calls served or refused with RESOURCE_EXHAUSTED or
//! UNAVAILABLE, never hung; and afterwards the gateway SERVING and running a valid job, every
//! accepted job SUCCEEDED and nothing refused created or queued, the gateway's resident memory
//! grown by less than 200 MiB and its open descriptors back near where they were. Each test
//! collects every failure and lists them all in one assertion, so one run shows every broken
//! case.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use prost::Message;
use prost::bytes::BufMut;
use tanksim_broker::TaskQueue;
use tanksim_e2e::{Cluster, Options, api, binaries, scenario};
use tanksim_proto::v1::axis::Values as AxisValues;
use tanksim_proto::v1::param_distribution::Distribution as Dist;
use tanksim_proto::v1::{
    self, CancelJobRequest, ExportRunsRequest, GetJobRequest, GetJobResultsRequest, JobState,
    ListJobsRequest, SubmitJobRequest, SubmitJobResponse, WatchJobRequest, submit_job_request,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::{JOB_LIMIT, LIMIT, mc_tau};

mod bodies;
mod requests;
mod specs;
mod wire;

use bodies::*;
use requests::*;
use specs::*;
use wire::*;

/// The suite must hold at least this many cases (the bar); the SubmitJob table alone
/// must too.
pub(super) const MIN_CASES: usize = 40;
/// How long one refused (or served) call may take: a hostile request must never hang.
pub(super) const CALL_LIMIT: Duration = Duration::from_secs(30);
/// How long a raw connection may wait for the server to answer or close it.
pub(super) const WIRE_LIMIT: Duration = Duration::from_secs(5);
/// How long one WatchJob stream may stay open (its job lasts a few seconds).
pub(super) const STREAM_LIMIT: Duration = Duration::from_secs(60);
/// How much the gateway's resident memory may grow over a test.
pub(super) const MAX_RSS_GROWTH: u64 = 200 << 20;
/// Concurrent WatchJob streams, and concurrent GetJob calls, on one connection.
pub(super) const STREAMS: usize = 300;
/// Concurrent GetJob calls, each on its own connection.
pub(super) const CONNECTIONS: usize = 100;
/// Open descriptors the gateway may keep over its count before the concurrent calls.
pub(super) const FD_SLACK: usize = 16;
/// Runs of the job the concurrent streams watch: a few seconds on one worker.
pub(super) const WATCHED_RUNS: u64 = 400_000;
/// A well-formed job id no job has.
pub(super) const UNKNOWN_ID: &str = "0199b8a2-7c41-7e0a-9d5e-3f1f2b8c9d10";
/// The client's HTTP/2 connection preface.
pub(super) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_precise_codes_and_leave_the_gateway_healthy() {
    let name = "hostile_requests_get_precise_codes_and_leave_the_gateway_healthy";
    scenario(name, LIMIT, async {
        let cluster = hostile_cluster().await;
        let mut client = cluster.gateway_client();
        let mut failures = Vec::new();
        let mut total = 0;
        // Warmed up first, so the baseline holds what any serving gateway holds (its peers'
        // connections, buffers of a first call).
        let mut jobs = vec![serves_a_job(&mut client).await.unwrap()];
        let rss_before = rss(&cluster, "gateway").unwrap();

        // 1-3. SubmitJob: numbers, limits, bombs, strings (every job a case creates is kept).
        let cases = spec_cases();
        assert!(cases.len() >= MIN_CASES, "only {} SubmitJob cases", cases.len());
        let mut created = Vec::new();
        for Case { name, request, expect } in cases {
            total += 1;
            let what = format!("SubmitJob({name})");
            // Only a request that should be accepted is compared with its job (a clone of
            // the 17 MiB one would be wasted).
            let wanted_name = matches!(expect, Expect::Served).then(|| request.name.clone());
            let result = timed(client.submit_job(request)).await;
            if let Ok(response) = &result {
                record_created(&what, response, wanted_name.as_deref(), &mut created, &mut failures);
            }
            failures.extend(judge(&what, result.as_ref().map(|_| ()), expect));
        }

        // 8. Bodies that are not a SubmitJobRequest at all.
        let raw = Endpoint::from_shared(cluster.gateway_url().to_owned()).unwrap().connect_lazy();
        for (name, body, expect) in malformed_bodies() {
            total += 1;
            let what = format!("SubmitJob with {name}");
            let result = submit_raw(&raw, body).await;
            if let Ok(response) = &result {
                record_created(&what, response, None, &mut created, &mut failures);
            }
            failures.extend(judge(&what, result.as_ref().map(|_| ()), expect));
        }

        // 4. Ids with path, glob, control and non-ASCII characters, on every call taking one;
        // well-formed unknown ids are NOT_FOUND, so the refusals above are the id's.
        let bad_id = Expect::Invalid(&["id"]);
        let ids = hostile_ids().into_iter().map(|(what, id)| (what, id, bad_id));
        let controls = [
            ("a well-formed unknown id", UNKNOWN_ID.to_owned(), Expect::Code(Code::NotFound)),
            ("64 letters (the longest id)", "x".repeat(64), Expect::Code(Code::NotFound)),
        ];
        for (what, id, expect) in ids.chain(controls) {
            for (call, result) in id_calls(&mut client, &id).await {
                total += 1;
                failures.extend(judge(&format!("{call}({what})"), result.as_ref().map(|_| ()), expect));
            }
        }
        // GetJobResults' own bounds, checked before the job is looked up.
        for (what, request, expect) in results_bounds() {
            total += 1;
            let result = timed(client.get_job_results(request)).await;
            failures.extend(judge(&format!("GetJobResults({what})"), result.as_ref().map(|_| ()), expect));
        }

        // 5. Forged page tokens.
        for (what, token) in forged_tokens() {
            total += 1;
            let request = ListJobsRequest { page_size: 10, page_token: token };
            let result = timed(client.list_jobs(request)).await;
            let what = format!("ListJobs({what})");
            failures.extend(judge(&what, result.as_ref().map(|_| ()), Expect::Invalid(&["page_token"])));
        }
        // A token is a position, not a secret: a well-formed one ListJobs did not make is served
        // (here: before the first millisecond, so an empty page).
        total += 1;
        let token = hex(&format!("1:{UNKNOWN_ID}"));
        match timed(client.list_jobs(ListJobsRequest { page_size: 10, page_token: token })).await {
            Ok(page) if page.jobs.is_empty() && page.next_page_token.is_empty() => {}
            other => failures.push(format!("ListJobs(a well-formed position before any job): {other:?}")),
        }
        // A page size past the largest is served the largest page, not refused.
        total += 1;
        let request = ListJobsRequest { page_size: u32::MAX, page_token: String::new() };
        let result = timed(client.list_jobs(request)).await;
        failures.extend(judge("ListJobs(page_size u32::MAX)", result.as_ref().map(|_| ()), Expect::Served));

        // Every job a case created ends: the expected ones SUCCEEDED with every run counted
        // (non-finite metrics included); any other is cancelled so it does not run on.
        for job in &created {
            if job.expected {
                failures.extend(succeeded_and_counted(&mut client, job).await);
            } else {
                let _ = timed(client.cancel_job(CancelJobRequest { id: job.id.clone() })).await;
            }
        }

        // After: healthy, serving, nothing refused created or queued, memory bounded.
        failures.extend(healthy(&cluster).await);
        match serves_a_job(&mut client).await {
            Ok(id) => jobs.push(id),
            Err(e) => failures.push(e),
        }
        jobs.extend(created.iter().map(|j| j.id.clone()));
        failures.extend(only_these_jobs(&mut client, &jobs).await);
        // (A job accepted by mistake is already a failure, and its cancelled chunks may still
        // sit in the queue: the queue is only checked when every accepted job was expected.)
        if created.iter().all(|j| j.expected) {
            failures.extend(queue_drained(&cluster).await);
        }
        failures.extend(memory_bounded(&cluster, rss_before));

        assert!(total >= MIN_CASES, "only {total} cases");
        none_failed("hostile requests", total, &failures);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bytes_and_http1_on_the_grpc_and_admin_ports_are_refused_and_the_ports_serve_on() {
    let name = "raw_bytes_and_http1_on_the_grpc_and_admin_ports_are_refused_and_the_ports_serve_on";
    scenario(name, LIMIT, async {
        let cluster = hostile_cluster().await;
        let mut client = cluster.gateway_client();
        let mut failures = Vec::new();
        let mut total = 0;
        serves_a_job(&mut client).await.unwrap();
        let rss_before = rss(&cluster, "gateway").unwrap();

        // 6. The gRPC port (HTTP/2 only) and the gateway's admin port (HTTP/1.1 only).
        let grpc = authority(cluster.gateway_url());
        let admin_url = cluster.admin_url("gateway");
        let admin = authority(&admin_url);
        let targets = [("gRPC port", grpc, grpc_wire_cases()), ("admin port", admin, admin_wire_cases())];
        for (port, addr, cases) in targets {
            for WireCase { name, payload, eof, answer } in cases {
                total += 1;
                let seen = exchange(addr, payload, eof, answer).await;
                failures.extend(judge_wire(&format!("{port}: {name}"), seen, answer));
            }
        }
        // Every other process's admin port gets the random bytes too.
        for process in cluster.processes().into_iter().filter(|p| p.name != "gateway") {
            total += 1;
            let addr = authority(&process.admin_url);
            let seen = exchange(addr, noise(64 << 10, 7), false, Answer::ErrorOrClosed).await;
            let what = format!("{} admin port: 64 KiB of random bytes", process.name);
            failures.extend(judge_wire(&what, seen, Answer::ErrorOrClosed));
        }

        // After: every admin port still serves /metrics, the gateway is SERVING and runs a job.
        for process in cluster.processes() {
            if let Err(e) = tanksim_e2e::metrics::scrape(&process.admin_url).await {
                failures.push(format!("{} /metrics after the garbage: {e}", process.name));
            }
        }
        failures.extend(healthy(&cluster).await);
        failures.extend(serves_a_job(&mut client).await.err());
        failures.extend(memory_bounded(&cluster, rss_before));

        none_failed("raw exchanges", total, &failures);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_concurrent_streams_are_served_or_refused_precisely() {
    let name = "hundreds_of_concurrent_streams_are_served_or_refused_precisely";
    scenario(name, LIMIT, async {
        let cluster = hostile_cluster().await;
        let mut client = cluster.gateway_client();
        let mut failures = Vec::new();
        serves_a_job(&mut client).await.unwrap();
        let rss_before = rss(&cluster, "gateway").unwrap();
        let fds_before = open_fds(&cluster, "gateway").unwrap();

        // 7. A job of a few seconds, watched by 300 streams and read by 300 calls on one
        // connection and by 100 more on their own connections, all at once. The servers admit
        // 200 streams per connection (`tanksim_server`'s MAX_CONCURRENT_STREAMS): the calls
        // past it wait for a slot (the client honours the peer's SETTINGS), and the watchers
        // holding the slots end with the job, so every call must still end within its bound.
        // A stream the server refuses outright (REFUSED_STREAM) reaches tonic as UNAVAILABLE.
        let job = api::submit(&mut client, mc_tau(WATCHED_RUNS)).await;
        let mut calls: JoinSet<(&'static str, Result<Outcome, String>)> = JoinSet::new();
        for _ in 0..STREAMS {
            let (watcher, id) = (client.clone(), job.id.clone());
            calls.spawn(async move { ("WatchJob", watch_to_end(watcher, id).await) });
        }
        for _ in 0..STREAMS {
            let (mut reader, id) = (client.clone(), job.id.clone());
            calls.spawn(async move {
                ("GetJob", outcome(timed(reader.get_job(GetJobRequest { id })).await.map(|_| ())))
            });
        }
        for _ in 0..CONNECTIONS {
            let (mut reader, id) = (cluster.gateway_client(), job.id.clone());
            calls.spawn(async move {
                let result = timed(reader.get_job(GetJobRequest { id })).await.map(|_| ());
                ("GetJob on its own connection", outcome(result))
            });
        }
        // Tallied by what happened, so 300 identical failures read as one line.
        let mut tally: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
        while let Some(joined) = calls.join_next().await {
            let (call, result) = joined.unwrap();
            let key = match result {
                Ok(outcome) => outcome.label(),
                Err(e) => format!("FAILED: {e}"),
            };
            *tally.entry((call, key)).or_default() += 1;
        }
        eprintln!("e2e: concurrent calls: {tally:?}");
        for ((call, what), n) in &tally {
            if what.starts_with("FAILED") {
                failures.push(format!("{n} x {call}: {what}"));
            }
        }
        for call in ["WatchJob", "GetJob", "GetJob on its own connection"] {
            if !tally.contains_key(&(call, Outcome::Served.label())) {
                failures.push(format!("no {call} was served at all: {tally:?}"));
            }
        }

        // After: the watched job ran to its end, the gateway serves, and what the calls held
        // (streams, connections, memory) is given back.
        let ended = api::wait_ended(&mut client, &job.id, JOB_LIMIT).await;
        if ended.state() != JobState::Succeeded {
            failures.push(format!("the watched job did not succeed: {ended:?}"));
        }
        failures.extend(healthy(&cluster).await);
        failures.extend(serves_a_job(&mut client).await.err());
        failures.extend(fds_given_back(&cluster, fds_before).await);
        failures.extend(memory_bounded(&cluster, rss_before));

        assert!(failures.is_empty(), "{} failures:\n  {}", failures.len(), failures.join("\n  "));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Expectations and how a call is judged against them.
// ---------------------------------------------------------------------------------------------

/// The answer a hostile request must get.
#[derive(Debug, Clone, Copy)]
pub(super) enum Expect {
    /// Served (a submitted job is created, and must end SUCCEEDED).
    Served,
    /// INVALID_ARGUMENT whose `BadRequest` detail names exactly these fields, in this order.
    Invalid(&'static [&'static str]),
    /// INVALID_ARGUMENT for `total` violations: the first names `first`, the detail lists some
    /// and its last entry counts the rest, and the whole error stays small.
    Summarised { first: &'static str, total: u64 },
    /// This code, whatever the message.
    Code(Code),
}

/// Why `outcome` (served, or refused with a status) is not what `expect` says; `None` if it is.
pub(super) fn judge(what: &str, outcome: Result<(), &Status>, expect: Expect) -> Option<String> {
    let status = match (outcome, expect) {
        (Ok(()), Expect::Served) => return None,
        (Ok(()), _) => return Some(format!("{what}: served; expected {expect:?}")),
        (Err(status), Expect::Served) => {
            return Some(format!(
                "{what}: refused ({:?}: {}); expected it served",
                status.code(),
                status.message()
            ));
        }
        (Err(status), _) => status,
    };
    let wanted = if let Expect::Code(code) = expect { code } else { Code::InvalidArgument };
    if status.code() != wanted {
        return Some(format!("{what}: {:?} ({}); expected {expect:?}", status.code(), status.message()));
    }
    if let Expect::Code(_) = expect {
        return None;
    }
    let Some(detail) = status.get_details_bad_request() else {
        return Some(format!("{what}: no BadRequest detail ({})", status.message()));
    };
    if detail.field_violations.iter().any(|v| v.description.is_empty()) {
        return Some(format!("{what}: a violation without a description: {detail:?}"));
    }
    let fields: Vec<&str> = detail.field_violations.iter().map(|v| v.field.as_str()).collect();
    match expect {
        Expect::Invalid(want) if fields.as_slice() != want => {
            Some(format!("{what}: named {fields:?}; expected {want:?} ({})", status.message()))
        }
        Expect::Summarised { first, total } => {
            let listed = detail.field_violations.len().saturating_sub(1) as u64;
            let last = detail.field_violations.last().map(|v| v.description.as_str()).unwrap_or_default();
            let summary = format!("... and {} more violations, not listed", total.saturating_sub(listed));
            let size = status.details().len() + status.message().len();
            if fields.first() != Some(&first) {
                Some(format!("{what}: first named {:?}; expected {first:?}", fields.first()))
            } else if last != summary {
                Some(format!("{what}: last violation {last:?}; expected {summary:?}"))
            } else if size >= 6 * 1024 {
                Some(format!("{what}: a {size}-byte error (clients refuse large headers)"))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `call`'s answer, or DEADLINE_EXCEEDED if it takes longer than [`CALL_LIMIT`].
pub(super) async fn timed<T>(
    call: impl Future<Output = Result<tonic::Response<T>, Status>>,
) -> Result<T, Status> {
    match tokio::time::timeout(CALL_LIMIT, call).await {
        Ok(result) => result.map(tonic::Response::into_inner),
        Err(_) => Err(Status::deadline_exceeded(format!("no answer within {CALL_LIMIT:?}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// The cluster and what is checked after the attacks.
// ---------------------------------------------------------------------------------------------

/// One worker; the per-tenant request rate off (0 is unlimited), since the suite makes
/// hundreds of calls a second as one tenant and must see each call's own answer.
pub(super) async fn hostile_cluster() -> Cluster {
    let unlimited = vec![("TANKSIM_QUOTA_REQUESTS_PER_SECOND".to_owned(), "0".to_owned())];
    Cluster::start(binaries!(), Options { workers: 1, service_env: unlimited, ..Options::default() }).await
}

/// A job a case created.
#[derive(Debug)]
pub(super) struct Created {
    what: String,
    id: String,
    /// The case expected it accepted.
    expected: bool,
}

/// Notes the job an accepted submit created, and checks its name came back unchanged.
pub(super) fn record_created(
    what: &str,
    response: &SubmitJobResponse,
    wanted_name: Option<&str>,
    created: &mut Vec<Created>,
    failures: &mut Vec<String>,
) {
    let Some(job) = &response.job else {
        failures.push(format!("{what}: answered without the job"));
        return;
    };
    created.push(Created { what: what.to_owned(), id: job.id.clone(), expected: wanted_name.is_some() });
    if let Some(name) = wanted_name
        && job.name != name
    {
        failures.push(format!("{what}: the job's name came back as {:?}, sent {name:?}", job.name));
    }
}

/// Waits for an accepted job to end: SUCCEEDED, and every metric counting every run (as a
/// value, absent or non-finite).
pub(super) async fn succeeded_and_counted(client: &mut api::Client, job: &Created) -> Option<String> {
    let ended = api::wait_ended(client, &job.id, JOB_LIMIT).await;
    if ended.state() != JobState::Succeeded {
        return Some(format!("{}: the accepted job did not succeed: {ended:?}", job.what));
    }
    let runs = ended.progress.map(|p| p.runs_total).unwrap_or_default();
    let results = api::results(client, &job.id).await;
    let miscounted: Vec<_> =
        results.metrics.iter().filter(|m| m.count + m.absent + m.non_finite != runs).collect();
    (!miscounted.is_empty())
        .then(|| format!("{}: metrics not counting all {runs} runs: {miscounted:?}", job.what))
}

/// A small valid job through the public API, to its end: its id, or why it did not succeed.
pub(super) async fn serves_a_job(client: &mut api::Client) -> Result<String, String> {
    let response =
        timed(client.submit_job(mc_tau(100))).await.map_err(|s| format!("a valid job was refused: {s:?}"))?;
    let job = response.job.ok_or("a valid job: SubmitJob answered without the job")?;
    let ended = api::wait_ended(client, &job.id, JOB_LIMIT).await;
    if ended.state() == JobState::Succeeded {
        Ok(ended.id)
    } else {
        Err(format!("a valid job did not succeed: {ended:?}"))
    }
}

/// Whether the gateway's standard health check says SERVING.
pub(super) async fn healthy(cluster: &Cluster) -> Option<String> {
    let serving = tanksim_e2e::health::wait_serving(cluster.gateway_url(), Duration::from_secs(10), || None);
    serving.await.err().map(|e| format!("the gateway is not healthy after the attacks: {e}"))
}

/// ListJobs shows exactly the jobs in `ids`: nothing refused was created.
pub(super) async fn only_these_jobs(client: &mut api::Client, ids: &[String]) -> Option<String> {
    let request = ListJobsRequest { page_size: 1000, page_token: String::new() };
    let page = match timed(client.list_jobs(request)).await {
        Ok(page) => page,
        Err(s) => return Some(format!("ListJobs after the attacks: {s:?}")),
    };
    let mut listed: Vec<String> = page.jobs.into_iter().map(|j| j.id).collect();
    let mut wanted = ids.to_vec();
    listed.sort();
    wanted.sort();
    (listed != wanted).then(|| format!("jobs listed {listed:?}; created {wanted:?}"))
}

/// The task queue empties once the accepted jobs ended: no refused job's chunk reached it.
pub(super) async fn queue_drained(cluster: &Cluster) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = cluster.queue().await.stats().await.unwrap();
        if (stats.length, stats.pending, stats.dead_letters) == (0, 0, 0) {
            return None;
        }
        if Instant::now() >= deadline {
            return Some(format!("the task queue is not empty after every job ended: {stats:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The pid of the running process `name`.
pub(super) fn pid(cluster: &Cluster, name: &str) -> Result<u32, String> {
    let ids = cluster.process_ids();
    ids.iter()
        .find(|(n, _)| n == name)
        .map(|&(_, pid)| pid)
        .ok_or_else(|| format!("no process {name}: {ids:?}"))
}

/// Resident memory of process `name` (`VmRSS` of `/proc/PID/status`), in bytes.
pub(super) fn rss(cluster: &Cluster, name: &str) -> Result<u64, String> {
    let pid = pid(cluster, name)?;
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("{name}: {e}"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("{name} ({pid}) has no VmRSS: has it exited?"))?;
    Ok(kib * 1024)
}

/// The gateway's resident memory grew by less than [`MAX_RSS_GROWTH`] since `before`.
pub(super) fn memory_bounded(cluster: &Cluster, before: u64) -> Option<String> {
    let after = match rss(cluster, "gateway") {
        Ok(after) => after,
        Err(e) => return Some(e),
    };
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    eprintln!("e2e: gateway RSS {:.1} MiB -> {:.1} MiB", mib(before), mib(after));
    (after.saturating_sub(before) >= MAX_RSS_GROWTH).then(|| {
        format!(
            "the gateway's resident memory grew from {:.1} to {:.1} MiB (at most {:.0} MiB allowed)",
            mib(before),
            mib(after),
            mib(MAX_RSS_GROWTH)
        )
    })
}

/// Open file descriptors of process `name`.
pub(super) fn open_fds(cluster: &Cluster, name: &str) -> Result<usize, String> {
    let pid = pid(cluster, name)?;
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd")).map_err(|e| format!("{name}: {e}"))?.count())
}

/// The gateway closes what the concurrent calls opened (their connections are gone) within
/// a few seconds: at most [`FD_SLACK`] descriptors more than `before`.
pub(super) async fn fds_given_back(cluster: &Cluster, before: usize) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = match open_fds(cluster, "gateway") {
            Ok(now) => now,
            Err(e) => return Some(e),
        };
        if now <= before + FD_SLACK {
            return None;
        }
        if Instant::now() >= deadline {
            return Some(format!(
                "the gateway holds {now} descriptors, {before} before the concurrent calls"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Category 7: concurrent streams.
// ---------------------------------------------------------------------------------------------

/// How one of the concurrent calls ended, when it ended as it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Served (a WatchJob stream followed the job to its end).
    Served,
    /// Refused with a code that says so: RESOURCE_EXHAUSTED or UNAVAILABLE.
    Refused(Code),
}

impl Outcome {
    /// What the tally counts it as.
    fn label(self) -> String {
        match self {
            Outcome::Served => "served".to_owned(),
            Outcome::Refused(code) => format!("refused with {code:?}"),
        }
    }
}

/// A refusal that says what it is, or a description of any other error.
pub(super) fn refused(status: &Status) -> Result<Outcome, String> {
    match status.code() {
        Code::ResourceExhausted | Code::Unavailable => Ok(Outcome::Refused(status.code())),
        code => Err(format!("{code:?}: {}", status.message())),
    }
}

pub(super) fn outcome(result: Result<(), Status>) -> Result<Outcome, String> {
    match result {
        Ok(()) => Ok(Outcome::Served),
        Err(status) => refused(&status),
    }
}

/// Watches job `id` to the end of the stream, within [`STREAM_LIMIT`]: served when the last
/// event shows the job ended.
pub(super) async fn watch_to_end(mut client: api::Client, id: String) -> Result<Outcome, String> {
    let watch = async {
        let mut stream = match client.watch_job(WatchJobRequest { id }).await {
            Ok(response) => response.into_inner(),
            Err(status) => return refused(&status),
        };
        let mut last = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(event) => last = event.job,
                Err(status) => return refused(&status),
            }
        }
        match last {
            Some(job) if api::is_terminal(&job) => Ok(Outcome::Served),
            Some(job) => Err(format!("the stream ended before the job, in state {:?}", job.state())),
            None => Err("the stream ended without an event".to_owned()),
        }
    };
    tokio::time::timeout(STREAM_LIMIT, watch)
        .await
        .unwrap_or_else(|_| Err(format!("open after {STREAM_LIMIT:?}")))
}

/// Prints how many of `total` cases (`what`) failed, and fails the test listing every one.
fn none_failed(what: &str, total: usize, failures: &[String]) {
    eprintln!("e2e: {total} {what}, {} failed", failures.len());
    assert!(failures.is_empty(), "{} of {total} cases failed:\n  {}", failures.len(), failures.join("\n  "));
}
