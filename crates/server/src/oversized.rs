//! A message over the size limit answers RESOURCE_EXHAUSTED, not tonic's OUT_OF_RANGE.
//!
//! tonic's codec refuses a message larger than the service's limit with OUT_OF_RANGE ("decoded
//! message length too large" for a request, "encoded ..." for a response). gRPC's status-code
//! guide gives RESOURCE_EXHAUSTED for a message over a limit, and that is what grpc-go,
//! grpc-java and grpc-core answer, so clients treat it as a limit, not as an argument out of
//! range. tonic has no hook to choose that code, and a handler never sees a request its codec
//! refused, so the rewrite sits in a tower layer around every service: it changes
//! `grpc-status: 11` to `8` in the headers of a trailers-only response (a request refused
//! before any handler ran) and in the trailers (a response refused while encoding, or a peer's
//! status the gateway passes through), keeping the message. tanksim never answers OUT_OF_RANGE
//! itself, so every OUT_OF_RANGE a server sends comes from a codec.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};

const GRPC_STATUS: &str = "grpc-status";
/// `tonic::Code::OutOfRange` on the wire.
const OUT_OF_RANGE: &str = "11";
/// `tonic::Code::ResourceExhausted` on the wire.
const RESOURCE_EXHAUSTED: HeaderValue = HeaderValue::from_static("8");

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct OversizedLayer;

impl<S> tower::Layer<S> for OversizedLayer {
    type Service = Oversized<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Oversized { inner }
    }
}

/// The service [`OversizedLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct Oversized<S> {
    inner: S,
}

impl<S, B, ResB> tower::Service<http::Request<B>> for Oversized<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
{
    type Response = http::Response<OversizedBody<ResB>>;
    type Error = S::Error;
    type Future = OversizedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        OversizedFuture { inner: self.inner.call(req) }
    }
}

/// Rewrites an OUT_OF_RANGE status in `headers` (headers or trailers).
fn rewrite(headers: &mut HeaderMap) {
    if headers.get(GRPC_STATUS).is_some_and(|v| v == OUT_OF_RANGE) {
        headers.insert(GRPC_STATUS, RESOURCE_EXHAUSTED);
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Oversized`].
    pub struct OversizedFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, ResB, E> Future for OversizedFuture<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
{
    type Output = Result<http::Response<OversizedBody<ResB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map_ok(|mut response| {
            rewrite(response.headers_mut());
            response.map(|inner| OversizedBody { inner })
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body whose trailers get the same rewrite.
    pub struct OversizedBody<B> {
        #[pin]
        inner: B,
    }
}

impl<B: Body> Body for OversizedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx).map(|frame| {
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
        headers.insert("grpc-message", HeaderValue::from_static("too large"));
        rewrite(&mut headers);
        assert_eq!(headers[GRPC_STATUS], "8");
        assert_eq!(headers["grpc-message"], "too large");
        for other in ["0", "3", "8", "110"] {
            let mut headers = HeaderMap::new();
            headers.insert(GRPC_STATUS, HeaderValue::from_static(other));
            rewrite(&mut headers);
            assert_eq!(headers[GRPC_STATUS], other);
        }
        let mut empty = HeaderMap::new();
        rewrite(&mut empty);
        assert!(empty.is_empty());
    }
}
