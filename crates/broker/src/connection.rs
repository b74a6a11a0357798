//! The one way tanksim opens a Redis connection: a manager that reconnects by itself after
//! Redis restarts (commands fail while it is away), with bounded connect and reply times.
//!
//! URLs carry the role's Redis user: `redis://USER:PASSWORD@HOST:PORT`, or `rediss://` for
//! TLS (rustls on ring, the certificate checked against the system's roots, or those of
//! `$SSL_CERT_FILE` when set: rustls-native-certs reads it).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ConnectionAddr, IntoConnectionInfo};

/// A connection attempt gives up after this.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Generous next to redis-rs' 500 ms default: a script's reply waits for `appendfsync always`.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for `url` that sends nothing when it connects but the authentication (and `SELECT`
/// for a database other than 0): not redis-rs' `CLIENT SETINFO`, which no tanksim user may run
/// (deploy/base/redis-users.acl), so Redis would refuse it and log every connection in its ACL
/// log.
pub(crate) fn client(url: &str) -> Result<Client, redis::RedisError> {
    let info = url.into_connection_info()?;
    if matches!(info.addr(), ConnectionAddr::TcpTls { .. }) {
        // rustls needs a process-wide provider; ring is the workspace's (an error only says
        // one is installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    Client::open(info.set_redis_settings(settings))
}

/// A connection manager for `client`; fails if Redis does not answer.
pub(crate) async fn manager(client: &Client) -> Result<ConnectionManager, redis::RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    ConnectionManager::new_with_config(client.clone(), config).await
}

#[cfg(test)]
mod tests {
    use super::client;

    #[test]
    fn users_and_passwords_come_from_the_url_and_no_client_setinfo_is_sent() {
        let c = client("redis://worker:0f1e2d@redis:6379").unwrap();
        let settings = c.get_connection_info().redis_settings();
        assert_eq!((settings.username(), settings.password()), (Some("worker"), Some("0f1e2d")));
        assert!(settings.skip_set_lib_name());
        let tls = client("rediss://results:pw@redis.tanksim.svc:6380").unwrap();
        assert!(matches!(
            tls.get_connection_info().addr(),
            redis::ConnectionAddr::TcpTls { insecure: false, .. }
        ));
        assert!(client("http://redis:6379").is_err());
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let c = client("redis://dispatcher:s3cr3t-value@redis:6379").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("dispatcher"), "{shown}");
    }
}
