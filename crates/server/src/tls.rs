//! TLS on the public port and mTLS between the services.
//!
//! - The **edge** (the gateway's public port, `serve all`): a server certificate and key
//!   ([`TlsArgs`]: `--tls-cert`, `--tls-key`); clients authenticate with bearer tokens.
//! - The **mesh** (gateway → dispatcher and results, worker → results): every service has a
//!   certificate from the deployment's CA that names its role ([`Role`]: a DNS name such as
//!   `worker.identity.tanksim` among its subject alternative names) and the CA that checks its
//!   peers ([`MeshTlsArgs`]: `--mtls-cert`, `--mtls-key`, `--mtls-ca`). With the mesh on, a
//!   service serves only TLS clients that present a certificate from that CA, and each internal
//!   gRPC service admits only the roles allowed to call it ([`PeerPolicy`]): only workers report
//!   chunks, only the gateway dispatches, cancels and reads jobs. Its own calls to peers use
//!   the same certificate ([`ClientTls`]) and check the peer's name against the URL's host.
//!
//! Certificates and keys are PEM files (a Kubernetes Secret made by cert-manager in the
//! cluster, `rcgen` in tests), re-read when they change ([`RELOAD_EVERY`]): a new connection
//! uses the new certificate, open ones keep theirs. A file that fails to read keeps the previous
//! version (logged); at start it is a configuration error.
//!
//! The kubelet's gRPC probes cannot speak TLS, so a service serving TLS also answers health
//! (and nothing else) in plaintext on its probe port (`--probe-listen`, see [`crate::Shell`]).

mod args;
mod client;
mod config;
mod identity;
mod server;
#[cfg(test)]
mod tests;

pub use args::{MeshTlsArgs, TlsArgs};
pub use client::{ClientTls, channel, connect, connect_lazy};
pub use identity::{IDENTITY_DOMAIN, Peer, PeerLayer, PeerPolicy, Role};
pub use server::{PeerInfo, ProbePort, ServerTls, Serving, TlsConnection};

/// How often certificate files are checked for a new version (cert-manager renews a
/// certificate well before it expires; the kubelet updates a mounted Secret within about a
/// minute).
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
