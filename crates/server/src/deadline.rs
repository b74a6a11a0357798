//! Every call's deadline, on every server: the client's (`grpc-timeout`), bounded by
//! [`MAX_CALL_TIME`]. A call whose response has not begun by then is answered with
//! DEADLINE_EXCEEDED and its handler dropped (what it awaited is cancelled with it), so a hung
//! peer or a slow store cannot hold a handler, its memory and its connection slot forever.
//!
//! The deadline bounds the time to the response's start: a unary call's whole answer, a
//! streaming call's opening (WatchJob's and ExportRuns' streams then run as long as their
//! jobs; the drain and the tenants' stream quota bound those). tonic honours `grpc-timeout`
//! too, but answers CANCELLED when it passes; this layer answers first, with the code gRPC
//! specifies, and sits inside the telemetry layer so metrics and spans record it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::HeaderMap;
use tonic::Status;

/// The longest any call may take to answer, whatever deadline its client set (or none). Far
/// above any tanksim call's normal time (a chunk report of 64 MiB, a ListJobs page, a single
/// simulation of the largest size the limits allow).
pub const MAX_CALL_TIME: Duration = Duration::from_secs(60);

/// The header a gRPC client's deadline travels in.
pub const GRPC_TIMEOUT: &str = "grpc-timeout";

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    max: Duration,
}

impl DeadlineLayer {
    /// Calls answer within their client's deadline and at most `max`.
    pub const fn new(max: Duration) -> Self {
        DeadlineLayer { max }
    }
}

impl Default for DeadlineLayer {
    fn default() -> Self {
        Self::new(MAX_CALL_TIME)
    }
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Deadline { inner, max: self.max }
    }
}

/// The service [`DeadlineLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    max: Duration,
}

impl<S, B> tower::Service<http::Request<B>> for Deadline<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let max = self.max;
        let budget = budget(req.headers(), max);
        let answer = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout(budget, answer).await {
                Ok(response) => response,
                Err(_) => Ok(exceeded(budget, max).into_http()),
            }
        })
    }
}

/// The time `headers`' call has: its client's deadline, at most `max`.
pub fn budget(headers: &HeaderMap, max: Duration) -> Duration {
    headers
        .get(GRPC_TIMEOUT)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_timeout)
        .map_or(max, |t| t.min(max))
}

/// The status of a call past its deadline.
fn exceeded(budget: Duration, max: Duration) -> Status {
    Status::deadline_exceeded(format!(
        "the call did not answer within its deadline ({} ms; this server allows at most {} ms)",
        budget.as_millis(),
        max.as_millis()
    ))
}

/// A `grpc-timeout` value: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`), as the
/// gRPC over HTTP/2 protocol defines it; `None` for anything else (then only the server's bound
/// applies).
pub fn parse_timeout(value: &str) -> Option<Duration> {
    let unit = value.chars().last()?;
    let digits = &value[..value.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        'H' => Duration::from_secs(n * 3600),
        'M' => Duration::from_secs(n * 60),
        'S' => Duration::from_secs(n),
        'm' => Duration::from_millis(n),
        'u' => Duration::from_micros(n),
        'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::HeaderValue;
    use tower::{Layer, Service, ServiceExt};

    use super::*;

    #[test]
    fn grpc_timeouts_parse_as_the_protocol_defines_them() {
        for (value, want) in [
            ("1H", Some(Duration::from_secs(3600))),
            ("2M", Some(Duration::from_secs(120))),
            ("30S", Some(Duration::from_secs(30))),
            ("250m", Some(Duration::from_millis(250))),
            ("99999999u", Some(Duration::from_micros(99_999_999))),
            ("5n", Some(Duration::from_nanos(5))),
            ("0m", Some(Duration::ZERO)),
        ] {
            assert_eq!(parse_timeout(value), want, "{value}");
        }
        for bad in ["", "S", "100", "123456789S", "1.5S", "-1S", "10s", "10x", "1 S", "١S"] {
            assert_eq!(parse_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_budget_is_the_clients_deadline_within_the_servers_bound() {
        let mut headers = HeaderMap::new();
        assert_eq!(budget(&headers, MAX_CALL_TIME), MAX_CALL_TIME, "no deadline: the bound");
        headers.insert(GRPC_TIMEOUT, HeaderValue::from_static("1500m"));
        assert_eq!(budget(&headers, MAX_CALL_TIME), Duration::from_millis(1500));
        headers.insert(GRPC_TIMEOUT, HeaderValue::from_static("2H"));
        assert_eq!(budget(&headers, MAX_CALL_TIME), MAX_CALL_TIME, "never past the bound");
        headers.insert(GRPC_TIMEOUT, HeaderValue::from_static("soon"));
        assert_eq!(budget(&headers, MAX_CALL_TIME), MAX_CALL_TIME, "unreadable: the bound");
    }

    /// A service that answers OK after `delay`.
    fn answering_after(
        delay: Duration,
    ) -> impl Service<
        http::Request<()>,
        Response = http::Response<tonic::body::Body>,
        Error = Infallible,
        Future = impl Future<Output = Result<http::Response<tonic::body::Body>, Infallible>> + Send,
    > + Clone {
        tower::service_fn(move |_: http::Request<()>| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, Infallible>(http::Response::new(tonic::body::Body::default()))
        })
    }

    fn status_of(response: &http::Response<tonic::body::Body>) -> Option<String> {
        response.headers().get("grpc-status").map(|v| v.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn a_call_past_its_deadline_is_deadline_exceeded_and_others_pass() {
        let layer = DeadlineLayer::new(Duration::from_millis(300));
        let request = |timeout: Option<&'static str>| {
            let mut request = http::Request::new(());
            if let Some(t) = timeout {
                request.headers_mut().insert(GRPC_TIMEOUT, HeaderValue::from_static(t));
            }
            request
        };
        let slow = layer.layer(answering_after(Duration::from_millis(50)));
        let ok = slow.clone().oneshot(request(None)).await.unwrap();
        assert_eq!(status_of(&ok), None, "answered within the bound");
        let late = slow.clone().oneshot(request(Some("10m"))).await.unwrap();
        assert_eq!(status_of(&late).as_deref(), Some("4"), "DEADLINE_EXCEEDED");
        let status = Status::from_header_map(late.headers()).expect("a status");
        assert_eq!(
            (status.code(), status.message()),
            (
                tonic::Code::DeadlineExceeded,
                "the call did not answer within its deadline (10 ms; this server allows at most 300 ms)"
            )
        );
        let hung = layer.layer(answering_after(Duration::from_secs(3600)));
        let started = std::time::Instant::now();
        let bounded = hung.oneshot(request(Some("1H"))).await.unwrap();
        assert_eq!(status_of(&bounded).as_deref(), Some("4"));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(30), "{waited:?}");
    }
}
