//! The router every tanksim service serves: health and reflection besides its own services,
//! every call traced and metered, every stream ended at shutdown, mesh peers checked.
//! [`crate::Shell`] builds it and serves it.

use std::collections::{HashMap, HashSet};

use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet};
use tanksim_telemetry::grpc::GrpcServerLayer;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::Server;
use tonic::transport::server::Router;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tower::layer::util::{Identity, Stack};

use crate::deadline::DeadlineLayer;
use crate::drain::{DrainLayer, Stopping};
use crate::methods::grpc_methods;
use crate::status_rewrite::StatusRewriteLayer;
use crate::tls::{PeerLayer, PeerPolicy};

/// The middleware every tanksim server runs its services in, outermost last.
pub type GrpcLayers = Stack<
    DeadlineLayer,
    Stack<PeerLayer, Stack<StatusRewriteLayer, Stack<DrainLayer, Stack<GrpcServerLayer, Identity>>>>,
>;

/// A tonic router with [`GrpcLayers`].
pub type GrpcRouter = Router<GrpcLayers>;

/// Routes with health (whose reporter sets per-service SERVING / NOT_SERVING, see
/// [`crate::health`]).
pub(crate) fn base_routes() -> (HealthReporter, RoutesBuilder) {
    let (health, health_service) = tonic_health::server::health_reporter();
    let mut routes = RoutesBuilder::default();
    routes.add_service(health_service);
    (health, routes)
}

/// Adds reflection (v1 for grpcurl, v1alpha for clients that only speak it, e.g. Python's
/// grpcio-reflection) that lists and describes `services` (full names) and health only: the
/// gateway does not show the internal API it calls.
///
/// # Panics
/// Never in practice: the descriptor sets are generated at build time and always parse.
pub(crate) fn add_reflection(routes: &mut RoutesBuilder, services: &[String]) {
    let files = descriptors_of(services);
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_file_descriptor_set(files.clone())
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    #[allow(clippy::expect_used)]
    let (v1, v1alpha) = (
        reflection().build_v1().expect("tanksim descriptors parse"),
        reflection().build_v1alpha().expect("tanksim descriptors parse"),
    );
    routes.add_service(v1).add_service(v1alpha);
}

/// The files of tanksim's descriptor set that define `services`, with the files they import.
fn descriptors_of(services: &[String]) -> FileDescriptorSet {
    #[allow(clippy::expect_used)]
    let all =
        FileDescriptorSet::decode(tanksim_proto::FILE_DESCRIPTOR_SET).expect("tanksim descriptors parse");
    let by_name: HashMap<&str, &FileDescriptorProto> = all.file.iter().map(|f| (f.name(), f)).collect();
    let defines = |f: &FileDescriptorProto| {
        f.service
            .iter()
            .any(|s| services.iter().any(|wanted| *wanted == format!("{}.{}", f.package(), s.name())))
    };
    let mut wanted: Vec<&str> = all.file.iter().filter(|f| defines(f)).map(|f| f.name()).collect();
    let mut kept: HashSet<&str> = HashSet::new();
    while let Some(name) = wanted.pop() {
        if kept.insert(name) {
            wanted
                .extend(by_name.get(name).into_iter().flat_map(|f| f.dependency.iter().map(String::as_str)));
        }
    }
    // In the set's order: each file after the files it imports.
    FileDescriptorSet { file: all.file.iter().filter(|f| kept.contains(f.name())).cloned().collect() }
}

/// Health alone, answering from `health`: the plaintext probe port of a service serving TLS.
pub(crate) fn probe_routes(health: &HealthReporter) -> Routes {
    Routes::new(HealthServer::new(HealthService::from_health_reporter(health.clone())))
}

/// Concurrent HTTP/2 streams (calls) one client connection may have open: hyper's own
/// default, which tonic's builder otherwise removes (no limit). A client over it waits for a
/// stream to close (HTTP/2 flow control), so one connection cannot hold unbounded handlers.
pub const MAX_CONCURRENT_STREAMS: u32 = 200;

/// `routes` inside the layers.
pub(crate) fn router(routes: Routes, stopping: Stopping, peers: PeerPolicy) -> GrpcRouter {
    Server::builder()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        // Around every service, so each call is seen as the client sees it: the caller's
        // trace context in the metadata becomes the parent of the call's span (which the
        // handler runs in), and the status code is read from the response the client
        // gets. Health and reflection are metered but not traced (probes would drown the
        // traces).
        .layer(GrpcServerLayer::new(grpc_methods().as_ref().clone()))
        // Inside the telemetry layer, so a stream ended by the shutdown is counted and traced
        // with the UNAVAILABLE its client gets.
        .layer(DrainLayer::new(stopping, grpc_methods()))
        // Inside the telemetry layer, so metrics and spans record the code the client gets:
        // RESOURCE_EXHAUSTED, not the codec's OUT_OF_RANGE, for an oversized message.
        .layer(StatusRewriteLayer::oversized())
        // Inside the telemetry layer, so a refused peer is metered and traced like any other
        // call.
        .layer(PeerLayer::new(peers))
        // Innermost, around the handlers: a call past its deadline answers DEADLINE_EXCEEDED,
        // which every layer above sees as the handler's answer.
        .layer(DeadlineLayer::default())
        .add_routes(routes)
}
