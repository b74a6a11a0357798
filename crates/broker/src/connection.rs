//! The one way tanksim opens a Redis connection: a manager that reconnects by itself after
//! Redis restarts (commands fail while it is away), with bounded connect and reply times.

use std::time::Duration;

use redis::Client;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A connection attempt gives up after this.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Generous next to redis-rs' 500 ms default: a script's reply waits for `appendfsync always`.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection manager for `client`; fails if Redis does not answer.
pub(crate) async fn manager(client: &Client) -> Result<ConnectionManager, redis::RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    ConnectionManager::new_with_config(client.clone(), config).await
}
