//! Ending open server streams when a service starts shutting down.
//!
//! tonic's graceful shutdown stops accepting and then waits for every call in flight. A
//! WatchJob stream ends only with its job or its client, so a gateway told to stop by a
//! rollout went on streaming until the watched job ended (and a kubelet's SIGKILL would cut it
//! mid-message). The [`DrainLayer`] wraps the response body of every streaming call: once the
//! shutdown has begun ([`Stopping`]), the body stops between two messages and ends with
//! trailers carrying UNAVAILABLE "server shutting down", which tells a client to reconnect
//! (to another replica) rather than report a broken connection. Unary calls are not touched:
//! they finish within the grace period (see [`crate::shell`]).
//!
//! The frames of a tonic response body each hold whole messages, so stopping between two
//! frames never cuts one. The handler's stream is dropped at once, so its producer (a watch
//! task, an export's reader) sees its client gone and stops too.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http_body::{Body, Frame, SizeHint};
use tanksim_telemetry::grpc::{GrpcType, Methods};
use tokio::sync::watch;
use tokio::time::Instant;

/// The message of the status that ends streams at shutdown.
pub const SHUTTING_DOWN: &str = "server shutting down";

/// `None` while the service serves; the drain's deadline once its shutdown has begun.
pub type Stopping = watch::Receiver<Option<Instant>>;

/// Resolves once the shutdown has begun (or whoever could begin it is gone).
pub async fn stopped(mut stopping: Stopping) {
    // An error means the sender is dropped: the shell has returned, nothing serves any more.
    let _ = stopping.wait_for(Option::is_some).await;
}

/// Ends the streams of server-streaming and bidirectional calls at shutdown (see the module).
#[derive(Debug, Clone)]
pub struct DrainLayer {
    stopping: Stopping,
    methods: Arc<Methods>,
}

impl DrainLayer {
    /// `methods`: the streaming types of the methods served, to tell streams from unary calls.
    pub fn new(stopping: Stopping, methods: Arc<Methods>) -> Self {
        DrainLayer { stopping, methods }
    }
}

impl<S> tower::Layer<S> for DrainLayer {
    type Service = DrainService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        DrainService { inner, layer: self.clone() }
    }
}

/// See [`DrainLayer`].
#[derive(Debug, Clone)]
pub struct DrainService<S> {
    inner: S,
    layer: DrainLayer,
}

impl<S, B, ResB> tower::Service<http::Request<B>> for DrainService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResB>>,
{
    type Response = http::Response<Drained<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let streams = matches!(
            self.layer.methods.classify(req.uri().path()).grpc_type,
            GrpcType::ServerStream | GrpcType::BidiStream
        );
        let stopping = streams.then(|| self.layer.stopping.clone());
        ResponseFuture { inner: self.inner.call(req), stopping }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's response, its body wrapped in [`Drained`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        stopping: Option<Stopping>,
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResB>, E>>,
{
    type Output = Result<http::Response<Drained<ResB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let stop = this.stopping.take().map(|s| Box::pin(stopped(s)) as StopFuture);
        Poll::Ready(Ok(response.map(|inner| Drained { inner: Some(inner), stop })))
    }
}

type StopFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

pin_project_lite::pin_project! {
    /// A response body that, once the shutdown has begun, ends with UNAVAILABLE
    /// [`SHUTTING_DOWN`] trailers before its next frame.
    pub struct Drained<B> {
        // `None` once the drain has ended the body (the handler's stream is dropped).
        #[pin]
        inner: Option<B>,
        // Resolves when the shutdown begins; `None` for unary calls and once the body has
        // ended by itself.
        stop: Option<StopFuture>,
    }
}

impl<B: Body> Body for Drained<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if let Some(stop) = this.stop.as_mut()
            && stop.as_mut().poll(cx).is_ready()
        {
            *this.stop = None;
            this.inner.set(None);
            return Poll::Ready(Some(Ok(Frame::trailers(shutting_down()))));
        }
        let Some(inner) = this.inner.as_pin_mut() else { return Poll::Ready(None) };
        let polled = inner.poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame.is_trailers(),
            Poll::Ready(Some(Err(_)) | None) => true,
            Poll::Pending => false,
        };
        if ended {
            // The body has its own end: nothing to add after it.
            *this.stop = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

/// The trailers of a stream ended by the drain.
fn shutting_down() -> http::HeaderMap {
    let mut trailers = http::HeaderMap::new();
    // Fails only for metadata that is not a valid header; this status carries none.
    let _ = tonic::Status::unavailable(SHUTTING_DOWN).add_header(&mut trailers);
    trailers
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, StreamBody};
    use tower::{Layer, Service, ServiceExt};

    use super::*;

    /// A response body type for the tests.
    type Frames =
        StreamBody<futures_util::stream::BoxStream<'static, Result<Frame<Bytes>, std::convert::Infallible>>>;

    /// `n` data frames, then nothing more for ever (a stream still open).
    fn open_body(n: usize) -> Frames {
        let data = futures_util::stream::iter((0..n).map(|i| Ok(Frame::data(Bytes::from(vec![i as u8])))));
        StreamBody::new(Box::pin(futures_util::StreamExt::chain(data, futures_util::stream::pending())))
    }

    fn layer() -> (watch::Sender<Option<Instant>>, DrainLayer) {
        let (stop, stopping) = watch::channel(None);
        (stop, DrainLayer::new(stopping, crate::grpc_methods()))
    }

    async fn respond(layer: &DrainLayer, path: &str, body: Frames) -> http::Response<Drained<Frames>> {
        let mut body = Some(body);
        let service = tower::service_fn(move |_: http::Request<()>| {
            let body = body.take().expect("called once");
            async move { Ok::<_, std::convert::Infallible>(http::Response::new(body)) }
        });
        let mut service = layer.layer(service);
        let request = http::Request::builder().uri(path).body(()).expect("a request");
        service.ready().await.expect("ready").call(request).await.expect("a response")
    }

    #[tokio::test]
    async fn a_stream_ends_with_unavailable_between_messages_once_the_shutdown_begins() {
        let (stop, layer) = layer();
        let response = respond(&layer, "/tanksim.v1.JobService/WatchJob", open_body(2)).await;
        let mut body = response.into_body();
        for _ in 0..2 {
            let frame = body.frame().await.expect("a frame").expect("ok");
            assert!(frame.is_data(), "messages pass while serving");
        }
        stop.send_replace(Some(Instant::now()));
        let end = body.frame().await.expect("a last frame").expect("ok");
        let trailers = end.into_trailers().expect("trailers");
        assert_eq!(trailers["grpc-status"], "14", "UNAVAILABLE");
        assert_eq!(trailers["grpc-message"], "server%20shutting%20down");
        assert!(body.frame().await.is_none(), "nothing after the trailers");
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn a_stream_opened_during_the_shutdown_ends_at_once() {
        let (stop, layer) = layer();
        stop.send_replace(Some(Instant::now()));
        let response = respond(&layer, "/grpc.health.v1.Health/Watch", open_body(1)).await;
        let end = response.into_body().frame().await.expect("a frame").expect("ok");
        assert_eq!(end.into_trailers().expect("trailers only")["grpc-status"], "14");
    }

    #[tokio::test]
    async fn unary_calls_are_left_to_finish() {
        let (stop, layer) = layer();
        let response = respond(&layer, "/tanksim.v1.JobService/GetJob", open_body(1)).await;
        stop.send_replace(Some(Instant::now()));
        let mut body = response.into_body();
        assert!(body.frame().await.expect("a frame").expect("ok").is_data(), "the answer still goes");
    }

    #[tokio::test]
    async fn a_stream_that_ended_by_itself_gets_no_second_end() {
        let (stop, layer) = layer();
        let trailers = {
            let mut t = http::HeaderMap::new();
            t.insert("grpc-status", http::HeaderValue::from_static("0"));
            t
        };
        let frames = futures_util::stream::iter([Ok(Frame::trailers(trailers))]);
        let body: Frames = StreamBody::new(Box::pin(frames));
        let mut body = respond(&layer, "/tanksim.v1.JobService/ExportRuns", body).await.into_body();
        let end = body.frame().await.expect("a frame").expect("ok");
        assert_eq!(end.into_trailers().expect("its own trailers")["grpc-status"], "0");
        stop.send_replace(Some(Instant::now()));
        assert!(body.frame().await.is_none());
    }
}
