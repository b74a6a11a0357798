//! The future of a traced call, on either side: runs the inner future inside the call's span
//! and, when the response head arrives, wraps its body in [`Observed`] so the call ends with
//! the body; a call that fails before any response ends at once with a fallback status.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::instrument::Instrumented;

use super::body::{Call, Observed};

pin_project_lite::pin_project! {
    /// See the module documentation.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        call: Option<Call>,
        // The status of a call whose inner future failed (no response at all).
        failed: i32,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: Instrumented<F>, call: Call, failed: i32) -> Self {
        ResponseFuture { inner, call: Some(call), failed }
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
{
    type Output = Result<http::Response<Observed<ResB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(response)) => {
                let mut call = this.call.take();
                if let Some(call) = call.as_mut() {
                    call.observe(response.headers());
                }
                Poll::Ready(Ok(response.map(|body| Observed::new(body, call))))
            }
            Poll::Ready(Err(e)) => {
                if let Some(call) = this.call.take() {
                    call.finish(*this.failed);
                }
                Poll::Ready(Err(e))
            }
        }
    }
}
