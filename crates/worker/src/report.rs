//! Talking to the results service: the client (with message limits that fit a dataset
//! chunk's rows, every call traced and metered) and calls retried with exponential backoff
//! while the error is transient.

use std::future::Future;
use std::time::Duration;

use tanksim_proto::MAX_CHUNK_REPORT_BYTES;
use tanksim_proto::internal::v1::results_service_client::ResultsServiceClient;
use tanksim_server::tls::{ClientTls, connect_lazy};
use tanksim_telemetry::grpc::{TracedChannel, traced_channel};
use tokio::time::Instant;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::Error;

/// First retry delay; doubled per attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Per-call deadline: a results replica that hangs is retried like one that is down.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The worker's client to the results service: each call gets a `grpc.client` span (a child
/// of the chunk's span, its context passed on in the metadata) and `grpc_client_*` metrics.
pub type ResultsClient = ResultsServiceClient<TracedChannel>;

/// A lazily connecting client for the results service at `url` (e.g.
/// `http://results:50053`; `https://` with the worker's mesh certificate, `tls`), with [`MAX_CHUNK_REPORT_BYTES`] limits and per-call deadlines. What
/// the binary passes to [`crate::run`].
pub fn results_client(url: &str, tls: Option<&ClientTls>) -> Result<ResultsClient, Error> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| Error::Config(format!("results URL {url:?}: {e}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .tcp_nodelay(true);
    let channel = connect_lazy(endpoint, tls).map_err(|e| Error::Config(format!("--results-url: {e}")))?;
    Ok(results_client_over(channel))
}

/// A client for the results service over `channel` (the embedded mode shares one channel
/// between its workers), traced, with [`MAX_CHUNK_REPORT_BYTES`] limits.
pub fn results_client_over(channel: Channel) -> ResultsClient {
    with_limits(ResultsServiceClient::new(traced_channel(channel, &tanksim_server::grpc_methods())))
}

/// `client` with [`MAX_CHUNK_REPORT_BYTES`] as its encoding and decoding limits.
pub(crate) fn with_limits(client: ResultsClient) -> ResultsClient {
    client.max_encoding_message_size(MAX_CHUNK_REPORT_BYTES).max_decoding_message_size(MAX_CHUNK_REPORT_BYTES)
}

/// Why a call to the results service did not succeed.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Still failing transiently (unavailable, deadline exceeded, aborted, resource exhausted)
    /// at the deadline.
    Transient(Status),
    /// Refused for good: the request itself is wrong (a bug on one side) or names a job the
    /// results service does not know. Retrying cannot help.
    Permanent(Status),
    /// Anything else (internal errors, ...): the delivery counts as failed, and the chunk is
    /// retried after the visibility timeout until it runs out of deliveries.
    Other(Status),
}

impl Refused {
    pub(crate) fn status(&self) -> &Status {
        match self {
            Refused::Transient(s) | Refused::Permanent(s) | Refused::Other(s) => s,
        }
    }
}

/// Calls `call` until it succeeds, retrying transient failures with exponential backoff
/// (100 ms doubling to 5 s) as long as the next attempt would start before `deadline`.
pub(crate) async fn with_retries<T, F, Fut>(deadline: Instant, what: &str, mut call: F) -> Result<T, Refused>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut delay = FIRST_BACKOFF;
    loop {
        let status = match call().await {
            Ok(value) => return Ok(value),
            Err(status) => status,
        };
        match status.code() {
            // RESOURCE_EXHAUSTED: the job store is full (Redis at maxmemory) and wrote nothing;
            // room comes back (retention, an operator), so the report waits like for an outage.
            Code::Unavailable | Code::DeadlineExceeded | Code::Aborted | Code::ResourceExhausted => {
                if Instant::now() + delay > deadline {
                    return Err(Refused::Transient(status));
                }
                tracing::warn!(code = ?status.code(), message = status.message(), retry_in_ms = delay.as_millis(), "{what} failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
            Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition | Code::OutOfRange => {
                return Err(Refused::Permanent(status));
            }
            _ => return Err(Refused::Other(status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_with_growing_delays_until_the_deadline() {
        let calls = Cell::new(0u32);
        let start = Instant::now();
        let ok = with_retries(start + Duration::from_secs(60), "test", || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                match n {
                    1 | 2 => Err(Status::unavailable("down")),
                    3 => Err(Status::resource_exhausted("the job store is full")),
                    _ => Ok(n),
                }
            }
        })
        .await;
        assert_eq!(ok.expect("succeeds on the 4th call"), 4);
        // 100 + 200 + 400 ms of backoff.
        assert_eq!(start.elapsed(), Duration::from_millis(700));

        let start = Instant::now();
        let late = with_retries(start + Duration::from_secs(20), "test", || async {
            Err::<(), _>(Status::deadline_exceeded("slow"))
        })
        .await;
        assert!(matches!(late, Err(Refused::Transient(_))));
        // 0.1 + 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 5 + 5 = 16.3 s; the next 5 s would pass 20 s.
        assert_eq!(start.elapsed(), Duration::from_millis(16_300));
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_retry_what_cannot_succeed() {
        let calls = Cell::new(0u32);
        let far = Instant::now() + Duration::from_secs(60);
        for (status, permanent) in [(Status::invalid_argument("bad"), true), (Status::internal("bug"), false)]
        {
            let r = with_retries(far, "test", || {
                calls.set(calls.get() + 1);
                let s = status.clone();
                async move { Err::<(), _>(s) }
            })
            .await;
            assert_eq!(matches!(r, Err(Refused::Permanent(_))), permanent);
            assert!(matches!(r, Err(Refused::Permanent(_) | Refused::Other(_))));
        }
        assert_eq!(calls.get(), 2);
    }
}
