//! The two backends the conformance suite runs on, and task builders.

use tanksim_broker::{MemoryQueue, RedisQueue, Task, TaskQueue};
use tanksim_test_util::RedisServer;

/// Where a test's queue lives.
pub(crate) trait Backend {
    type Queue: TaskQueue;

    /// A handle on this backend's queue. A second call stands for a restarted process: a new
    /// handle (new connections) on the same data.
    async fn open(&self) -> Self::Queue;
}

/// One in-memory queue; every handle is a clone of it.
#[derive(Debug, Default)]
pub(crate) struct Memory(MemoryQueue);

impl Backend for Memory {
    type Queue = MemoryQueue;

    async fn open(&self) -> MemoryQueue {
        self.0.clone()
    }
}

/// A private `redis-server` (never the machine's shared one), killed when dropped.
#[derive(Debug)]
pub(crate) struct Redis(pub(crate) RedisServer);

impl Redis {
    pub(crate) fn start() -> Self {
        Redis(RedisServer::start())
    }
}

impl Backend for Redis {
    type Queue = RedisQueue;

    async fn open(&self) -> RedisQueue {
        RedisQueue::connect(&self.0.url()).await.expect("connects to the private redis-server")
    }
}

/// Chunk `chunk` of job `job` (runs `100 * chunk .. 100 * chunk + 100`), without trace context.
pub(crate) fn task(job: &str, chunk: u32) -> Task {
    let start = 100 * u64::from(chunk);
    Task { job_id: job.to_owned(), chunk, run_start: start, run_end: start + 100, trace_context: Vec::new() }
}

/// [`task`] with a W3C trace context.
pub(crate) fn traced_task(job: &str, chunk: u32) -> Task {
    Task {
        trace_context: vec![
            ("traceparent".to_owned(), format!("00-{:032x}-{:016x}-01", chunk + 1, chunk + 7)),
            ("tracestate".to_owned(), "vendor=a b,other=c".to_owned()),
        ],
        ..task(job, chunk)
    }
}
