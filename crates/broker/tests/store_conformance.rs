//! The `JobStore` contract, run against both backends: `MemoryStore`, and `RedisStore` on a
//! private `redis-server` per test (never the machine's shared one). Redis-only cases at the
//! end: a restart with persistence keeps everything, and subscriptions survive restarts.

// The cases are plain generic functions (not `#[test]`s, which clippy already exempts), and
// a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures_util::StreamExt;
use tanksim_broker::quota::{JOB_QUOTA_RETRY_AFTER, until_next_utc_day};
use tanksim_broker::{
    BrokerError, CancelOutcome, Ended, JobKind, JobQuota, JobState, JobStatus, JobStore, MemoryStore, NewJob,
    QuotaExceeded, QuotaLimit, QuotaUsage, RedisStore, StopOutcome,
};
use tanksim_test_util::{Persistence, RedisServer};

/// The tenant of the jobs the cases make.
const TENANT: &str = "acme";

fn new_job(id: &str, submitted_at_ms: u64, chunks_total: u32) -> NewJob {
    NewJob {
        id: id.to_owned(),
        tenant: TENANT.to_owned(),
        name: format!("job {id}"),
        kind: JobKind::MonteCarlo,
        spec: format!("spec of {id}\0\u{ff}").into_bytes(),
        runs_total: u64::from(chunks_total) * 10,
        chunk_size: 10,
        chunks_total,
        chunks_released: chunks_total,
        submitted_at_ms,
        trace_context: Vec::new(),
    }
}

/// A job context as the dispatcher stores it; `tracestate` holds `,`, `=`, spaces and quotes.
fn job_context(trace: u32) -> Vec<(String, String)> {
    vec![
        ("traceparent".to_owned(), format!("00-{trace:032x}-{:016x}-01", trace + 7)),
        ("tracestate".to_owned(), "vendor=a b,other=\"c=d\"".to_owned()),
    ]
}

async fn create<S: JobStore>(store: &S, id: &str, submitted_at_ms: u64, chunks_total: u32) -> JobStatus {
    store.create_job(&new_job(id, submitted_at_ms, chunks_total)).await.expect("create_job")
}

async fn status<S: JobStore>(store: &S, id: &str) -> JobStatus {
    store.job(id).await.expect("job").expect("job exists")
}

/// What `cancel` returns for a job that was terminal already: it, unchanged.
fn unchanged(status: &JobStatus) -> Option<CancelOutcome> {
    Some(CancelOutcome { cancelled: false, status: status.clone() })
}

/// What `finish` and `fail` return when they end nothing: the job, unchanged.
fn not_ended(status: &JobStatus) -> Ended {
    Ended { ended: false, status: status.clone() }
}

fn no_such_job<T: std::fmt::Debug>(result: Result<T, BrokerError>) -> bool {
    matches!(result, Err(BrokerError::NoSuchJob(ref id)) if id == "nope")
}

async fn create_get_and_spec_round_trip<S: JobStore>(store: S) {
    let mut job = new_job("j1", 1_700_000_000_123, 4);
    job.runs_total = 37;
    let created = store.create_job(&job).await.unwrap();
    let expected = JobStatus {
        id: "j1".into(),
        tenant: TENANT.into(),
        name: "job j1".into(),
        kind: JobKind::MonteCarlo,
        state: JobState::Queued,
        runs_total: 37,
        runs_done: 0,
        chunk_size: 10,
        chunks_total: 4,
        chunks_released: 4,
        chunks_enqueued: 0,
        chunks_done: 0,
        chunks_failed: 0,
        submitted_at_ms: 1_700_000_000_123,
        started_at_ms: None,
        finished_at_ms: None,
        error: None,
        trace_context: Vec::new(),
    };
    assert_eq!(created, expected);
    assert_eq!(status(&store, "j1").await, expected);
    assert_eq!(store.spec("j1").await.unwrap(), Some(job.spec.clone()));

    for (id, kind) in [("k1", JobKind::Sweep), ("k2", JobKind::Dataset)] {
        let job = NewJob { kind, ..new_job(id, 1, 1) };
        store.create_job(&job).await.unwrap();
        assert_eq!(status(&store, id).await.kind, kind);
    }

    // A retried create returns the job as it is and resets nothing.
    store.record_chunk("j1", 0, 10, b"s0", 5).await.unwrap();
    let again = store.create_job(&NewJob { spec: b"other".to_vec(), ..job.clone() }).await.unwrap();
    assert_eq!(again.chunks_done, 1);
    assert_eq!(again.state, JobState::Running);
    assert_eq!(store.spec("j1").await.unwrap(), Some(job.spec));
}

async fn unknown_ids_are_none_or_no_such_job<S: JobStore>(store: S) {
    create(&store, "other", 1, 2).await;
    assert_eq!(store.job("nope").await.unwrap(), None);
    assert_eq!(store.spec("nope").await.unwrap(), None);
    assert_eq!(store.cancel("nope", "why", 1).await.unwrap(), None);
    assert!(no_such_job(store.record_chunk("nope", 0, 1, b"x", 1).await));
    assert!(no_such_job(store.mark_enqueued("nope", 1).await));
    assert!(no_such_job(store.finish("nope", 1).await));
    assert!(no_such_job(store.fail("nope", 0, "why", 1).await));
    assert!(no_such_job(store.chunk_summaries("nope", 0, 2).await));
    assert!(no_such_job(store.chunk_summaries("nope", 0, 0).await));
    assert!(no_such_job(store.save_merged("nope", 1, b"m").await));
    assert!(no_such_job(store.merged("nope").await));
    // None of that created the job.
    assert_eq!(store.job("nope").await.unwrap(), None);
    assert_eq!(store.list_jobs(TENANT, None, 10).await.unwrap().len(), 1);
}

async fn list_jobs_walks_newest_first_across_same_millisecond_ties<S: JobStore>(store: S) {
    // Inserted out of order; five jobs share ms 200 and three share ms 100.
    let jobs = [
        ("m", 200),
        ("c", 100),
        ("z", 200),
        ("a", 200),
        ("q", 300),
        ("b", 100),
        ("k", 200),
        ("d", 50),
        ("x", 100),
        ("e", 200),
    ];
    for (id, ms) in jobs {
        create(&store, id, ms, 1).await;
    }
    let mut expected: Vec<(u64, String)> = jobs.iter().map(|(id, ms)| (*ms, (*id).to_owned())).collect();
    expected.sort();
    expected.reverse();

    for page_size in [1, 2, 3, 4, 7, 10, 50] {
        let mut walked = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.list_jobs(TENANT, cursor.clone(), page_size).await.unwrap();
            assert!(page.len() <= page_size);
            let Some(last) = page.last() else { break };
            cursor = Some((last.submitted_at_ms, last.id.clone()));
            walked.extend(page.iter().map(|j| (j.submitted_at_ms, j.id.clone())));
            // A cursor that repeats jobs would otherwise walk forever.
            assert!(walked.len() <= expected.len(), "page size {page_size}: repeats {walked:?}");
        }
        assert_eq!(walked, expected, "page size {page_size}");
    }
    assert!(store.list_jobs(TENANT, None, 0).await.unwrap().is_empty());
    // A cursor need not be a listed job: strictly older than (200, "l") starts at (200, "k").
    let page = store.list_jobs(TENANT, Some((200, "l".into())), 2).await.unwrap();
    assert_eq!(page.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["k", "e"]);
}

async fn mark_enqueued_is_monotonic_and_drives_jobs_to_dispatch<S: JobStore>(store: S) {
    create(&store, "late", 300, 2).await;
    create(&store, "early", 100, 3).await;
    create(&store, "empty", 200, 0).await;
    let ids = |jobs: Vec<JobStatus>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(store.jobs_to_dispatch().await.unwrap()), ["early", "late"]);

    store.mark_enqueued("early", 2).await.unwrap();
    store.mark_enqueued("early", 1).await.unwrap();
    assert_eq!(status(&store, "early").await.chunks_enqueued, 2);
    let pending = store.jobs_to_dispatch().await.unwrap();
    assert_eq!(ids(pending.clone()), ["early", "late"]);
    assert_eq!(pending[0].chunks_enqueued, 2);

    store.mark_enqueued("early", 3).await.unwrap();
    assert_eq!(status(&store, "early").await.chunks_enqueued, 3);
    assert_eq!(ids(store.jobs_to_dispatch().await.unwrap()), ["late"]);

    store.mark_enqueued("late", 1).await.unwrap();
    store.cancel("late", "user", 400).await.unwrap();
    assert!(store.jobs_to_dispatch().await.unwrap().is_empty());
    assert_eq!(status(&store, "late").await.chunks_enqueued, 1);

    // A job that fails before being fully enqueued leaves too.
    create(&store, "doomed", 500, 4).await;
    assert_eq!(ids(store.jobs_to_dispatch().await.unwrap()), ["doomed"]);
    store.fail("doomed", 0, "boom", 600).await.unwrap();
    assert!(store.jobs_to_dispatch().await.unwrap().is_empty());
}

async fn record_chunk_counts_each_chunk_once<S: JobStore>(store: S) {
    create(&store, "j", 1, 4).await;
    let first = store.record_chunk("j", 1, 10, b"one", 1000).await.unwrap();
    assert!(first.recorded);
    assert_eq!(first.status.state, JobState::Running);
    assert_eq!(first.status.started_at_ms, Some(1000));
    assert_eq!((first.status.chunks_done, first.status.runs_done), (1, 10));

    let again = store.record_chunk("j", 1, 10, b"one again", 2000).await.unwrap();
    assert!(!again.recorded);
    assert_eq!(again.status, first.status);
    assert_eq!(store.chunk_summaries("j", 1, 2).await.unwrap(), [Some(b"one".to_vec())]);

    let last = store.record_chunk("j", 3, 7, b"three", 3000).await.unwrap();
    assert!(last.recorded);
    assert_eq!((last.status.chunks_done, last.status.runs_done), (2, 17));
    assert_eq!(last.status.started_at_ms, Some(1000));
    assert_eq!(status(&store, "j").await, last.status);

    // A chunk outside the job is refused and changes nothing.
    let outside = store.record_chunk("j", 4, 10, b"four", 4000).await;
    assert!(matches!(outside, Err(BrokerError::Corrupt { .. })), "{outside:?}");
    assert!(matches!(store.save_merged("j", 5, b"m").await, Err(BrokerError::Corrupt { .. })));
    assert_eq!(status(&store, "j").await, last.status);
}

async fn concurrent_records_of_the_same_chunks_count_once<S: JobStore>(store: S) {
    const CHUNKS: u32 = 24;
    create(&store, "j", 1, CHUNKS).await;
    let mut tasks = Vec::new();
    for replica in 0..8u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut recorded = Vec::new();
            // Every replica reports every chunk, each starting somewhere else.
            for i in 0..CHUNKS {
                let chunk = (i + replica * 3) % CHUNKS;
                let summary = format!("chunk {chunk}").into_bytes();
                if store.record_chunk("j", chunk, u64::from(chunk) + 1, &summary, 10).await.unwrap().recorded
                {
                    recorded.push(chunk);
                }
            }
            recorded
        }));
    }
    let mut recorded = Vec::new();
    for task in tasks {
        recorded.extend(task.await.unwrap());
    }
    recorded.sort_unstable();
    assert_eq!(recorded, (0..CHUNKS).collect::<Vec<_>>());
    let done = status(&store, "j").await;
    assert_eq!(done.chunks_done, CHUNKS);
    assert_eq!(done.runs_done, (1..=u64::from(CHUNKS)).sum::<u64>());
    let summaries = store.chunk_summaries("j", 0, CHUNKS).await.unwrap();
    for (chunk, summary) in summaries.into_iter().enumerate() {
        assert_eq!(summary, Some(format!("chunk {chunk}").into_bytes()));
    }
}

async fn finish_only_when_every_chunk_is_recorded<S: JobStore>(store: S) {
    let queued = create(&store, "j", 1, 3).await;
    assert_eq!(store.finish("j", 50).await.unwrap(), not_ended(&queued));
    store.record_chunk("j", 0, 10, b"0", 100).await.unwrap();
    store.record_chunk("j", 2, 10, b"2", 110).await.unwrap();
    store.record_chunk("j", 2, 10, b"2", 115).await.unwrap();
    let running = store.finish("j", 120).await.unwrap();
    assert!(!running.ended, "a job not done is not ended");
    assert_eq!(running.status.state, JobState::Running);
    assert_eq!(running.status.finished_at_ms, None);
    assert_eq!(status(&store, "j").await, running.status);

    store.record_chunk("j", 1, 10, b"1", 130).await.unwrap();
    let Ended { ended: true, status: done } = store.finish("j", 140).await.unwrap() else {
        panic!("a running job with every chunk done is ended by this call");
    };
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.finished_at_ms, Some(140));
    assert_eq!((done.chunks_done, done.runs_done), (3, 30));
    assert_eq!(store.finish("j", 150).await.unwrap(), not_ended(&done), "once");
    assert_eq!(status(&store, "j").await, done);
}

async fn fail_ends_a_job_once<S: JobStore>(store: S) {
    create(&store, "f", 1, 3).await;
    store.record_chunk("f", 0, 10, b"0", 100).await.unwrap();
    let Ended { ended: true, status: failed } = store.fail("f", 1, "chunk 1 crashed", 200).await.unwrap()
    else {
        panic!("a running job is failed by this call");
    };
    assert_eq!((failed.state, failed.finished_at_ms), (JobState::Failed, Some(200)));
    assert_eq!(store.fail("f", 1, "chunk 1 crashed", 300).await.unwrap(), not_ended(&failed), "once");
    assert_eq!(status(&store, "f").await, failed);
}

/// Ends `CHUNKS`-chunk jobs by `end` from 8 tasks at once (every task tries every job): each
/// job is ended by exactly one call, and the status it returned is the one stored.
async fn concurrent_ends_end_each_job_once<S, F, Fut>(store: &S, prefix: &str, end: F)
where
    S: JobStore,
    F: Fn(S, String, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Ended, BrokerError>> + Send + 'static,
{
    const JOBS: u32 = 6;
    const CHUNKS: u32 = 2;
    let ids: Vec<String> = (0..JOBS).map(|j| format!("{prefix}{j}")).collect();
    for id in &ids {
        create(store, id, 1, CHUNKS).await;
        record(store, id, 0..CHUNKS).await;
    }
    let mut tasks = Vec::new();
    for replica in 0..8u64 {
        let (store, ids, end) = (store.clone(), ids.clone(), end.clone());
        tasks.push(tokio::spawn(async move {
            let mut ended = Vec::new();
            for id in ids {
                let outcome = end(store.clone(), id.clone(), DAY0 + 20 + replica).await.unwrap();
                assert!(outcome.status.state.is_terminal(), "{outcome:?}");
                if outcome.ended {
                    ended.push((id, outcome.status));
                }
            }
            ended
        }));
    }
    let mut ended = Vec::new();
    for task in futures_util::future::join_all(tasks).await {
        ended.extend(task.unwrap());
    }
    ended.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ended.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), ids, "each job ended once");
    for (id, returned) in ended {
        assert_eq!(status(store, &id).await, returned, "the ending call's status is the stored one");
    }
}

async fn concurrent_finishes_end_a_job_once<S: JobStore>(store: S) {
    concurrent_ends_end_each_job_once(&store, "s", |store: S, id, at_ms| async move {
        store.finish(&id, at_ms).await
    })
    .await;
}

async fn concurrent_fails_end_a_job_once<S: JobStore>(store: S) {
    concurrent_ends_end_each_job_once(&store, "f", |store: S, id, at_ms| async move {
        store.fail(&id, 0, "boom", at_ms).await
    })
    .await;
}

async fn terminal_states_never_change<S: JobStore>(store: S) {
    // Failed.
    create(&store, "f", 1, 3).await;
    store.record_chunk("f", 0, 10, b"0", 100).await.unwrap();
    let failed = store.fail("f", 1, "chunk 1 crashed", 200).await.unwrap();
    assert!(failed.ended);
    let failed = failed.status;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.error.as_deref(), Some("chunk 1 crashed"));
    assert_eq!((failed.chunks_failed, failed.finished_at_ms), (1, Some(200)));
    assert_eq!(store.fail("f", 2, "chunk 2 crashed", 300).await.unwrap(), not_ended(&failed));
    assert_eq!(store.cancel("f", "user", 300).await.unwrap(), unchanged(&failed));
    let late = store.record_chunk("f", 2, 10, b"2", 300).await.unwrap();
    assert_eq!(late.status, failed);
    assert_eq!(store.finish("f", 300).await.unwrap(), not_ended(&failed));

    // Cancelled while queued; later reports are stored but count for nothing.
    create(&store, "c", 1, 2).await;
    let CancelOutcome { cancelled: true, status: cancelled } =
        store.cancel("c", "user asked", 400).await.unwrap().unwrap()
    else {
        panic!("a queued job is cancelled");
    };
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(cancelled.error.as_deref(), Some("user asked"));
    assert_eq!(cancelled.finished_at_ms, Some(400));
    assert_eq!(store.cancel("c", "again", 500).await.unwrap(), unchanged(&cancelled), "once");
    let late = store.record_chunk("c", 0, 10, b"0", 500).await.unwrap();
    assert_eq!(late.status, cancelled);
    assert_eq!(store.chunk_summaries("c", 0, 1).await.unwrap(), [Some(b"0".to_vec())]);
    assert!(!store.record_chunk("c", 0, 10, b"0", 500).await.unwrap().recorded);
    assert_eq!(store.fail("c", 1, "boom", 500).await.unwrap(), not_ended(&cancelled));
    assert_eq!(store.finish("c", 500).await.unwrap(), not_ended(&cancelled));

    // Cancelled while running.
    create(&store, "r", 1, 2).await;
    store.record_chunk("r", 0, 10, b"0", 600).await.unwrap();
    let outcome = store.cancel("r", "deadline", 700).await.unwrap().unwrap();
    let cancelled = outcome.status;
    assert!(outcome.cancelled);
    assert_eq!((cancelled.state, cancelled.started_at_ms), (JobState::Cancelled, Some(600)));
    store.record_chunk("r", 1, 10, b"1", 800).await.unwrap();
    assert_eq!(status(&store, "r").await, cancelled);

    // Succeeded.
    create(&store, "s", 1, 1).await;
    store.record_chunk("s", 0, 10, b"0", 900).await.unwrap();
    let succeeded = store.finish("s", 1000).await.unwrap();
    assert!(succeeded.ended);
    let succeeded = succeeded.status;
    assert_eq!(succeeded.state, JobState::Succeeded);
    assert_eq!(store.cancel("s", "too late", 1100).await.unwrap(), unchanged(&succeeded));
    assert_eq!(store.fail("s", 0, "too late", 1100).await.unwrap(), not_ended(&succeeded));
    assert_eq!(status(&store, "s").await, succeeded);
}

async fn chunk_summaries_come_in_order_with_gaps<S: JobStore>(store: S) {
    create(&store, "j", 1, 6).await;
    for chunk in [3, 0, 2] {
        store.record_chunk("j", chunk, 1, &[chunk as u8; 3], 1).await.unwrap();
    }
    let all = store.chunk_summaries("j", 0, 6).await.unwrap();
    assert_eq!(all, [Some(vec![0; 3]), None, Some(vec![2; 3]), Some(vec![3; 3]), None, None]);
    assert_eq!(store.chunk_summaries("j", 2, 4).await.unwrap(), [Some(vec![2; 3]), Some(vec![3; 3])]);
    assert!(store.chunk_summaries("j", 3, 3).await.unwrap().is_empty());
    assert!(store.chunk_summaries("j", 4, 2).await.unwrap().is_empty());
}

async fn save_merged_moves_forward_and_drops_merged_chunks<S: JobStore>(store: S) {
    create(&store, "j", 1, 5).await;
    assert_eq!(store.merged("j").await.unwrap(), None);
    for chunk in 0..4 {
        store.record_chunk("j", chunk, 10, &[chunk as u8], 1).await.unwrap();
    }
    store.save_merged("j", 2, b"m2").await.unwrap();
    assert_eq!(store.merged("j").await.unwrap(), Some((2, b"m2".to_vec())));
    assert_eq!(
        store.chunk_summaries("j", 0, 5).await.unwrap(),
        [None, None, Some(vec![2]), Some(vec![3]), None]
    );

    // Backwards or sideways changes nothing.
    store.save_merged("j", 1, b"m1").await.unwrap();
    store.save_merged("j", 2, b"m2 again").await.unwrap();
    assert_eq!(store.merged("j").await.unwrap(), Some((2, b"m2".to_vec())));

    // A late duplicate of a merged chunk is still recognised and stores nothing.
    let before = status(&store, "j").await;
    let dup = store.record_chunk("j", 0, 10, b"dup", 2).await.unwrap();
    assert!(!dup.recorded);
    assert_eq!(dup.status, before);
    assert_eq!(store.chunk_summaries("j", 0, 1).await.unwrap(), [None]);

    store.record_chunk("j", 4, 10, &[4], 3).await.unwrap();
    store.save_merged("j", 5, b"m5").await.unwrap();
    assert_eq!(store.merged("j").await.unwrap(), Some((5, b"m5".to_vec())));
    assert_eq!(store.chunk_summaries("j", 0, 5).await.unwrap(), vec![None; 5]);
    assert_eq!(status(&store, "j").await.chunks_done, 5);
}

async fn trace_context_round_trips_through_every_read<S: JobStore>(store: S) {
    let traced = NewJob { trace_context: job_context(1), ..new_job("traced", 200, 3) };
    assert_eq!(store.create_job(&traced).await.unwrap().trace_context, job_context(1));
    let untraced = create(&store, "untraced", 100, 2).await;
    assert!(untraced.trace_context.is_empty());

    assert_eq!(status(&store, "traced").await.trace_context, job_context(1));
    let listed: Vec<_> = store
        .list_jobs(TENANT, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.id, j.trace_context))
        .collect();
    assert_eq!(listed, [("traced".to_owned(), job_context(1)), ("untraced".to_owned(), Vec::new())]);
    let to_dispatch: Vec<_> =
        store.jobs_to_dispatch().await.unwrap().into_iter().map(|j| (j.id, j.trace_context)).collect();
    assert_eq!(to_dispatch, [("untraced".to_owned(), Vec::new()), ("traced".to_owned(), job_context(1))]);

    // Transitions keep it, and a retried create does not replace it.
    let again = NewJob { trace_context: job_context(2), ..traced.clone() };
    assert_eq!(store.create_job(&again).await.unwrap().trace_context, job_context(1));
    store.mark_enqueued("traced", 1).await.unwrap();
    let recorded = store.record_chunk("traced", 0, 10, b"s0", 300).await.unwrap();
    assert_eq!(recorded.status.trace_context, job_context(1));
    let cancelled = store.cancel("traced", "user", 400).await.unwrap().unwrap();
    assert_eq!(cancelled.status.trace_context, job_context(1));
    assert_eq!(status(&store, "traced").await.trace_context, job_context(1));
}

/// `watcher` and `writer` are two replicas: a clone for memory, two clients for Redis.
async fn subscribers_hear_notify_from_another_replica<S: JobStore>(watcher: S, writer: S) {
    create(&writer, "j", 1, 1).await;
    let mut events = watcher.subscribe("j").await.unwrap();
    let mut other = watcher.subscribe("other").await.unwrap();

    writer.notify("other").await.unwrap();
    let stray = tokio::time::timeout(Duration::from_millis(300), events.next()).await;
    assert!(stray.is_err(), "woken by another job's notification");
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), other.next()).await.unwrap(), Some(()));

    writer.notify("j").await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), events.next()).await.unwrap(), Some(()));
    // Notifying with nobody listening is fine.
    writer.notify("nobody").await.unwrap();
}

/// One `#[tokio::test]` per backend for each case taking one store.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(MemoryStore::new()).await;
                }
            )*

            #[tokio::test]
            async fn subscribers_hear_notify_from_another_replica() {
                let store = MemoryStore::new();
                super::subscribers_hear_notify_from_another_replica(store.clone(), store).await;
            }
        }

        mod redis {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let server = RedisServer::start();
                    super::$case(RedisStore::connect(&server.url()).await.unwrap()).await;
                }
            )*

            #[tokio::test]
            async fn subscribers_hear_notify_from_another_replica() {
                let server = RedisServer::start();
                let watcher = RedisStore::connect(&server.url()).await.unwrap();
                let writer = RedisStore::connect(&server.url()).await.unwrap();
                super::subscribers_hear_notify_from_another_replica(watcher, writer).await;
            }
        }
    };
}

/// Each tenant lists its own jobs only, paging within them; every read carries the tenant.
async fn jobs_are_listed_per_tenant<S: JobStore>(store: S) {
    for (i, tenant) in ["acme", "beta", "acme", "beta", "acme"].into_iter().enumerate() {
        let job = NewJob { tenant: tenant.to_owned(), ..new_job(&format!("j{i}"), 100 + i as u64, 1) };
        store.create_job(&job).await.unwrap();
    }
    let ids = |jobs: Vec<JobStatus>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_jobs("acme", None, 10).await.unwrap()), ["j4", "j2", "j0"]);
    assert_eq!(ids(store.list_jobs("beta", None, 10).await.unwrap()), ["j3", "j1"]);
    assert_eq!(ids(store.list_jobs("acme", None, 2).await.unwrap()), ["j4", "j2"]);
    assert_eq!(ids(store.list_jobs("acme", Some((102, "j2".into())), 2).await.unwrap()), ["j0"]);
    assert!(store.list_jobs("gamma", None, 10).await.unwrap().is_empty());
    assert_eq!(status(&store, "j3").await.tenant, "beta");
    assert_eq!(store.cancel("j3", "x", 1).await.unwrap().unwrap().status.tenant, "beta");
}

/// Limits of the quota cases: two jobs, 100 queued runs, 150 runs a day.
const QUOTA: JobQuota = JobQuota { concurrent_jobs: 2, queued_runs: 100, runs_per_day: 150 };
/// 2025-01-01T00:00:00Z.
const DAY0: u64 = 1_735_689_600_000;
const DAY_MS: u64 = 86_400_000;

/// A one-chunk job of `runs` runs submitted at `at_ms`.
fn job_of(id: &str, runs: u64, at_ms: u64) -> NewJob {
    NewJob { runs_total: runs, ..new_job(id, at_ms, 1) }
}

fn usage(concurrent_jobs: u64, queued_runs: u64, runs_today: u64) -> QuotaUsage {
    QuotaUsage { concurrent_jobs, queued_runs, runs_today }
}

/// The refusal of `job`, which must be refused.
async fn refused<S: JobStore>(store: &S, job: &NewJob, quota: &JobQuota) -> QuotaExceeded {
    match store.create_job_within(job, quota).await {
        Err(BrokerError::QuotaExceeded(refusal)) => refusal,
        other => panic!("{} was not refused by its quota: {other:?}", job.id),
    }
}

/// Everything a refused create could have touched, for "nothing changed".
async fn visible_state<S: JobStore>(store: &S, id: &str, at_ms: u64) -> impl PartialEq + std::fmt::Debug {
    let listed: Vec<String> =
        store.list_jobs(TENANT, None, 100).await.unwrap().into_iter().map(|j| j.id).collect();
    let dispatching: Vec<String> =
        store.jobs_to_dispatch().await.unwrap().into_iter().map(|j| j.id).collect();
    let job = store.job(id).await.unwrap();
    let spec = store.spec(id).await.unwrap();
    (listed, dispatching, job, spec, store.quota_usage(TENANT, at_ms).await.unwrap())
}

async fn a_job_over_a_quota_is_refused_and_nothing_changes<S: JobStore>(store: S) {
    store.create_job_within(&job_of("a", 40, DAY0 + 1), &QUOTA).await.unwrap();
    let b = store.create_job_within(&job_of("b", 40, DAY0 + 2), &QUOTA).await.unwrap();
    assert_eq!(b.state, JobState::Queued);
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(2, 80, 80));

    // Concurrent jobs: a third is refused, with the numbers, and leaves no trace.
    let before = visible_state(&store, "c", DAY0).await;
    let refusal = refused(&store, &job_of("c", 10, DAY0 + 3), &QUOTA).await;
    let want = QuotaExceeded {
        tenant: TENANT.into(),
        limit: QuotaLimit::ConcurrentJobs,
        used: 2,
        requested: 1,
        max: 2,
        retry_after: Some(JOB_QUOTA_RETRY_AFTER),
    };
    assert_eq!(refusal, want);
    assert_eq!(refusal.to_string(), "tenant acme: 2 concurrent jobs (limit 2); retry when one ends");
    assert_eq!(visible_state(&store, "c", DAY0).await, before, "a refused job changes nothing");
    // A retried create of an existing job is answered, never refused, and reserves nothing.
    assert_eq!(store.create_job_within(&job_of("a", 40, DAY0 + 1), &QUOTA).await.unwrap().id, "a");
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(2, 80, 80));
    // Another tenant has a quota of its own.
    let other = NewJob { tenant: "beta".into(), ..job_of("x", 100, DAY0) };
    store.create_job_within(&other, &QUOTA).await.unwrap();
    assert_eq!(store.quota_usage("beta", DAY0).await.unwrap(), usage(1, 100, 100));

    // Queued runs: with b cancelled, 40 runs are queued; 61 more would be 101.
    store.cancel("b", "user", DAY0 + 10).await.unwrap();
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 40, 80), "b gave its share back");
    let before = visible_state(&store, "d", DAY0).await;
    let refusal = refused(&store, &job_of("d", 61, DAY0 + 11), &QUOTA).await;
    assert_eq!(
        (refusal.limit, refusal.used, refusal.requested, refusal.max),
        (QuotaLimit::QueuedRuns, 40, 61, 100)
    );
    assert_eq!(refusal.retry_after, Some(JOB_QUOTA_RETRY_AFTER));
    // A job larger than the limit by itself gets no retry hint: waiting cannot help it.
    let alone = refused(&store, &job_of("d", 101, DAY0 + 11), &QUOTA).await;
    assert_eq!((alone.limit, alone.requested, alone.retry_after), (QuotaLimit::QueuedRuns, 101, None));
    assert_eq!(visible_state(&store, "d", DAY0).await, before);
    store.create_job_within(&job_of("d", 60, DAY0 + 12), &QUOTA).await.unwrap();
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(2, 100, 140), "exactly at the limit");

    // Runs per day: ended jobs keep counting for the day they were submitted on.
    store.fail("a", 0, "boom", DAY0 + 20).await.unwrap();
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 60, 140));
    let late = DAY0 + DAY_MS - 1_000;
    let refusal = refused(&store, &job_of("e", 20, late), &QUOTA).await;
    assert_eq!(
        (refusal.limit, refusal.used, refusal.requested, refusal.max),
        (QuotaLimit::RunsPerDay, 140, 20, 150)
    );
    assert_eq!(refusal.retry_after, Some(until_next_utc_day(late)), "until midnight UTC");
    assert_eq!(refusal.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(store.job("e").await.unwrap(), None);
    // The next UTC day starts from zero.
    store.create_job_within(&job_of("e", 20, DAY0 + DAY_MS), &QUOTA).await.unwrap();
    assert_eq!(store.quota_usage(TENANT, DAY0 + DAY_MS).await.unwrap(), usage(2, 80, 20));
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(2, 80, 140));
}

async fn a_job_gives_its_reservation_back_once_when_it_ends<S: JobStore>(store: S) {
    // Unlimited creates are counted too, so a limit set later sees the true usage.
    for id in ["s", "f", "c"] {
        store.create_job(&job_of(id, 10, DAY0)).await.unwrap();
    }
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(3, 30, 30));
    let repeat_every_end = |id: &'static str| {
        let store = store.clone();
        async move {
            assert!(!store.finish(id, DAY0 + 9).await.unwrap().ended);
            assert!(!store.fail(id, 0, "again", DAY0 + 9).await.unwrap().ended);
            assert!(!store.cancel(id, "again", DAY0 + 9).await.unwrap().unwrap().cancelled);
        }
    };

    // Queued and running do not give anything back: only the end does.
    store.record_chunk("s", 0, 10, b"s0", DAY0 + 1).await.unwrap();
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(3, 30, 30));
    assert_eq!(store.finish("s", DAY0 + 2).await.unwrap().status.state, JobState::Succeeded);
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(2, 20, 30));
    repeat_every_end("s").await;
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(2, 20, 30), "finish gave back once");

    assert_eq!(store.fail("f", 0, "boom", DAY0 + 3).await.unwrap().status.state, JobState::Failed);
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 10, 30));
    repeat_every_end("f").await;
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 10, 30), "fail gave back once");

    assert!(store.cancel("c", "user", DAY0 + 4).await.unwrap().unwrap().cancelled);
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(0, 0, 30));
    repeat_every_end("c").await;
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(0, 0, 30), "cancel gave back once");

    // What an ended job gave back admits exactly one job again.
    let one = JobQuota { concurrent_jobs: 1, ..JobQuota::UNLIMITED };
    store.create_job_within(&job_of("next", 10, DAY0 + 5), &one).await.unwrap();
    assert_eq!(refused(&store, &job_of("more", 10, DAY0 + 5), &one).await.used, 1);
}

async fn concurrent_creates_never_exceed_the_limits<S: JobStore>(store: S) {
    const TASKS: usize = 8;
    const EACH: usize = 4;
    /// Creates `TASKS * EACH` distinct jobs of `runs` runs at once; how many were admitted.
    async fn race<S: JobStore>(store: &S, round: &str, runs: u64, quota: JobQuota) -> usize {
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let store = store.clone();
            let round = round.to_owned();
            tasks.push(tokio::spawn(async move {
                let mut admitted = 0;
                for i in 0..EACH {
                    match store
                        .create_job_within(&job_of(&format!("{round}-{t}-{i}"), runs, DAY0), &quota)
                        .await
                    {
                        Ok(_) => admitted += 1,
                        Err(BrokerError::QuotaExceeded(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                admitted
            }));
        }
        let mut admitted = 0;
        for task in tasks {
            admitted += task.await.unwrap();
        }
        admitted
    }

    let jobs = JobQuota { concurrent_jobs: 5, ..JobQuota::UNLIMITED };
    assert_eq!(race(&store, "jobs", 1, jobs).await, 5);
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(5, 5, 5));
    let listed = store.list_jobs(TENANT, None, 100).await.unwrap();
    assert_eq!(listed.len(), 5, "exactly the admitted jobs exist");
    for job in &listed {
        store.cancel(&job.id, "next round", DAY0).await.unwrap();
    }

    let runs = JobQuota { queued_runs: 100, ..JobQuota::UNLIMITED };
    assert_eq!(race(&store, "runs", 7, runs).await, 14, "14 jobs of 7 runs fit in 100");
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(14, 98, 103));

    let day = JobQuota { runs_per_day: 203, ..JobQuota::UNLIMITED };
    assert_eq!(race(&store, "day", 10, day).await, 10, "100 more runs today");
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(24, 198, 203));
}

/// Ends `id` (a one-chunk job) at `at_ms` by `how`.
async fn end<S: JobStore>(store: &S, id: &str, how: JobState, at_ms: u64) {
    match how {
        JobState::Succeeded => {
            store.record_chunk(id, 0, 10, b"s", at_ms).await.unwrap();
            assert_eq!(store.finish(id, at_ms).await.unwrap().status.state, JobState::Succeeded);
        }
        JobState::Failed => {
            assert_eq!(store.fail(id, 0, "poison", at_ms).await.unwrap().status.state, JobState::Failed)
        }
        _ => assert!(store.cancel(id, "by the test", at_ms).await.unwrap().unwrap().cancelled),
    }
}

async fn ended_jobs_expire_oldest_end_first_and_running_ones_never<S: JobStore>(store: S) {
    for (id, at) in [("done", 1), ("failed", 2), ("cancelled", 3), ("late", 4), ("queued", 5), ("running", 6)]
    {
        create(&store, id, at, 1).await;
    }
    end(&store, "done", JobState::Succeeded, 300).await;
    end(&store, "failed", JobState::Failed, 100).await;
    end(&store, "cancelled", JobState::Cancelled, 200).await;
    end(&store, "late", JobState::Succeeded, 900).await;
    store.record_chunk("running", 0, 10, b"s", 50).await.unwrap();

    assert_eq!(store.expire_ended(300, 0).await.unwrap(), Vec::<String>::new());
    assert_eq!(store.expire_ended(300, 2).await.unwrap(), ["failed", "cancelled"], "the oldest end first");
    assert_eq!(store.expire_ended(300, 10).await.unwrap(), ["done"]);
    assert_eq!(store.expire_ended(300, 10).await.unwrap(), Vec::<String>::new(), "nothing left to 300");
    for gone in ["done", "failed", "cancelled"] {
        assert_eq!(store.job(gone).await.unwrap(), None, "{gone}");
        assert_eq!(store.spec(gone).await.unwrap(), None, "{gone}");
        assert!(matches!(store.merged(gone).await, Err(BrokerError::NoSuchJob(_))), "{gone}");
        // A late report for an expired job is refused, and brings nothing back.
        assert!(matches!(store.record_chunk(gone, 0, 10, b"s", 1000).await, Err(BrokerError::NoSuchJob(_))));
    }
    let listed: Vec<String> =
        store.list_jobs(TENANT, None, 10).await.unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(listed, ["running", "queued", "late"]);
    // Whatever the cut, a job that has not ended stays.
    assert_eq!(store.expire_ended(u64::MAX, 10).await.unwrap(), ["late"]);
    assert_eq!(status(&store, "queued").await.state, JobState::Queued);
    assert_eq!(status(&store, "running").await.state, JobState::Running);
    // An id used again after its expiry is a new job.
    assert_eq!(create(&store, "done", 10, 1).await.state, JobState::Queued);
}

/// A job of `chunks` chunks of 10 runs submitted at `at_ms` (on [`DAY0`]), of which the first
/// `released` may be enqueued: a job run in waves.
fn in_waves(id: &str, chunks: u32, released: u32, at_ms: u64) -> NewJob {
    NewJob { chunks_released: released, ..new_job(id, at_ms, chunks) }
}

/// Records chunks `chunks` of `id`, 10 runs each.
async fn record<S: JobStore>(store: &S, id: &str, chunks: std::ops::Range<u32>) {
    for chunk in chunks {
        assert!(store.record_chunk(id, chunk, 10, &[chunk as u8], DAY0 + 10).await.unwrap().recorded);
    }
}

fn dispatching_ids(jobs: Vec<JobStatus>) -> Vec<String> {
    jobs.into_iter().map(|j| j.id).collect()
}

async fn release_raises_never_lowers_and_clamps_to_chunks_total<S: JobStore>(store: S) {
    assert_eq!(store.create_job(&in_waves("w", 6, 2, DAY0)).await.unwrap().chunks_released, 2);
    assert_eq!(store.create_job(&in_waves("clamped", 3, 9, DAY0 + 1)).await.unwrap().chunks_released, 3);
    assert_eq!(create(&store, "whole", DAY0 + 2, 4).await.chunks_released, 4, "not in waves: every chunk");

    // The first wave enqueued, the job waits for the next one and is still to dispatch.
    store.mark_enqueued("w", 2).await.unwrap();
    assert_eq!(dispatching_ids(store.jobs_to_dispatch().await.unwrap()), ["w", "clamped", "whole"]);

    let raised = store.release("w", 4).await.unwrap().unwrap();
    assert_eq!((raised.chunks_released, raised.chunks_total, raised.chunks_enqueued), (4, 6, 2));
    assert_eq!(status(&store, "w").await, raised);
    assert_eq!(store.release("w", 4).await.unwrap().unwrap(), raised, "twice is once");
    assert_eq!(store.release("w", 3).await.unwrap().unwrap(), raised, "never lowered");
    assert_eq!(store.release("w", 0).await.unwrap().unwrap(), raised, "never lowered");
    assert_eq!(store.release("w", 100).await.unwrap().unwrap().chunks_released, 6, "at most chunks_total");
    assert_eq!(store.release("nope", 1).await.unwrap(), None);
    assert_eq!(store.job("nope").await.unwrap(), None, "release creates nothing");

    // Replicas releasing at once: the highest wins, whatever the order.
    store.create_job(&in_waves("raced", 40, 1, DAY0 + 3)).await.unwrap();
    let mut tasks = Vec::new();
    for replica in 0..8u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for step in 0..5 {
                store.release("raced", 1 + (replica * 7 + step * 3) % 40).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let highest = (0..8u32).flat_map(|r| (0..5).map(move |s| 1 + (r * 7 + s * 3) % 40)).max();
    assert_eq!(Some(status(&store, "raced").await.chunks_released), highest);

    // A terminal job is left as it is.
    store.create_job(&in_waves("t", 4, 1, DAY0 + 4)).await.unwrap();
    let cancelled = store.cancel("t", "user", DAY0 + 5).await.unwrap().unwrap().status;
    assert_eq!(store.release("t", 4).await.unwrap().unwrap(), cancelled);
    assert_eq!(status(&store, "t").await.chunks_released, 1);
}

async fn a_release_that_raises_stores_its_wave_state_once<S: JobStore>(store: S) {
    store.create_job(&in_waves("w", 6, 2, DAY0)).await.unwrap();
    assert_eq!(store.wave_state("w").await.unwrap(), b"", "none before the first release");
    assert_eq!(store.release_with_state("w", 4, b"gen 1").await.unwrap().unwrap().chunks_released, 4);
    assert_eq!(store.wave_state("w").await.unwrap(), b"gen 1");
    // A repeat (another replica deciding the same wave) does not raise, so stores nothing.
    store.release_with_state("w", 4, b"stale").await.unwrap();
    store.release_with_state("w", 3, b"older").await.unwrap();
    assert_eq!(store.wave_state("w").await.unwrap(), b"gen 1");
    // A plain release keeps the state.
    store.release("w", 5).await.unwrap();
    assert_eq!(store.wave_state("w").await.unwrap(), b"gen 1");
    store.release_with_state("w", 6, b"gen 2").await.unwrap();
    assert_eq!(store.wave_state("w").await.unwrap(), b"gen 2");
    assert_eq!(store.release_with_state("nope", 1, b"x").await.unwrap(), None);
    assert_eq!(store.wave_state("nope").await.unwrap(), b"", "unknown: empty");
    // A terminal job keeps its last state and its release.
    store.create_job(&in_waves("t", 4, 1, DAY0 + 1)).await.unwrap();
    store.cancel("t", "user", DAY0 + 2).await.unwrap();
    assert_eq!(store.release_with_state("t", 4, b"late").await.unwrap().unwrap().chunks_released, 1);
    assert_eq!(store.wave_state("t").await.unwrap(), b"");
}

async fn stop_early_truncates_gives_back_and_succeeds_a_covered_job<S: JobStore>(store: S) {
    // "a": 10 chunks (100 runs) capped, its first wave of 3 done.
    store.create_job(&in_waves("a", 10, 3, DAY0)).await.unwrap();
    store.mark_enqueued("a", 3).await.unwrap();
    record(&store, "a", 0..3).await;
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 100, 100));

    let Some(StopOutcome { stopped: true, status: done }) =
        store.stop_early("a", 3, 30, DAY0 + 50).await.unwrap()
    else {
        panic!("a running job whose done chunks cover the cut stops");
    };
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.finished_at_ms, Some(DAY0 + 50));
    assert_eq!((done.chunks_total, done.chunks_released, done.runs_total), (3, 3, 30));
    assert_eq!((done.chunks_done, done.runs_done, done.chunks_enqueued), (3, 30, 3));
    assert_eq!(status(&store, "a").await, done);
    // It ended: its reservation is back, and the day counts only the runs it kept.
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(0, 0, 30));
    assert!(store.jobs_to_dispatch().await.unwrap().is_empty());

    // Again: nothing more changes, nothing is given back twice.
    let again = store.stop_early("a", 3, 30, DAY0 + 60).await.unwrap();
    assert_eq!(again, Some(StopOutcome { stopped: false, status: done.clone() }));
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(0, 0, 30));
    assert_eq!(store.stop_early("nope", 1, 10, DAY0).await.unwrap(), None);
    assert_eq!(store.job("nope").await.unwrap(), None, "stop_early creates nothing");
}

async fn stop_early_before_the_cut_is_done_keeps_the_job_running<S: JobStore>(store: S) {
    // "b": 10 chunks, 4 released and enqueued, 2 done; it needs only those 4.
    store.create_job(&in_waves("b", 10, 4, DAY0)).await.unwrap();
    store.mark_enqueued("b", 4).await.unwrap();
    record(&store, "b", 0..2).await;
    let outcome = store.stop_early("b", 4, 40, DAY0 + 50).await.unwrap().unwrap();
    assert!(outcome.stopped);
    let cut = outcome.status;
    assert_eq!((cut.state, cut.finished_at_ms), (JobState::Running, None));
    assert_eq!((cut.chunks_total, cut.chunks_released, cut.runs_total), (4, 4, 40));
    assert_eq!(status(&store, "b").await, cut);
    // The 60 runs it no longer needs are given back; it holds the other 40 until it ends.
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 40, 40));
    // Every chunk it still has is enqueued: nothing left to dispatch.
    assert!(store.jobs_to_dispatch().await.unwrap().is_empty());

    let again = store.stop_early("b", 4, 40, DAY0 + 60).await.unwrap();
    assert_eq!(again, Some(StopOutcome { stopped: false, status: cut.clone() }), "idempotent");
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 40, 40));

    // Its last chunks come in: it finishes as any job does, and gives back the rest.
    record(&store, "b", 2..4).await;
    let done = store.finish("b", DAY0 + 70).await.unwrap();
    assert!(done.ended, "stopping did not end it: finishing does");
    let done = done.status;
    assert_eq!((done.state, done.chunks_done, done.runs_done), (JobState::Succeeded, 4, 40));
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(0, 0, 40));

    // "d": cut past what it enqueued, it stays to dispatch until those chunks are enqueued.
    store.create_job(&in_waves("d", 10, 2, DAY0 + 1)).await.unwrap();
    store.mark_enqueued("d", 2).await.unwrap();
    let cut = store.stop_early("d", 3, 30, DAY0 + 80).await.unwrap().unwrap();
    assert!(cut.stopped);
    assert_eq!(
        (cut.status.state, cut.status.chunks_total, cut.status.chunks_released),
        (JobState::Queued, 3, 3)
    );
    assert_eq!(dispatching_ids(store.jobs_to_dispatch().await.unwrap()), ["d"]);
    store.mark_enqueued("d", 3).await.unwrap();
    assert!(store.jobs_to_dispatch().await.unwrap().is_empty());
}

async fn stop_early_outside_the_job_changes_nothing<S: JobStore>(store: S) {
    // "c": 10 chunks, 5 released and enqueued, 3 done.
    store.create_job(&in_waves("c", 10, 5, DAY0)).await.unwrap();
    store.mark_enqueued("c", 5).await.unwrap();
    record(&store, "c", 0..3).await;
    let before = status(&store, "c").await;
    let held = store.quota_usage(TENANT, DAY0).await.unwrap();
    let unchanged = Some(StopOutcome { stopped: false, status: before.clone() });
    for (chunks, runs, why) in [
        (2, 20, "fewer chunks than are done"),
        (11, 100, "more chunks than the job has"),
        (5, 101, "more runs than the job has"),
    ] {
        assert_eq!(store.stop_early("c", chunks, runs, DAY0 + 50).await.unwrap(), unchanged, "{why}");
        assert_eq!(status(&store, "c").await, before, "{why}");
        assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), held, "{why}");
    }
    assert_eq!(dispatching_ids(store.jobs_to_dispatch().await.unwrap()), ["c"]);

    // Exactly at the done chunks is in range.
    let cut = store.stop_early("c", 3, 30, DAY0 + 60).await.unwrap().unwrap();
    assert!(cut.stopped);
    assert_eq!(cut.status.state, JobState::Succeeded);

    // A terminal job is never cut.
    store.create_job(&in_waves("f", 4, 2, DAY0 + 1)).await.unwrap();
    let failed = store.fail("f", 0, "boom", DAY0 + 70).await.unwrap().status;
    let held = store.quota_usage(TENANT, DAY0).await.unwrap();
    let refused = store.stop_early("f", 2, 20, DAY0 + 80).await.unwrap();
    assert_eq!(refused, Some(StopOutcome { stopped: false, status: failed }));
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), held);
}

conformance!(
    a_job_over_a_quota_is_refused_and_nothing_changes,
    ended_jobs_expire_oldest_end_first_and_running_ones_never,
    a_job_gives_its_reservation_back_once_when_it_ends,
    concurrent_creates_never_exceed_the_limits,
    create_get_and_spec_round_trip,
    jobs_are_listed_per_tenant,
    unknown_ids_are_none_or_no_such_job,
    list_jobs_walks_newest_first_across_same_millisecond_ties,
    mark_enqueued_is_monotonic_and_drives_jobs_to_dispatch,
    record_chunk_counts_each_chunk_once,
    concurrent_records_of_the_same_chunks_count_once,
    finish_only_when_every_chunk_is_recorded,
    fail_ends_a_job_once,
    concurrent_finishes_end_a_job_once,
    concurrent_fails_end_a_job_once,
    terminal_states_never_change,
    chunk_summaries_come_in_order_with_gaps,
    save_merged_moves_forward_and_drops_merged_chunks,
    trace_context_round_trips_through_every_read,
    release_raises_never_lowers_and_clamps_to_chunks_total,
    a_release_that_raises_stores_its_wave_state_once,
    stop_early_truncates_gives_back_and_succeeds_a_covered_job,
    stop_early_before_the_cut_is_done_keeps_the_job_running,
    stop_early_outside_the_job_changes_nothing,
);

/// Retries `op` until Redis is back (the connection manager reconnects in the background).
async fn when_back<T, F, Fut>(mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, BrokerError>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match op().await {
            Ok(value) => return value,
            Err(e) if e.is_unavailable() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("redis did not come back: {e}"),
        }
    }
}

#[tokio::test]
async fn redis_restart_with_persistence_keeps_everything() {
    let mut server = RedisServer::start_with(Persistence::AppendOnly);
    let store = RedisStore::connect(&server.url()).await.unwrap();
    create(&store, "old", 100, 1).await;
    store.create_job(&NewJob { trace_context: job_context(9), ..new_job("j", 200, 4) }).await.unwrap();
    store.mark_enqueued("j", 3).await.unwrap();
    for chunk in 0..3 {
        store.record_chunk("j", chunk, 10, &[chunk as u8], 1000).await.unwrap();
    }
    store.save_merged("j", 1, b"m1").await.unwrap();
    let before = status(&store, "j").await;

    server.restart();

    let after = when_back(|| store.job("j")).await;
    assert_eq!(after, Some(before.clone()));
    assert_eq!(before.trace_context, job_context(9), "the job context is persisted with the job");
    assert_eq!(store.spec("j").await.unwrap(), Some(new_job("j", 200, 4).spec));
    assert_eq!(store.merged("j").await.unwrap(), Some((1, b"m1".to_vec())));
    assert_eq!(store.chunk_summaries("j", 0, 4).await.unwrap(), [None, Some(vec![1]), Some(vec![2]), None]);
    let listed = store.list_jobs(TENANT, None, 10).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["j", "old"]);
    let pending = store.jobs_to_dispatch().await.unwrap();
    assert_eq!(pending.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["old", "j"]);

    // The scripts run again after the restart emptied Redis's script cache; marks survived.
    assert!(!store.record_chunk("j", 0, 10, b"dup", 2000).await.unwrap().recorded);
    store.mark_enqueued("j", 4).await.unwrap();
    assert!(store.record_chunk("j", 3, 10, &[3], 2000).await.unwrap().recorded);
    let done = store.finish("j", 3000).await.unwrap();
    assert!(done.ended);
    let done = done.status;
    assert_eq!((done.state, done.chunks_done, done.runs_done), (JobState::Succeeded, 4, 40));
    let pending = store.jobs_to_dispatch().await.unwrap();
    assert_eq!(pending.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["old"]);
}

/// Subscribers on `channel` as Redis counts them (0 while it is down).
async fn subscribers(url: &str, channel: &str) -> i64 {
    let Ok(client) = ::redis::Client::open(url) else { return 0 };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else { return 0 };
    let reply: Result<(String, i64), _> =
        ::redis::cmd("PUBSUB").arg("NUMSUB").arg(channel).query_async(&mut conn).await;
    reply.map_or(0, |(_, n)| n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_subscription_resubscribes_after_a_restart() {
    let mut server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut events = store.subscribe("j").await.unwrap();
    // Drive the stream in a task, as a watcher would, and count what it yields.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let forwarder = tokio::spawn(async move {
        while let Some(()) = events.next().await {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    store.notify("j").await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap(), Some(()));

    // While Redis is down the stream waits (backing off) without yielding or ending.
    server.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(rx.try_recv().is_err(), "yielded while redis was down");
    assert!(!forwarder.is_finished(), "the subscription ended");
    server.restart();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while subscribers(&server.url(), "tanksim:events:j").await < 1 {
        assert!(tokio::time::Instant::now() < deadline, "never resubscribed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Resubscribing wakes the watcher once (notifications during the outage were lost)...
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap(), Some(()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rx.try_recv().is_err(), "more than one wake-up per reconnect");
    // ...and notifications flow again, from the store's own reconnected handle.
    when_back(|| store.notify("j")).await;
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap(), Some(()));
    forwarder.abort();
}

/// A job stored before tenants existed (no `tenant` field) reads as the default tenant's.
#[tokio::test]
async fn a_job_stored_without_a_tenant_belongs_to_the_default_tenant() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    create(&store, "old", 100, 1).await;
    let mut conn =
        ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: i64 =
        ::redis::cmd("HDEL").arg("tanksim:job:old").arg("tenant").query_async(&mut conn).await.unwrap();
    assert_eq!(status(&store, "old").await.tenant, tanksim_broker::DEFAULT_TENANT);
}

/// Every `tanksim:*` key and its serialised value (DUMP), for "nothing was written".
async fn redis_snapshot(url: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let mut conn = ::redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = ::redis::cmd("KEYS").arg("tanksim:*").query_async(&mut conn).await.unwrap();
    keys.sort();
    let mut snapshot = Vec::new();
    for key in keys {
        let value: Option<Vec<u8>> = ::redis::cmd("DUMP").arg(&key).query_async(&mut conn).await.unwrap();
        snapshot.push((key, value));
    }
    snapshot
}

#[tokio::test]
async fn redis_a_refused_create_writes_no_key_and_the_day_counter_expires() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    store.create_job_within(&job_of("a", 60, DAY0), &QUOTA).await.unwrap();
    let before = redis_snapshot(&server.url()).await;
    assert!(before.iter().any(|(k, _)| k == "tanksim:tenant:acme:usage"), "{before:?}");
    for job in [job_of("b", 41, DAY0), job_of("c", 200, DAY0)] {
        refused(&store, &job, &QUOTA).await;
    }
    let full = JobQuota { concurrent_jobs: 1, ..QUOTA };
    refused(&store, &job_of("d", 1, DAY0), &full).await;
    assert_eq!(redis_snapshot(&server.url()).await, before, "refused creates wrote nothing");

    let mut conn =
        ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 =
        ::redis::cmd("TTL").arg("tanksim:tenant:acme:runs:2025-01-01").query_async(&mut conn).await.unwrap();
    assert!((1..=2 * 86_400).contains(&ttl), "the day's counter expires within two days: {ttl}");
}

/// A job recorded before quotas existed holds no reservation: its end gives nothing back
/// (usage never goes below what the jobs that reserved hold).
#[tokio::test]
async fn redis_a_job_without_a_reservation_gives_nothing_back() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    create(&store, "old", 100, 1).await;
    let mut conn =
        ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: i64 =
        ::redis::cmd("HDEL").arg("tanksim:job:old").arg("quota_key").query_async(&mut conn).await.unwrap();
    let _: i64 = ::redis::cmd("DEL").arg("tanksim:tenant:acme:usage").query_async(&mut conn).await.unwrap();
    create(&store, "new", 200, 1).await;
    store.cancel("old", "user", 300).await.unwrap();
    assert_eq!(store.quota_usage(TENANT, 300).await.unwrap().concurrent_jobs, 1, "only new's reservation");
    store.cancel("new", "user", 300).await.unwrap();
    let held = store.quota_usage(TENANT, 300).await.unwrap();
    assert_eq!((held.concurrent_jobs, held.queued_runs), (0, 0));
}

/// Expiry leaves no key of the job behind, and nothing of the others changes.
#[tokio::test]
async fn redis_an_expired_job_leaves_no_key() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    create(&store, "kept", 1, 2).await;
    let before = redis_snapshot(&server.url()).await;
    create(&store, "gone", 2, 2).await;
    for chunk in 0..2 {
        store.record_chunk("gone", chunk, 10, b"s", 10).await.unwrap();
    }
    store.save_merged("gone", 1, b"m").await.unwrap();
    store.finish("gone", 20).await.unwrap();
    assert_eq!(store.expire_ended(20, 10).await.unwrap(), ["gone"]);
    let mut after = redis_snapshot(&server.url()).await;
    // Only the tenant's counters differ: the usage hash (given back) and the day's runs.
    let counters =
        |k: &str| k.starts_with("tanksim:tenant:acme:usage") || k.starts_with("tanksim:tenant:acme:runs:");
    after.retain(|(k, _)| !counters(k));
    let before: Vec<_> = before.into_iter().filter(|(k, _)| !counters(k)).collect();
    assert_eq!(after, before);
}

/// Redis at `maxmemory` (policy noeviction) refuses a create as out of memory, and the refused
/// create wrote nothing; jobs stored before stay whole, and once room is back creates succeed.
#[tokio::test]
async fn redis_a_full_store_refuses_creates_and_writes_nothing() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    create(&store, "before", 1, 4).await;
    let mut conn =
        ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: () = ::redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () =
        ::redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("1").query_async(&mut conn).await.unwrap();
    let snapshot = redis_snapshot(&server.url()).await;

    let refused = store.create_job(&new_job("after", 2, 4)).await.unwrap_err();
    assert!(refused.is_out_of_memory() && refused.is_unavailable(), "{refused}");
    let refused = store.record_chunk("before", 0, 10, b"s", 10).await.unwrap_err();
    assert!(refused.is_out_of_memory(), "{refused}");
    assert_eq!(redis_snapshot(&server.url()).await, snapshot, "nothing was written");
    assert_eq!(status(&store, "before").await.state, JobState::Queued, "reads still work");

    let _: () =
        ::redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("0").query_async(&mut conn).await.unwrap();
    create(&store, "after", 2, 4).await;
    assert!(store.record_chunk("before", 0, 10, b"s", 10).await.unwrap().recorded);
}

/// A job stored before waves existed (no `chunks_released` field) has released every chunk:
/// releasing keeps it so, and stopping it early writes the field. Its tenant field may be
/// missing too (a job from before tenants): stopping it still finds its day counter.
#[tokio::test]
async fn redis_a_job_stored_without_chunks_released_released_every_chunk() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    store.create_job(&in_waves("old", 5, 1, DAY0)).await.unwrap();
    let mut conn =
        ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: i64 = ::redis::cmd("HDEL")
        .arg("tanksim:job:old")
        .arg("chunks_released")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(status(&store, "old").await.chunks_released, 5);
    assert_eq!(store.release("old", 2).await.unwrap().unwrap().chunks_released, 5);

    store
        .create_job(&NewJob {
            tenant: tanksim_broker::DEFAULT_TENANT.into(),
            ..in_waves("untenanted", 5, 5, DAY0)
        })
        .await
        .unwrap();
    let _: i64 = ::redis::cmd("HDEL")
        .arg("tanksim:job:untenanted")
        .arg("tenant")
        .query_async(&mut conn)
        .await
        .unwrap();
    let cut = store.stop_early("untenanted", 2, 20, DAY0 + 1).await.unwrap().unwrap();
    assert!(cut.stopped);
    assert_eq!((cut.status.chunks_total, cut.status.chunks_released), (2, 2));
    let held = store.quota_usage(tanksim_broker::DEFAULT_TENANT, DAY0).await.unwrap();
    assert_eq!(held, usage(1, 20, 20), "given back to the default tenant's counters");
}

/// Stopping early gives runs back to the submission day's counter only while it exists: an
/// expired counter is not created again.
#[tokio::test]
async fn redis_stop_early_never_recreates_an_expired_day_counter() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    store.create_job(&in_waves("j", 10, 2, DAY0)).await.unwrap();
    let mut conn =
        ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let day = "tanksim:tenant:acme:runs:2025-01-01";
    let _: i64 = ::redis::cmd("DEL").arg(day).query_async(&mut conn).await.unwrap();
    let cut = store.stop_early("j", 2, 20, DAY0 + 1).await.unwrap().unwrap();
    assert!(cut.stopped);
    let exists: bool = ::redis::cmd("EXISTS").arg(day).query_async(&mut conn).await.unwrap();
    assert!(!exists, "the expired day counter stays gone");
    assert_eq!(store.quota_usage(TENANT, DAY0).await.unwrap(), usage(1, 20, 0));
}
