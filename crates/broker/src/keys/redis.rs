//! API keys in Redis: `tanksim:apikey:{sha256}` is a hash (`tenant`, `name`, `scopes`
//! space-separated, `created_at_ms`, `expires_at_ms` when set) and `tanksim:apikeys` maps each
//! key's public id to its hash, for listing and revoking. Both change together in one Lua
//! script, so a key is never half made or half revoked.

use std::collections::HashMap;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use redis::{Script, Value};

use super::{ApiKey, KeyStore};
use crate::BrokerError;
use crate::names::{API_KEYS_INDEX, api_key_key};

const PUT: &str = r#"
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"#;

const REVOKE: &str = r#"
local hash = redis.call('HGET', KEYS[1], ARGV[1])
if not hash then return false end
local key = ARGV[2] .. hash
local fields = redis.call('HGETALL', key)
redis.call('DEL', key)
redis.call('HDEL', KEYS[1], ARGV[1])
table.insert(fields, 'sha256')
table.insert(fields, hash)
return fields
"#;

/// API keys on Redis. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RedisKeys {
    conn: ConnectionManager,
    scripts: Arc<(Script, Script)>,
}

impl RedisKeys {
    /// Connects to `url`; fails if Redis does not answer.
    pub async fn connect(url: &str) -> Result<RedisKeys, BrokerError> {
        let conn = crate::connection::manager(&crate::connection::client(url)?).await?;
        Ok(RedisKeys { conn, scripts: Arc::new((Script::new(PUT), Script::new(REVOKE))) })
    }
}

impl KeyStore for RedisKeys {
    async fn put_key(&self, key: &ApiKey) -> Result<(), BrokerError> {
        let mut invocation = self.scripts.0.key(api_key_key(&key.sha256));
        invocation.key(API_KEYS_INDEX).arg(key.id()).arg(&key.sha256);
        for (field, value) in encode(key) {
            invocation.arg(field).arg(value);
        }
        let stored: i64 = invocation.invoke_async(&mut self.conn.clone()).await?;
        if stored == 1 {
            Ok(())
        } else {
            Err(BrokerError::Conflict(format!("an API key with id {} exists", key.id())))
        }
    }

    async fn key_by_hash(&self, sha256: &str) -> Result<Option<ApiKey>, BrokerError> {
        let fields: HashMap<String, String> =
            redis::cmd("HGETALL").arg(api_key_key(sha256)).query_async(&mut self.conn.clone()).await?;
        if fields.is_empty() { Ok(None) } else { decode(sha256.to_owned(), &fields).map(Some) }
    }

    async fn list_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKey>, BrokerError> {
        let index: HashMap<String, String> =
            redis::cmd("HGETALL").arg(API_KEYS_INDEX).query_async(&mut self.conn.clone()).await?;
        let mut pipe = redis::pipe();
        let hashes: Vec<String> = index.into_values().collect();
        for hash in &hashes {
            pipe.cmd("HGETALL").arg(api_key_key(hash));
        }
        let records: Vec<HashMap<String, String>> = pipe.query_async(&mut self.conn.clone()).await?;
        let mut keys = Vec::new();
        for (hash, fields) in hashes.into_iter().zip(records) {
            // An index entry whose hash is gone (deleted by hand) is skipped.
            if !fields.is_empty() {
                let key = decode(hash, &fields)?;
                if tenant.is_none_or(|t| key.tenant == t) {
                    keys.push(key);
                }
            }
        }
        keys.sort_by(|a, b| (a.created_at_ms, &a.sha256).cmp(&(b.created_at_ms, &b.sha256)));
        Ok(keys)
    }

    async fn revoke_key(&self, id: &str) -> Result<Option<ApiKey>, BrokerError> {
        let reply: Value = self
            .scripts
            .1
            .key(API_KEYS_INDEX)
            .arg(id)
            .arg(api_key_key(""))
            .invoke_async(&mut self.conn.clone())
            .await?;
        if matches!(reply, Value::Nil) {
            return Ok(None);
        }
        let mut fields: HashMap<String, String> = redis::from_redis_value(reply)
            .map_err(|e| BrokerError::Corrupt { what: "API key", detail: e.to_string() })?;
        let hash = fields.remove("sha256").unwrap_or_default();
        decode(hash, &fields).map(Some)
    }
}

fn encode(key: &ApiKey) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("tenant", key.tenant.clone()),
        ("name", key.name.clone()),
        ("scopes", key.scopes.join(" ")),
        ("created_at_ms", key.created_at_ms.to_string()),
    ];
    if let Some(at) = key.expires_at_ms {
        fields.push(("expires_at_ms", at.to_string()));
    }
    fields
}

fn decode(sha256: String, fields: &HashMap<String, String>) -> Result<ApiKey, BrokerError> {
    let corrupt = |detail: String| BrokerError::Corrupt { what: "API key", detail };
    let text = |name: &str| fields.get(name).cloned().ok_or_else(|| corrupt(format!("{name} missing")));
    let number = |name: &str, value: &str| {
        value.parse::<u64>().map_err(|_| corrupt(format!("{name} is not a number: {value:?}")))
    };
    Ok(ApiKey {
        tenant: text("tenant")?,
        name: text("name")?,
        scopes: text("scopes")?.split_whitespace().map(str::to_owned).collect(),
        created_at_ms: number("created_at_ms", &text("created_at_ms")?)?,
        expires_at_ms: fields.get("expires_at_ms").map(|v| number("expires_at_ms", v)).transpose()?,
        sha256,
    })
}
