//! The end of a call: a response body wrapper that reads the `grpc-status` (from the headers
//! of a trailers-only response, or from the trailers) and, when the body ends or is dropped,
//! counts the call as handled, records its latency and closes its span.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use tracing::Span;

use super::method::{Method, code_name};
use crate::metrics::names;

/// Which end of the call is observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    Client,
}

/// A call in progress: labels, start, span, and the status once known.
#[derive(Debug)]
pub(crate) struct Call {
    side: Side,
    method: Method,
    start: Instant,
    span: Span,
    code: Option<i32>,
}

impl Call {
    /// Counts the call as started.
    pub(crate) fn start(side: Side, method: Method, span: Span) -> Self {
        let name = match side {
            Side::Server => names::GRPC_SERVER_STARTED_TOTAL,
            Side::Client => names::GRPC_CLIENT_STARTED_TOTAL,
        };
        metrics::counter!(name, &labels(&method)).increment(1);
        Call { side, method, start: Instant::now(), span, code: None }
    }

    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Notes the status from a header map (`grpc-status`), if present.
    pub(crate) fn observe(&mut self, headers: &http::HeaderMap) {
        if let Some(code) =
            headers.get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
        {
            self.code = Some(code);
        }
    }

    /// Records the end of the call with `fallback` when no status was seen.
    pub(crate) fn finish(self, fallback: i32) {
        let code = self.code.unwrap_or(fallback);
        let (handled, seconds) = match self.side {
            Side::Server => (names::GRPC_SERVER_HANDLED_TOTAL, names::GRPC_SERVER_HANDLING_SECONDS),
            Side::Client => (names::GRPC_CLIENT_HANDLED_TOTAL, names::GRPC_CLIENT_HANDLING_SECONDS),
        };
        let mut with_code = labels(&self.method);
        with_code.push((names::LABEL_GRPC_CODE, code_name(code).to_owned()));
        metrics::counter!(handled, &with_code).increment(1);
        metrics::histogram!(seconds, &labels(&self.method)).record(self.start.elapsed().as_secs_f64());
        self.span.record("rpc.grpc.status_code", code);
        // OpenTelemetry RPC conventions: a server span is an error only for server faults; a
        // client span for any status but OK.
        let error = match self.side {
            Side::Server => matches!(code, 2 | 4 | 12 | 13 | 14 | 15),
            Side::Client => code != 0,
        };
        if error {
            self.span.record("otel.status_code", "ERROR");
        }
    }
}

fn labels(m: &Method) -> Vec<(&'static str, String)> {
    vec![
        (names::LABEL_GRPC_TYPE, m.grpc_type.as_str().to_owned()),
        (names::LABEL_GRPC_SERVICE, m.service.clone()),
        (names::LABEL_GRPC_METHOD, m.method.clone()),
    ]
}

/// Status codes used when a body ends without a `grpc-status`.
pub(crate) const CANCELLED: i32 = 1;
pub(crate) const UNKNOWN: i32 = 2;

pin_project_lite::pin_project! {
    /// A response body that finishes its call when it ends (or is dropped: a cancelled
    /// stream).
    pub struct Observed<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }

    impl<B> PinnedDrop for Observed<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(call) = this.project().call.take() {
                call.finish(CANCELLED);
            }
        }
    }
}

impl<B> Observed<B> {
    pub(crate) fn new(inner: B, call: Option<Call>) -> Self {
        Observed { inner, call }
    }
}

impl<B: Body> Body for Observed<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = match this.call.as_ref() {
            Some(call) => {
                let _entered = call.span().enter();
                this.inner.poll_frame(cx)
            }
            None => this.inner.poll_frame(cx),
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(trailers), Some(call)) = (frame.trailers_ref(), this.call.as_mut()) {
                    call.observe(trailers);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(call) = this.call.take() {
                    call.finish(UNKNOWN);
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    call.finish(UNKNOWN);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
