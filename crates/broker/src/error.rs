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
    /// Whether retrying later may succeed (Redis down, restarting, or a dropped connection).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, BrokerError::Redis(_))
    }
}
