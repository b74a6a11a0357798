//! Status codes rewritten on the wire, in a tower layer around a service (server side) or a
//! channel (client side): [`StatusRewriteLayer`] applies one function to the `grpc-status` of
//! a trailers-only response (in its headers) and of every other response (in its trailers).
//!
//! - [`oversized`] (every server): a message over the size limit answers RESOURCE_EXHAUSTED,
//!   not tonic's OUT_OF_RANGE. tonic's codec refuses a message larger than the service's limit
//!   with OUT_OF_RANGE ("decoded message length too large" for a request, "encoded ..." for a
//!   response). gRPC's status-code guide gives RESOURCE_EXHAUSTED for a message over a limit,
//!   and that is what grpc-go, grpc-java and grpc-core answer, so clients treat it as a limit,
//!   not as an argument out of range. tonic has no hook to choose that code, and a handler
//!   never sees a request its codec refused, so the rewrite sits around every service, keeping
//!   the message. tanksim never answers OUT_OF_RANGE itself, so every OUT_OF_RANGE a server
//!   sends comes from a codec.
//! - The gateway's clients to its peers use a layer of their own (`tanksim_gateway::peers`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};

/// The header (or trailer) holding a response's status code.
pub const GRPC_STATUS: &str = "grpc-status";
/// The header (or trailer) holding a response's status message (percent-encoded).
pub const GRPC_MESSAGE: &str = "grpc-message";
/// The header (or trailer) holding a response's status details (`google.rpc.Status`).
pub const GRPC_STATUS_DETAILS: &str = "grpc-status-details-bin";

/// A rewrite of the status headers or trailers of a response.
pub type Rewrite = fn(&mut HeaderMap);

/// `tonic::Code::OutOfRange` on the wire.
const OUT_OF_RANGE: &str = "11";
/// `tonic::Code::ResourceExhausted` on the wire.
const RESOURCE_EXHAUSTED: HeaderValue = HeaderValue::from_static("8");

/// OUT_OF_RANGE (only tonic's codec answers it) becomes RESOURCE_EXHAUSTED (module docs).
pub fn oversized(headers: &mut HeaderMap) {
    if headers.get(GRPC_STATUS).is_some_and(|v| v == OUT_OF_RANGE) {
        headers.insert(GRPC_STATUS, RESOURCE_EXHAUSTED);
    }
}

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct StatusRewriteLayer {
    rewrite: Rewrite,
}

impl StatusRewriteLayer {
    pub const fn new(rewrite: Rewrite) -> Self {
        StatusRewriteLayer { rewrite }
    }

    /// The layer around every server's services: [`oversized`].
    pub const fn oversized() -> Self {
        Self::new(oversized)
    }
}

impl<S> tower::Layer<S> for StatusRewriteLayer {
    type Service = StatusRewrite<S>;
    fn layer(&self, inner: S) -> Self::Service {
        StatusRewrite { inner, rewrite: self.rewrite }
    }
}

/// The service [`StatusRewriteLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct StatusRewrite<S> {
    inner: S,
    rewrite: Rewrite,
}

impl<S, B, ResB> tower::Service<http::Request<B>> for StatusRewrite<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
{
    type Response = http::Response<StatusRewriteBody<ResB>>;
    type Error = S::Error;
    type Future = StatusRewriteFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        StatusRewriteFuture { inner: self.inner.call(req), rewrite: self.rewrite }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`StatusRewrite`].
    pub struct StatusRewriteFuture<F> {
        #[pin]
        inner: F,
        rewrite: Rewrite,
    }
}

impl<F, ResB, E> Future for StatusRewriteFuture<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
{
    type Output = Result<http::Response<StatusRewriteBody<ResB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let rewrite = *this.rewrite;
        this.inner.poll(cx).map_ok(|mut response| {
            rewrite(response.headers_mut());
            response.map(|inner| StatusRewriteBody { inner, rewrite })
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body whose trailers get the same rewrite.
    pub struct StatusRewriteBody<B> {
        #[pin]
        inner: B,
        rewrite: Rewrite,
    }
}

impl<B: Body> Body for StatusRewriteBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let rewrite = *this.rewrite;
        this.inner.poll_frame(cx).map(|frame| {
            frame.map(|frame| {
                frame.map(|mut frame| {
                    if let Some(trailers) = frame.trailers_mut() {
                        rewrite(trailers);
                    }
                    frame
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_out_of_range_is_rewritten() {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_STATUS, HeaderValue::from_static("11"));
        headers.insert(GRPC_MESSAGE, HeaderValue::from_static("too large"));
        oversized(&mut headers);
        assert_eq!(headers[GRPC_STATUS], "8");
        assert_eq!(headers[GRPC_MESSAGE], "too large");
        for other in ["0", "3", "8", "110"] {
            let mut headers = HeaderMap::new();
            headers.insert(GRPC_STATUS, HeaderValue::from_static(other));
            oversized(&mut headers);
            assert_eq!(headers[GRPC_STATUS], other);
        }
        let mut empty = HeaderMap::new();
        oversized(&mut empty);
        assert!(empty.is_empty());
    }
}
