//! What tanksim keeps in Redis, behind traits with two backends each: Redis (production,
//! shared by every replica) and in-memory (the embedded single-process mode and unit tests).
//!
//! - [`queue`]: the task stream the dispatcher appends chunks to and workers consume as a
//!   consumer group (pending entries, claiming from dead workers, dead letters).
//! - [`store`]: jobs (spec, state machine, progress), chunk summaries recorded idempotently,
//!   change notifications for watchers.
//! - [`quota`]: per-tenant job quotas, checked and reserved atomically when a job is created
//!   and given back when it ends.
//! - [`keys`]: API keys, stored only as hashes with their tenant, name, scopes and expiry.
//! - [`url`]: Redis URLs with the password hidden, for logs and errors.
//! - [`names`]: every stream, group, key and channel name, in one place (the deployment
//!   manifests and KEDA's scaler refer to them).
//!
//! One conformance suite per trait (`tests/queue_conformance.rs`, `tests/store_conformance.rs`)
//! runs against both backends, the Redis one on a private `redis-server`.

mod connection;
pub mod error;
pub mod keys;
pub mod names;
pub mod queue;
pub mod quota;
pub mod store;
pub mod url;

pub use error::BrokerError;
pub use keys::{ApiKey, KeyStore, MemoryKeys, RedisKeys};
pub use queue::{DeadLetter, Delivery, MemoryQueue, QueueStats, RedisQueue, Task, TaskQueue};
pub use quota::{JobQuota, QuotaExceeded, QuotaLimit, QuotaUsage};
pub use store::{
    CancelOutcome, ChunkRecorded, DEFAULT_TENANT, Ended, JobKind, JobState, JobStatus, JobStore, MemoryStore,
    NewJob, RedisStore, StopOutcome,
};
