//! The gateway's clients to the dispatcher and the results service. Channels connect lazily
//! and reconnect by themselves, so the gateway starts (NOT_SERVING) before its peers are up.
//! Calls go through the telemetry layer (a span per call, the trace context in the metadata,
//! `grpc_client_*` metrics); health checks use the raw channels (probes are not traced).

use std::time::Duration;

use tanksim_proto::internal::v1::dispatcher_service_client::DispatcherServiceClient;
use tanksim_proto::v1::job_service_client::JobServiceClient;
use tanksim_server::tls::{ClientTls, channel};
use tanksim_telemetry::grpc::{TracedChannel, traced_channel};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Clients to the services the gateway forwards to. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Peers {
    pub dispatcher: DispatcherServiceClient<TracedChannel>,
    /// The results service's read side of `JobService`.
    pub results: JobServiceClient<TracedChannel>,
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
        Ok(Self {
            dispatcher: DispatcherServiceClient::new(traced_channel(d.clone(), &methods))
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(
                    max_message_bytes.saturating_add(tanksim_server::limits::INTERNAL_HEADROOM_BYTES),
                ),
            results: JobServiceClient::new(traced_channel(r.clone(), &methods))
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
