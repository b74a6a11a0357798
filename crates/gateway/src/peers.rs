//! The gateway's clients to the dispatcher and the results service. Channels connect lazily
//! and reconnect by themselves, so the gateway starts (NOT_SERVING) before its peers are up.
//! Calls go through the telemetry layer (a span per call, the trace context in the metadata,
//! `grpc_client_*` metrics) and [`refused_by_peer`]; health checks use the raw channels (probes
//! are not traced).

use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use tanksim_proto::internal::v1::dispatcher_service_client::DispatcherServiceClient;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_server::status_rewrite::{
    GRPC_MESSAGE, GRPC_STATUS, GRPC_STATUS_DETAILS, StatusRewrite, StatusRewriteLayer,
};
use tanksim_server::tls::{ClientTls, channel};
use tanksim_telemetry::grpc::{TracedChannel, traced_channel};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tower::Layer;

/// A channel to a peer as the gateway's handlers call it.
pub type PeerChannel = StatusRewrite<TracedChannel>;

/// Clients to the services the gateway forwards to. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Peers {
    pub dispatcher: DispatcherServiceClient<PeerChannel>,
    /// The results service's read side of `JobService`.
    pub results: JobServiceClient<PeerChannel>,
    dispatcher_channel: Channel,
    results_channel: Channel,
}

impl Peers {
    /// Lazy channels to `dispatcher_url` and `results_url` (e.g. `http://dispatcher:50052`;
    /// `https://` with the gateway's mesh certificate, `tls`),
    /// passing on messages up to `max_message_bytes` (the edge's limit; a request to the
    /// dispatcher wraps the public one, so it may be a few bytes larger).
    pub fn connect_lazy(
        dispatcher_url: &str,
        results_url: &str,
        max_message_bytes: usize,
        tls: Option<&ClientTls>,
    ) -> Result<Self, String> {
        let (d, r) = (channel(dispatcher_url, tls)?, channel(results_url, tls)?);
        let methods = tanksim_server::grpc_methods();
        let peer = |channel: &Channel| {
            StatusRewriteLayer::new(refused_by_peer).layer(traced_channel(channel.clone(), &methods))
        };
        Ok(Self {
            dispatcher: DispatcherServiceClient::new(peer(&d))
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(
                    max_message_bytes.saturating_add(tanksim_server::limits::INTERNAL_HEADROOM_BYTES),
                ),
            results: JobServiceClient::new(peer(&r))
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            dispatcher_channel: d,
            results_channel: r,
        })
    }

    /// Whether both peers report SERVING.
    pub async fn healthy(&self) -> bool {
        serving(self.dispatcher_channel.clone()).await && serving(self.results_channel.clone()).await
    }
}

async fn serving(channel: Channel) -> bool {
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest { service: String::new() });
    matches!(
        tokio::time::timeout(Duration::from_secs(2), check).await,
        Ok(Ok(r)) if r.get_ref().status() == ServingStatus::Serving
    )
}

/// A peer's status as the gateway's caller gets it (rewritten on the wire, so every call and
/// stream to a peer gets it). The dispatcher and the results service answer the gateway
/// UNIMPLEMENTED, UNAUTHENTICATED or PERMISSION_DENIED only when something is wrong between
/// them (a peer of another version, a mesh certificate it refuses): passed through, the caller
/// would take it for its own fault (a method that does not exist, its credentials). It gets
/// INTERNAL, and the log says what the peer answered. Every other code is the peer's answer to
/// the caller's request and passes through unchanged; the telemetry layer inside this one
/// records the peer's own code.
fn refused_by_peer(headers: &mut HeaderMap) {
    let (peer_code, message) = match headers.get(GRPC_STATUS).map(HeaderValue::as_bytes) {
        Some(b"12") => ("Unimplemented", refusal_message!("Unimplemented")),
        Some(b"16") => ("Unauthenticated", refusal_message!("Unauthenticated")),
        Some(b"7") => ("PermissionDenied", refusal_message!("PermissionDenied")),
        _ => return,
    };
    tracing::error!(
        peer_code,
        peer_message = headers.get(GRPC_MESSAGE).and_then(|m| m.to_str().ok()).unwrap_or_default(),
        "a peer refused the gateway's call: a version or mTLS mismatch between the services"
    );
    headers.insert(GRPC_STATUS, HeaderValue::from_static("13"));
    headers.insert(GRPC_MESSAGE, HeaderValue::from_static(message));
    headers.remove(GRPC_STATUS_DETAILS);
}

/// The message of a peer's refusal with `code` (no byte `grpc-message` would percent-encode).
macro_rules! refusal_message {
    ($code:literal) => {
        concat!(
            "an internal service refused the call (",
            $code,
            "); the operators have the details in the gateway's log"
        )
    };
}
use refusal_message;

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(code: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_STATUS, HeaderValue::from_static(code));
        headers.insert(GRPC_MESSAGE, HeaderValue::from_static("the peer%27s words"));
        headers.insert(GRPC_STATUS_DETAILS, HeaderValue::from_static("AAAA"));
        refused_by_peer(&mut headers);
        headers
    }

    #[test]
    fn refusals_between_the_services_become_internal() {
        for (code, name) in [("12", "Unimplemented"), ("16", "Unauthenticated"), ("7", "PermissionDenied")] {
            let status = tonic::Status::from_header_map(&rewritten(code)).expect("a status");
            assert_eq!(status.code(), tonic::Code::Internal);
            assert_eq!(
                status.message(),
                format!(
                    "an internal service refused the call ({name}); the operators have the details in the gateway's log"
                )
            );
            assert!(status.details().is_empty(), "the peer's details are not the caller's");
        }
        for code in ["0", "3", "5", "8", "9", "13", "14"] {
            let headers = rewritten(code);
            assert_eq!(headers[GRPC_STATUS], code, "the peer's answer to the caller passes");
            assert_eq!(headers[GRPC_MESSAGE], "the peer%27s words");
        }
        let mut none = HeaderMap::new();
        refused_by_peer(&mut none);
        assert!(none.is_empty());
    }
}
