//! API keys in memory (the embedded mode and tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{ApiKey, KeyStore};
use crate::BrokerError;

/// API keys in memory. Cheap to clone (clones share the keys).
#[derive(Debug, Clone, Default)]
pub struct MemoryKeys {
    /// By hash.
    keys: Arc<Mutex<HashMap<String, ApiKey>>>,
}

impl MemoryKeys {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, ApiKey>> {
        // Every operation is a single map call: a poisoned lock holds a consistent map.
        self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl KeyStore for MemoryKeys {
    async fn put_key(&self, key: &ApiKey) -> Result<(), BrokerError> {
        let mut keys = self.lock();
        if keys.values().any(|k| k.id() == key.id()) {
            return Err(BrokerError::Conflict(format!("an API key with id {} exists", key.id())));
        }
        keys.insert(key.sha256.clone(), key.clone());
        Ok(())
    }

    async fn key_by_hash(&self, sha256: &str) -> Result<Option<ApiKey>, BrokerError> {
        Ok(self.lock().get(sha256).cloned())
    }

    async fn list_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKey>, BrokerError> {
        let mut keys: Vec<ApiKey> =
            self.lock().values().filter(|k| tenant.is_none_or(|t| k.tenant == t)).cloned().collect();
        keys.sort_by(|a, b| (a.created_at_ms, &a.sha256).cmp(&(b.created_at_ms, &b.sha256)));
        Ok(keys)
    }

    async fn revoke_key(&self, id: &str) -> Result<Option<ApiKey>, BrokerError> {
        let mut keys = self.lock();
        let hash = keys.values().find(|k| k.id() == id).map(|k| k.sha256.clone());
        Ok(hash.and_then(|h| keys.remove(&h)))
    }
}
