//! API keys: who may call the public API. Only each key's SHA-256 is stored, with its tenant,
//! name, scopes and expiry; the key itself is shown once, when it is made, and never kept.
//!
//! The store is looked up by the hash of the presented key, so a lookup reveals nothing about
//! other keys and its timing depends only on the hash (a preimage-resistant function of the
//! secret), never on how many leading characters of a stored secret match. Scopes are opaque
//! strings here; `tanksim-auth` gives them meaning.

mod memory;
mod redis;

use std::future::Future;

pub use memory::MemoryKeys;
pub use redis::RedisKeys;

use crate::BrokerError;

/// Hex characters of the hash that name a key in listings and `revoke` (64 bits: collisions
/// are refused at creation, and the id reveals nothing usable about the key).
pub const KEY_ID_LEN: usize = 16;

/// One stored API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Lower-case hex SHA-256 of the key.
    pub sha256: String,
    pub tenant: String,
    /// What the key is for (e.g. `ci`), shown in listings.
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at_ms: u64,
    /// `None`: never expires.
    pub expires_at_ms: Option<u64>,
}

impl ApiKey {
    /// The key's public id: the first [`KEY_ID_LEN`] hex characters of its hash.
    pub fn id(&self) -> &str {
        self.sha256.get(..KEY_ID_LEN).unwrap_or(&self.sha256)
    }
}

/// Stored API keys. Cheap to clone.
pub trait KeyStore: Clone + Send + Sync + 'static {
    /// Stores a new key; fails with [`BrokerError::Conflict`] if its id is taken.
    fn put_key(&self, key: &ApiKey) -> impl Future<Output = Result<(), BrokerError>> + Send;

    /// The key whose SHA-256 is `sha256` (lower-case hex), `None` if unknown or revoked.
    fn key_by_hash(&self, sha256: &str) -> impl Future<Output = Result<Option<ApiKey>, BrokerError>> + Send;

    /// Every key (of `tenant` when given), oldest first.
    fn list_keys(
        &self,
        tenant: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ApiKey>, BrokerError>> + Send;

    /// Deletes the key with public id `id`; returns it, `None` if there was none.
    fn revoke_key(&self, id: &str) -> impl Future<Output = Result<Option<ApiKey>, BrokerError>> + Send;
}
