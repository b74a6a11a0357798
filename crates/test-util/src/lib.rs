//! Helpers shared by tanksim's tests.
//!
//! - [`RedisServer`]: a private `redis-server` on a free port, in its own directory, that a
//!   test can restart (with its data when started with persistence) and that is killed when
//!   dropped. Tests that need control over Redis use it instead of the machine's shared one.
//! - [`free_port`]: a port nothing listens on right now.
//! - [`telemetry`]: spans collected in memory, series read from a Prometheus exposition.
//! - [`oidc`]: a test OIDC issuer: signing keys, their JWKS, tokens.
//! - [`pki`]: a test CA and the certificates it signs, as files.

pub mod oidc;
pub mod pki;
mod redis_server;
pub mod telemetry;

pub use redis_server::{Persistence, RedisServer};

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, release it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0 gives a free port")
}
