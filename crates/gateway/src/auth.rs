//! Authentication and authorisation of every public call, before any handler runs.
//!
//! [`Authenticated`] wraps each public service: it authenticates the call's bearer token
//! ([`tanksim_auth::Authenticator`]), checks the scope its method needs ([`required_scope`]),
//! then the tenant's request rate ([`crate::rate_limit`]: only a caller that proved its tenant
//! spends that tenant's tokens), and hands the [`Principal`] to the handler in the request's
//! extensions. Handlers then act
//! for the principal's tenant only ([`for_tenant`] sets it on the calls to the dispatcher and
//! the results service, which scope every job to it). Health and reflection are not wrapped:
//! probes and `grpcurl list` need no credentials (they reveal nothing about jobs).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use metrics::counter;
pub use tanksim_auth::{AuthArgs, AuthMode, Authenticator};
use tanksim_auth::{AuthError, Principal, Scope};
use tanksim_telemetry::metrics::names::{AUTH_FAILURES_TOTAL, LABEL_REASON};
use tonic::metadata::MetadataMap;
use tonic::server::NamedService;
use tonic::{Request, Status};

use crate::rate_limit::TenantRateLimiter;

const REASONS: [&str; 3] = ["unauthenticated", "permission_denied", "unavailable"];

/// The scope a public method needs; `None` for a path that is no public method (the service
/// answers UNIMPLEMENTED after authentication).
pub fn required_scope(path: &str) -> Option<Scope> {
    Some(match path.strip_prefix("/tanksim.v1.")? {
        "JobService/SubmitJob" => Scope::JobsSubmit,
        "JobService/CancelJob" => Scope::JobsCancel,
        "JobService/GetJob"
        | "JobService/WatchJob"
        | "JobService/ListJobs"
        | "JobService/GetJobResults"
        | "JobService/ExportRuns" => Scope::JobsRead,
        "SimulationService/Simulate" => Scope::Simulate,
        _ => return None,
    })
}

/// Creates the refusal counters at zero (dashboards and alerts see them before the first).
pub fn init_metrics() {
    for reason in REASONS {
        counter!(AUTH_FAILURES_TOTAL, LABEL_REASON => reason).increment(0);
    }
}

/// The principal of a call to `path` with `metadata`, or why there is none.
pub async fn authorize(
    auth: &Authenticator,
    metadata: &MetadataMap,
    path: &str,
) -> Result<Principal, AuthError> {
    let principal = auth.authenticate(metadata).await?;
    if let Some(scope) = required_scope(path) {
        principal.require(scope)?;
    }
    Ok(principal)
}

/// A public service behind authentication and its callers' request rates.
#[derive(Debug, Clone)]
pub struct Authenticated<S> {
    inner: S,
    auth: Authenticator,
    limiter: TenantRateLimiter,
}

impl<S> Authenticated<S> {
    pub fn new(inner: S, auth: Authenticator, limiter: TenantRateLimiter) -> Self {
        Authenticated { inner, auth, limiter }
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower::Service<http::Request<B>> for Authenticated<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The service that was polled ready handles this call; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        let limiter = self.limiter.clone();
        Box::pin(async move {
            let metadata = MetadataMap::from_headers(request.headers().clone());
            match authorize(&auth, &metadata, request.uri().path()).await {
                Ok(principal) => {
                    if let Err(refused) = limiter.admit(&principal.tenant, request.uri().path()) {
                        return Ok(refused.into_http());
                    }
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Err(error) => {
                    let reason = match &error {
                        AuthError::Unauthenticated(_) => REASONS[0],
                        AuthError::PermissionDenied(_) => REASONS[1],
                        AuthError::Unavailable(_) | AuthError::Config(_) => REASONS[2],
                    };
                    counter!(AUTH_FAILURES_TOTAL, LABEL_REASON => reason).increment(1);
                    tracing::info!(path = request.uri().path(), reason, %error, "call refused");
                    Ok(Status::from(error).into_http())
                }
            }
        })
    }
}

/// The caller of a call that passed [`Authenticated`].
pub fn principal<T>(request: &Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::internal("the call was not authenticated (a service is not wrapped)"))
}

/// `request`'s message, to forward to a peer acting for the caller's tenant.
pub fn forwarded<T>(request: Request<T>) -> Result<Request<T>, Status> {
    let principal = principal(&request)?;
    for_tenant(&principal, request.into_inner())
}

/// A call to a peer acting for `principal`'s tenant.
pub fn for_tenant<T>(principal: &Principal, message: T) -> Result<Request<T>, Status> {
    let mut request = Request::new(message);
    tanksim_server::tenant::insert(request.metadata_mut(), &principal.tenant)?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_types::FileDescriptorSet;

    use super::*;

    #[test]
    fn every_public_method_needs_a_scope() {
        let set = FileDescriptorSet::decode(tanksim_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let mut seen = 0;
        for file in set.file.iter().filter(|f| f.package() == "tanksim.v1") {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/tanksim.v1.{}/{}", service.name(), method.name());
                    assert!(required_scope(&path).is_some(), "{path} has no scope");
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 8, "JobService's seven methods and Simulate");
        assert_eq!(required_scope("/tanksim.internal.v1.DispatcherService/DispatchJob"), None);
        assert_eq!(required_scope("/tanksim.v1.JobService/Nope"), None);
    }
}
