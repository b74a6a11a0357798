//! The broker's one error type.

/// A queue or store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Redis is unreachable or answered with an error (retryable: the operation did not happen
    /// or is safe to repeat).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Stored data that does not parse (a bug or a foreign writer; not retryable).
    #[error("corrupt {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    /// The named job does not exist.
    #[error("no job {0}")]
    NoSuchJob(String),
    /// What was to be created exists already.
    #[error("{0}")]
    Conflict(String),
    /// A job refused by its tenant's quota: it was not created.
    #[error("{0}")]
    QuotaExceeded(crate::quota::QuotaExceeded),
}

impl BrokerError {
    /// Whether retrying later may succeed (Redis down, restarting, a dropped connection, or
    /// out of memory).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, BrokerError::Redis(_))
    }

    /// Whether Redis refused a write because it reached `maxmemory` (its `OOM` error; the
    /// manifests' policy is `noeviction`, so nothing stored is ever evicted instead). The
    /// refused operation wrote nothing: Redis refuses a script that may write before it runs.
    pub fn is_out_of_memory(&self) -> bool {
        matches!(self, BrokerError::Redis(e) if e.code() == Some("OOM"))
    }
}
