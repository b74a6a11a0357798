//! What a job leaves in Redis (crates/broker/src/names.rs: `tanksim:job:{id}` and its
//! `:spec`, `:chunks`, `:done`, `:merged` keys, and its member of the `tanksim:jobs` index),
//! measured with `MEMORY USAGE … SAMPLES 0` on finished jobs of the pipeline; and what chunk
//! summaries cost while they wait to be merged: a gap in the chunk order (chunk 0 held by a
//! worker that died, until the visibility timeout) keeps every later chunk's summary in the
//! `:chunks` hash. That is measured by recording real 10,000-run MC-tau summaries through the
//! store's own `record_chunk` script for a job whose chunk 0 never arrives.

use prost::Message;
use tanksim_broker::names::{JOBS_INDEX, job_key, job_subkey};
use tanksim_broker::{JobKind, JobStore, NewJob, RedisStore};
use tanksim_proto::internal::v1 as internal;
use tanksim_sim_core::batch::simulate_batch;
use tanksim_sim_core::job::{JobSpec, RunMap};

use crate::kernel::Kind;
use crate::probe;

/// Runs per chunk of the gap measurement (the deployed TANKSIM_CHUNK_SIZE).
const CHUNK: u64 = 10_000;

/// Bytes of one finished job's keys.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JobKeys {
    pub(crate) chunks_total: u64,
    pub(crate) job: u64,
    pub(crate) spec: u64,
    pub(crate) chunks: u64,
    pub(crate) done: u64,
    pub(crate) merged: u64,
    /// `MEMORY USAGE tanksim:jobs / ZCARD tanksim:jobs`.
    pub(crate) index_share: u64,
}

impl JobKeys {
    pub(crate) fn total(&self) -> u64 {
        self.job + self.spec + self.chunks + self.done + self.merged + self.index_share
    }
}

pub(crate) async fn job_keys(redis: &probe::Redis, id: &str) -> JobKeys {
    let usage = |suffix: Option<&str>| {
        let key = suffix.map_or_else(|| job_key(id), |s| job_subkey(id, s));
        async move { redis.memory_usage(&key).await.expect("MEMORY USAGE") }
    };
    let chunks_total: u64 =
        redis.query(redis::cmd("HGET").arg(job_key(id)).arg("chunks_total")).await.expect("HGET");
    let members: u64 = redis.query(redis::cmd("ZCARD").arg(JOBS_INDEX)).await.expect("ZCARD");
    let index = redis.memory_usage(JOBS_INDEX).await.expect("MEMORY USAGE");
    JobKeys {
        chunks_total,
        job: usage(None).await,
        spec: usage(Some("spec")).await,
        chunks: usage(Some("chunks")).await,
        done: usage(Some("done")).await,
        merged: usage(Some("merged")).await,
        index_share: index / members.max(1),
    }
}

/// Summaries stored for chunks that cannot be merged yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unmerged {
    pub(crate) summaries: u64,
    /// One encoded 10,000-run MC-tau chunk summary (what a worker reports and the store keeps).
    pub(crate) encoded_bytes: usize,
    /// `MEMORY USAGE` of the `:chunks` hash holding them.
    pub(crate) hash_bytes: u64,
}

/// A real chunk summary: MC-tau runs 0..10,000 of the example as a job of `chunks` chunks,
/// summarised and shrunk as a worker reports it.
fn chunk_summary(chunks: u64) -> Vec<u8> {
    let spec = JobSpec::try_from(&Kind::McTau.spec(chunks * CHUNK)).expect("the example is valid");
    let (mut configs, mut metrics) = (Vec::new(), Vec::new());
    spec.configs(0..CHUNK, &mut configs);
    simulate_batch(&configs, &mut metrics);
    let mut summary = spec.summary();
    metrics.iter().for_each(|m| summary.add(m));
    spec.shrink_report(&mut summary, CHUNK);
    internal::RunSummary::from(&summary).encode_to_vec()
}

/// Records chunks `1..=count` of a fresh job (chunk 0 never comes) and measures its `:chunks`
/// hash; then removes the job.
pub(crate) async fn unmerged(url: &str, redis: &probe::Redis, count: u32) -> Unmerged {
    let store = RedisStore::connect(url).await.expect("RedisStore");
    let summary = chunk_summary(u64::from(count) + 1);
    let id = format!("capacity-gap-{}", std::process::id());
    let now = tanksim_server::job::now_ms();
    let job = NewJob {
        id: id.clone(),
        tenant: tanksim_broker::DEFAULT_TENANT.into(),
        name: "capacity: chunk 0 missing".into(),
        kind: JobKind::MonteCarlo,
        spec: Kind::McTau.spec(u64::from(count + 1) * CHUNK).encode_to_vec(),
        runs_total: u64::from(count + 1) * CHUNK,
        chunk_size: CHUNK,
        chunks_total: count + 1,
        chunks_released: count + 1,
        submitted_at_ms: now,
        trace_context: Vec::new(),
    };
    store.create_job(&job).await.expect("create_job");
    for chunk in 1..=count {
        store.record_chunk(&id, chunk, CHUNK, &summary, now).await.expect("record_chunk");
    }
    let hash_bytes = redis.memory_usage(&job_subkey(&id, "chunks")).await.expect("MEMORY USAGE");
    // Out of the dispatching set and the index, then gone.
    store.cancel(&id, "capacity measurement", now).await.expect("cancel");
    let keys: Vec<String> = std::iter::once(job_key(&id))
        .chain(["spec", "chunks", "done", "merged"].map(|s| job_subkey(&id, s)))
        .collect();
    let _: () = redis.query(redis::cmd("DEL").arg(&keys)).await.expect("DEL");
    let _: () = redis.query(redis::cmd("ZREM").arg(JOBS_INDEX).arg(&id)).await.expect("ZREM");
    Unmerged { summaries: u64::from(count), encoded_bytes: summary.len(), hash_bytes }
}
