//! Who a mesh peer is, and which internal services it may call.
//!
//! A service's certificate names its [`Role`] as a DNS subject alternative name
//! (`<role>.identity.tanksim`), the way linkerd names a workload's identity: the deployment's
//! CA vouches for the name, the handshake checks the CA, and [`PeerLayer`] checks the name
//! against the [`PeerPolicy`] of the service called. Health and reflection are open to every
//! peer that completed the handshake.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::Either;
use rustls::pki_types::{CertificateDer, ServerName};
use tonic::Status;

use super::server::PeerInfo;

/// The domain of the identity names: `<role>.identity.tanksim`.
pub const IDENTITY_DOMAIN: &str = "identity.tanksim";

/// Services every authenticated peer may call.
const OPEN: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// A tanksim service, as named by its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Gateway,
    Dispatcher,
    Results,
    Worker,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Gateway, Role::Dispatcher, Role::Results, Role::Worker];

    /// `gateway`, `dispatcher`, `results`, `worker`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::Dispatcher => "dispatcher",
            Role::Results => "results",
            Role::Worker => "worker",
        }
    }

    /// The DNS name a certificate for this role carries, e.g. `worker.identity.tanksim`.
    pub fn identity(self) -> String {
        format!("{}.{IDENTITY_DOMAIN}", self.name())
    }

    /// Whether `cert` (a leaf the handshake already checked against the CA) names this role.
    pub fn named_by(self, cert: &CertificateDer<'_>) -> bool {
        let Ok(name) = ServerName::try_from(self.identity()) else { return false };
        webpki::EndEntityCert::try_from(cert).is_ok_and(|c| c.verify_is_valid_for_subject_name(&name).is_ok())
    }
}

/// Which roles may call each internal gRPC service (by its full name, e.g.
/// `tanksim.internal.v1.ResultsService`). A service not listed is open to every peer.
#[derive(Debug, Clone, Default)]
pub struct PeerPolicy {
    callers: HashMap<String, Vec<Role>>,
}

impl PeerPolicy {
    /// Only `roles` may call `service`.
    pub fn allow(&mut self, service: &str, roles: &[Role]) {
        self.callers.insert(service.to_owned(), roles.to_vec());
    }

    /// Whether a call to `path` (`/package.Service/Method`) from a peer that presented `certs`
    /// may go on: UNAUTHENTICATED without a certificate, PERMISSION_DENIED for a role not
    /// allowed.
    pub fn check(&self, path: &str, certs: Option<&[CertificateDer<'_>]>) -> Result<(), Status> {
        let service = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        let Some(allowed) = self.callers.get(service).filter(|_| !OPEN.contains(&service)) else {
            return Ok(());
        };
        let Some(leaf) = certs.and_then(<[_]>::first) else {
            return Err(Status::unauthenticated(format!("{service} requires a client certificate")));
        };
        if allowed.iter().any(|role| role.named_by(leaf)) {
            return Ok(());
        }
        let presented: Vec<&str> = Role::ALL.iter().filter(|r| r.named_by(leaf)).map(|r| r.name()).collect();
        let allowed: Vec<&str> = allowed.iter().map(|r| r.name()).collect();
        Err(Status::permission_denied(format!(
            "{service} is for {} only; this certificate is for {}",
            allowed.join(", "),
            if presented.is_empty() { "no tanksim role".to_owned() } else { presented.join(", ") }
        )))
    }
}

/// Checks each call against a [`PeerPolicy`] when the connection is TLS (a plaintext server
/// has no peers to tell apart: the mesh is off).
#[derive(Debug, Clone, Default)]
pub struct PeerLayer {
    policy: Arc<PeerPolicy>,
}

impl PeerLayer {
    pub fn new(policy: PeerPolicy) -> PeerLayer {
        PeerLayer { policy: Arc::new(policy) }
    }
}

impl<S> tower::Layer<S> for PeerLayer {
    type Service = Peer<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Peer { inner, policy: Arc::clone(&self.policy) }
    }
}

/// The service [`PeerLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct Peer<S> {
    inner: S,
    policy: Arc<PeerPolicy>,
}

/// A refusal answered at once, or the inner service's answer.
type Answer<F, E> = Either<Ready<Result<http::Response<tonic::body::Body>, E>>, F>;

impl<S, B> tower::Service<http::Request<B>> for Peer<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answer<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if let Some(peer) = req.extensions().get::<PeerInfo>()
            && let Err(status) = self.policy.check(req.uri().path(), peer.certs.as_deref())
        {
            tracing::warn!(
                peer = ?peer.remote_addr,
                path = req.uri().path(),
                code = ?status.code(),
                reason = status.message(),
                "peer refused"
            );
            return Either::Left(ready(Ok(status.into_http())));
        }
        Either::Right(self.inner.call(req))
    }
}
