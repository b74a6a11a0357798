//! The [`KeyStore`] contract on both backends: `MemoryKeys`, and `RedisKeys` on a private
//! `redis-server` per test. Plus, on Redis, that nothing but the hash of a key is stored.

#![allow(clippy::unwrap_used)]

use tanksim_broker::{ApiKey, BrokerError, KeyStore, RedisKeys};
use tanksim_test_util::RedisServer;

fn key(hash_digit: char, tenant: &str, name: &str, created_at_ms: u64) -> ApiKey {
    ApiKey {
        sha256: std::iter::repeat_n(hash_digit, 64).collect(),
        tenant: tenant.to_owned(),
        name: name.to_owned(),
        scopes: vec!["jobs:submit".to_owned(), "jobs:read".to_owned()],
        created_at_ms,
        expires_at_ms: None,
    }
}

async fn put_then_look_up_by_hash_with_every_field<K: KeyStore>(keys: K) {
    let mut k = key('a', "acme", "ci bot: nightly", 1_700_000_000_000);
    k.expires_at_ms = Some(1_800_000_000_000);
    k.scopes = vec!["admin".to_owned()];
    keys.put_key(&k).await.unwrap();
    assert_eq!(keys.key_by_hash(&k.sha256).await.unwrap(), Some(k.clone()));
    assert_eq!(keys.key_by_hash(&"b".repeat(64)).await.unwrap(), None);
    let no_scopes = ApiKey { scopes: Vec::new(), ..key('c', "acme", "none", 1) };
    keys.put_key(&no_scopes).await.unwrap();
    assert_eq!(keys.key_by_hash(&no_scopes.sha256).await.unwrap(), Some(no_scopes));
}

async fn a_taken_id_is_refused<K: KeyStore>(keys: K) {
    let first = key('a', "acme", "one", 1);
    keys.put_key(&first).await.unwrap();
    // Same first 16 hex characters: the same public id.
    let mut clash = key('a', "other", "two", 2);
    clash.sha256.replace_range(60.., "ffff");
    assert!(matches!(keys.put_key(&clash).await, Err(BrokerError::Conflict(_))));
    assert_eq!(keys.key_by_hash(&clash.sha256).await.unwrap(), None, "nothing of it stored");
    assert_eq!(keys.list_keys(None).await.unwrap(), [first]);
}

async fn list_is_oldest_first_and_filters_by_tenant<K: KeyStore>(keys: K) {
    let (a, b, c) = (key('3', "acme", "a", 30), key('1', "beta", "b", 10), key('2', "acme", "c", 20));
    for k in [&a, &b, &c] {
        keys.put_key(k).await.unwrap();
    }
    assert_eq!(keys.list_keys(None).await.unwrap(), [b.clone(), c.clone(), a.clone()]);
    assert_eq!(keys.list_keys(Some("acme")).await.unwrap(), [c, a]);
    assert_eq!(keys.list_keys(Some("nobody")).await.unwrap(), []);
}

async fn revoke_removes_the_key_once<K: KeyStore>(keys: K) {
    let (a, b) = (key('a', "acme", "a", 1), key('b', "acme", "b", 2));
    keys.put_key(&a).await.unwrap();
    keys.put_key(&b).await.unwrap();
    assert_eq!(keys.revoke_key(a.id()).await.unwrap(), Some(a.clone()));
    assert_eq!(keys.key_by_hash(&a.sha256).await.unwrap(), None, "a revoked key no longer authenticates");
    assert_eq!(keys.revoke_key(a.id()).await.unwrap(), None, "revoking twice finds nothing");
    assert_eq!(keys.revoke_key("no-such-id").await.unwrap(), None);
    assert_eq!(keys.list_keys(None).await.unwrap(), std::slice::from_ref(&b));
    // The id is free again.
    keys.put_key(&a).await.unwrap();
    assert_eq!(keys.list_keys(None).await.unwrap(), [a, b]);
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(tanksim_broker::MemoryKeys::new()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $test() {
                    let server = tanksim_test_util::RedisServer::start();
                    super::$test(tanksim_broker::RedisKeys::connect(&server.url()).await.unwrap()).await;
                }
            )*
        }
    };
}

conformance!(
    put_then_look_up_by_hash_with_every_field,
    a_taken_id_is_refused,
    list_is_oldest_first_and_filters_by_tenant,
    revoke_removes_the_key_once,
);

#[tokio::test]
async fn redis_holds_the_hash_and_the_id_index_only() {
    let server = RedisServer::start();
    let keys = RedisKeys::connect(&server.url()).await.unwrap();
    let k = key('d', "acme", "ci", 5);
    keys.put_key(&k).await.unwrap();
    let mut conn =
        ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let mut names: Vec<String> = ::redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
    names.sort();
    assert_eq!(names, [format!("tanksim:apikey:{}", k.sha256), "tanksim:apikeys".to_owned()]);
}
